//! Regions: the official statistical division codes, city (4 digits) → county (6) →
//! township (9) → village (12). A code's prefix is its parent's code, so "within a scope"
//! is "starts with the scope's code".

use std::fmt;

use serde::{Deserialize, Serialize};

/// The level of a region in the hierarchy the product uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RegionLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl RegionLevel {
    /// Number of digits of a code at this level.
    pub const fn code_len(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
        }
    }

    pub fn from_code_len(len: usize) -> Option<Self> {
        match len {
            2 => Some(RegionLevel::Province),
            4 => Some(RegionLevel::City),
            6 => Some(RegionLevel::County),
            9 => Some(RegionLevel::Township),
            12 => Some(RegionLevel::Village),
            _ => None,
        }
    }

    /// The level directly above, if any.
    pub const fn parent(self) -> Option<Self> {
        match self {
            RegionLevel::Province => None,
            RegionLevel::City => Some(RegionLevel::Province),
            RegionLevel::County => Some(RegionLevel::City),
            RegionLevel::Township => Some(RegionLevel::County),
            RegionLevel::Village => Some(RegionLevel::Township),
        }
    }

    /// The level directly below, if any.
    pub const fn child(self) -> Option<Self> {
        match self {
            RegionLevel::Province => Some(RegionLevel::City),
            RegionLevel::City => Some(RegionLevel::County),
            RegionLevel::County => Some(RegionLevel::Township),
            RegionLevel::Township => Some(RegionLevel::Village),
            RegionLevel::Village => None,
        }
    }

    /// Chinese name of the level, as users read it.
    pub const fn label(self) -> &'static str {
        match self {
            RegionLevel::Province => "省",
            RegionLevel::City => "市",
            RegionLevel::County => "县（市、区）",
            RegionLevel::Township => "乡镇（街道）",
            RegionLevel::Village => "村（社区）",
        }
    }
}

/// A valid statistical division code: 2, 4, 6, 9 or 12 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct RegionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("区划代码不能为空")]
    Empty,
    #[error("区划代码“{0}”只能由数字组成")]
    NotDigits(String),
    #[error("区划代码“{0}”的位数不对：市为4位，县为6位，乡镇为9位，村为12位")]
    BadLength(String),
    #[error("区划代码“{code}”不属于上级“{parent}”：下级代码必须以上级代码开头")]
    NotUnderParent { code: String, parent: String },
}

impl RegionCode {
    /// Parses a code, trimming surrounding white space.
    pub fn parse(input: &str) -> Result<Self, RegionCodeError> {
        let code = input.trim();
        if code.is_empty() {
            return Err(RegionCodeError::Empty);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::NotDigits(code.to_owned()));
        }
        if RegionLevel::from_code_len(code.len()).is_none() {
            return Err(RegionCodeError::BadLength(code.to_owned()));
        }
        Ok(RegionCode(code.to_owned()))
    }

    /// Parses a code that must sit directly under `parent`.
    pub fn parse_child_of(input: &str, parent: &RegionCode) -> Result<Self, RegionCodeError> {
        let code = Self::parse(input)?;
        if code.parent().as_ref() != Some(parent) {
            return Err(RegionCodeError::NotUnderParent { code: code.0, parent: parent.0.clone() });
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> RegionLevel {
        RegionLevel::from_code_len(self.0.len()).expect("length checked by the parser")
    }

    /// The code of the region directly above, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        let level = self.level().parent()?;
        Some(RegionCode(self.0[..level.code_len()].to_owned()))
    }

    /// The codes of this region and every region above it, top first.
    pub fn ancestry(&self) -> Vec<RegionCode> {
        let mut chain = vec![self.clone()];
        while let Some(parent) = chain.last().and_then(RegionCode::parent) {
            chain.push(parent);
        }
        chain.reverse();
        chain
    }

    /// Whether `other` is this region or lies below it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The code of the region at `level` that contains this one (itself at its own level).
    pub fn at_level(&self, level: RegionLevel) -> Option<RegionCode> {
        (level <= self.level()).then(|| RegionCode(self.0[..level.code_len()].to_owned()))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        RegionCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Official names carry the committee suffix (`双树村村民委员会`, `钓源村委会`,
/// `汶溪社区居委会`); rosters write the short form (`双树村`, `钓源村`, `汶溪社区`). Returns the
/// name without such a suffix, for matching.
pub fn short_region_name(name: &str) -> String {
    let name = name.trim();
    // (suffix, what the short form ends with instead)
    const RULES: [(&str, &str); 6] = [
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居民委员会", ""),
        ("居委会", ""),
    ];
    for (suffix, keep) in RULES {
        if let Some(base) = name.strip_suffix(suffix) {
            if base.is_empty() {
                return name.to_owned();
            }
            return if base.ends_with(keep) { base.to_owned() } else { format!("{base}{keep}") };
        }
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_level_and_rejects_other_lengths() {
        assert_eq!(RegionCode::parse("3608").unwrap().level(), RegionLevel::City);
        assert_eq!(RegionCode::parse(" 360802 ").unwrap().level(), RegionLevel::County);
        assert_eq!(RegionCode::parse("360802001").unwrap().level(), RegionLevel::Township);
        assert_eq!(RegionCode::parse("360802001001").unwrap().level(), RegionLevel::Village);
        assert_eq!(RegionCode::parse("36080"), Err(RegionCodeError::BadLength("36080".into())));
        assert_eq!(RegionCode::parse("36a8"), Err(RegionCodeError::NotDigits("36a8".into())));
        assert_eq!(RegionCode::parse("  "), Err(RegionCodeError::Empty));
    }

    #[test]
    fn parent_ancestry_and_containment_follow_the_prefix() {
        let village = RegionCode::parse("360802001001").unwrap();
        assert_eq!(village.parent().unwrap().as_str(), "360802001");
        let chain: Vec<_> = village.ancestry().iter().map(|c| c.to_string()).collect();
        assert_eq!(chain, ["36", "3608", "360802", "360802001", "360802001001"]);
        let county = RegionCode::parse("360802").unwrap();
        assert!(county.contains(&village));
        assert!(!village.contains(&county));
        assert!(!RegionCode::parse("360803").unwrap().contains(&village));
        assert_eq!(village.at_level(RegionLevel::County), Some(county));
    }

    #[test]
    fn child_must_sit_under_its_parent() {
        let county = RegionCode::parse("360802").unwrap();
        assert!(RegionCode::parse_child_of("360802001", &county).is_ok());
        let err = RegionCode::parse_child_of("360803001", &county).unwrap_err();
        assert!(err.to_string().contains("不属于上级"));
        assert!(RegionCode::parse_child_of("360802001001", &county).is_err());
    }

    #[test]
    fn short_names_drop_committee_suffixes() {
        assert_eq!(short_region_name("双树村村民委员会"), "双树村");
        assert_eq!(short_region_name("钓源村委会"), "钓源村");
        assert_eq!(short_region_name("钓源村民委员会"), "钓源村");
        assert_eq!(short_region_name("多福巷社区居委会"), "多福巷社区");
        assert_eq!(short_region_name("汶溪社区居民委员会"), "汶溪社区");
        assert_eq!(short_region_name("双树村"), "双树村");
        assert_eq!(short_region_name("村民委员会"), "村民委员会");
    }
}
