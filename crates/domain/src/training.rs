//! Training sessions for village agents (the insurer's trainers often teach): the sign-in
//! code shown at the session, assessment scores against a pass mark, the certificate.

use chrono::NaiveDate;

crate::stored_code! {
    /// Where an attendee stands.
    pub enum AttendanceStatus {
        /// Signed in, not assessed yet.
        SignedIn => ("signed_in", "已签到"),
        Passed => ("passed", "考核合格"),
        Failed => ("failed", "考核未合格"),
    }
}

/// The code an agent types on the phone to sign in to a session (shown at the session,
/// also as a QR link): six digits. Spaces and full-width digits are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("签到码“{0}”不对：签到码是培训现场公布的6位数字")]
pub struct SignInCodeError(pub String);

impl SignInCode {
    pub const LEN: usize = 6;

    pub fn parse(input: &str) -> Result<Self, SignInCodeError> {
        let digits: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                other => other,
            })
            .collect();
        if digits.len() == Self::LEN && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(SignInCode(digits))
        } else {
            Err(SignInCodeError(input.trim().to_owned()))
        }
    }

    /// A code from six random digits (the store draws them).
    pub fn from_number(n: u32) -> Self {
        SignInCode(format!("{:06}", n % 1_000_000))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An assessment score, 0 to 100 points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Score(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{label}须为0到100之间的整数，现为“{raw}”")]
pub struct ScoreError {
    pub label: &'static str,
    pub raw: String,
}

impl Score {
    pub fn parse(label: &'static str, raw: &str) -> Result<Self, ScoreError> {
        let bad = || ScoreError { label, raw: raw.trim().to_owned() };
        let n: u8 = raw.trim().parse().map_err(|_| bad())?;
        Self::new(n).ok_or_else(bad)
    }

    pub fn new(points: u8) -> Option<Self> {
        (points <= 100).then_some(Score(points))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// The default pass mark of a session (a setting of each session).
pub const DEFAULT_PASS_MARK: u8 = 60;

/// Where an attendee stands once scored against the session's pass mark.
pub fn attendance(score: Option<Score>, pass_mark: Score) -> AttendanceStatus {
    match score {
        None => AttendanceStatus::SignedIn,
        Some(s) if s >= pass_mark => AttendanceStatus::Passed,
        Some(_) => AttendanceStatus::Failed,
    }
}

/// Why an agent cannot sign in to a session now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("这次培训在{0}举行，只能在培训当天签到")]
    NotToday(NaiveDate),
}

/// Sign-in is open on the day of the session only.
pub fn check_sign_in(held_on: NaiveDate, today: NaiveDate) -> Result<(), SignInError> {
    if held_on == today {
        Ok(())
    } else {
        Err(SignInError::NotToday(held_on))
    }
}

/// The certificate number of an attendee who passed: `PX` + session + attendee.
pub fn certificate_no(held_on: NaiveDate, session_id: i64, agent_id: i64) -> String {
    format!("PX{}-{session_id:04}-{agent_id:05}", held_on.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_a_code_table() {
        crate::codes::check_table::<AttendanceStatus>().unwrap();
    }

    #[test]
    fn sign_in_codes_are_six_digits_typed_loosely() {
        assert_eq!(SignInCode::parse(" 123 456 ").unwrap().as_str(), "123456");
        assert_eq!(SignInCode::parse("１２３４５６").unwrap().as_str(), "123456");
        for bad in ["", "12345", "1234567", "12a456"] {
            assert!(SignInCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(SignInCode::from_number(42).as_str(), "000042");
    }

    #[test]
    fn scores_pass_at_the_mark_and_not_below() {
        let mark = Score::new(60).unwrap();
        assert_eq!(attendance(None, mark), AttendanceStatus::SignedIn);
        assert_eq!(attendance(Score::new(60), mark), AttendanceStatus::Passed);
        assert_eq!(attendance(Score::new(59), mark), AttendanceStatus::Failed);
        assert!(Score::new(101).is_none());
        assert!(Score::parse("成绩", "abc").unwrap_err().to_string().contains("0到100"));
        assert_eq!(Score::parse("成绩", " 88 ").unwrap().get(), 88);
    }

    #[test]
    fn sign_in_is_open_on_the_day_only() {
        let day: NaiveDate = "2026-12-01".parse().unwrap();
        assert!(check_sign_in(day, day).is_ok());
        assert!(check_sign_in(day, day.succ_opt().unwrap()).is_err());
        assert_eq!(certificate_no(day, 3, 17), "PX20261201-0003-00017");
    }
}
