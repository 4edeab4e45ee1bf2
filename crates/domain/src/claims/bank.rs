//! The bank account a benefit is paid into (领款账号): sealed and shown masked like an ID
//! number, so it is parsed here once.

use std::fmt;

/// A bank card or account number: 12 to 30 digits once spaces and dashes are dropped.
/// Its `Debug` never shows the whole number.
#[derive(Clone, PartialEq, Eq)]
pub struct BankAccount(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("银行账号须为12到30位数字（可带空格），请对照银行卡核对")]
pub struct BankAccountError;

impl BankAccount {
    pub fn parse(input: &str) -> Result<BankAccount, BankAccountError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if (12..=30).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(BankAccount(digits))
        } else {
            Err(BankAccountError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first four and the last four digits: `6222********1234`.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..4], "*".repeat(n - 8), &self.0[n - 4..])
    }
}

impl fmt::Debug for BankAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BankAccount({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_digits_and_shows_masked() {
        let account = BankAccount::parse(" 6222 0212 3456 7890 123 ").unwrap();
        assert_eq!(account.as_str(), "6222021234567890123");
        assert_eq!(account.masked(), "6222***********0123");
        assert!(!format!("{account:?}").contains("0212345"));
        for bad in ["", "12345678901", "6222abcd12345678", &"1".repeat(31)] {
            assert_eq!(BankAccount::parse(bad), Err(BankAccountError), "{bad}");
        }
    }
}
