//! Reading form fields into domain values, with the Chinese message a form shows when a
//! field is wrong. Every page parses through these, so the same mistake reads the same way.

use chrono::NaiveDate;
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_domain::{Fen, RegionCode};

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
    let value: T = raw.trim().parse().map_err(|_| format!("{label}须为整数"))?;
    if value < min || value > max {
        return Err(format!("{label}须在{min}到{max}之间"));
    }
    Ok(value)
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
}
