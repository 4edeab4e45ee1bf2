//! Coverage (参保覆盖): insured households and persons against the eligible base and the
//! targets, by region, family category or poverty status, year on year, with renewals.

use std::collections::{BTreeMap, HashMap};

use guanai_domain::families::FamilyCategory;
use guanai_domain::reports::{growth_text, Dimension, Ratio};
use guanai_domain::targets::Permille;
use guanai_domain::{Fen, PovertyStatus, RegionCode, RegionLevel};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::summary::{region_grain, Summary};
use super::{child_level, ReportQuery};
use crate::entities::regions;
use crate::targets::Target;
use crate::{Actor, Store, StoreResult};

/// One line of the coverage report: raw counts, so every ratio can be computed both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageRow {
    /// The region code, family category code or poverty code; empty on the total line.
    pub key: String,
    pub label: String,
    /// The coverage base: entered per village, else the families registered.
    pub eligible_households: u64,
    pub registered_households: u64,
    pub insured_households: u64,
    pub insured_persons: u64,
    /// Premium of the insured households' underwritten policies, in fen (the loss ratio's
    /// denominator once claims are paid).
    pub premium: Fen,
    pub last_year_households: u64,
    pub last_year_persons: u64,
    /// Of last year's insured households, those insured again this year.
    pub renewed_households: u64,
    /// Last year's insured households (the renewal rate's denominator).
    pub due_households: u64,
    pub target_households: Option<u64>,
    pub target_persons: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub target_renewal_permille: Option<Permille>,
}

impl CoverageRow {
    /// Insured ÷ eligible households.
    pub fn coverage(&self) -> Ratio {
        Ratio::new(self.insured_households, self.eligible_households)
    }

    /// Insured households ÷ their target, when one is set.
    pub fn completion(&self) -> Option<Ratio> {
        self.target_households.map(|t| Ratio::new(self.insured_households, t))
    }

    /// Insured persons ÷ their target, when one is set.
    pub fn persons_completion(&self) -> Option<Ratio> {
        self.target_persons.map(|t| Ratio::new(self.insured_persons, t))
    }

    /// Renewed ÷ due households.
    pub fn renewal(&self) -> Ratio {
        Ratio::new(self.renewed_households, self.due_households)
    }

    /// Insured households year on year: `+6.2%`.
    pub fn growth(&self) -> String {
        growth_text(self.insured_households, self.last_year_households)
    }

    /// Whether the households target is set and reached.
    pub fn reached(&self) -> bool {
        self.target_households.is_some_and(|t| self.insured_households >= t)
    }

    fn add(&mut self, other: &CoverageRow) {
        self.eligible_households += other.eligible_households;
        self.registered_households += other.registered_households;
        self.insured_households += other.insured_households;
        self.insured_persons += other.insured_persons;
        self.premium = Fen::new(self.premium.get() + other.premium.get());
        self.last_year_households += other.last_year_households;
        self.last_year_persons += other.last_year_persons;
        self.renewed_households += other.renewed_households;
        self.due_households += other.due_households;
    }
}

/// The coverage report of a region and year.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageReport {
    pub year: i32,
    pub region: RegionCode,
    pub region_name: String,
    pub by: Dimension,
    pub rows: Vec<CoverageRow>,
    /// The whole region: the rows added up, with the region's own targets (or, when it
    /// has none, its rows' targets added up).
    pub total: CoverageRow,
}

/// What a report groups by, and the expression of the group.
#[derive(Clone, Copy)]
pub(crate) enum Key {
    Region(RegionLevel),
    Category,
    Poverty,
}

impl Key {
    fn of(by: Dimension, region: &RegionCode) -> Key {
        match by {
            Dimension::Region => Key::Region(child_level(region)),
            Dimension::Category => Key::Category,
            Dimension::Poverty => Key::Poverty,
        }
    }

    /// The group of a summary row of `village`, family `category` and `poverty` status.
    pub(crate) fn group_of<'a>(self, village: &'a str, category: &'a str, poverty: &'a str) -> &'a str {
        match self {
            Key::Region(level) => village.get(..level.code_len()).unwrap_or(village),
            Key::Category => category,
            Key::Poverty => poverty,
        }
    }
}

impl crate::handles::Reports<'_> {
    /// The coverage report of `query.region` (the actor's scope when absent) for
    /// `query.year`, broken down by `query.by`: every region one level below (or the
    /// village itself), every family category, or every poverty status, with zeros where
    /// nothing is counted.
    pub async fn coverage(self, actor: &Actor, query: &ReportQuery) -> StoreResult<CoverageReport> {
        let region = self.report_region(actor, query.region.as_ref()).await?;
        let set = self.targets().targets_under(actor, &region, query.year).await?;
        let txn = self.snapshot().await?;
        let grain = match query.by {
            Dimension::Region => region_grain(&region),
            _ => region.level(),
        };
        let report = match self.summary_in(&txn, &region, query.year - 1..=query.year, grain).await {
            Ok(summary) => self.coverage_in(&txn, &summary, &region, query, &set).await,
            Err(e) => Err(e),
        };
        txn.commit().await?;
        report
    }
}

impl Store {
    /// The coverage report from `summary` (of the year and the one before, read on the
    /// snapshot `db`), with the targets `set` of the year.
    pub(crate) async fn coverage_in(
        &self,
        db: &impl ConnectionTrait,
        summary: &Summary,
        region: &RegionCode,
        query: &ReportQuery,
        set: &[Target],
    ) -> StoreResult<CoverageReport> {
        let region = region.clone();
        let key = Key::of(query.by, &region);
        let year = query.year;
        let insured = summary.insured(year, key);
        let last = summary.insured(year - 1, key);
        let renewed = summary.renewed(year, key);
        let eligible = Self::eligible_groups(summary, year, key);
        let names = crate::regions::region_names_in(db, &[region.as_str()]).await?;
        let mut rows: BTreeMap<String, CoverageRow> = BTreeMap::new();
        // Every group, with zeros: the regions below, or every category or status.
        for (code, label) in self.group_labels(db, &region, key).await? {
            rows.insert(code.clone(), CoverageRow { key: code, label, ..Default::default() });
        }
        for (k, g) in &insured {
            let r = row(&mut rows, k);
            r.insured_households = g.households;
            r.premium = Fen::new(g.premium);
            r.insured_persons = g.persons;
        }
        for (k, g) in &last {
            row(&mut rows, k).last_year_households = g.households;
            row(&mut rows, k).due_households = g.households;
            row(&mut rows, k).last_year_persons = g.persons;
        }
        for (k, n) in &renewed {
            row(&mut rows, k).renewed_households = *n;
        }
        for (k, (eligible, registered)) in &eligible {
            row(&mut rows, k).eligible_households = *eligible;
            row(&mut rows, k).registered_households = *registered;
        }
        let mut total = CoverageRow {
            key: String::new(),
            label: names.get(region.as_str()).cloned().unwrap_or_else(|| region.to_string()),
            ..Default::default()
        };
        for r in rows.values() {
            total.add(r);
        }
        if let Key::Region(level) = key {
            for target in set {
                if target.region_code.level() == level {
                    if let Some(r) = rows.get_mut(target.region_code.as_str()) {
                        r.target_households = target.values.households;
                        r.target_persons = target.values.persons;
                        r.target_renewal_permille = target.values.renewal_permille;
                    }
                }
            }
            let own =
                set.iter().find(|t| t.region_code == region).map(|t| t.values.clone()).unwrap_or_default();
            let sum = |f: fn(&CoverageRow) -> Option<u64>| -> Option<u64> {
                let set: Vec<u64> = rows.values().filter_map(f).collect();
                (!set.is_empty()).then(|| set.iter().sum())
            };
            total.target_households = own.households.or_else(|| sum(|r| r.target_households));
            total.target_persons = own.persons.or_else(|| sum(|r| r.target_persons));
            total.target_renewal_permille = own.renewal_permille;
        }
        Ok(CoverageReport {
            year,
            region_name: total.label.clone(),
            region,
            by: query.by,
            rows: rows.into_values().collect(),
            total,
        })
    }

    /// Every group of the report with its label, in order.
    async fn group_labels(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        key: Key,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(match key {
            Key::Region(level) if level == region.level() => {
                let names = crate::regions::region_names_in(db, &[region.as_str()]).await?;
                vec![(region.to_string(), names.get(region.as_str()).cloned().unwrap_or_default())]
            }
            Key::Region(_) => regions::Entity::find()
                .filter(regions::Column::ParentCode.eq(region.as_str()))
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.code, r.name))
                .collect(),
            Key::Category => {
                FamilyCategory::DEFAULTS.iter().map(|(c, n)| ((*c).to_owned(), (*n).to_owned())).collect()
            }
            Key::Poverty => {
                PovertyStatus::ALL.iter().map(|p| (p.code().to_owned(), p.label().to_owned())).collect()
            }
        })
    }

    /// Eligible and registered households per group: by region, each village's entered
    /// base where there is one, else its registered families; by category or poverty
    /// status, the registered families (bases are entered per village only).
    fn eligible_groups(summary: &Summary, year: i32, key: Key) -> HashMap<String, (u64, u64)> {
        match key {
            Key::Region(level) => summary.eligible(year, level),
            other => summary.registered(other).into_iter().map(|(k, n)| (k, (n, n))).collect(),
        }
    }
}

/// The row of group `k`, made (labelled by its key) when a group has no row yet.
fn row<'a>(rows: &'a mut BTreeMap<String, CoverageRow>, k: &str) -> &'a mut CoverageRow {
    rows.entry(k.to_owned()).or_insert_with(|| CoverageRow {
        key: k.to_owned(),
        label: k.to_owned(),
        ..Default::default()
    })
}
