//! Reading form fields into domain values, with the Chinese message a form shows when a
//! field is wrong. Every page parses through these, so the same mistake reads the same way.

use chrono::{Datelike, NaiveDate};
use guanai_domain::families::FamilyCategory;
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_domain::{Fen, PovertyStatus, RegionCode};

/// A date as `2026-09-01` (the HTML date input's format) or `2026/9/1`.
pub fn date(label: &str, raw: &str) -> Result<NaiveDate, String> {
    let text = raw.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y/%m/%d"))
        .map_err(|_| format!("{label}“{text}”不是有效日期，请按 2026-09-01 的格式填写"))
}

/// An optional date: empty is `None`.
pub fn optional_date(label: &str, raw: &str) -> Result<Option<NaiveDate>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        date(label, raw).map(Some)
    }
}

/// An amount in 元 (`100`, `1,234.56`), exact to the fen.
pub fn money(label: &str, raw: &str) -> Result<Fen, String> {
    Fen::parse_yuan(raw).map_err(|e| format!("{label}：{e}"))
}

/// A whole number within `range`.
pub fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    label: &str,
    raw: &str,
    min: T,
    max: T,
) -> Result<T, String> {
    let text = raw.trim();
    let out_of_range = || format!("{label}须在{min}到{max}之间");
    let value: T = text.parse().map_err(|_| {
        // Digits that do not fit the type are a number out of range, not a typo.
        let digits = text.strip_prefix('-').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            out_of_range()
        } else {
            format!("{label}须为整数")
        }
    })?;
    if value < min || value > max {
        return Err(out_of_range());
    }
    Ok(value)
}

/// A list's page number from its query string, counted from 0; empty is the first page.
pub fn page(raw: &str) -> Result<u64, String> {
    if raw.trim().is_empty() {
        Ok(0)
    } else {
        number("页码", raw, 0, guanai_store::MAX_PAGE)
    }
}

/// A resident ID number; the second value says it was upgraded from 15 digits.
pub fn id_number(raw: &str) -> Result<(IdNumber, bool), String> {
    IdNumber::parse(raw).map(|p| (p.id, p.upgraded_from_15)).map_err(|e| e.to_string())
}

/// An optional mobile number: empty is `None`.
pub fn optional_mobile(raw: &str) -> Result<Option<Mobile>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        Mobile::parse(raw).map(Some).map_err(|e| e.to_string())
    }
}

/// A region code; `label` names the field.
pub fn region(label: &str, raw: &str) -> Result<RegionCode, String> {
    RegionCode::parse(raw).map_err(|e| format!("{label}：{e}"))
}

/// An optional region code: empty is `None`.
pub fn optional_region(label: &str, raw: &str) -> Result<Option<RegionCode>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        region(label, raw).map(Some)
    }
}

/// The current scheme year of `today` (the store's clock, `AppState::today`), the default
/// of every year filter.
pub fn this_year(today: NaiveDate) -> i32 {
    today.year()
}

/// A year from a filter or form; empty means the current year (of `today`).
pub fn year_or_current(raw: &str, today: NaiveDate) -> Result<i32, String> {
    if raw.trim().is_empty() {
        Ok(this_year(today))
    } else {
        number("年度", raw, 2000, 2100)
    }
}

/// A percentage with at most two decimals (`50`, `33.33`, `12.5%`) as basis points
/// (5000, 3333, 1250), exactly: no floating point.
pub fn percent_bp(label: &str, raw: &str) -> Result<u32, String> {
    let shown = raw.trim();
    let text = shown.trim_end_matches(['%', '％']).trim();
    if text.is_empty() {
        return Err(format!("请填写{label}"));
    }
    let bad = || format!("{label}“{shown}”不是有效的百分比，请填写如 50 或 33.33");
    let (whole, fraction) = match text.split_once('.') {
        Some((_, "")) => return Err(bad()),
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    if fraction.len() > 2 {
        return Err(format!("{label}最多保留两位小数"));
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let hundredths: u32 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let bp = whole * 100 + hundredths;
    if bp == 0 || bp > 10_000 {
        return Err(format!("{label}须在0.01%到100%之间"));
    }
    Ok(bp)
}

/// A family category from a select: empty is "any".
pub fn optional_category(raw: &str) -> Result<Option<String>, String> {
    match raw.trim() {
        "" => Ok(None),
        code if FamilyCategory::DEFAULTS.iter().any(|(c, _)| *c == code) => Ok(Some(code.to_owned())),
        other => Err(format!("未知的家庭类型“{other}”")),
    }
}

/// A poverty status from a select: empty is "any"; `label` names the field.
pub fn optional_poverty(label: &str, raw: &str) -> Result<Option<PovertyStatus>, String> {
    match raw.trim() {
        "" => Ok(None),
        other => PovertyStatus::parse(other).map(Some).ok_or_else(|| format!("未知的{label}“{other}”")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_or_say_what_is_wrong() {
        assert_eq!(date("起保日", "2026-09-01").unwrap(), NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());
        assert_eq!(date("起保日", "2026/9/1").unwrap(), NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());
        assert!(date("起保日", "2026-02-30").unwrap_err().contains("起保日"));
        assert_eq!(optional_date("x", " ").unwrap(), None);
        assert_eq!(money("保费", "1,234.56").unwrap(), Fen::new(123_456));
        assert!(money("保费", "1.234").unwrap_err().starts_with("保费："));
        assert_eq!(number("份数", "2", 1u32, 2).unwrap(), 2);
        assert_eq!(number("份数", "3", 1u32, 2).unwrap_err(), "份数须在1到2之间");
        assert!(id_number("11010519491231002X").is_ok());
        assert!(optional_mobile("").unwrap().is_none());
    }

    #[test]
    fn huge_numbers_are_refused_with_the_range() {
        assert_eq!(page(""), Ok(0));
        assert_eq!(page(" 3 "), Ok(3));
        let range = format!("页码须在0到{}之间", guanai_store::MAX_PAGE);
        for huge in ["18446744073709551615", "99999999999999999999999", "100001", "-1"] {
            assert_eq!(page(huge), Err(range.clone()), "{huge}");
        }
        assert_eq!(page("abc"), Err("页码须为整数".to_owned()));
        assert_eq!(number("年度", "99999999999", 2000, 2100), Err("年度须在2000到2100之间".to_owned()));
    }

    #[test]
    fn percentages_become_exact_basis_points() {
        assert_eq!(percent_bp("比例", "33.33"), Ok(3333));
        assert_eq!(percent_bp("比例", "50"), Ok(5000));
        assert_eq!(percent_bp("比例", " 12.5% "), Ok(1250));
        assert_eq!(percent_bp("比例", "100"), Ok(10_000));
        assert_eq!(percent_bp("比例", "0.01"), Ok(1));
        assert!(percent_bp("比例", "100.01").unwrap_err().contains("0.01%到100%"));
        assert!(percent_bp("比例", "0").is_err());
        assert!(percent_bp("比例", "33.333").unwrap_err().contains("两位小数"));
        for bad in ["abc", "1.", ".5", "-5", "1e2", "5 0"] {
            assert!(percent_bp("比例", bad).is_err(), "{bad}");
        }
        assert_eq!(percent_bp("比例", ""), Err("请填写比例".to_owned()));
    }
}
