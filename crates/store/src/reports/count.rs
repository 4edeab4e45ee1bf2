//! The summary counted from the rows it summarises (policies, their members, premium parts,
//! families), for some years and villages: live by a report for what a mark says is stale,
//! and by the refresher, which writes what it counted and removes the marks it read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::clock::china_date;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IsolationLevel, JoinType,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::summary::{
    stale_by_year, Cell, Day, Mark, Part, Registered, Stale, VillageRows, VILLAGES_PER_READ,
};
use super::tally;
use crate::entities::{
    families, policies, policy_funding, policy_members, report_cells, report_days, report_funding,
    report_marks, report_registry, report_summary_lock,
};
use crate::policies::PolicyStatus;
use crate::{Engine, Store, StoreResult};

/// Marks whose years and villages one refresh counts again, at most: on SQLite a refresh
/// holds the write lock, so it stays short, and writers take their turns between two.
pub const MARKS_PER_REFRESH: u64 = 200;

/// Rows written in one statement.
const ROWS_PER_INSERT: usize = 500;

type CellKey = (i32, String, String, String);

/// A family's underwritten policies of a year in a village: village, family, category,
/// poverty status, first underwriting, premium.
type FamilyInVillage = (String, i64, String, String, Option<DateTime<Utc>>, Option<i64>);

fn policy_family() -> sea_orm::RelationDef {
    policies::Entity::belongs_to(families::Entity)
        .from(policies::Column::FamilyId)
        .to(families::Column::Id)
        .into()
}

fn policy_col(c: policies::Column) -> Expr {
    Expr::col((policies::Entity, c))
}

fn family_col(c: families::Column) -> Expr {
    Expr::col((families::Entity, c))
}

impl Store {
    /// Counts the summary's rows of every `stale` year and village from the tables.
    pub(crate) async fn count_summary(
        &self,
        db: &impl ConnectionTrait,
        stale: &[Stale],
    ) -> StoreResult<VillageRows> {
        let mut rows = VillageRows::default();
        for (year, villages) in stale_by_year(stale) {
            for chunk in villages.chunks(VILLAGES_PER_READ) {
                if year == 0 {
                    rows.registry.extend(self.count_registry(db, chunk).await?);
                } else {
                    let (cells, days) = self.count_cells(db, year, chunk).await?;
                    rows.cells.extend(cells);
                    rows.days.extend(days);
                    rows.parts.extend(self.count_parts(db, year, chunk).await?);
                }
            }
        }
        Ok(rows)
    }

    async fn count_cells(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
        villages: &[String],
    ) -> StoreResult<(Vec<Cell>, Vec<Day>)> {
        let underwritten = PolicyStatus::Underwritten.code();
        let mut cells: HashMap<CellKey, Cell> = HashMap::new();
        let mut days: BTreeMap<(String, NaiveDate), u64> = BTreeMap::new();
        // Each family's underwritten policies of the year in each village: its premium and
        // its first underwriting.
        let families: Vec<FamilyInVillage> = policies::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(policy_col(policies::Column::FamilyId), "family")
            .column_as(family_col(families::Column::Category), "category")
            .column_as(family_col(families::Column::Poverty), "poverty")
            .column_as(policy_col(policies::Column::UnderwrittenAt).min(), "first_at")
            .column_as(self.sum_i64((policies::Entity, policies::Column::PremiumFen)), "premium")
            .join(JoinType::InnerJoin, policy_family())
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(policy_col(policies::Column::FamilyId))
            .group_by(family_col(families::Column::Category))
            .group_by(family_col(families::Column::Poverty))
            .into_tuple()
            .all(db)
            .await?;
        for (village, _, category, poverty, first_at, premium) in families {
            if let Some(at) = first_at {
                *days.entry((village.clone(), china_date(at))).or_default() += 1;
            }
            let c = cell(&mut cells, year, village, category, poverty);
            c.households += 1;
            c.premium += premium.unwrap_or(0);
        }
        let persons: Vec<(String, String, String, i64)> = policy_members::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(family_col(families::Column::Category), "category")
            .column_as(family_col(families::Column::Poverty), "poverty")
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
            )
            .join(JoinType::InnerJoin, policy_family())
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(family_col(families::Column::Category))
            .group_by(family_col(families::Column::Poverty))
            .into_tuple()
            .all(db)
            .await?;
        for (village, category, poverty, n) in persons {
            cell(&mut cells, year, village, category, poverty).persons = tally(n);
        }
        // Of the families insured here the year before, those with an underwritten policy
        // this year: one probe each on the index by family and year.
        let again = Expr::cust(format!(
            "EXISTS (SELECT 1 FROM policies q WHERE q.family_id = policies.family_id \
             AND q.year = {year} AND q.status = '{underwritten}')"
        ));
        let renewed: Vec<(String, String, String, i64)> = policies::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(family_col(families::Column::Category), "category")
            .column_as(family_col(families::Column::Poverty), "poverty")
            .column_as(policy_col(policies::Column::FamilyId).count_distinct(), "n")
            .join(JoinType::InnerJoin, policy_family())
            .filter(policies::Column::Year.eq(year - 1))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .filter(again)
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(family_col(families::Column::Category))
            .group_by(family_col(families::Column::Poverty))
            .into_tuple()
            .all(db)
            .await?;
        for (village, category, poverty, n) in renewed {
            cell(&mut cells, year, village, category, poverty).renewed = tally(n);
        }
        let days = days
            .into_iter()
            .map(|((village, day), households)| Day { year, village, day, households })
            .collect();
        Ok((cells.into_values().collect(), days))
    }

    async fn count_parts(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
        villages: &[String],
    ) -> StoreResult<Vec<Part>> {
        let rows: Vec<(String, i64, Option<i64>, i64)> = policy_funding::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(Expr::col((policy_funding::Entity, policy_funding::Column::SourceId)), "source")
            .column_as(self.sum_i64((policy_funding::Entity, policy_funding::Column::AmountFen)), "amount")
            .column_as(
                Expr::col((policy_funding::Entity, policy_funding::Column::PolicyId)).count_distinct(),
                "n",
            )
            .join(
                JoinType::InnerJoin,
                policy_funding::Entity::belongs_to(policies::Entity)
                    .from(policy_funding::Column::PolicyId)
                    .to(policies::Column::Id)
                    .into(),
            )
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.ne(PolicyStatus::Cancelled.code()))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(Expr::col((policy_funding::Entity, policy_funding::Column::SourceId)))
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(village, source_id, amount, n)| Part {
                year,
                village,
                source_id,
                amount: amount.unwrap_or(0),
                policies: tally(n),
            })
            .collect())
    }

    async fn count_registry(
        &self,
        db: &impl ConnectionTrait,
        villages: &[String],
    ) -> StoreResult<Vec<Registered>> {
        let rows: Vec<(String, String, String, i64)> = families::Entity::find()
            .select_only()
            .column(families::Column::VillageCode)
            .column(families::Column::Category)
            .column(families::Column::Poverty)
            .column_as(families::Column::Id.count(), "n")
            .filter(families::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(families::Column::VillageCode)
            .group_by(families::Column::Category)
            .group_by(families::Column::Poverty)
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(village, category, poverty, n)| Registered {
                village,
                category,
                poverty,
                families: tally(n),
            })
            .collect())
    }
}

impl crate::handles::Reports<'_> {
    /// Counts again the years and villages of the oldest [`MARKS_PER_REFRESH`] marks,
    /// writes their summary rows and removes every mark of them, in one transaction;
    /// returns how many marks it removed (0: the summary is up to date). Refreshers take
    /// turns (the lock row); writers never wait for one.
    pub async fn refresh_summary(self) -> StoreResult<u64> {
        let _turn = self.write_gate.turn().await;
        let txn = match self.engine() {
            Engine::Sqlite => self.db.begin().await?,
            _ => self.db.begin_with_config(Some(IsolationLevel::ReadCommitted), None).await?,
        };
        let taken = self.refresh_in(&txn).await?;
        txn.commit().await?;
        Ok(taken)
    }

    /// Refreshes until no mark is left; returns how many marks were taken. After a large
    /// refresh (the demo's city, a migration's marks), PostgreSQL's summary tables are
    /// vacuumed: every mark taken and every row rewritten left a dead row behind, which
    /// each report would wade through (a report's read of no marks took 100 ms among two
    /// million dead ones) until autovacuum came by.
    pub async fn refresh_whole_summary(self) -> StoreResult<u64> {
        let mut taken = 0;
        loop {
            match self.refresh_summary().await? {
                0 => break,
                n => taken += n,
            }
        }
        if taken >= MARKS_WORTH_A_VACUUM && self.engine() == Engine::Postgres {
            self.db.execute_unprepared(&format!("VACUUM (ANALYZE) {}", SUMMARY_TABLES.join(", "))).await?;
        }
        Ok(taken)
    }
}

/// Marks a whole refresh takes before PostgreSQL's summary tables are vacuumed.
const MARKS_WORTH_A_VACUUM: u64 = 10_000;

/// The tables a refresh rewrites.
const SUMMARY_TABLES: [&str; 7] = [
    "report_marks",
    "report_cells",
    "report_days",
    "report_funding",
    "report_registry",
    "report_township_cells",
    "report_township_registry",
];

impl Store {
    /// Benchmarks only: marks up to `villages` villages with policies in `year` stale, as
    /// enrolments there would; returns how many.
    pub async fn mark_villages_for_bench(&self, year: i32, villages: u64) -> StoreResult<u64> {
        let codes: Vec<String> = policies::Entity::find()
            .select_only()
            .column(policies::Column::VillageCode)
            .distinct()
            .filter(policies::Column::Year.eq(year))
            .order_by_asc(policies::Column::VillageCode)
            .limit(villages)
            .into_tuple()
            .all(&self.db)
            .await?;
        let marks = codes.iter().map(|v| report_marks::ActiveModel {
            year: ActiveValue::Set(year),
            village_code: ActiveValue::Set(v.clone()),
            ..Default::default()
        });
        let txn = self.db.begin().await?;
        insert_all(&txn, marks.collect()).await?;
        txn.commit().await?;
        Ok(codes.len() as u64)
    }

    async fn refresh_in(&self, txn: &DatabaseTransaction) -> StoreResult<u64> {
        // A write first, held to the commit: the next refresher reads marks and rows after
        // this one's (on SQLite it takes the write lock before anything is read).
        report_summary_lock::Entity::update_many()
            .col_expr(report_summary_lock::Column::Id, Expr::value(1))
            .filter(report_summary_lock::Column::Id.eq(1))
            .exec(txn)
            .await?;
        // The oldest marks' years and villages, and every mark of those: removed first, so
        // that what is counted next sees every change they mark (each one committed).
        let oldest: Vec<(i32, String)> = report_marks::Entity::find()
            .select_only()
            .column(report_marks::Column::Year)
            .column(report_marks::Column::VillageCode)
            .order_by_asc(report_marks::Column::Id)
            .limit(MARKS_PER_REFRESH)
            .into_tuple()
            .all(txn)
            .await?;
        let mut keys: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
        for (year, village) in oldest {
            keys.entry(year).or_default().insert(village);
        }
        let mut marks: Vec<Mark> = Vec::new();
        let mut ids: Vec<i64> = Vec::new();
        for (year, villages) in &keys {
            let villages: Vec<&String> = villages.iter().collect();
            for chunk in villages.chunks(VILLAGES_PER_READ) {
                let rows = report_marks::Entity::find()
                    .filter(report_marks::Column::Year.eq(*year))
                    .filter(report_marks::Column::VillageCode.is_in(chunk.iter().map(|v| v.to_string())))
                    .all(txn)
                    .await?;
                for m in rows {
                    ids.push(m.id);
                    marks.push((m.year, m.village_code, m.family_id));
                }
            }
        }
        if ids.is_empty() {
            return Ok(0);
        }
        let mut taken = 0;
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            taken += report_marks::Entity::delete_many()
                .filter(report_marks::Column::Id.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?
                .rows_affected;
        }
        let stale: Vec<Stale> = self.stale_of_marks(txn, &marks).await?.into_iter().collect();
        // Counted after the marks were read: every change they mark is committed and seen.
        let summary = self.count_summary(txn, &stale).await?;
        for (year, villages) in &stale_by_year(&stale) {
            for chunk in villages.chunks(VILLAGES_PER_READ) {
                if *year == 0 {
                    report_registry::Entity::delete_many()
                        .filter(report_registry::Column::VillageCode.is_in(chunk.iter().cloned()))
                        .exec(txn)
                        .await?;
                    continue;
                }
                report_cells::Entity::delete_many()
                    .filter(report_cells::Column::Year.eq(*year))
                    .filter(report_cells::Column::VillageCode.is_in(chunk.iter().cloned()))
                    .exec(txn)
                    .await?;
                report_days::Entity::delete_many()
                    .filter(report_days::Column::Year.eq(*year))
                    .filter(report_days::Column::VillageCode.is_in(chunk.iter().cloned()))
                    .exec(txn)
                    .await?;
                report_funding::Entity::delete_many()
                    .filter(report_funding::Column::Year.eq(*year))
                    .filter(report_funding::Column::VillageCode.is_in(chunk.iter().cloned()))
                    .exec(txn)
                    .await?;
            }
        }
        let cells = summary.cells.iter().map(|c| report_cells::ActiveModel {
            year: ActiveValue::Set(c.year),
            village_code: ActiveValue::Set(c.village.clone()),
            category: ActiveValue::Set(c.category.clone()),
            poverty: ActiveValue::Set(c.poverty.clone()),
            households: ActiveValue::Set(c.households as i64),
            persons: ActiveValue::Set(c.persons as i64),
            premium_fen: ActiveValue::Set(c.premium),
            renewed: ActiveValue::Set(c.renewed as i64),
        });
        insert_all(txn, cells.collect()).await?;
        let days = summary.days.iter().map(|d| report_days::ActiveModel {
            year: ActiveValue::Set(d.year),
            village_code: ActiveValue::Set(d.village.clone()),
            day: ActiveValue::Set(d.day),
            households: ActiveValue::Set(d.households as i64),
        });
        insert_all(txn, days.collect()).await?;
        let parts = summary.parts.iter().map(|p| report_funding::ActiveModel {
            year: ActiveValue::Set(p.year),
            village_code: ActiveValue::Set(p.village.clone()),
            source_id: ActiveValue::Set(p.source_id),
            amount_fen: ActiveValue::Set(p.amount),
            policies: ActiveValue::Set(p.policies as i64),
        });
        insert_all(txn, parts.collect()).await?;
        let registry = summary.registry.iter().map(|r| report_registry::ActiveModel {
            village_code: ActiveValue::Set(r.village.clone()),
            category: ActiveValue::Set(r.category.clone()),
            poverty: ActiveValue::Set(r.poverty.clone()),
            families: ActiveValue::Set(r.families as i64),
        });
        insert_all(txn, registry.collect()).await?;
        self.roll_up_townships(txn, &stale).await?;
        Ok(taken)
    }
}

/// The cell of (`year`, `village`, `category`, `poverty`), made empty when new.
fn cell(
    cells: &mut HashMap<CellKey, Cell>,
    year: i32,
    village: String,
    category: String,
    poverty: String,
) -> &mut Cell {
    cells.entry((year, village.clone(), category.clone(), poverty.clone())).or_insert_with(|| Cell {
        year,
        village,
        category,
        poverty,
        ..Default::default()
    })
}

async fn insert_all<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> StoreResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        <A::Entity as EntityTrait>::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}
