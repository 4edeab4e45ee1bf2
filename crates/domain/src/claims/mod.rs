//! Claims (理赔): the rules that need no database. What a claim is for and the papers it
//! needs (`kinds`), whether a report may become a claim (`eligibility`), what it pays
//! (`benefits`), and the Insurance Law's and the fast lane's clocks (`clocks`, on the
//! working-day calendar of `crate::workdays`).

pub mod bank;
pub mod benefits;
pub mod clocks;
pub mod eligibility;
pub mod kinds;
pub mod status;

#[cfg(test)]
mod properties;

pub use bank::{BankAccount, BankAccountError};
pub use benefits::{
    benefit, Benefit, BenefitError, Claimed, DisabilityGrade, GradeError, Limit, PolicyCover, Taken,
};
pub use clocks::{
    claim_clocks, most_urgent, ClaimClock, ClaimDates, ClockSettings, ClockStatus, Deadline, Outcome,
};
pub use eligibility::{
    check_in_cover, check_insured, check_time_limit, check_waiting_period, last_day_to_claim, ClaimRuleError,
};
pub use kinds::{ClaimKind, Paper, PaperChecklist};
pub use status::{check_score, pays, ClaimStatus, ClockState, RefusalReason, ReportChannel};
