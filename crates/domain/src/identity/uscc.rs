//! The company's 统一社会信用代码 (GB 32100-2015).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::half_width;

/// A valid 统一社会信用代码 (unified social credit code, GB 32100-2015) of a company: 18
/// characters over `0123456789ABCDEFGHJKLMNPQRTUWXY`, the last one a check character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码不能为空")]
    Empty,
    #[error("统一社会信用代码中不能有“{0}”：只能是数字和大写字母（不含I、O、S、V、Z）")]
    BadCharacter(char),
    #[error("统一社会信用代码应为18位，现在是{len}位")]
    BadLength { len: usize },
    #[error("统一社会信用代码校验位不正确：最后一位应为{expected}，而不是{found}，请核对是否抄错")]
    BadCheckChar { expected: char, found: char },
}

const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

impl Uscc {
    /// Parses a code: white space is removed, full-width characters become half-width and
    /// letters are upper-cased; then the characters, the length and the check character
    /// are checked, in that order.
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let text: String = input
            .chars()
            .map(half_width)
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if text.is_empty() {
            return Err(UsccError::Empty);
        }
        if let Some(c) = text.chars().find(|c| !c.is_ascii() || !USCC_CHARSET.contains(&(*c as u8))) {
            return Err(UsccError::BadCharacter(c));
        }
        if text.len() != 18 {
            return Err(UsccError::BadLength { len: text.len() });
        }
        let expected = uscc_check_char(&text.as_bytes()[..17]);
        let found = text.as_bytes()[17] as char;
        if expected != found {
            return Err(UsccError::BadCheckChar { expected, found });
        }
        Ok(Uscc(text))
    }

    /// The check character for a 17-character body over the code's character set, or
    /// `None` if `body` is not that. For building test and demonstration data.
    pub fn check_char_for(body: &str) -> Option<char> {
        (body.len() == 17 && body.bytes().all(|b| USCC_CHARSET.contains(&b)))
            .then(|| uscc_check_char(body.as_bytes()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `charset[(31 − Σ(value_i·3^(i−1) mod 31) mod 31) mod 31]` over 17 characters of the set.
fn uscc_check_char(body: &[u8]) -> char {
    let value = |b: &u8| USCC_CHARSET.iter().position(|c| c == b).expect("checked against the set") as u32;
    let sum: u32 = body.iter().zip(USCC_WEIGHTS).map(|(b, w)| value(b) * w).sum();
    USCC_CHARSET[((31 - sum % 31) % 31) as usize] as char
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Uscc::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_checks_characters_length_and_check_character() {
        let code = Uscc::parse(" 91350100m000100y43 ").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert_eq!(code.to_string(), "91350100M000100Y43");
        assert_eq!(Uscc::parse("９１３５０１００Ｍ０００１００Ｙ４３").unwrap(), code);
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"91350100M000100Y43\"");
        assert_eq!(serde_json::from_str::<Uscc>("\"91350100M000100Y43\"").unwrap(), code);
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y44\"").is_err());
        assert_eq!(Uscc::parse(""), Err(UsccError::Empty));
        assert_eq!(Uscc::parse("91350100M000100I43"), Err(UsccError::BadCharacter('I')));
        assert_eq!(Uscc::parse("91350100M000100Y4"), Err(UsccError::BadLength { len: 17 }));
        assert_eq!(
            Uscc::parse("91350100M000100Y44"),
            Err(UsccError::BadCheckChar { expected: '3', found: '4' })
        );
        assert_eq!(Uscc::check_char_for("91350100M000100Y4"), Some('3'));
        assert_eq!(
            UsccError::BadCharacter('O').to_string(),
            "统一社会信用代码中不能有“O”：只能是数字和大写字母（不含I、O、S、V、Z）"
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn uscc_body() -> impl Strategy<Value = String> {
            proptest::collection::vec(0usize..31, 17)
                .prop_map(|values| values.into_iter().map(|v| USCC_CHARSET[v] as char).collect())
        }

        proptest! {
            #[test]
            fn valid_codes_parse_and_any_single_change_is_caught(
                body in uscc_body(),
                position in 0usize..18,
                shift in 1usize..31,
            ) {
                let check = Uscc::check_char_for(&body).unwrap();
                let code = format!("{body}{check}");
                let parsed = Uscc::parse(&code).unwrap();
                prop_assert_eq!(parsed.as_str(), code.as_str());
                let mut changed = code.clone().into_bytes();
                let value = USCC_CHARSET.iter().position(|c| *c == changed[position]).unwrap();
                changed[position] = USCC_CHARSET[(value + shift) % 31];
                prop_assert!(Uscc::parse(&String::from_utf8(changed).unwrap()).is_err());
            }
        }
    }
}
