//! Targets (任务指标): what a region is to reach in a scheme year — insured households,
//! insured persons, a renewal rate — and the coverage base, the households eligible in a
//! village (应保户数). The city sets its counties' targets, a county its townships'; the
//! base is entered per village. Who may set what, and how a rate is typed, is decided here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::regions::RegionLevel;

/// The first and last scheme years a target may name.
pub const TARGET_YEARS: std::ops::RangeInclusive<i32> = 2021..=2100;

/// The most households or persons a single target may name (a province's worth, twice).
pub const MAX_TARGET: u64 = 100_000_000;

/// A rate in tenths of a percent (‰), 0 to 1000: 87.5 % is 875.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Permille(u32);

impl Permille {
    pub fn new(permille: u32) -> Option<Permille> {
        (permille <= 1000).then_some(Permille(permille))
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// Reads a percentage as people type it: `87.5`, `87.5%`, `87.5％`, ` 90 `; at most one
    /// decimal, 0 to 100.
    pub fn parse_percent(input: &str) -> Result<Permille, TargetError> {
        let raw = input.trim();
        let text = raw.trim_end_matches(['%', '％']).trim();
        let bad = || TargetError::BadRate(raw.to_owned());
        let (whole, tenth) = match text.split_once('.') {
            Some((w, t)) if t.len() == 1 => (w, t),
            Some((w, t)) if t.chars().all(|c| c == '0') => (w, "0"),
            Some(_) => return Err(bad()),
            None => (text, "0"),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 3 {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let tenth: u32 = tenth.parse().map_err(|_| bad())?;
        Permille::new(whole * 10 + tenth).ok_or_else(bad)
    }
}

impl fmt::Display for Permille {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}%", self.0 / 10, self.0 % 10)
    }
}

/// A target or base that cannot be set, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("续保率“{0}”无法识别：请填写0到100之间的百分数，最多一位小数，如 87.5")]
    BadRate(String),
    #[error("{label}“{raw}”无法识别：请填写0到{max}之间的整数")]
    BadCount { label: &'static str, raw: String, max: u64 },
    #[error("年度须在{}到{}之间", TARGET_YEARS.start(), TARGET_YEARS.end())]
    BadYear,
    #[error("{setter}只能为下一级的{allowed}设定任务指标，不能为{region}设定")]
    WrongLevel { setter: &'static str, allowed: &'static str, region: &'static str },
    #[error("应保户数按村（社区）填写，{0}不能直接填写")]
    BaseNotVillage(&'static str),
}

/// Checks that a user scoped to `scope` may set the targets of a region at `region`: the
/// city sets its counties', a county its townships' (a target is handed down one level).
pub fn check_target_level(scope: RegionLevel, region: RegionLevel) -> Result<(), TargetError> {
    match scope.child() {
        Some(child) if child == region && matches!(region, RegionLevel::County | RegionLevel::Township) => {
            Ok(())
        }
        child => Err(TargetError::WrongLevel {
            setter: scope.label(),
            allowed: child.map_or("区划", RegionLevel::label),
            region: region.label(),
        }),
    }
}

/// Checks that a coverage base is entered for a village.
pub fn check_base_level(region: RegionLevel) -> Result<(), TargetError> {
    if region == RegionLevel::Village {
        Ok(())
    } else {
        Err(TargetError::BaseNotVillage(region.label()))
    }
}

/// Checks a target's year.
pub fn check_year(year: i32) -> Result<i32, TargetError> {
    if TARGET_YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(TargetError::BadYear)
    }
}

/// Reads a count of households or persons (`label` names it in the message): a whole number
/// from 0 to [`MAX_TARGET`]; thousands separators and a trailing `户`/`人` are allowed.
pub fn parse_count(label: &'static str, input: &str) -> Result<u64, TargetError> {
    let raw = input.trim();
    let text: String =
        raw.trim_end_matches(['户', '人']).chars().filter(|c| !matches!(c, ',' | '，' | ' ')).collect();
    // A spreadsheet gives a whole number as `1200.0`.
    let text = text.strip_suffix(".0").unwrap_or(&text);
    text.parse::<u64>().ok().filter(|n| *n <= MAX_TARGET).ok_or_else(|| TargetError::BadCount {
        label,
        raw: raw.to_owned(),
        max: MAX_TARGET,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_as_people_type_them() {
        assert_eq!(Permille::parse_percent("87.5").unwrap().get(), 875);
        assert_eq!(Permille::parse_percent(" 90% ").unwrap().get(), 900);
        assert_eq!(Permille::parse_percent("100％").unwrap().get(), 1000);
        assert_eq!(Permille::parse_percent("0").unwrap().get(), 0);
        assert_eq!(Permille::parse_percent("88.00").unwrap().get(), 880);
        for bad in ["", "abc", "100.1", "87.55", "-5", "1e2", "101", ".5"] {
            assert!(Permille::parse_percent(bad).is_err(), "{bad}");
        }
        assert_eq!(Permille::new(875).unwrap().to_string(), "87.5%");
    }

    #[test]
    fn targets_are_handed_down_one_level() {
        assert!(check_target_level(RegionLevel::City, RegionLevel::County).is_ok());
        assert!(check_target_level(RegionLevel::County, RegionLevel::Township).is_ok());
        let err = check_target_level(RegionLevel::County, RegionLevel::County).unwrap_err();
        assert_eq!(
            err.to_string(),
            "县（市、区）只能为下一级的乡镇（街道）设定任务指标，不能为县（市、区）设定"
        );
        assert!(check_target_level(RegionLevel::City, RegionLevel::Township).is_err());
        assert!(check_target_level(RegionLevel::Township, RegionLevel::Village).is_err());
        assert!(check_base_level(RegionLevel::Village).is_ok());
        assert!(check_base_level(RegionLevel::Township).is_err());
    }

    #[test]
    fn counts_take_separators_and_units_but_nothing_else() {
        assert_eq!(parse_count("目标户数", "12,300户").unwrap(), 12_300);
        assert_eq!(parse_count("目标户数", "1200.0").unwrap(), 1_200);
        assert!(parse_count("目标户数", "-3").is_err());
        assert!(parse_count("目标户数", "12.5").is_err());
        assert!(parse_count("目标户数", "200000000").is_err());
        assert_eq!(check_year(2020), Err(TargetError::BadYear));
    }
}
