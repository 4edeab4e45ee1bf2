//! The reports' summary: per year and village what every figure adds up (migrations 000026
//! and 000027 describe the tables and the triggers that mark what changed, 000031 the
//! statement triggers that replace some of them on PostgreSQL). A report adds
//! up the stored rows of its region and years in SQL, to the grain it needs (the regions one
//! level below its own, say): a few dozen rows whatever the size of the city. What a mark
//! says may be out of date is taken back out and counted live (`count.rs`) on the same
//! snapshot: what a report shows is exact to the last enrolment.
//!
//! Counted per village: a household, or a person, insured in two villages in one year (it
//! moved between two enrolments) counts in each; within a village, once. A family's
//! category and poverty status are its present ones, as the family lists show them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use guanai_domain::{Fen, RegionCode, RegionLevel};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{tally, GroupKey};

mod stored;
use crate::claims::CountyBase;
use crate::entities::{policies, report_marks};
use crate::{Store, StoreResult};

/// One cell: a year's figures of the families of one village, category and poverty status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cell {
    pub year: i32,
    pub village: String,
    pub category: String,
    pub poverty: String,
    /// Families with an underwritten policy of the year.
    pub households: u64,
    /// Distinct persons on those policies.
    pub persons: u64,
    /// Their premium, in fen.
    pub premium: i64,
    /// Of the families insured here the year before, those insured this year (anywhere).
    pub renewed: u64,
}

/// How many of a village's households of a year were first insured on one China day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Day {
    pub year: i32,
    pub village: String,
    pub day: NaiveDate,
    pub households: u64,
}

/// What one source pays of a year's policies (not cancelled) of one village.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub year: i32,
    pub village: String,
    pub source_id: i64,
    pub amount: i64,
    pub policies: u64,
}

/// The families registered in one village, of one category and poverty status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registered {
    pub village: String,
    pub category: String,
    pub poverty: String,
    pub families: u64,
}

/// Villages' rows, as counted from the tables or as stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct VillageRows {
    pub cells: Vec<Cell>,
    pub days: Vec<Day>,
    pub parts: Vec<Part>,
    pub registry: Vec<Registered>,
}

/// A year and village whose rows are counted again (year 0: the village's registry).
pub(crate) type Stale = (i32, String);

/// The rows a mark makes stale: a policy's year and village, and the year after in the
/// village (its renewed households); year 0 is the registry alone.
pub(crate) fn stale_of(year: i32, village: &str) -> Vec<Stale> {
    match year {
        0 => vec![(0, village.to_owned())],
        y => vec![(y, village.to_owned()), (y + 1, village.to_owned())],
    }
}

/// `stale` by year, each year's villages in order.
pub(crate) fn stale_by_year(stale: &[Stale]) -> BTreeMap<i32, Vec<String>> {
    let mut by_year: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for (year, village) in stale {
        by_year.entry(*year).or_default().push(village.clone());
    }
    by_year
}

/// Households, persons, premium and renewed households, signed while stale rows are taken
/// out and counted ones put in.
type Sums = [i64; 4];

/// The summary of a region for some years, added up to a grain (regions of one level, each
/// with its family categories and poverty statuses), exact as of one snapshot.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    grain: RegionLevel,
    /// (year, region, category, poverty) → sums.
    cells: HashMap<(i32, String, String, String), Sums>,
    /// (year, source) → amount, policies.
    parts: HashMap<(i32, i64), [i64; 2]>,
    /// (region, category, poverty) → families registered.
    registry: HashMap<(String, String, String), i64>,
    /// (year, China day) → households first insured.
    days: BTreeMap<(i32, NaiveDate), i64>,
    /// The villages with an entered eligible base: (year, village) → the base.
    bases: HashMap<(i32, String), u64>,
    /// The families registered in each village with a base.
    registered_in_based: HashMap<String, i64>,
}

impl Summary {
    fn new(grain: RegionLevel) -> Summary {
        Summary {
            grain,
            cells: HashMap::new(),
            parts: HashMap::new(),
            registry: HashMap::new(),
            days: BTreeMap::new(),
            bases: HashMap::new(),
            registered_in_based: HashMap::new(),
        }
    }

    /// The region at the summary's grain that `village` lies in.
    fn grained(&self, village: &str) -> String {
        village.get(..self.grain.code_len()).unwrap_or(village).to_owned()
    }

    /// Adds villages' rows (`sign` 1), or takes them out (`sign` -1).
    fn add(&mut self, rows: &VillageRows, sign: i64) {
        for c in &rows.cells {
            let key = (c.year, self.grained(&c.village), c.category.clone(), c.poverty.clone());
            let sums = self.cells.entry(key).or_default();
            let add = [c.households as i64, c.persons as i64, c.premium, c.renewed as i64];
            for (s, a) in sums.iter_mut().zip(add) {
                *s += sign * a;
            }
        }
        for d in &rows.days {
            *self.days.entry((d.year, d.day)).or_default() += sign * d.households as i64;
        }
        for p in &rows.parts {
            let part = self.parts.entry((p.year, p.source_id)).or_default();
            part[0] += sign * p.amount;
            part[1] += sign * p.policies as i64;
        }
        for r in &rows.registry {
            let key = (self.grained(&r.village), r.category.clone(), r.poverty.clone());
            *self.registry.entry(key).or_default() += sign * r.families as i64;
            if let Some(n) = self.registered_in_based.get_mut(&r.village) {
                *n += sign * r.families as i64;
            }
        }
    }

    /// The group of `key` a grained region, category and poverty status fall in; the key's
    /// level is never finer than the grain (the caller asked for the grain it groups by).
    fn group_of<'a>(&self, key: GroupKey, region: &'a str, category: &'a str, poverty: &'a str) -> &'a str {
        debug_assert!(
            !matches!(key, GroupKey::Region(level) if level > self.grain),
            "a summary grouped finer than its grain"
        );
        key.group_of(region, category, poverty)
    }

    /// Per group of `key`: households, premium and persons insured in `year`.
    pub(crate) fn insured(&self, year: i32, key: GroupKey) -> HashMap<String, Insured> {
        let mut groups: HashMap<String, Insured> = HashMap::new();
        for ((y, region, category, poverty), s) in &self.cells {
            if *y != year {
                continue;
            }
            let g = groups.entry(self.group_of(key, region, category, poverty).to_owned()).or_default();
            g.households += tally(s[0]);
            g.persons += tally(s[1]);
            g.premium += s[2];
        }
        groups.retain(|_, g| *g != Insured::default());
        groups
    }

    /// Per group of `key`: of the households insured the year before `year`, those insured
    /// again in `year`.
    pub(crate) fn renewed(&self, year: i32, key: GroupKey) -> HashMap<String, u64> {
        let mut groups: HashMap<String, u64> = HashMap::new();
        for ((y, region, category, poverty), s) in &self.cells {
            if *y == year && s[3] > 0 {
                *groups.entry(self.group_of(key, region, category, poverty).to_owned()).or_default() +=
                    tally(s[3]);
            }
        }
        groups
    }

    /// Per group of `key`: the families registered.
    pub(crate) fn registered(&self, key: GroupKey) -> HashMap<String, u64> {
        let mut groups: HashMap<String, u64> = HashMap::new();
        for ((region, category, poverty), n) in &self.registry {
            *groups.entry(self.group_of(key, region, category, poverty).to_owned()).or_default() += tally(*n);
        }
        groups.retain(|_, n| *n > 0);
        groups
    }

    /// Per region of `level`: the eligible households of `year` (each village's entered base
    /// where there is one, else its registered families) and the registered families.
    pub(crate) fn eligible(&self, year: i32, level: RegionLevel) -> HashMap<String, (u64, u64)> {
        let mut groups: HashMap<String, (i64, i64)> = HashMap::new();
        for (region, n) in self.registered(GroupKey::Region(level)) {
            groups.insert(region, (n as i64, n as i64));
        }
        for ((y, village), base) in &self.bases {
            if *y != year {
                continue;
            }
            let registered = self.registered_in_based.get(village).copied().unwrap_or(0).max(0);
            let group =
                groups.entry(village.get(..level.code_len()).unwrap_or(village).to_owned()).or_default();
            group.0 += *base as i64 - registered;
        }
        groups.into_iter().map(|(k, (e, r))| (k, (tally(e), tally(r)))).collect()
    }

    /// Households first insured in `year` on each China day.
    pub(crate) fn curve(&self, year: i32) -> BTreeMap<NaiveDate, u64> {
        self.days
            .range((year, NaiveDate::MIN)..=(year, NaiveDate::MAX))
            .filter(|(_, n)| **n > 0)
            .map(|((_, day), n)| (*day, tally(*n)))
            .collect()
    }

    /// Per county: the premium and insured persons of `year` (the loss ratio's bases),
    /// counties with neither left out.
    pub(crate) fn county_base(&self, year: i32) -> CountyBase {
        self.insured(year, GroupKey::Region(RegionLevel::County))
            .into_iter()
            .map(|(county, g)| (county, (Fen::new(g.premium), g.persons)))
            .filter(|(_, (premium, persons))| premium.get() != 0 || *persons != 0)
            .collect()
    }

    /// Per source: what it pays of `year`'s policies (not cancelled), and for how many.
    pub(crate) fn by_source(&self, year: i32) -> HashMap<i64, (i64, u64)> {
        self.parts
            .iter()
            .filter(|((y, _), p)| *y == year && (p[0] != 0 || p[1] != 0))
            .map(|((_, source), p)| (*source, (p[0], tally(p[1]))))
            .collect()
    }
}

/// A group's underwritten policies of a year: households, premium in fen, persons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Insured {
    pub households: u64,
    pub premium: i64,
    pub persons: u64,
}

/// The grain a report of `region` grouped by its regions reads, fine enough for the
/// counties' loss-ratio bases too.
pub(crate) fn region_grain(region: &RegionCode) -> RegionLevel {
    super::child_level(region).max(RegionLevel::County)
}

impl Store {
    /// The summary of `region` for `years` and its registry, added up to `grain`, as of the
    /// snapshot `db`: the stored rows, less those a mark says are stale, plus those counted
    /// live.
    pub(crate) async fn summary_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        years: RangeInclusive<i32>,
        grain: RegionLevel,
    ) -> StoreResult<Summary> {
        let wanted: Vec<i32> = years.clone().collect();
        // A mark of the year before the first makes the first year's renewals stale; a
        // family's mark may make a village of the region stale from outside it.
        let mark_years: Vec<i32> = std::iter::once(0).chain(years.start() - 1..=*years.end()).collect();
        let marks: Vec<Mark> = report_marks::Entity::find()
            .select_only()
            .column(report_marks::Column::Year)
            .column(report_marks::Column::VillageCode)
            .column(report_marks::Column::FamilyId)
            .distinct()
            .filter(report_marks::Column::Year.is_in(mark_years))
            .into_tuple()
            .all(db)
            .await?;
        let stale: Vec<Stale> = self
            .stale_of_marks(db, &marks)
            .await?
            .into_iter()
            .filter(|(y, v)| (*y == 0 || years.contains(y)) && v.starts_with(region.as_str()))
            .collect();
        let mut summary = Summary::new(grain);
        self.read_bases(db, &mut summary, region, &wanted).await?;
        self.add_stored(db, &mut summary, region, &wanted).await?;
        summary.add(&self.stored_rows(db, &stale).await?, -1);
        summary.add(&self.count_summary(db, &stale).await?, 1);
        Ok(summary)
    }

    /// The households, premium and persons insured in `year` within `region`, as of the
    /// snapshot `db`.
    pub(crate) async fn insured_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
    ) -> StoreResult<Insured> {
        let whole = GroupKey::Region(region.level());
        let summary = self.summary_in(db, region, year..=year, region.level()).await?;
        Ok(summary.insured(year, whole).remove(region.as_str()).unwrap_or_default())
    }

    /// Per year and county within `region`: the premium and insured persons of the
    /// underwritten policies (the loss ratio's bases), from one summary of all the years.
    pub(crate) async fn county_bases(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        years: RangeInclusive<i32>,
    ) -> StoreResult<BTreeMap<i32, CountyBase>> {
        let grain = region.level().max(RegionLevel::County);
        let summary = self.summary_in(db, region, years.clone(), grain).await?;
        Ok(years.map(|year| (year, summary.county_base(year))).collect())
    }

    /// What `marks` make stale, their families' other villages found on the snapshot `db`.
    pub(crate) async fn stale_of_marks(
        &self,
        db: &impl ConnectionTrait,
        marks: &[Mark],
    ) -> StoreResult<BTreeSet<Stale>> {
        let mut stale: BTreeSet<Stale> = marks.iter().flat_map(|(y, v, _)| stale_of(*y, v)).collect();
        let families: BTreeSet<i64> = marks.iter().filter_map(|m| m.2).collect();
        let families: Vec<i64> = families.into_iter().collect();
        let mut insured_in: HashMap<i64, Vec<(i32, String)>> = HashMap::new();
        for chunk in families.chunks(FAMILIES_PER_READ) {
            let rows: Vec<(i64, i32, String)> = policies::Entity::find()
                .select_only()
                .column(policies::Column::FamilyId)
                .column(policies::Column::Year)
                .column(policies::Column::VillageCode)
                .distinct()
                .filter(policies::Column::FamilyId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(db)
                .await?;
            for (family, year, village) in rows {
                insured_in.entry(family).or_default().push((year, village));
            }
        }
        for (year, _, family) in marks {
            let Some(policies) = family.and_then(|f| insured_in.get(&f)) else { continue };
            // A family changed: every year of it; a policy: the year before's villages.
            for (y, v) in policies.iter().filter(|(y, _)| *year == 0 || *y == year - 1) {
                stale.extend(stale_of(*y, v));
            }
        }
        Ok(stale)
    }
}

/// A mark as read: year, village, family.
pub(crate) type Mark = (i32, String, Option<i64>);

/// Families whose policies are read in one statement.
const FAMILIES_PER_READ: usize = 500;

/// Villages read or counted in one statement.
pub(crate) const VILLAGES_PER_READ: usize = 400;

#[cfg(test)]
mod tests {
    use super::*;

    fn village_rows(village: &str, households: u64, families: u64) -> VillageRows {
        let day = NaiveDate::from_ymd_opt(2026, 9, 1).expect("a day");
        VillageRows {
            cells: vec![Cell {
                year: 2026,
                village: village.to_owned(),
                category: "single_child".to_owned(),
                poverty: "none".to_owned(),
                households,
                persons: households * 3,
                premium: households as i64 * 10_000,
                renewed: households / 2,
            }],
            days: vec![Day { year: 2026, village: village.to_owned(), day, households }],
            parts: vec![Part {
                year: 2026,
                village: village.to_owned(),
                source_id: 7,
                amount: households as i64 * 5_000,
                policies: households,
            }],
            registry: vec![Registered {
                village: village.to_owned(),
                category: "single_child".to_owned(),
                poverty: "none".to_owned(),
                families,
            }],
        }
    }

    #[test]
    fn rows_taken_out_and_counted_again_replace_the_stored_ones_at_the_grain() {
        let mut summary = Summary::new(RegionLevel::Township);
        summary.add(&village_rows("360802100200", 4, 10), 1);
        summary.add(&village_rows("360802100201", 6, 20), 1);
        // The second village is stale: its stored rows out, its count (now 9 of 21) in.
        summary.add(&village_rows("360802100201", 6, 20), -1);
        summary.add(&village_rows("360802100201", 9, 21), 1);
        let township = GroupKey::Region(RegionLevel::Township);
        let insured = &summary.insured(2026, township)["360802100"];
        assert_eq!((insured.households, insured.persons, insured.premium), (13, 39, 130_000));
        assert_eq!(summary.renewed(2026, township)["360802100"], 2 + 4);
        assert_eq!(summary.registered(township)["360802100"], 31);
        assert_eq!(summary.by_source(2026)[&7], (65_000, 13));
        assert_eq!(summary.curve(2026).into_values().collect::<Vec<_>>(), vec![13]);
        assert!(summary.curve(2025).is_empty());
        assert_eq!(summary.county_base(2026)["360802"], (Fen::new(130_000), 39));
    }

    #[test]
    fn an_entered_base_replaces_its_villages_registered_families() {
        let mut summary = Summary::new(RegionLevel::Township);
        summary.bases.insert((2026, "360802100201".to_owned()), 50);
        summary.registered_in_based.insert("360802100201".to_owned(), 0);
        summary.add(&village_rows("360802100200", 4, 10), 1);
        summary.add(&village_rows("360802100201", 6, 20), 1);
        let township = RegionLevel::Township;
        assert_eq!(summary.eligible(2026, township)["360802100"], (10 + 50, 30));
        assert_eq!(summary.eligible(2027, township)["360802100"], (30, 30), "a base is of its year");
    }

    #[test]
    fn a_policys_mark_makes_its_year_and_the_next_stale() {
        assert_eq!(
            stale_of(2026, "360802100200"),
            vec![(2026, "360802100200".to_owned()), (2027, "360802100200".to_owned())]
        );
        assert_eq!(stale_of(0, "360802100200"), vec![(0, "360802100200".to_owned())]);
    }
}
