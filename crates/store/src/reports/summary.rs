//! The reports' summary: per year and village what every figure adds up (migration 000026
//! describes the tables and the triggers that mark what changed). A report reads the stored
//! rows of its region and years, and counts live (`count.rs`) every year and village a mark
//! says may be out of date, on the same snapshot: what it shows is exact to the last
//! enrolment, and costs a few thousand rows a year instead of a million.
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
use crate::access::within_region;
use crate::claims::CountyBase;
use crate::entities::{policies, report_cells, report_funding, report_marks, report_registry};
use crate::{Store, StoreError, StoreResult};

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
    /// How many of the households were first insured on each China day.
    pub curve: BTreeMap<NaiveDate, u64>,
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

/// The summary of a region for some years, exact as of one snapshot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub cells: Vec<Cell>,
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

impl Summary {
    pub(crate) fn extend(&mut self, other: Summary) {
        self.cells.extend(other.cells);
        self.parts.extend(other.parts);
        self.registry.extend(other.registry);
    }

    fn cells_of(&self, year: i32) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(move |c| c.year == year)
    }

    /// Per group of `key`: households, premium and persons insured in `year`.
    pub(crate) fn insured(&self, year: i32, key: GroupKey) -> HashMap<String, Insured> {
        let mut groups: HashMap<String, Insured> = HashMap::new();
        for c in self.cells_of(year) {
            let g = groups.entry(key.group_of(&c.village, &c.category, &c.poverty).to_owned()).or_default();
            g.households += c.households;
            g.premium += c.premium;
            g.persons += c.persons;
        }
        groups.retain(|_, g| *g != Insured::default());
        groups
    }

    /// Per group of `key`: of the households insured the year before `year`, those insured
    /// again in `year`.
    pub(crate) fn renewed(&self, year: i32, key: GroupKey) -> HashMap<String, u64> {
        let mut groups: HashMap<String, u64> = HashMap::new();
        for c in self.cells_of(year).filter(|c| c.renewed > 0) {
            *groups.entry(key.group_of(&c.village, &c.category, &c.poverty).to_owned()).or_default() +=
                c.renewed;
        }
        groups
    }

    /// Per group of `key`: the families registered.
    pub(crate) fn registered(&self, key: GroupKey) -> HashMap<String, u64> {
        let mut groups: HashMap<String, u64> = HashMap::new();
        for r in &self.registry {
            *groups.entry(key.group_of(&r.village, &r.category, &r.poverty).to_owned()).or_default() +=
                r.families;
        }
        groups
    }

    /// Households first insured in `year` on each China day.
    pub(crate) fn curve(&self, year: i32) -> BTreeMap<NaiveDate, u64> {
        let mut days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for c in self.cells_of(year) {
            for (day, n) in &c.curve {
                *days.entry(*day).or_default() += n;
            }
        }
        days
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
        let mut sources: HashMap<i64, (i64, u64)> = HashMap::new();
        for p in self.parts.iter().filter(|p| p.year == year) {
            let s = sources.entry(p.source_id).or_default();
            s.0 += p.amount;
            s.1 += p.policies;
        }
        sources
    }
}

/// A group's underwritten policies of a year: households, premium in fen, persons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Insured {
    pub households: u64,
    pub premium: i64,
    pub persons: u64,
}

impl Store {
    /// The summary of `region` for `years` and its registry, as of the snapshot `db`: the
    /// stored rows no mark says are stale, and the stale ones counted live.
    pub(crate) async fn summary_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        years: RangeInclusive<i32>,
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
        let within = |village: &str| village.starts_with(region.as_str());
        let stale: BTreeSet<Stale> = self
            .stale_of_marks(db, &marks)
            .await?
            .into_iter()
            .filter(|(y, v)| (*y == 0 || years.contains(y)) && within(v))
            .collect();
        let is_stale = |year: i32, village: &str| stale.contains(&(year, village.to_owned()));
        let mut summary = Summary::default();
        let cells = report_cells::Entity::find()
            .filter(report_cells::Column::Year.is_in(wanted.clone()))
            .filter(within_region(report_cells::Column::VillageCode, region.as_str()))
            .all(db)
            .await?;
        for m in cells.into_iter().filter(|m| !is_stale(m.year, &m.village_code)) {
            summary.cells.push(Cell {
                curve: parse_curve(&m.curve)?,
                year: m.year,
                village: m.village_code,
                category: m.category,
                poverty: m.poverty,
                households: tally(m.households),
                persons: tally(m.persons),
                premium: m.premium_fen,
                renewed: tally(m.renewed),
            });
        }
        let parts = report_funding::Entity::find()
            .filter(report_funding::Column::Year.is_in(wanted))
            .filter(within_region(report_funding::Column::VillageCode, region.as_str()))
            .all(db)
            .await?;
        for m in parts.into_iter().filter(|m| !is_stale(m.year, &m.village_code)) {
            summary.parts.push(Part {
                year: m.year,
                village: m.village_code,
                source_id: m.source_id,
                amount: m.amount_fen,
                policies: tally(m.policies),
            });
        }
        let registry = report_registry::Entity::find()
            .filter(within_region(report_registry::Column::VillageCode, region.as_str()))
            .all(db)
            .await?;
        for m in registry.into_iter().filter(|m| !is_stale(0, &m.village_code)) {
            summary.registry.push(Registered {
                village: m.village_code,
                category: m.category,
                poverty: m.poverty,
                families: tally(m.families),
            });
        }
        let stale: Vec<Stale> = stale.into_iter().collect();
        summary.extend(self.count_summary(db, &stale).await?);
        Ok(summary)
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

/// A curve as stored: `day:count` pairs apart by spaces, days from the Common Era.
pub(crate) fn format_curve(curve: &BTreeMap<NaiveDate, u64>) -> String {
    use chrono::Datelike;
    curve.iter().map(|(day, n)| format!("{}:{n}", day.num_days_from_ce())).collect::<Vec<_>>().join(" ")
}

pub(crate) fn parse_curve(text: &str) -> StoreResult<BTreeMap<NaiveDate, u64>> {
    let bad = || StoreError::Corrupt(format!("bad season curve in report_cells: '{text}'"));
    text.split_whitespace()
        .map(|pair| {
            let (day, n) = pair.split_once(':').ok_or_else(bad)?;
            let day = day.parse().ok().and_then(NaiveDate::from_num_days_from_ce_opt).ok_or_else(bad)?;
            Ok((day, n.parse().map_err(|_| bad())?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curve_reads_back_as_written() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).expect("a day");
        let curve: BTreeMap<NaiveDate, u64> = [(day(1), 3), (day(2), 1), (day(31), 12)].into();
        let text = format_curve(&curve);
        assert_eq!(parse_curve(&text).expect("parses"), curve);
        assert_eq!(parse_curve("").expect("empty"), BTreeMap::new());
        assert!(parse_curve("739617").is_err(), "a day without its count");
        assert!(parse_curve("x:1").is_err());
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
