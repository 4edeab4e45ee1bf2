//! Coverage (参保覆盖): insured households and persons against the eligible base and the
//! targets, by region, family category or poverty status, year on year, with renewals.

use std::collections::{BTreeMap, HashMap};

use guanai_domain::families::FamilyCategory;
use guanai_domain::reports::{growth_text, Dimension, Ratio};
use guanai_domain::targets::Permille;
use guanai_domain::{Fen, PovertyStatus, RegionCode, RegionLevel};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};
use serde::Serialize;

use super::{child_level, corrupt_region, count, ReportQuery};
use crate::access::within_region;
use crate::entities::{families, packages, policies, policy_members, regions, targets};
use crate::policies::PolicyStatus;
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

/// A group's underwritten policies of a year: distinct families, premium in fen, and
/// the persons the policies insure added up.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Insured {
    pub households: u64,
    pub premium: i64,
    pub persons: u64,
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

    /// The group of a row of `table` (policies or families).
    fn expr(self, table: &str) -> SimpleExpr {
        match self {
            Key::Region(level) => Store::region_prefix(table, "village_code", level),
            Key::Category => Expr::col((families::Entity, families::Column::Category)).into(),
            Key::Poverty => Expr::col((families::Entity, families::Column::Poverty)).into(),
        }
    }

    fn needs_families(self) -> bool {
        !matches!(self, Key::Region(_))
    }
}

fn policy_family() -> sea_orm::RelationDef {
    policies::Entity::belongs_to(families::Entity)
        .from(policies::Column::FamilyId)
        .to(families::Column::Id)
        .into()
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
        let report = self.coverage_in(&txn, &region, query, &set).await;
        txn.commit().await?;
        report
    }
}

impl Store {
    /// The coverage report read on `db` (one snapshot), with the targets `set` of the year.
    pub(crate) async fn coverage_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        query: &ReportQuery,
        set: &[Target],
    ) -> StoreResult<CoverageReport> {
        let region = region.clone();
        let key = Key::of(query.by, &region);
        let year = query.year;
        // One after the other, on one snapshot: every figure of the report is of one moment.
        let insured = self.insured_groups(db, &region, year, key).await?;
        let persons = self.person_groups(db, &region, year, key, &insured).await?;
        let last = self.insured_groups(db, &region, year - 1, key).await?;
        let last_persons = self.person_groups(db, &region, year - 1, key, &last).await?;
        let renewed = self.renewed_groups(db, &region, year, key).await?;
        let eligible = self.eligible_groups(db, &region, year, key).await?;
        let names = self.regions().region_names(&[region.as_str()]).await?;
        let mut rows: BTreeMap<String, CoverageRow> = BTreeMap::new();
        // Every group, with zeros: the regions below, or every category or status.
        for (code, label) in self.group_labels(db, &region, key).await? {
            rows.insert(code.clone(), CoverageRow { key: code, label, ..Default::default() });
        }
        for (k, g) in &insured {
            let r = row(&mut rows, k);
            r.insured_households = g.households;
            r.premium = Fen::new(g.premium);
        }
        for (k, n) in &persons {
            row(&mut rows, k).insured_persons = *n;
        }
        for (k, g) in &last {
            row(&mut rows, k).last_year_households = g.households;
            row(&mut rows, k).due_households = g.households;
        }
        for (k, n) in &last_persons {
            row(&mut rows, k).last_year_persons = *n;
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
                let names = self.regions().region_names(&[region.as_str()]).await?;
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

    /// Underwritten policies of `year` within `region` per group: distinct families, the
    /// premium, and the persons the policies insure added up.
    pub(crate) async fn insured_groups(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
        key: Key,
    ) -> StoreResult<HashMap<String, Insured>> {
        let mut select = policies::Entity::find()
            .select_only()
            .column_as(key.expr("policies"), "k")
            .column_as(Expr::col((policies::Entity, policies::Column::FamilyId)).count_distinct(), "n")
            .column_as(self.sum_i64((policies::Entity, policies::Column::PremiumFen)), "premium")
            .column_as(self.sum_i64((policies::Entity, policies::Column::Persons)), "persons");
        if key.needs_families() {
            select = select.join(JoinType::InnerJoin, policy_family());
        }
        let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = select
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .filter(within_region(policies::Column::VillageCode, region.as_str()))
            .group_by(key.expr("policies"))
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(k, n, premium, persons)| {
                let group = Insured {
                    households: count(n),
                    premium: premium.unwrap_or(0),
                    persons: count(persons.unwrap_or(0)),
                };
                (k, group)
            })
            .collect())
    }

    /// Insured persons (distinct) of `year`'s underwritten policies within `region`, per
    /// group: the policies' persons added up (`insured`) when no person can be on two
    /// of them (see [`Store::one_policy_per_person`]), else counted through their members.
    pub(crate) async fn person_groups(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
        key: Key,
        insured: &HashMap<String, Insured>,
    ) -> StoreResult<HashMap<String, u64>> {
        if self.one_policy_per_person(db, year).await? {
            return Ok(insured.iter().map(|(k, g)| (k.clone(), g.persons)).collect());
        }
        let mut select = policy_members::Entity::find()
            .select_only()
            .column_as(key.expr("policies"), "k")
            .column_as(
                Expr::col((policy_members::Entity, policy_members::Column::PersonId)).count_distinct(),
                "n",
            )
            .join(
                JoinType::InnerJoin,
                policy_members::Entity::belongs_to(policies::Entity)
                    .from(policy_members::Column::PolicyId)
                    .to(policies::Column::Id)
                    .into(),
            );
        if key.needs_families() {
            select = select.join(JoinType::InnerJoin, policy_family());
        }
        let rows: Vec<(String, i64)> = select
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .filter(within_region(policies::Column::VillageCode, region.as_str()))
            .group_by(key.expr("policies"))
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows.into_iter().map(|(k, n)| (k, count(n))).collect())
    }

    /// Whether no person can be on two policies of `year`: every package of the year has
    /// the same base product, and a person holds a product once a year (the cover slots'
    /// primary key, which only a cancelled policy gives back), so each person insured that
    /// year is on exactly one policy not cancelled, and a policy's `persons` are distinct
    /// persons no other policy of the year counts.
    pub(crate) async fn one_policy_per_person(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
    ) -> StoreResult<bool> {
        let bases: Option<i64> = packages::Entity::find()
            .select_only()
            .column_as(Expr::col(packages::Column::BaseProductId).count_distinct(), "n")
            .filter(packages::Column::Year.eq(year))
            .into_tuple()
            .one(db)
            .await?;
        Ok(bases.unwrap_or(0) <= 1)
    }

    /// Of the families insured in `year - 1` within `region` (grouped where they were),
    /// those with an underwritten policy in `year` too.
    pub(crate) async fn renewed_groups(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
        key: Key,
    ) -> StoreResult<HashMap<String, u64>> {
        let underwritten = PolicyStatus::Underwritten.code();
        // A set the engine builds once and probes, not a look-up per policy.
        let again = Expr::cust(format!(
            "policies.family_id IN (SELECT q.family_id FROM policies q \
             WHERE q.year = {year} AND q.status = '{underwritten}')"
        ));
        let mut select = policies::Entity::find()
            .select_only()
            .column_as(key.expr("policies"), "k")
            .column_as(Expr::col((policies::Entity, policies::Column::FamilyId)).count_distinct(), "n");
        if key.needs_families() {
            select = select.join(JoinType::InnerJoin, policy_family());
        }
        let rows: Vec<(String, i64)> = select
            .filter(policies::Column::Year.eq(year - 1))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(within_region(policies::Column::VillageCode, region.as_str()))
            .filter(again)
            .group_by(key.expr("policies"))
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows.into_iter().map(|(k, n)| (k, count(n))).collect())
    }

    /// Eligible and registered households per group: by region, each village's entered
    /// base where there is one, else its registered families; by category or poverty
    /// status, the registered families (bases are entered per village only).
    async fn eligible_groups(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
        key: Key,
    ) -> StoreResult<HashMap<String, (u64, u64)>> {
        let group = match key {
            Key::Region(_) => Store::region_prefix("families", "village_code", RegionLevel::Village),
            other => other.expr("families"),
        };
        let registered: Vec<(String, i64)> = families::Entity::find()
            .select_only()
            .column_as(group.clone(), "k")
            .column_as(Expr::col((families::Entity, families::Column::Id)).count(), "n")
            .filter(within_region(families::Column::VillageCode, region.as_str()))
            .group_by(group)
            .into_tuple()
            .all(db)
            .await?;
        let Key::Region(level) = key else {
            return Ok(registered.into_iter().map(|(k, n)| (k, (count(n), count(n)))).collect());
        };
        let bases: Vec<(String, Option<i64>)> = targets::Entity::find()
            .select_only()
            .column(targets::Column::RegionCode)
            .column(targets::Column::EligibleHouseholds)
            .filter(within_region(targets::Column::RegionCode, region.as_str()))
            .filter(targets::Column::Year.eq(year))
            .filter(targets::Column::EligibleHouseholds.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        let mut villages: HashMap<String, (Option<u64>, u64)> = HashMap::new();
        for (village, n) in registered {
            villages.entry(village).or_default().1 = count(n);
        }
        for (village, base) in bases {
            if village.len() == RegionLevel::Village.code_len() {
                villages.entry(village).or_default().0 = base.map(count);
            }
        }
        let mut groups: HashMap<String, (u64, u64)> = HashMap::new();
        for (village, (base, registered)) in villages {
            let group = village.get(..level.code_len()).ok_or_else(|| corrupt_region(&village))?;
            let entry = groups.entry(group.to_owned()).or_default();
            entry.0 += base.unwrap_or(registered);
            entry.1 += registered;
        }
        Ok(groups)
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
