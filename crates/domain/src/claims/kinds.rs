//! What a claim is for (理赔类型) and the papers each kind needs (理赔材料). The checklist is
//! a value with defaults from the common local schemes; the city may change it, so no rule
//! reads the defaults directly.
//!
//! Both are stored codes (`crate::stored_code!`): the code is what the database, the API
//! and the forms carry, the label what users read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

crate::stored_code! {
    /// The kind of a claim; each is paid from one kind of cover item. `Disease` is an
    /// add-on's disease cover (母婴安康, 计生手术并发症, 特殊家庭住院护理 …); which one is the
    /// cover item's label.
    #[derive(PartialOrd, Ord)]
    pub enum ClaimKind {
        AccidentalDeath => ("accidental_death", "意外身故"),
        AccidentalDisability => ("accidental_disability", "意外伤残"),
        AccidentOutpatient => ("accident_outpatient", "意外医疗（门诊）"),
        AccidentInpatient => ("accident_inpatient", "意外医疗（住院）"),
        HospitalAllowance => ("hospital_allowance", "住院津贴"),
        Disease => ("disease", "疾病保障"),
    }
}

impl ClaimKind {
    /// Whether it is paid as accident medical expenses (the family's shared limit).
    pub const fn is_medical(self) -> bool {
        matches!(self, ClaimKind::AccidentOutpatient | ClaimKind::AccidentInpatient)
    }
}

crate::stored_code! {
    /// One paper a claim may need.
    #[derive(PartialOrd, Ord)]
    pub enum Paper {
        IdCard => ("id_card", "被保险人（领款人）身份证"),
        BankCard => ("bank_card", "领款人银行卡"),
        MedicalRecords => ("medical_records", "病历"),
        Invoices => ("invoices", "医疗费用发票"),
        Prescriptions => ("prescriptions", "处方"),
        CostList => ("cost_list", "费用明细清单"),
        DischargeNote => ("discharge_note", "出院小结（出院记录）"),
        DeathCertificate => ("death_certificate", "死亡证明"),
        RegistrationCancelled => ("registration_cancelled", "户籍注销证明或火化证明"),
        AccidentProof => ("accident_proof", "意外事故证明"),
        BeneficiaryProof => ("beneficiary_proof", "受益人身份关系证明"),
        DisabilityAssessment => ("disability_assessment", "伤残鉴定书"),
        Diagnosis => ("diagnosis", "诊断证明"),
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
        crate::codes::check_table::<ClaimKind>().unwrap();
        crate::codes::check_table::<Paper>().unwrap();
        for kind in ClaimKind::ALL {
            assert!(!kind.label().is_ascii());
        }
        assert!(ClaimKind::from_code("death").is_err());
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
