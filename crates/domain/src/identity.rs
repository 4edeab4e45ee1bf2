//! Who a person or a company is: the resident ID number (身份证号, GB 11643-1999), the
//! mobile number and the company's 统一社会信用代码 (GB 32100-2015), plus the masking the
//! personal-information rules require.
//!
//! ID numbers and mobile numbers are personal information: their `Debug` shows the masked
//! form only, and they deliberately implement neither `Display` nor `Serialize`, so they
//! cannot end up in a page, a log line or a JSON body by accident. `as_str()` is the one
//! explicit way to reach the full value (for a role that needs it, with an audit entry).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Maps a full-width ASCII form (`０`–`９`, `Ｘ`, `．`, `＋` …) and the ideographic space to
/// its half-width character; every other character is returned unchanged.
pub(crate) fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// A person's sex as the ID number records it (odd sequence digit = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The sex as users read it.
    pub const fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A valid 18-character resident ID number: 6-digit address code, birth date YYYYMMDD,
/// 3-digit sequence (odd = male, even = female) and the check character. Stored
/// normalised (ASCII digits, upper-case `X`).
///
/// No `Display` and no `Serialize` on purpose; `Debug` shows the masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// The result of parsing an ID number: the number, and whether it was written in the
/// legacy 15-digit form and upgraded (callers show the user a warning then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedIdNumber {
    pub id: IdNumber,
    pub upgraded_from_15: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号不能为空")]
    Empty,
    #[error("身份证号被表格软件存成了数字，末尾几位已丢失：请把该列设为“文本”格式后重新填写")]
    LooksLikeSpreadsheetNumber,
    #[error("身份证号只能包含数字，最后一位可以是X")]
    BadCharacter,
    #[error("身份证号应为18位（旧证15位），现在是{len}位")]
    BadLength { len: usize },
    #[error("身份证号中的出生日期“{digits}”不是有效日期，请核对")]
    BadBirthDate { digits: String },
    #[error("身份证号校验位不正确：最后一位应为{expected}，而不是{found}，请核对号码是否抄错")]
    BadCheckDigit { expected: char, found: char },
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CHARS: &[u8; 11] = b"10X98765432";

impl IdNumber {
    /// Parses an ID number as people write it.
    ///
    /// Normalisation first: surrounding and inner white space (including the full-width
    /// space U+3000) is removed, full-width digits and `Ｘ`/`ｘ` become ASCII, `x` becomes
    /// `X`. Then, in this order, so that the user is told the most useful fault first:
    /// 1. empty → [`IdNumberError::Empty`];
    /// 2. a number a spreadsheet turned into a float (`3.60802199001011E+17`, or anything
    ///    made of digits with a decimal point or an `E+` exponent) →
    ///    [`IdNumberError::LooksLikeSpreadsheetNumber`];
    /// 3. a character other than a digit or `X` → [`IdNumberError::BadCharacter`];
    /// 4. neither 18 nor 15 characters → [`IdNumberError::BadLength`];
    /// 5. `X` anywhere but the 18th place → [`IdNumberError::BadCharacter`];
    /// 6. birth date not a real date on or after 1900-01-01 →
    ///    [`IdNumberError::BadBirthDate`] (checked *before* the check character, so a
    ///    number whose date is wrong is reported as such whatever its last character);
    /// 7. wrong check character → [`IdNumberError::BadCheckDigit`], except that an
    ///    18-digit number ending in `000` whose check fails is reported as
    ///    [`IdNumberError::LooksLikeSpreadsheetNumber`]: that is what a spreadsheet leaves
    ///    of an ID after keeping 15 significant digits.
    ///
    /// A legacy 15-digit number (address 6 + YYMMDD + sequence 3) is upgraded by putting
    /// "19" before the year and computing the check character; `upgraded_from_15` is then
    /// true. Whether the birth date lies in the future is not checked here (this crate
    /// has no clock): callers compare [`IdNumber::birth_date`] with today.
    pub fn parse(input: &str) -> Result<ParsedIdNumber, IdNumberError> {
        let text: String = input
            .chars()
            .map(half_width)
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == 'x' { 'X' } else { c })
            .collect();
        if text.is_empty() {
            return Err(IdNumberError::Empty);
        }
        if looks_like_float(&text) {
            return Err(IdNumberError::LooksLikeSpreadsheetNumber);
        }
        if !text.chars().all(|c| c.is_ascii_digit() || c == 'X') {
            return Err(IdNumberError::BadCharacter);
        }
        // Only ASCII from here on, so bytes and characters coincide.
        let bytes = text.as_bytes();
        match bytes.len() {
            18 => {
                if bytes[..17].contains(&b'X') {
                    return Err(IdNumberError::BadCharacter);
                }
                birth_date_of(&text[6..14])?;
                let expected = check_char(&bytes[..17]);
                let found = bytes[17] as char;
                if expected != found {
                    if text.ends_with("000") {
                        return Err(IdNumberError::LooksLikeSpreadsheetNumber);
                    }
                    return Err(IdNumberError::BadCheckDigit { expected, found });
                }
                Ok(ParsedIdNumber { id: IdNumber(text), upgraded_from_15: false })
            }
            15 => {
                if bytes.contains(&b'X') {
                    return Err(IdNumberError::BadCharacter);
                }
                birth_date_of(&text[6..12])?;
                let mut upgraded = String::with_capacity(18);
                upgraded.push_str(&text[..6]);
                upgraded.push_str("19");
                upgraded.push_str(&text[6..]);
                let check = check_char(upgraded.as_bytes());
                upgraded.push(check);
                Ok(ParsedIdNumber { id: IdNumber(upgraded), upgraded_from_15: true })
            }
            len => Err(IdNumberError::BadLength { len }),
        }
    }

    /// The check character for a 17-digit body, or `None` if `body` is not 17 ASCII
    /// digits. For building test and demonstration data.
    pub fn check_char_for(body: &str) -> Option<char> {
        (body.len() == 17 && body.bytes().all(|b| b.is_ascii_digit())).then(|| check_char(body.as_bytes()))
    }

    /// The full number. Showing it is a decision: only for a role that needs it, and
    /// audit-logged.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(&self.0[6..14]).expect("birth date checked by the parser")
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The number as it may be shown: first 3 and last 4 characters, 11 stars between
    /// (`110***********1234`).
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..3], "*".repeat(11), &self.0[14..])
    }

    /// Age in full years completed on `date` (0 before the birth date). The birthday
    /// counts on the same month and day; someone born on 29 February has it on 1 March in
    /// a year without 29 February (born 2000-02-29: 17 on 2018-02-28, 18 on 2018-03-01).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        let birth = self.birth_date();
        if date <= birth {
            return 0;
        }
        let mut years = date.year() - birth.year();
        if (date.month(), date.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Whether the text is a number written as a float: digits with a decimal point or an
/// `E+` exponent, as a spreadsheet writes an 18-digit number it has stored as a number.
fn looks_like_float(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    let numeric = upper.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'E' | '+'));
    numeric && upper.bytes().any(|b| b.is_ascii_digit()) && (upper.contains('.') || upper.contains("E+"))
}

/// Parses YYYYMMDD (8 digits) or YYMMDD (6 digits, taken as 19YY), requiring a real date
/// on or after 1900-01-01.
fn birth_date_of(digits: &str) -> Result<NaiveDate, IdNumberError> {
    let bad = || IdNumberError::BadBirthDate { digits: digits.to_owned() };
    let (year, rest) = match digits.len() {
        8 => (digits[..4].parse::<i32>().map_err(|_| bad())?, &digits[4..]),
        6 => (1900 + digits[..2].parse::<i32>().map_err(|_| bad())?, &digits[2..]),
        _ => return Err(bad()),
    };
    let month = rest[..2].parse::<u32>().map_err(|_| bad())?;
    let day = rest[2..].parse::<u32>().map_err(|_| bad())?;
    if year < 1900 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

/// `"10X98765432"[Σ(d_i·W_i) mod 11]` over 17 ASCII digits.
fn check_char(body: &[u8]) -> char {
    let sum: u32 = body.iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    ID_CHECK_CHARS[(sum % 11) as usize] as char
}

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

/// A person's name as it may be shown: the first character, then one star for each other
/// character ("张三" → "张*", "欧阳娜娜" → "欧***"); a one-character name stays as it is.
/// Surrounding white space is dropped.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_product_test_vector_is_a_woman_born_1949() {
        let parsed = IdNumber::parse("11010519491231002X").unwrap();
        assert!(!parsed.upgraded_from_15);
        let id = parsed.id;
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.sex().label(), "女");
        assert_eq!(id.birth_date(), date(1949, 12, 31));
    }

    #[test]
    fn lower_case_x_full_width_and_spaces_are_normalised() {
        for input in [
            "11010519491231002x",
            "  11010519491231002X\u{3000}",
            "110105 19491231 002X",
            "１１０１０５１９４９１２３１００２ｘ",
            "１１０１０５１９４９１２３１００２Ｘ",
        ] {
            assert_eq!(IdNumber::parse(input).unwrap().id.as_str(), "11010519491231002X", "{input}");
        }
    }

    #[test]
    fn legacy_15_digit_numbers_are_upgraded_with_a_flag() {
        let parsed = IdNumber::parse("110105491231002").unwrap();
        assert!(parsed.upgraded_from_15);
        assert_eq!(parsed.id.as_str(), "11010519491231002X");
        assert_eq!(
            IdNumber::parse("110105491331002"),
            Err(IdNumberError::BadBirthDate { digits: "491331".into() })
        );
    }

    #[test]
    fn faults_are_reported_in_order() {
        assert_eq!(IdNumber::parse("  "), Err(IdNumberError::Empty));
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::BadCheckDigit { expected: 'X', found: '1' })
        );
        // The date is checked before the check character.
        assert_eq!(
            IdNumber::parse("11010519491331002X"),
            Err(IdNumberError::BadBirthDate { digits: "19491331".into() })
        );
        assert_eq!(
            IdNumber::parse("11010518991231002X"),
            Err(IdNumberError::BadBirthDate { digits: "18991231".into() })
        );
        assert_eq!(IdNumber::parse("1101051949123100"), Err(IdNumberError::BadLength { len: 16 }));
        assert_eq!(IdNumber::parse("1101051949123100X2"), Err(IdNumberError::BadCharacter));
        assert_eq!(IdNumber::parse("11010549123100X"), Err(IdNumberError::BadCharacter));
        assert_eq!(IdNumber::parse("张三"), Err(IdNumberError::BadCharacter));
        assert_eq!(IdNumber::parse("110105-19491231002X"), Err(IdNumberError::BadCharacter));
        let err = IdNumber::parse("110105194912310021").unwrap_err().to_string();
        assert_eq!(err, "身份证号校验位不正确：最后一位应为X，而不是1，请核对号码是否抄错");
        assert_eq!(IdNumber::parse("12").unwrap_err().to_string(), "身份证号应为18位（旧证15位），现在是2位");
    }

    #[test]
    fn numbers_mangled_by_a_spreadsheet_are_recognised() {
        for input in ["3.60802199001011E+17", "3.60802199001011e+17", "360802199001011000.0", "１.２Ｅ＋17"]
        {
            assert_eq!(IdNumber::parse(input), Err(IdNumberError::LooksLikeSpreadsheetNumber), "{input}");
        }
        // 15 significant digits kept, the rest zeroed: the check fails and it ends in 000.
        assert_eq!(IdNumber::parse("110105194912310000"), Err(IdNumberError::LooksLikeSpreadsheetNumber));
    }

    #[test]
    fn masked_and_debug_never_show_the_whole_number() {
        let id = IdNumber::parse("11010519491231002X").unwrap().id;
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110***********002X)");
        let parsed = IdNumber::parse("11010519491231002X").unwrap();
        assert!(!format!("{parsed:?}").contains("19491231"));
    }

    #[test]
    fn age_counts_full_years_and_leap_day_birthdays_fall_on_1_march() {
        let id = IdNumber::parse("11010519491231002X").unwrap().id;
        assert_eq!(id.age_on(date(1949, 12, 31)), 0);
        assert_eq!(id.age_on(date(1940, 1, 1)), 0);
        assert_eq!(id.age_on(date(2014, 12, 30)), 64);
        assert_eq!(id.age_on(date(2014, 12, 31)), 65);
        let body = "11010520000229001";
        let leap = format!("{body}{}", IdNumber::check_char_for(body).unwrap());
        let id = IdNumber::parse(&leap).unwrap().id;
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.age_on(date(2018, 2, 28)), 17);
        assert_eq!(id.age_on(date(2018, 3, 1)), 18);
        assert_eq!(id.age_on(date(2020, 2, 28)), 19);
        assert_eq!(id.age_on(date(2020, 2, 29)), 20);
    }

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

    #[test]
    fn names_keep_their_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name(" 王小明 "), "王**");
        assert_eq!(mask_name(""), "");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn valid_body() -> impl Strategy<Value = String> {
            // Birth dates from 1900-01-01 over roughly 200 years.
            ("[0-9]{6}", 0i64..73_000, "[0-9]{3}").prop_map(|(address, days, sequence)| {
                let birth = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
                format!("{address}{}{sequence}", birth.format("%Y%m%d"))
            })
        }

        fn uscc_body() -> impl Strategy<Value = String> {
            proptest::collection::vec(0usize..31, 17)
                .prop_map(|values| values.into_iter().map(|v| USCC_CHARSET[v] as char).collect())
        }

        proptest! {
            #[test]
            fn valid_numbers_parse_and_any_single_change_is_caught(
                body in valid_body(),
                position in 0usize..17,
                delta in 1u8..10,
                wrong in 0usize..11,
            ) {
                let check = IdNumber::check_char_for(&body).unwrap();
                let number = format!("{body}{check}");
                let parsed = IdNumber::parse(&number).unwrap();
                prop_assert!(!parsed.upgraded_from_15);
                prop_assert_eq!(parsed.id.as_str(), number.as_str());
                prop_assert_eq!(parsed.id.birth_date().format("%Y%m%d").to_string(), &body[6..14]);
                let sequence_odd = (body.as_bytes()[16] - b'0') % 2 == 1;
                prop_assert_eq!(parsed.id.sex() == Sex::Male, sequence_odd);

                // ISO 7064 MOD 11-2 catches every single substituted digit.
                let mut changed = body.clone().into_bytes();
                changed[position] = b'0' + (changed[position] - b'0' + delta) % 10;
                let changed = format!("{}{check}", String::from_utf8(changed).unwrap());
                prop_assert!(IdNumber::parse(&changed).is_err());

                let other = ID_CHECK_CHARS[wrong] as char;
                if other != check {
                    let wrong_check = format!("{body}{other}");
                    prop_assert!(IdNumber::parse(&wrong_check).is_err());
                }
            }

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

            #[test]
            fn parsers_never_panic(input in "\\PC*") {
                let _ = IdNumber::parse(&input);
                let _ = Mobile::parse(&input);
                let _ = Uscc::parse(&input);
                let _ = mask_name(&input);
            }

            #[test]
            fn parsers_never_panic_on_near_misses(input in "[0-9xX．.Ｅ+Ee０-９ \u{3000}-]{0,20}") {
                let _ = IdNumber::parse(&input);
                let _ = Mobile::parse(&input);
                let _ = Uscc::parse(&input);
            }
        }
    }
}
