//! Golden-autumn student aid (金秋助学): applications for students of family-planning
//! families, reviewed by the county then approved by the city, paid from a named funding
//! source. The steps and their order are decided here.

use chrono::{Datelike, NaiveDate};

use crate::money::Fen;

crate::stored_code! {
    /// Where an application stands.
    pub enum AidStatus {
        Submitted => ("submitted", "待县级审核"),
        CountyApproved => ("county_approved", "县级已审核，待市级审批"),
        CityApproved => ("city_approved", "市级已批准，待发放"),
        Paid => ("paid", "已发放"),
        Refused => ("refused", "未通过"),
    }
}

crate::stored_code! {
    /// A step of the review.
    pub enum AidStep {
        CountyReview => ("county_review", "县级审核"),
        CityApproval => ("city_approval", "市级审批"),
        Payment => ("payment", "发放"),
        Refusal => ("refusal", "不予通过"),
    }
}

/// A step that does not fit the application's status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("申请当前为“{}”，不能进行“{}”", .status.label(), .step.label())]
pub struct StepError {
    pub status: AidStatus,
    pub step: AidStep,
}

impl AidStatus {
    /// The status a step leads to from this one, or why it cannot be taken.
    pub fn after(self, step: AidStep) -> Result<AidStatus, StepError> {
        use AidStatus::*;
        match (self, step) {
            (Submitted, AidStep::CountyReview) => Ok(CountyApproved),
            (CountyApproved, AidStep::CityApproval) => Ok(CityApproved),
            (CityApproved, AidStep::Payment) => Ok(Paid),
            (Submitted | CountyApproved, AidStep::Refusal) => Ok(Refused),
            (status, step) => Err(StepError { status, step }),
        }
    }
}

/// The limits of a grant: settings with defaults, never constants of the code.
#[derive(Debug, Clone, Copy)]
pub struct AidSettings {
    pub min_grant: Fen,
    pub max_grant: Fen,
    /// How many years back an admission may lie (a student still in school).
    pub years_back: i32,
}

impl Default for AidSettings {
    fn default() -> Self {
        AidSettings { min_grant: Fen::from_yuan(100), max_grant: Fen::from_yuan(10_000), years_back: 5 }
    }
}

impl AidSettings {
    pub fn check_grant(&self, amount: Fen) -> Result<Fen, String> {
        if amount < self.min_grant || amount > self.max_grant {
            return Err(format!("助学金额须在{}到{}之间", self.min_grant, self.max_grant));
        }
        Ok(amount)
    }

    pub fn check_admission(&self, year: i32, today: NaiveDate) -> Result<i32, String> {
        let now = today.year();
        if year > now || year < now - self.years_back {
            return Err(format!("入学年份须在{}到{}之间", now - self.years_back, now));
        }
        Ok(year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_tables() {
        crate::codes::check_table::<AidStatus>().unwrap();
        crate::codes::check_table::<AidStep>().unwrap();
    }

    #[test]
    fn the_steps_go_county_then_city_then_payment() {
        use AidStatus::*;
        assert_eq!(Submitted.after(AidStep::CountyReview), Ok(CountyApproved));
        assert_eq!(CountyApproved.after(AidStep::CityApproval), Ok(CityApproved));
        assert_eq!(CityApproved.after(AidStep::Payment), Ok(Paid));
        assert!(Submitted.after(AidStep::CityApproval).is_err(), "the city never skips the county");
        assert!(Submitted.after(AidStep::Payment).is_err());
        assert!(Paid.after(AidStep::Payment).is_err(), "paid once");
        assert!(CityApproved.after(AidStep::Refusal).is_err(), "a grant allocated is paid, not refused");
        let err = Submitted.after(AidStep::Payment).unwrap_err().to_string();
        assert!(err.contains("待县级审核") && err.contains("发放"), "{err}");
    }

    #[test]
    fn grants_and_admissions_are_within_the_settings() {
        let s = AidSettings::default();
        assert!(s.check_grant(Fen::from_yuan(2_000)).is_ok());
        assert!(s.check_grant(Fen::from_yuan(10_001)).is_err());
        assert!(s.check_grant(Fen::from_yuan(99)).is_err());
        let today: NaiveDate = "2026-12-01".parse().unwrap();
        assert!(s.check_admission(2026, today).is_ok());
        assert!(s.check_admission(2027, today).is_err());
        assert!(s.check_admission(2020, today).is_err());
    }
}
