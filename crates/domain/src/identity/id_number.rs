//! The resident ID number (身份证号, GB 11643-1999) and the sex it records.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::half_width;

/// A person's sex as the ID number records it (odd sequence digit = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
///
/// Held inline (18 ASCII bytes, no allocation): an import keeps a million of them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber([u8; 18]);

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
                Ok(ParsedIdNumber { id: IdNumber::from_checked(bytes), upgraded_from_15: false })
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
                Ok(ParsedIdNumber { id: IdNumber::from_checked(upgraded.as_bytes()), upgraded_from_15: true })
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
        std::str::from_utf8(&self.0).expect("an ID number is ASCII")
    }

    /// From 18 bytes the parser has checked (ASCII digits and a check character).
    fn from_checked(bytes: &[u8]) -> IdNumber {
        IdNumber(bytes.try_into().expect("18 characters, checked by the parser"))
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(&self.as_str()[6..14]).expect("birth date checked by the parser")
    }

    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The number as it may be shown: first 3 and last 4 characters, 11 stars between
    /// (`110***********1234`).
    pub fn masked(&self) -> String {
        let id = self.as_str();
        format!("{}{}{}", &id[..3], "*".repeat(11), &id[14..])
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
        }
    }
}
