//! The refresher: brings the summary's stored rows up to date where marks say they are
//! stale, in two steps so that writers never wait for its counting.
//!
//! 1. **Count** ([`count_refresh`](crate::handles::Reports::count_refresh)), on a snapshot
//!    and without the write turn: the oldest [`MARKS_PER_REFRESH`] marks' years and
//!    villages, every mark of those, and their rows counted from the tables. Every change a
//!    mark read there marks was committed with it, so the count sees it.
//! 2. **Write** ([`write_refresh`](crate::handles::Reports::write_refresh)), with the write
//!    turn, briefly: the marks read are removed and the rows that changed replaced
//!    (`changes`: worked out on the count's snapshot), only if no other
//!    refresh wrote since the snapshot (`report_summary_lock.generation`, read with the
//!    snapshot and raised by every write). Otherwise nothing is written: an older count must
//!    never replace a newer one, whose marks are gone. A change committed after the
//!    snapshot leaves its own mark, which stays for the next refresh.
//!
//! On SQLite, counting 200 villages of a city took about half a second, which the refresher
//! used to spend holding the write turn: enrolments over HTTP fell from 826/s to 167/s.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use sea_orm::sea_query::Expr;
use sea_orm::{
    AccessMode, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IsolationLevel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::changes::{self, Changes};
use super::summary::{Mark, Stale, VillageRows, VILLAGES_PER_READ};
use crate::entities::{policies, report_marks, report_summary_lock};
use crate::{Engine, Store, StoreError, StoreResult};

/// Marks whose years and villages one refresh counts again, at most: its write holds the
/// write turn on SQLite, so it stays short, and writers take their turns between two.
pub const MARKS_PER_REFRESH: u64 = 200;

/// Rows written in one statement.
const ROWS_PER_INSERT: usize = 500;

/// How often a refresh overtaken by another counts again before it leaves the marks to that
/// other refresher.
const OVERTAKEN_RETRIES: usize = 3;

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

/// What one refresh counted on its snapshot, to be written if no other refresh has written
/// since.
#[derive(Debug)]
pub struct CountedRefresh {
    generation: i64,
    mark_ids: Vec<i64>,
    /// The summary's rows as counted, against those stored: villages' tables, then the
    /// townships' roll-ups.
    changes: Vec<Changes>,
}

impl crate::handles::Reports<'_> {
    /// Counts again the years and villages of the oldest [`MARKS_PER_REFRESH`] marks and
    /// writes their rows (see the module documentation); returns how many marks it removed
    /// (0: the summary is up to date, or other refreshers kept overtaking this one).
    pub async fn refresh_summary(self) -> StoreResult<u64> {
        for _ in 0..OVERTAKEN_RETRIES {
            let started = Instant::now();
            let Some(counted) = self.count_refresh().await? else {
                return Ok(0);
            };
            let counting = started.elapsed();
            let rows: usize = counted.changes.iter().map(Changes::rows).sum();
            if let Some(taken) = self.write_refresh(counted).await? {
                tracing::debug!(
                    marks = taken,
                    rows,
                    count_ms = counting.as_millis() as u64,
                    write_ms = (started.elapsed() - counting).as_millis() as u64,
                    "summary refreshed"
                );
                return Ok(taken);
            }
        }
        Ok(0)
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

    /// The first step of a refresh: the oldest marks and their rows counted, on one
    /// snapshot, without the write turn. None: no marks.
    pub async fn count_refresh(self) -> StoreResult<Option<CountedRefresh>> {
        let txn = match self.engine() {
            // A deferred transaction: its first read fixes the snapshot, and it never writes.
            Engine::Sqlite => self.db.begin().await?,
            _ => {
                self.db
                    .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                    .await?
            }
        };
        // The generation first: the snapshot's, which a write compares with its own.
        let generation = report_summary_lock::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Corrupt("报表汇总的锁行缺失（report_summary_lock）".to_owned()))?
            .generation;
        let (mark_ids, marks) = oldest_marks(&txn).await?;
        if mark_ids.is_empty() {
            txn.commit().await?;
            return Ok(None);
        }
        let stale: Vec<Stale> = self.stale_of_marks(&txn, &marks).await?.into_iter().collect();
        let counted = self.count_summary(&txn, &stale).await?;
        let stored = self.stored_rows(&txn, &stale).await?;
        let changes = self.summary_changes(&txn, &stale, &stored, &counted).await?;
        txn.commit().await?;
        Ok(Some(CountedRefresh { generation, mark_ids, changes }))
    }

    /// What the stale villages' rows as counted change against those stored, and so in
    /// their townships' roll-ups, on the count's snapshot.
    async fn summary_changes(
        &self,
        db: &impl ConnectionTrait,
        stale: &[Stale],
        stored: &VillageRows,
        counted: &VillageRows,
    ) -> StoreResult<Vec<Changes>> {
        let (stored, counted) = (changes::keyed(stored), changes::keyed(counted));
        let [(_, stored_cells), _, _, (_, stored_registry)] = &stored;
        let [(_, counted_cells), _, _, (_, counted_registry)] = &counted;
        let townships = self
            .township_changes(db, stale, [stored_cells, stored_registry], [counted_cells, counted_registry])
            .await?;
        let mut all: Vec<Changes> = stored
            .iter()
            .zip(counted)
            .map(|((table, stored), (_, counted))| Changes::between(table, stored, counted))
            .collect();
        all.extend(townships);
        Ok(all)
    }

    /// The second step: removes the marks `counted` read and writes what changed, in one
    /// transaction with the write turn, unless another refresh wrote since its snapshot.
    /// Returns how many marks it removed, or None when it was overtaken (nothing written).
    pub async fn write_refresh(self, counted: CountedRefresh) -> StoreResult<Option<u64>> {
        let turn = self.write_gate.turn().await;
        let txn = match self.engine() {
            Engine::Sqlite => turn.db.begin().await?,
            _ => turn.db.begin_with_config(Some(IsolationLevel::ReadCommitted), None).await?,
        };
        // A write first, held to the commit: refreshers' writes follow one another, and one
        // whose snapshot another write has overtaken finds a newer generation.
        let raised = report_summary_lock::Entity::update_many()
            .col_expr(
                report_summary_lock::Column::Generation,
                Expr::col(report_summary_lock::Column::Generation).add(1),
            )
            .filter(report_summary_lock::Column::Id.eq(1))
            .filter(report_summary_lock::Column::Generation.eq(counted.generation))
            .exec(&txn)
            .await?
            .rows_affected;
        if raised == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        let mut taken = 0;
        for chunk in counted.mark_ids.chunks(ROWS_PER_INSERT) {
            taken += report_marks::Entity::delete_many()
                .filter(report_marks::Column::Id.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected;
        }
        for changes in &counted.changes {
            changes.apply(&txn).await?;
        }
        txn.commit().await?;
        Ok(Some(taken))
    }
}

/// The oldest [`MARKS_PER_REFRESH`] marks' years and villages, and every mark of those:
/// their ids and what they mark.
async fn oldest_marks(db: &impl ConnectionTrait) -> StoreResult<(Vec<i64>, Vec<Mark>)> {
    let oldest: Vec<(i32, String)> = report_marks::Entity::find()
        .select_only()
        .column(report_marks::Column::Year)
        .column(report_marks::Column::VillageCode)
        .order_by_asc(report_marks::Column::Id)
        .limit(MARKS_PER_REFRESH)
        .into_tuple()
        .all(db)
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
                .all(db)
                .await?;
            for m in rows {
                ids.push(m.id);
                marks.push((m.year, m.village_code, m.family_id));
            }
        }
    }
    Ok((ids, marks))
}

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
