//! Matching a roster's county, township and village names to the official codes, tolerant
//! of the short forms rosters use (`双树村` for `双树村村民委员会`, `兴桥` for `兴桥镇`).

use std::collections::HashMap;

use guanai_domain::{RegionCode, RegionLevel};
use guanai_store::regions::DivisionRow;

/// A name without the suffixes rosters drop or add.
pub fn loose(name: &str) -> String {
    let mut name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    const SUFFIXES: [&str; 16] = [
        "社区居民委员会",
        "村民委员会",
        "居民委员会",
        "社区居委会",
        "街道办事处",
        "村委会",
        "居委会",
        "办事处",
        "社区",
        "街道",
        "村",
        "镇",
        "乡",
        "区",
        "县",
        "市",
    ];
    // Strip repeatedly: `双树村村民委员会` → `双树村` → `双树`.
    loop {
        let before = name.clone();
        for suffix in SUFFIXES {
            if let Some(stripped) = name.strip_suffix(suffix) {
                if stripped.chars().count() >= 2 {
                    name = stripped.to_owned();
                    break;
                }
            }
        }
        if name == before {
            return name;
        }
    }
}

/// How strictly a name is compared: the official name, the short form rosters use, or
/// the loosest form. The strictest tier that finds exactly one region wins.
const TIERS: usize = 3;

fn keys(name: &str) -> [String; TIERS] {
    let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    [compact.clone(), guanai_domain::regions::short_region_name(&compact), loose(&compact)]
}

/// The regions of one city, by level and name.
pub struct Places {
    /// per tier: (parent code, key) → codes
    by_parent: Vec<HashMap<(String, String), Vec<RegionCode>>>,
    /// per tier: (level, key) → codes anywhere in the city
    by_level: Vec<HashMap<(RegionLevel, String), Vec<RegionCode>>>,
    names: HashMap<RegionCode, String>,
}

impl Places {
    pub fn new(rows: &[DivisionRow]) -> Self {
        let mut by_parent = vec![HashMap::new(); TIERS];
        let mut by_level = vec![HashMap::new(); TIERS];
        let mut names = HashMap::new();
        for row in rows {
            for (tier, key) in keys(&row.name).into_iter().enumerate() {
                if let Some(parent) = row.code.parent() {
                    by_parent[tier]
                        .entry((parent.to_string(), key.clone()))
                        .or_insert_with(Vec::new)
                        .push(row.code.clone());
                }
                by_level[tier].entry((row.code.level(), key)).or_insert_with(Vec::new).push(row.code.clone());
            }
            names.insert(row.code.clone(), row.name.clone());
        }
        Places { by_parent, by_level, names }
    }

    pub fn name(&self, code: &RegionCode) -> &str {
        self.names.get(code).map(String::as_str).unwrap_or_default()
    }

    fn find(
        &self,
        level: RegionLevel,
        within: Option<&RegionCode>,
        name: &str,
    ) -> Result<Option<RegionCode>, String> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(None);
        }
        // A code in place of a name is taken as it is, if it is known and fits.
        if name.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(code) = RegionCode::parse(name) {
                if code.level() == level
                    && self.names.contains_key(&code)
                    && within.is_none_or(|w| w.contains(&code))
                {
                    return Ok(Some(code));
                }
            }
        }
        let mut found = Vec::new();
        for (tier, key) in keys(name).into_iter().enumerate() {
            found = match within {
                Some(parent) if parent.level().child() == Some(level) => {
                    self.by_parent[tier].get(&(parent.to_string(), key)).cloned()
                }
                Some(parent) => self.by_level[tier]
                    .get(&(level, key))
                    .map(|codes| codes.iter().filter(|c| parent.contains(c)).cloned().collect()),
                None => self.by_level[tier].get(&(level, key)).cloned(),
            }
            .unwrap_or_default();
            if found.len() == 1 {
                break;
            }
        }
        let place = within.map(|w| self.name(w).to_owned()).unwrap_or_else(|| "本市".to_owned());
        match found.as_slice() {
            [one] => Ok(Some(one.clone())),
            [] => Err(format!("在{place}找不到{}“{name}”，请核对名称", level.label())),
            _ => Err(format!("{place}有多个名为“{name}”的{}，请同时填写上级区划", level.label())),
        }
    }

    /// The village of a row, from whichever of county, township and village it gives.
    pub fn village(&self, county: &str, township: &str, village: &str) -> Result<RegionCode, String> {
        let county = self.find(RegionLevel::County, None, county)?;
        let township = self.find(RegionLevel::Township, county.as_ref(), township)?;
        let within = township.as_ref().or(county.as_ref());
        match self.find(RegionLevel::Village, within, village)? {
            Some(code) => Ok(code),
            None => Err("缺少村（社区）名称".to_owned()),
        }
    }
}

/// A roster repeats the same few thousand places on a million rows: each spelling of a
/// place is matched once, and each village is kept once (rows hold its number here).
#[derive(Default)]
pub struct VillageMemo {
    key: String,
    found: HashMap<String, Result<u32, String>>,
    codes: Vec<RegionCode>,
    numbers: HashMap<RegionCode, u32>,
}

impl VillageMemo {
    /// [`Places::village`], remembered: the village's number in this memo.
    pub fn village(
        &mut self,
        places: &Places,
        county: &str,
        township: &str,
        village: &str,
    ) -> Result<u32, String> {
        self.key.clear();
        for part in [county, "\u{1f}", township, "\u{1f}", village] {
            self.key.push_str(part);
        }
        if let Some(found) = self.found.get(self.key.as_str()) {
            return found.clone();
        }
        let found = places.village(county, township, village).map(|code| match self.numbers.get(&code) {
            Some(number) => *number,
            None => {
                self.codes.push(code.clone());
                self.numbers.insert(code, self.codes.len() as u32 - 1);
                self.codes.len() as u32 - 1
            }
        });
        self.found.insert(self.key.clone(), found.clone());
        found
    }

    /// The villages by number.
    pub fn into_codes(self) -> Vec<RegionCode> {
        self.codes
    }

    /// The village numbered `number` by [`VillageMemo::village`].
    pub fn code(&self, number: u32) -> &RegionCode {
        &self.codes[number as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        let set = guanai_store::regions::demo_city();
        Places::new(&set.rows)
    }

    #[test]
    fn short_and_full_names_match_the_same_region() {
        assert_eq!(loose("双树村村民委员会"), "双树");
        assert_eq!(loose("兴桥镇"), "兴桥");
        assert_eq!(loose("吉州区"), "吉州");
        let places = places();
        let full = places.village("吉州区", "兴桥镇", "钓源村委会").unwrap();
        assert_eq!(full.as_str(), "360802100200");
        assert_eq!(places.village("吉州", "兴桥", "钓源村").unwrap(), full);
        assert_eq!(places.village("", "兴桥镇", "钓源").unwrap(), full);
        assert_eq!(places.village("", "", "360802100200").unwrap(), full);
    }

    #[test]
    fn unknown_or_ambiguous_names_are_explained() {
        let places = places();
        let err = places.village("吉州区", "兴桥镇", "不存在村").unwrap_err();
        assert!(err.contains("在兴桥镇找不到村（社区）“不存在村”"), "{err}");
        let err = places.village("火星区", "", "钓源村").unwrap_err();
        assert!(err.contains("找不到县（市、区）“火星区”"), "{err}");
        assert!(places.village("吉州区", "兴桥镇", "").is_err());
    }

    #[test]
    fn the_memo_answers_as_the_places_do() {
        let places = places();
        let mut memo = VillageMemo::default();
        for _ in 0..2 {
            let found = memo.village(&places, "吉州", "兴桥", "钓源村").map(|n| memo.code(n).clone());
            assert_eq!(found, places.village("吉州", "兴桥", "钓源村"));
            let missing = memo.village(&places, "", "兴桥镇", "不存在村").map(|n| memo.code(n).clone());
            assert_eq!(missing, places.village("", "兴桥镇", "不存在村"));
        }
        // Two spellings of one village share its number.
        assert_eq!(
            memo.village(&places, "吉州区", "兴桥镇", "钓源村委会"),
            memo.village(&places, "", "", "360802100200")
        );
        // The parts are kept apart: the same letters split differently are another place.
        assert!(memo.village(&places, "吉州区兴桥镇", "", "钓源村").is_err());
    }
}
