//! What a claim is for (理赔类型) and the papers each kind needs (理赔材料). The checklist is
//! a value with defaults from the common local schemes; the city may change it, so no rule
//! reads the defaults directly.
//!
//! These are plain enums with `code()` (the text stored) and `label()` (what users read);
//! they should move onto the shared stored-code mechanism once domain has one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The kind of a claim; each is paid from one kind of cover item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// 意外身故
    AccidentalDeath,
    /// 意外伤残
    AccidentalDisability,
    /// 意外医疗（门诊）
    AccidentOutpatient,
    /// 意外医疗（住院）
    AccidentInpatient,
    /// 住院津贴
    HospitalAllowance,
    /// An add-on's disease cover (母婴安康, 计生手术并发症, 特殊家庭住院护理 …); which one is
    /// the cover item's label.
    Disease,
}

impl ClaimKind {
    pub const ALL: [ClaimKind; 6] = [
        ClaimKind::AccidentalDeath,
        ClaimKind::AccidentalDisability,
        ClaimKind::AccidentOutpatient,
        ClaimKind::AccidentInpatient,
        ClaimKind::HospitalAllowance,
        ClaimKind::Disease,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            ClaimKind::AccidentalDeath => "accidental_death",
            ClaimKind::AccidentalDisability => "accidental_disability",
            ClaimKind::AccidentOutpatient => "accident_outpatient",
            ClaimKind::AccidentInpatient => "accident_inpatient",
            ClaimKind::HospitalAllowance => "hospital_allowance",
            ClaimKind::Disease => "disease",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            ClaimKind::AccidentalDeath => "意外身故",
            ClaimKind::AccidentalDisability => "意外伤残",
            ClaimKind::AccidentOutpatient => "意外医疗（门诊）",
            ClaimKind::AccidentInpatient => "意外医疗（住院）",
            ClaimKind::HospitalAllowance => "住院津贴",
            ClaimKind::Disease => "疾病保障",
        }
    }

    pub fn parse(code: &str) -> Option<ClaimKind> {
        ClaimKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether it is paid as accident medical expenses (the family's shared limit).
    pub const fn is_medical(self) -> bool {
        matches!(self, ClaimKind::AccidentOutpatient | ClaimKind::AccidentInpatient)
    }
}

/// One paper a claim may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    IdCard,
    BankCard,
    MedicalRecords,
    Invoices,
    Prescriptions,
    CostList,
    DischargeNote,
    DeathCertificate,
    RegistrationCancelled,
    AccidentProof,
    BeneficiaryProof,
    DisabilityAssessment,
    Diagnosis,
}

impl Paper {
    pub const ALL: [Paper; 13] = [
        Paper::IdCard,
        Paper::BankCard,
        Paper::MedicalRecords,
        Paper::Invoices,
        Paper::Prescriptions,
        Paper::CostList,
        Paper::DischargeNote,
        Paper::DeathCertificate,
        Paper::RegistrationCancelled,
        Paper::AccidentProof,
        Paper::BeneficiaryProof,
        Paper::DisabilityAssessment,
        Paper::Diagnosis,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Paper::IdCard => "id_card",
            Paper::BankCard => "bank_card",
            Paper::MedicalRecords => "medical_records",
            Paper::Invoices => "invoices",
            Paper::Prescriptions => "prescriptions",
            Paper::CostList => "cost_list",
            Paper::DischargeNote => "discharge_note",
            Paper::DeathCertificate => "death_certificate",
            Paper::RegistrationCancelled => "registration_cancelled",
            Paper::AccidentProof => "accident_proof",
            Paper::BeneficiaryProof => "beneficiary_proof",
            Paper::DisabilityAssessment => "disability_assessment",
            Paper::Diagnosis => "diagnosis",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Paper::IdCard => "被保险人（领款人）身份证",
            Paper::BankCard => "领款人银行卡",
            Paper::MedicalRecords => "病历",
            Paper::Invoices => "医疗费用发票",
            Paper::Prescriptions => "处方",
            Paper::CostList => "费用明细清单",
            Paper::DischargeNote => "出院小结（出院记录）",
            Paper::DeathCertificate => "死亡证明",
            Paper::RegistrationCancelled => "户籍注销证明或火化证明",
            Paper::AccidentProof => "意外事故证明",
            Paper::BeneficiaryProof => "受益人身份关系证明",
            Paper::DisabilityAssessment => "伤残鉴定书",
            Paper::Diagnosis => "诊断证明",
        }
    }

    pub fn parse(code: &str) -> Option<Paper> {
        Paper::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// The papers each claim kind needs, in the order they are listed to the claimant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperChecklist {
    by_kind: BTreeMap<ClaimKind, Vec<Paper>>,
}

impl Default for PaperChecklist {
    /// PRODUCT.md's defaults: the ID and a bank card always; outpatient: records, invoices,
    /// prescriptions; inpatient: invoices, cost list, discharge note, records; death: death
    /// certificate, cancelled registration or cremation proof, accident proof, beneficiary
    /// proof; disability: the assessment. Not listed there, so our own defaults: the
    /// disability claim also proves the accident; the hospital allowance needs the discharge
    /// note and records; a disease cover the diagnosis and records.
    fn default() -> PaperChecklist {
        use Paper::*;
        let always = [IdCard, BankCard];
        let kind = |kind: ClaimKind, papers: &[Paper]| (kind, always.iter().chain(papers).copied().collect());
        PaperChecklist {
            by_kind: BTreeMap::from([
                kind(ClaimKind::AccidentOutpatient, &[MedicalRecords, Invoices, Prescriptions]),
                kind(ClaimKind::AccidentInpatient, &[Invoices, CostList, DischargeNote, MedicalRecords]),
                kind(
                    ClaimKind::AccidentalDeath,
                    &[DeathCertificate, RegistrationCancelled, AccidentProof, BeneficiaryProof],
                ),
                kind(ClaimKind::AccidentalDisability, &[DisabilityAssessment, AccidentProof]),
                kind(ClaimKind::HospitalAllowance, &[DischargeNote, MedicalRecords]),
                kind(ClaimKind::Disease, &[Diagnosis, MedicalRecords]),
            ]),
        }
    }
}

impl PaperChecklist {
    /// A checklist with `papers` for `kind` instead (duplicates dropped, order kept).
    pub fn with(mut self, kind: ClaimKind, papers: &[Paper]) -> PaperChecklist {
        let mut list: Vec<Paper> = Vec::with_capacity(papers.len());
        for paper in papers {
            if !list.contains(paper) {
                list.push(*paper);
            }
        }
        self.by_kind.insert(kind, list);
        self
    }

    /// The papers `kind` needs.
    pub fn required(&self, kind: ClaimKind) -> &[Paper] {
        self.by_kind.get(&kind).map(Vec::as_slice).unwrap_or_default()
    }

    /// What is still missing of `kind`'s papers when `have` are in: all of it told at once
    /// (保险法 art. 22, 一次性通知).
    pub fn missing(&self, kind: ClaimKind, have: &[Paper]) -> Vec<Paper> {
        self.required(kind).iter().copied().filter(|p| !have.contains(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_back_and_labels_are_chinese() {
        for kind in ClaimKind::ALL {
            assert_eq!(ClaimKind::parse(kind.code()), Some(kind));
            assert!(!kind.label().is_ascii());
        }
        for paper in Paper::ALL {
            assert_eq!(Paper::parse(paper.code()), Some(paper));
        }
        assert_eq!(ClaimKind::parse("death"), None);
        assert_eq!(ClaimKind::AccidentInpatient.label(), "意外医疗（住院）");
        assert_eq!(serde_json::to_string(&ClaimKind::HospitalAllowance).unwrap(), "\"hospital_allowance\"");
    }

    #[test]
    fn the_default_checklist_follows_the_product_and_can_be_changed() {
        let list = PaperChecklist::default();
        for kind in ClaimKind::ALL {
            assert_eq!(&list.required(kind)[..2], &[Paper::IdCard, Paper::BankCard], "{kind:?}");
        }
        assert_eq!(
            list.required(ClaimKind::AccidentInpatient),
            [
                Paper::IdCard,
                Paper::BankCard,
                Paper::Invoices,
                Paper::CostList,
                Paper::DischargeNote,
                Paper::MedicalRecords
            ]
        );
        assert_eq!(
            list.missing(
                ClaimKind::AccidentalDeath,
                &[Paper::IdCard, Paper::DeathCertificate, Paper::Invoices]
            ),
            [Paper::BankCard, Paper::RegistrationCancelled, Paper::AccidentProof, Paper::BeneficiaryProof]
        );
        let changed = list
            .clone()
            .with(ClaimKind::AccidentOutpatient, &[Paper::IdCard, Paper::Invoices, Paper::IdCard]);
        assert_eq!(changed.required(ClaimKind::AccidentOutpatient), [Paper::IdCard, Paper::Invoices]);
        assert!(changed.missing(ClaimKind::AccidentOutpatient, &[Paper::Invoices, Paper::IdCard]).is_empty());
        assert_eq!(
            changed.required(ClaimKind::AccidentInpatient),
            list.required(ClaimKind::AccidentInpatient)
        );
        let stored = serde_json::to_string(&changed).unwrap();
        assert_eq!(serde_json::from_str::<PaperChecklist>(&stored).unwrap(), changed);
    }
}
