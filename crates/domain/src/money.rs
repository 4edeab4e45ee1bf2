//! Money: an exact amount in integer fen (1 元 = 100 分). No floating point anywhere.
//!
//! There is no `Add`, `Sub` or `Sum` on [`Fen`]: every sum is checked
//! ([`Fen::checked_add`], [`Fen::sum_checked`] …) so that an overflow is a value the caller
//! handles, never a silent wrap or a panic.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::identity::half_width;

/// An amount of money in fen. May be negative (a refund, a correction); amounts users
/// enter go through [`Fen::parse_yuan`], which accepts only non-negative ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Fen(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FenError {
    #[error("金额不能为空")]
    Empty,
    #[error("金额“{input}”不是有效的数字，请填写如 100、100.50 或 1,234.56")]
    NotANumber { input: String },
    #[error("金额不能为负数")]
    Negative,
    #[error("金额最多保留两位小数（分）")]
    TooManyDecimals,
    #[error("金额太大，最多可记录 92,233,720,368,547,758.07 元")]
    TooLarge,
}

/// The most one receipt may record (money a funder transferred at once): 10 亿元, far above
/// any transfer of a city's or a province's programme, and so far below `i64::MAX` fen
/// that no number of receipts a source will ever have can overflow its total.
pub const MAX_RECEIPT: Fen = Fen::from_yuan(1_000_000_000);

/// An amount outside the range a field allows; says the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("须大于0且不超过{max}")]
pub struct OutOfRange {
    pub max: Fen,
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    /// Whole yuan as fen. Meant for constants (`Fen::from_yuan(100)`); panics if the
    /// amount does not fit (beyond about 9.2 × 10^16 元), which in a `const` is a compile
    /// error. Use [`Fen::checked_from_yuan`] for amounts from outside.
    pub const fn from_yuan(yuan: i64) -> Fen {
        match Fen::checked_from_yuan(yuan) {
            Some(fen) => fen,
            None => panic!("amount in yuan too large for Fen"),
        }
    }

    /// Whole yuan as fen, or `None` if the amount does not fit.
    pub const fn checked_from_yuan(yuan: i64) -> Option<Fen> {
        match yuan.checked_mul(100) {
            Some(fen) => Some(Fen(fen)),
            None => None,
        }
    }

    /// The amount in fen.
    pub const fn get(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// This amount if it is more than zero and at most `max` (one receipt at most
    /// [`MAX_RECEIPT`], say); otherwise the range it must be in.
    pub fn positive_up_to(self, max: Fen) -> Result<Fen, OutOfRange> {
        if self.0 > 0 && self <= max {
            Ok(self)
        } else {
            Err(OutOfRange { max })
        }
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Fen> {
        self.0.checked_mul(factor).map(Fen)
    }

    /// The sum of the amounts, or `None` on overflow. (There is deliberately no `Sum`.)
    pub fn sum_checked<I: IntoIterator<Item = Fen>>(amounts: I) -> Option<Fen> {
        amounts.into_iter().try_fold(Fen::ZERO, Fen::checked_add)
    }

    /// Parses an amount in yuan as people write it: `100`, `100.5`, `100.50`, `1,234.56`,
    /// `￥12`, `12元`, full-width digits and surrounding spaces. At most two decimals;
    /// thousands separators must group by three; negative amounts are refused.
    pub fn parse_yuan(input: &str) -> Result<Fen, FenError> {
        let text: String = input.chars().map(half_width).collect();
        let mut rest = text.trim();
        if starts_with_minus(rest) {
            return Err(FenError::Negative);
        }
        rest = rest.strip_prefix(['￥', '¥']).unwrap_or(rest).trim_start();
        rest = rest.strip_suffix('元').unwrap_or(rest).trim_end();
        if starts_with_minus(rest) {
            return Err(FenError::Negative);
        }
        if rest.is_empty() {
            return Err(FenError::Empty);
        }
        let not_a_number = || FenError::NotANumber { input: input.trim().to_owned() };
        let (whole, fraction) = match rest.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (rest, None),
        };
        let whole = ungroup(whole).ok_or_else(not_a_number)?;
        let cents = match fraction {
            None => 0,
            Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return Err(not_a_number()),
            Some(f) if f.len() > 2 => return Err(FenError::TooManyDecimals),
            Some(f) => {
                let value: i64 = f.parse().map_err(|_| not_a_number())?;
                if f.len() == 1 {
                    value * 10
                } else {
                    value
                }
            }
        };
        let mut yuan: i64 = 0;
        for digit in whole.bytes() {
            yuan = yuan
                .checked_mul(10)
                .and_then(|y| y.checked_add(i64::from(digit - b'0')))
                .ok_or(FenError::TooLarge)?;
        }
        yuan.checked_mul(100).and_then(|fen| fen.checked_add(cents)).map(Fen).ok_or(FenError::TooLarge)
    }

    /// The amount in yuan with two decimals, no separators and no unit (`1234.56`,
    /// `-0.05`): for form inputs and exports.
    pub fn yuan_string(self) -> String {
        let sign = if self.is_negative() { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Splits the amount into `parts` amounts that differ by at most 1 fen and add up to
    /// exactly this one; the first ones carry the extra fen. `parts == 0` gives nothing.
    pub fn split_evenly(self, parts: u32) -> Vec<Fen> {
        if parts == 0 {
            return Vec::new();
        }
        let n = i64::from(parts);
        let base = self.0.div_euclid(n);
        let extra = self.0.rem_euclid(n);
        (0..n).map(|i| Fen(if i < extra { base + 1 } else { base })).collect()
    }
}

/// Parses an amount in yuan; the same as [`Fen::parse_yuan`].
pub fn parse_yuan(input: &str) -> Result<Fen, FenError> {
    Fen::parse_yuan(input)
}

fn starts_with_minus(text: &str) -> bool {
    text.starts_with(['-', '\u{2212}'])
}

/// The digits of a whole-yuan part, with thousands separators removed if they group the
/// digits by three; `None` if it is not that.
fn ungroup(whole: &str) -> Option<String> {
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let mut digits = first.to_owned();
    let grouped = whole.contains(',');
    if first.is_empty() || (grouped && first.len() > 3) {
        return None;
    }
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        digits.push_str(group);
    }
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits)
}

/// `1,234.56 元`: thousands separators, always two decimals, `-` in front if negative.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let yuan = (abs / 100).to_string();
        // The first group holds 1 to 3 digits, every later one exactly 3.
        let head = match yuan.len() % 3 {
            0 => 3,
            short => short,
        };
        let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
        grouped.push_str(&yuan[..head]);
        for group in yuan.as_bytes()[head..].chunks(3) {
            grouped.push(',');
            grouped.push_str(std::str::from_utf8(group).expect("ASCII digits"));
        }
        let sign = if self.is_negative() { "-" } else { "" };
        write!(f, "{sign}{grouped}.{:02} 元", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        let cases = [
            ("100", 10_000),
            ("100.5", 10_050),
            ("100.50", 10_050),
            ("0.05", 5),
            ("1,234.56", 123_456),
            ("1,234,567", 123_456_700),
            ("￥12", 1_200),
            ("¥ 12.3", 1_230),
            ("12元", 1_200),
            ("12.00 元", 1_200),
            ("１２３．４５", 12_345),
            ("１，２３４", 123_400),
            ("\u{3000} 60 ", 6_000),
            ("007", 700),
        ];
        for (input, fen) in cases {
            assert_eq!(Fen::parse_yuan(input), Ok(Fen::new(fen)), "{input}");
        }
        assert_eq!(parse_yuan("30"), Ok(Fen::from_yuan(30)));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        assert_eq!(Fen::parse_yuan(""), Err(FenError::Empty));
        assert_eq!(Fen::parse_yuan(" ￥ "), Err(FenError::Empty));
        assert_eq!(Fen::parse_yuan("元"), Err(FenError::Empty));
        assert_eq!(Fen::parse_yuan("-5"), Err(FenError::Negative));
        assert_eq!(Fen::parse_yuan("￥-5"), Err(FenError::Negative));
        assert_eq!(Fen::parse_yuan("－5"), Err(FenError::Negative));
        assert_eq!(Fen::parse_yuan("1.234"), Err(FenError::TooManyDecimals));
        assert_eq!(Fen::parse_yuan("99999999999999999999"), Err(FenError::TooLarge));
        assert_eq!(Fen::parse_yuan("92233720368547758.08"), Err(FenError::TooLarge));
        assert_eq!(Fen::parse_yuan("92233720368547758.07"), Ok(Fen::new(i64::MAX)));
        for input in ["abc", "1.2.3", "12,34", "1234,567", ",123", "100.", ".5", "1e3", "+5", "1 000", "1.2a"]
        {
            assert_eq!(
                Fen::parse_yuan(input),
                Err(FenError::NotANumber { input: input.to_owned() }),
                "{input}"
            );
        }
        assert_eq!(FenError::TooManyDecimals.to_string(), "金额最多保留两位小数（分）");
        assert_eq!(FenError::Negative.to_string(), "金额不能为负数");
    }

    #[test]
    fn displays_with_separators_and_unit() {
        assert_eq!(Fen::new(123_456).to_string(), "1,234.56 元");
        assert_eq!(Fen::new(-123_456).to_string(), "-1,234.56 元");
        assert_eq!(Fen::ZERO.to_string(), "0.00 元");
        assert_eq!(Fen::new(5).to_string(), "0.05 元");
        assert_eq!(Fen::new(-5).to_string(), "-0.05 元");
        assert_eq!(Fen::from_yuan(150_000).to_string(), "150,000.00 元");
        assert_eq!(Fen::new(i64::MIN).to_string(), "-92,233,720,368,547,758.08 元");
        assert_eq!(Fen::new(123_456).yuan_string(), "1234.56");
        assert_eq!(Fen::new(-5).yuan_string(), "-0.05");
        assert_eq!(Fen::from_yuan(60).yuan_string(), "60.00");
    }

    #[test]
    fn arithmetic_is_checked() {
        let five = Fen::from_yuan(5);
        assert_eq!(five.checked_add(Fen::from_yuan(10)), Some(Fen::from_yuan(15)));
        assert_eq!(five.checked_sub(Fen::from_yuan(10)), Some(Fen::from_yuan(-5)));
        assert!(five.checked_sub(Fen::from_yuan(10)).unwrap().is_negative());
        assert_eq!(five.checked_mul(3).map(Fen::get), Some(1_500));
        assert_eq!(Fen::new(i64::MAX).checked_add(Fen::new(1)), None);
        assert_eq!(Fen::new(i64::MIN).checked_sub(Fen::new(1)), None);
        assert_eq!(Fen::new(i64::MAX).checked_mul(2), None);
        assert_eq!(Fen::checked_from_yuan(i64::MAX), None);
        // 省5 + 县5 + 乡10 + 村10 + 家庭30 = 60 元.
        let parts = [5, 5, 10, 10, 30].map(Fen::from_yuan);
        assert_eq!(Fen::sum_checked(parts), Some(Fen::from_yuan(60)));
        assert_eq!(Fen::sum_checked([Fen::new(i64::MAX), Fen::new(1)]), None);
        assert_eq!(Fen::sum_checked([]), Some(Fen::ZERO));
    }

    #[test]
    fn receipts_are_bounded_and_the_refusal_says_the_range() {
        assert_eq!(MAX_RECEIPT.positive_up_to(MAX_RECEIPT), Ok(MAX_RECEIPT));
        assert_eq!(Fen::new(1).positive_up_to(MAX_RECEIPT), Ok(Fen::new(1)));
        for bad in [Fen::ZERO, Fen::new(-1), Fen::new(MAX_RECEIPT.get() + 1), Fen::new(i64::MAX)] {
            let err = bad.positive_up_to(MAX_RECEIPT).unwrap_err();
            assert_eq!(err.to_string(), "须大于0且不超过1,000,000,000.00 元", "{bad:?}");
        }
        // Even a hundred million receipts of the most each cannot overflow a total.
        assert!(MAX_RECEIPT.checked_mul(90_000_000).is_some());
        assert!(FenError::TooLarge.to_string().contains("92,233,720,368,547,758.07 元"));
    }

    #[test]
    fn serialises_as_a_bare_number_of_fen() {
        assert_eq!(serde_json::to_string(&Fen::new(6_000)).unwrap(), "6000");
        assert_eq!(serde_json::from_str::<Fen>("-12").unwrap(), Fen::new(-12));
    }

    #[test]
    fn splits_evenly_with_the_extra_fen_first() {
        // 150,000 元 accidental-death cover shared by 7 family members.
        let shares = Fen::from_yuan(150_000).split_evenly(7);
        assert_eq!(shares.len(), 7);
        assert_eq!(shares[0], Fen::new(2_142_858));
        assert_eq!(shares[6], Fen::new(2_142_857));
        assert_eq!(Fen::sum_checked(shares), Some(Fen::from_yuan(150_000)));
        assert_eq!(Fen::new(10).split_evenly(3), [4, 3, 3].map(Fen::new));
        assert_eq!(Fen::new(-10).split_evenly(3), [-3, -3, -4].map(Fen::new));
        assert_eq!(Fen::new(2).split_evenly(4), [1, 1, 0, 0].map(Fen::new));
        assert!(Fen::new(10).split_evenly(0).is_empty());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn display_parses_back(fen in 0i64..=i64::MAX) {
                let amount = Fen::new(fen);
                let shown = amount.to_string();
                let without_unit = shown.strip_suffix(" 元").unwrap();
                prop_assert_eq!(Fen::parse_yuan(without_unit), Ok(amount));
                prop_assert_eq!(Fen::parse_yuan(&shown), Ok(amount));
                prop_assert_eq!(Fen::parse_yuan(&amount.yuan_string()), Ok(amount));
            }

            #[test]
            fn split_adds_up_and_is_even(fen in any::<i64>(), parts in 1u32..500) {
                let shares = Fen::new(fen).split_evenly(parts);
                prop_assert_eq!(shares.len(), parts as usize);
                prop_assert_eq!(Fen::sum_checked(shares.iter().copied()), Some(Fen::new(fen)));
                let max = shares.iter().max().unwrap().get();
                let min = shares.iter().min().unwrap().get();
                prop_assert!(max - min <= 1);
                prop_assert!(shares.windows(2).all(|w| w[0] >= w[1]));
            }

            #[test]
            fn parse_never_panics(input in "\\PC*") {
                let _ = Fen::parse_yuan(&input);
            }

            #[test]
            fn parse_never_panics_on_near_misses(input in "[-0-9.,，．￥¥元 ０-９]{0,30}") {
                if let Ok(fen) = Fen::parse_yuan(&input) {
                    prop_assert!(!fen.is_negative());
                }
            }
        }
    }
}
