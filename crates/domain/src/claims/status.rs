//! Where a claim stands (理赔状态), why one is refused (拒赔原因), how it was reported, and
//! which cover item pays a kind of claim. Stored codes, with the rules that need no
//! database: which statuses are open, which step may follow which.

use crate::products::CoverItem;

use super::clocks::ClockStatus;

use super::kinds::ClaimKind;

crate::stored_code! {
    /// A claim's status, following the insurer's own (PRODUCT.md, "Claims").
    pub enum ClaimStatus {
        /// Reported, the insurer has not yet looked at the papers.
        Reported => ("reported", "已报案"),
        /// The insurer asked for missing papers (art. 22), all at once.
        PapersPending => ("papers_pending", "待补材料"),
        /// Papers complete: the decision clock runs (art. 23).
        UnderReview => ("under_review", "审核中"),
        Approved => ("approved", "已核定赔付"),
        PartlyApproved => ("partly_approved", "部分赔付"),
        Refused => ("refused", "拒赔"),
        Paid => ("paid", "已赔付"),
        Closed => ("closed", "已结案"),
    }
}

impl ClaimStatus {
    /// Not yet decided: the insurer's queue.
    pub const fn awaits_decision(self) -> bool {
        matches!(self, ClaimStatus::Reported | ClaimStatus::PapersPending | ClaimStatus::UnderReview)
    }

    /// Decided to pay, not yet paid.
    pub const fn awaits_payment(self) -> bool {
        matches!(self, ClaimStatus::Approved | ClaimStatus::PartlyApproved)
    }

    /// Some clock may still run on it.
    pub const fn is_open(self) -> bool {
        self.awaits_decision() || self.awaits_payment()
    }

    /// Papers may still be added.
    pub const fn takes_papers(self) -> bool {
        matches!(self, ClaimStatus::Reported | ClaimStatus::PapersPending | ClaimStatus::UnderReview)
    }
}

crate::stored_code! {
    /// A reason code of a refusal (拒赔原因), with a written reason beside it.
    pub enum RefusalReason {
        NotCovered => ("not_covered", "不属于保险责任"),
        NotAccident => ("not_accident", "非意外事故"),
        Excluded => ("excluded", "属于责任免除情形"),
        FalseClaim => ("false_claim", "虚构事故或材料不实"),
        NoLoss => ("no_loss", "无实际损失或已足额获得补偿"),
        Other => ("other", "其他"),
    }
}

crate::stored_code! {
    /// Who reported the claim, by what way.
    pub enum ReportChannel {
        Agent => ("agent", "服务专员代报"),
        Association => ("association", "计生协报案"),
        InsurerHotline => ("insurer_hotline", "保险公司电话报案"),
        Api => ("api", "接口报案"),
    }
}

crate::stored_code! {
    /// A clock's state on a day, as lists and the API show it.
    pub enum ClockState {
        Running => ("running", "进行中"),
        DueSoon => ("due_soon", "即将到期"),
        Breached => ("breached", "已超期"),
        Met => ("met", "按时完成"),
        MetLate => ("met_late", "超期完成"),
    }
}

impl ClockState {
    /// The state of a clock's status, with the days it counts (left, or late) and the
    /// words for them.
    pub fn of(status: ClockStatus) -> (ClockState, i64, String) {
        match status {
            ClockStatus::Running { days_left, due_soon } => {
                let state = if due_soon { ClockState::DueSoon } else { ClockState::Running };
                let words =
                    if days_left == 0 { "今天到期".to_owned() } else { format!("还剩{days_left}天") };
                (state, days_left, words)
            }
            ClockStatus::Breached { days_late } => {
                (ClockState::Breached, days_late, format!("已超期{days_late}天"))
            }
            ClockStatus::Met { days_late: 0, .. } => (ClockState::Met, 0, "按时完成".to_owned()),
            ClockStatus::Met { days_late, .. } => {
                (ClockState::MetLate, days_late, format!("超期{days_late}天完成"))
            }
        }
    }
}

/// Whether `item` is the cover that pays a claim of `kind`.
pub fn pays(item: &CoverItem, kind: ClaimKind) -> bool {
    matches!(
        (item, kind),
        (
            CoverItem::AccidentDeathDisability { .. },
            ClaimKind::AccidentalDeath | ClaimKind::AccidentalDisability
        ) | (CoverItem::AccidentMedical { .. }, ClaimKind::AccidentOutpatient | ClaimKind::AccidentInpatient)
            | (CoverItem::HospitalAllowance { .. }, ClaimKind::HospitalAllowance)
            | (CoverItem::Disease { .. }, ClaimKind::Disease)
    )
}

/// A satisfaction score after payment: 1 (very dissatisfied) to 5 (very satisfied).
pub fn check_score(score: i64) -> Result<u8, String> {
    u8::try_from(score)
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| "满意度评分须为1到5分（5分最满意）".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::check_table;
    use crate::Fen;

    #[test]
    fn the_code_tables_hold_and_the_open_statuses_are_the_undecided_and_unpaid() {
        check_table::<ClaimStatus>().unwrap();
        check_table::<RefusalReason>().unwrap();
        check_table::<ReportChannel>().unwrap();
        check_table::<ClockState>().unwrap();
        let late = ClockState::of(ClockStatus::Breached { days_late: 2 });
        assert_eq!((late.0, late.2.as_str()), (ClockState::Breached, "已超期2天"));
        let open: Vec<_> = ClaimStatus::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(
            open,
            [
                ClaimStatus::Reported,
                ClaimStatus::PapersPending,
                ClaimStatus::UnderReview,
                ClaimStatus::Approved,
                ClaimStatus::PartlyApproved
            ]
        );
        assert!(!ClaimStatus::Refused.is_open() && !ClaimStatus::Paid.takes_papers());
    }

    #[test]
    fn each_kind_is_paid_by_its_own_cover() {
        let death = CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(1) };
        let medical = CoverItem::AccidentMedical {
            family_limit: Fen::from_yuan(1),
            deductible: Fen::ZERO,
            reimbursed_percent: 80,
        };
        assert!(
            pays(&death, ClaimKind::AccidentalDisability) && pays(&medical, ClaimKind::AccidentOutpatient)
        );
        assert!(!pays(&death, ClaimKind::AccidentInpatient) && !pays(&medical, ClaimKind::HospitalAllowance));
        assert_eq!(check_score(5), Ok(5));
        assert!(check_score(0).is_err() && check_score(6).is_err());
    }
}
