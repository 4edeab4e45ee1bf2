//! How values are written for people: China time, dates, the colours of status tags.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use guanai_domain::policies::{CertificateState, PolicyStatus, ShownStatus};

/// China Standard Time, UTC+8, no daylight saving (the one clock's zone).
pub use guanai_domain::clock::china;

/// `2026-09-01 08:30` in China time.
pub fn china_time(at: &DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%Y-%m-%d %H:%M").to_string()
}

/// The UTC instant at which a China-time date begins.
pub fn china_day_start(date: NaiveDate) -> DateTime<Utc> {
    china()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

/// The colour of a status's tag (a class of the stylesheet): green done or valid, orange
/// waiting, red cancelled or void, grey otherwise.
pub trait TagColor {
    fn color(self) -> &'static str;
}

impl TagColor for PolicyStatus {
    fn color(self) -> &'static str {
        match self {
            PolicyStatus::Underwritten => "green",
            PolicyStatus::Submitted => "orange",
            PolicyStatus::Cancelled => "red",
            PolicyStatus::Draft => "",
        }
    }
}

impl TagColor for ShownStatus {
    fn color(self) -> &'static str {
        match self {
            ShownStatus::Underwritten | ShownStatus::InForce => "green",
            ShownStatus::AwaitingUnderwriting => "orange",
            ShownStatus::Cancelled => "red",
            ShownStatus::Draft | ShownStatus::Expired => "grey",
        }
    }
}

impl TagColor for CertificateState {
    fn color(self) -> &'static str {
        match self {
            CertificateState::InForce | CertificateState::NotYetInForce => "green",
            CertificateState::AwaitingUnderwriting => "orange",
            CertificateState::Draft | CertificateState::Withdrawn | CertificateState::Surrendered => "red",
            CertificateState::Expired => "grey",
        }
    }
}

impl TagColor for guanai_domain::renewals::RenewalState {
    fn color(self) -> &'static str {
        use guanai_domain::renewals::RenewalState::*;
        match self {
            Renewed => "green",
            Due => "orange",
            InGrace | Lapsed => "red",
        }
    }
}

impl TagColor for guanai_domain::renewals::MemberChange {
    fn color(self) -> &'static str {
        use guanai_domain::renewals::MemberChange::*;
        match self {
            Kept | Newborn | Added => "green",
            Gone => "grey",
            Refused => "red",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_valid_certificate_is_green() {
        for state in CertificateState::ALL {
            assert_eq!(state.color() == "green", state.is_valid(), "{state:?}");
        }
        assert_eq!(ShownStatus::InForce.color(), "green");
        assert_eq!(ShownStatus::Cancelled.color(), "red");
        assert_eq!(PolicyStatus::Submitted.color(), "orange");
    }

    #[test]
    fn utc_is_shown_eight_hours_later() {
        let at = Utc.with_ymd_and_hms(2026, 8, 31, 16, 30, 0).unwrap();
        assert_eq!(china_time(&at), "2026-09-01 00:30");
        let day = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        assert_eq!(china_day_start(day), Utc.with_ymd_and_hms(2026, 8, 31, 16, 0, 0).unwrap());
    }
}
