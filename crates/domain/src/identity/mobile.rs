//! The mainland mobile number.

use std::fmt;

use super::half_width;

/// A mainland mobile number: 11 digits matching `^1[3-9]\d{9}$`.
///
/// No `Display` and no `Serialize` on purpose; `Debug` shows the masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MobileError {
    #[error("手机号不能为空")]
    Empty,
    #[error("手机号应为11位数字，以1开头，如 13812345678")]
    Invalid,
}

impl Mobile {
    /// Parses a mobile number. Spaces and dashes inside are ignored, full-width digits
    /// are accepted, and a leading `+86`, `0086` or `86` is dropped when what follows is
    /// 11 digits.
    pub fn parse(input: &str) -> Result<Self, MobileError> {
        let text: String =
            input.chars().map(half_width).filter(|c| !c.is_whitespace() && *c != '-').collect();
        if text.is_empty() {
            return Err(MobileError::Empty);
        }
        let number = ["+86", "0086", "86"]
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix).filter(|rest| rest.len() == 11))
            .unwrap_or(&text);
        let b = number.as_bytes();
        let valid = b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && b.iter().all(|d| d.is_ascii_digit());
        if !valid {
            return Err(MobileError::Invalid);
        }
        Ok(Mobile(number.to_owned()))
    }

    /// The full number. Showing it is a decision: only for a role that needs it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as it may be shown: `138****1234`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mobile({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_accept_country_codes_spaces_and_dashes() {
        for input in
            ["13812341234", " 138-1234-1234 ", "+86 138 1234 1234", "008613812341234", "8613812341234"]
        {
            assert_eq!(Mobile::parse(input).unwrap().as_str(), "13812341234", "{input}");
        }
        assert_eq!(Mobile::parse("１３８１２３４１２３４").unwrap().as_str(), "13812341234");
        assert_eq!(Mobile::parse(""), Err(MobileError::Empty));
        for input in
            ["12812341234", "1381234123", "138123412345", "0791-8888888", "86138123412", "+8612812341234"]
        {
            assert_eq!(Mobile::parse(input), Err(MobileError::Invalid), "{input}");
        }
        let mobile = Mobile::parse("13812341234").unwrap();
        assert_eq!(mobile.masked(), "138****1234");
        assert_eq!(format!("{mobile:?}"), "Mobile(138****1234)");
        assert_eq!(MobileError::Invalid.to_string(), "手机号应为11位数字，以1开头，如 13812345678");
    }
}
