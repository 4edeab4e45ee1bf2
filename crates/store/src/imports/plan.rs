//! A job's stored plan: its summary (JSON in `import_jobs.preview`, with the version of
//! its shape) and the rows a page or a report lists (`import_job_rows`). The import crate
//! decides what they mean; the store keeps them, sealing each row's original cells.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::{JobKind, JobStatus};
use crate::entities::{import_job_rows, import_jobs};
use crate::{Actor, Store, StoreError, StoreResult};

/// Rows per INSERT (seven values each, well under every engine's limit).
const ROWS_PER_INSERT: usize = 500;

/// One stored row of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanRow {
    /// The row's line in the file (the first, for a verdict over several rows).
    pub line: i64,
    /// The verdict's code, as the import crate names it.
    pub verdict: String,
    pub reason: String,
    /// What else the kind keeps of the row, as the import crate writes it (never a
    /// personal number).
    pub data: String,
    /// The row's cells as in the file, for the refused-rows report: sealed at rest.
    pub cells: Vec<String>,
}

/// A stored value the reader cannot take: the database holds what it should not.
pub fn corrupt(message: String) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(message)
}

impl PlanRow {
    /// The error for a stored verdict the reader does not know: the database holds what it
    /// should not, which is never taken for some verdict.
    pub fn unknown_verdict(&self) -> StoreError {
        StoreError::Database(corrupt(format!("unknown stored verdict “{}”", self.verdict)))
    }
}

impl crate::handles::Imports<'_> {
    /// Replaces a waiting job's plan: its summary (shape `version`), the column choices it
    /// was made with, and its rows, in one transaction. A job that is no longer waiting
    /// (claimed meanwhile, or ended) keeps what it had: `Invalid`.
    pub async fn set_import_plan(
        self,
        actor: &Actor,
        kind: JobKind,
        id: i64,
        overrides: &str,
        (version, summary): (i32, &str),
        rows: &[PlanRow],
    ) -> StoreResult<()> {
        self.import_job_info(actor, kind, id).await?;
        let sealed: Vec<import_job_rows::ActiveModel> = rows
            .iter()
            .enumerate()
            .map(|(seq, row)| import_job_rows::ActiveModel {
                job_id: Set(id),
                seq: Set(seq as i32),
                line: Set(row.line),
                verdict: Set(row.verdict.clone()),
                reason: Set(row.reason.clone()),
                data: Set(row.data.clone()),
                cells: Set(self.seal_cells(&row.cells)),
            })
            .collect();
        let txn = self.db.begin().await?;
        let updated = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::Overrides, Expr::value(overrides))
            .col_expr(import_jobs::Column::Preview, Expr::value(summary))
            .col_expr(import_jobs::Column::PlanVersion, Expr::value(version))
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(import_jobs::Column::Id.eq(id))
            .filter(import_jobs::Column::Status.eq(JobStatus::Previewed.code()))
            .exec(&txn)
            .await?
            .rows_affected;
        if updated != 1 {
            return Err(StoreError::invalid("该导入已开始或已结束，预检结果不能再更改"));
        }
        import_job_rows::Entity::delete_many()
            .filter(import_job_rows::Column::JobId.eq(id))
            .exec(&txn)
            .await?;
        let mut sealed = sealed.into_iter().peekable();
        while sealed.peek().is_some() {
            let chunk: Vec<_> = sealed.by_ref().take(ROWS_PER_INSERT).collect();
            import_job_rows::Entity::insert_many(chunk).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// A job's stored rows in plan order: those with one of `verdicts` (all when empty),
    /// at most `limit`. `with_cells`: the original cells too (opened), else left empty.
    pub async fn import_plan_rows(
        self,
        actor: &Actor,
        kind: JobKind,
        id: i64,
        verdicts: &[&str],
        limit: Option<u64>,
        with_cells: bool,
    ) -> StoreResult<Vec<PlanRow>> {
        self.import_job_info(actor, kind, id).await?;
        let mut query = import_job_rows::Entity::find().filter(import_job_rows::Column::JobId.eq(id));
        if !verdicts.is_empty() {
            query = query.filter(import_job_rows::Column::Verdict.is_in(verdicts.iter().copied()));
        }
        let rows = query.order_by_asc(import_job_rows::Column::Seq).limit(limit).all(&self.db).await?;
        rows.into_iter()
            .map(|row| {
                Ok(PlanRow {
                    line: row.line,
                    verdict: row.verdict,
                    reason: row.reason,
                    data: row.data,
                    cells: if with_cells { self.open_cells(&row.cells)? } else { Vec::new() },
                })
            })
            .collect()
    }
}

impl Store {
    /// Empties the original cells of the rows of jobs whose file is gone.
    pub(super) async fn purge_plan_cells(&self) -> StoreResult<()> {
        let gone = import_jobs::Entity::find()
            .select_only()
            .column(import_jobs::Column::Id)
            .filter(import_jobs::Column::FileDeletedAt.is_not_null());
        import_job_rows::Entity::update_many()
            .col_expr(import_job_rows::Column::Cells, Expr::value(Vec::<u8>::new()))
            .filter(import_job_rows::Column::JobId.in_subquery(sea_orm::QueryTrait::into_query(gone)))
            .filter(Expr::cust("LENGTH(cells) > 0"))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    fn seal_cells(&self, cells: &[String]) -> Vec<u8> {
        if cells.is_empty() {
            return Vec::new();
        }
        let json = serde_json::to_vec(cells).expect("strings always serialise");
        self.keys.seal_bytes(&json)
    }

    fn open_cells(&self, sealed: &[u8]) -> StoreResult<Vec<String>> {
        if sealed.is_empty() {
            return Ok(Vec::new());
        }
        let json = self.keys.open_bytes(sealed)?;
        serde_json::from_slice(&json).map_err(|e| {
            StoreError::Database(sea_orm::DbErr::Custom(format!("stored cells unreadable: {e}")))
        })
    }
}
