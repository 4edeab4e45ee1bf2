//! Import jobs: the uploaded file, its stored plan (`plan.rs`) and the state of its commit,
//! in the database (not in process memory), so any instance can show the progress or
//! finish the job. Two kinds: a county's roster and the insurer's returned file.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::import_jobs;
use crate::error::stored;
use crate::{Actor, Store, StoreError, StoreResult};

mod plan;

pub use plan::{corrupt, PlanRow};

/// Largest file accepted (a 300,000-row roster is about 30 MB as CSV).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// A job left "committing" this long without progress is taken for abandoned (its
/// server stopped): it may be claimed again. A running commit reports progress after each
/// batch and beats every minute.
pub const STALE_AFTER_MINUTES: i64 = 15;

/// How long a file is kept after its job ended, unless configured otherwise.
pub const DEFAULT_FILE_RETENTION_DAYS: u32 = 7;

pub use guanai_domain::imports::{JobKind, JobStatus};

/// The audit log's word for a job of `kind`.
const fn audit_word(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Roster => "导入",
        JobKind::InsurerReturn => "承保回传",
    }
}

/// A job as a scoped look-up names it: in "not found" and in an audited denial.
const fn record(kind: JobKind) -> crate::access::Target {
    let kind = match kind {
        JobKind::Roster => "导入任务",
        JobKind::InsurerReturn => "回传文件",
    };
    crate::access::Target { action: "import.view", kind }
}

/// A job without its file.
#[derive(Debug, Clone, Serialize)]
pub struct ImportJob {
    pub id: i64,
    pub kind: JobKind,
    pub file_name: String,
    pub region_code: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The user's column choices, as the import crate writes them.
    pub overrides: String,
    pub status: JobStatus,
    /// The plan's summary (totals, mapping, file error), as the import crate writes it;
    /// its rows are [`PlanRow`]s.
    pub preview: Option<String>,
    /// The shape of `preview`, as the import crate numbers it (0: none, or from before).
    pub plan_version: i32,
    pub done: i64,
    pub total: i64,
    pub message: String,
    /// Last change of state or progress.
    pub updated_at: DateTime<Utc>,
    /// When the file was deleted; a job without its file can no longer be run.
    pub file_deleted_at: Option<DateTime<Utc>>,
    /// False for a job of the command line, which holds the file itself.
    pub file_kept: bool,
}

impl ImportJob {
    /// A commit that has made no progress for [`STALE_AFTER_MINUTES`]: its server is
    /// gone, and the job may be claimed again.
    pub fn is_stale(&self) -> bool {
        self.status == JobStatus::Committing
            && self.updated_at < Utc::now() - chrono::Duration::minutes(STALE_AFTER_MINUTES)
    }

    /// The file was never kept: a job of the command line, which holds the file itself.
    pub fn file_never_kept(&self) -> bool {
        !self.file_kept
    }
}

/// A job's row without its file.
#[derive(sea_orm::FromQueryResult)]
struct JobRow {
    id: i64,
    kind: String,
    file_name: String,
    region_code: String,
    created_by: String,
    created_at: DateTime<Utc>,
    overrides: String,
    status: String,
    preview: Option<String>,
    done: i64,
    total: i64,
    message: String,
    updated_at: DateTime<Utc>,
    file_deleted_at: Option<DateTime<Utc>>,
    plan_version: i32,
    file_kept: bool,
}

/// Every column of a job but its file.
fn without_file() -> sea_orm::Select<import_jobs::Entity> {
    import_jobs::Entity::find().select_only().columns([
        import_jobs::Column::Id,
        import_jobs::Column::Kind,
        import_jobs::Column::FileName,
        import_jobs::Column::RegionCode,
        import_jobs::Column::CreatedBy,
        import_jobs::Column::CreatedAt,
        import_jobs::Column::Overrides,
        import_jobs::Column::Status,
        import_jobs::Column::Preview,
        import_jobs::Column::Done,
        import_jobs::Column::Total,
        import_jobs::Column::Message,
        import_jobs::Column::UpdatedAt,
        import_jobs::Column::FileDeletedAt,
        import_jobs::Column::PlanVersion,
        import_jobs::Column::FileKept,
    ])
}

impl TryFrom<JobRow> for ImportJob {
    type Error = StoreError;

    fn try_from(row: JobRow) -> StoreResult<Self> {
        Ok(ImportJob {
            id: row.id,
            kind: stored("import_jobs.kind", &row.kind)?,
            file_name: row.file_name,
            region_code: row.region_code,
            created_by: row.created_by,
            created_at: row.created_at,
            overrides: row.overrides,
            status: stored("import_jobs.status", &row.status)?,
            preview: row.preview,
            plan_version: row.plan_version,
            done: row.done,
            total: row.total,
            message: row.message,
            updated_at: row.updated_at,
            file_deleted_at: row.file_deleted_at,
            file_kept: row.file_kept,
        })
    }
}

impl crate::handles::Imports<'_> {
    /// A new job of `kind` in the actor's region, with its file sealed; `None`: the file
    /// stays with the command line that runs the job at once (it is never kept, and the
    /// job can only be run with its plan in hand).
    pub async fn create_import_job(
        self,
        actor: &Actor,
        kind: JobKind,
        file_name: &str,
        file: Option<&[u8]>,
    ) -> StoreResult<i64> {
        self.require(actor, kind.permission()).await?;
        if let Some(bytes) = file {
            if bytes.is_empty() {
                return Err(StoreError::invalid("上传的文件是空的，请重新选择文件"));
            }
            if bytes.len() > MAX_IMPORT_BYTES {
                return Err(StoreError::invalid(format!(
                    "文件超过{}MB，请拆分后分批导入",
                    MAX_IMPORT_BYTES / 1024 / 1024
                )));
            }
        }
        let now = Utc::now();
        let id = import_jobs::Entity::insert(import_jobs::ActiveModel {
            id: NotSet,
            kind: Set(kind.code().to_owned()),
            file_name: Set(file_name.chars().take(200).collect()),
            // Sealed: a roster holds full ID and phone numbers.
            file_bytes: Set(file.map(|bytes| self.keys.seal_bytes(bytes)).unwrap_or_default()),
            region_code: Set(actor.scope().to_string()),
            created_by: Set(actor.username().to_owned()),
            created_at: Set(now),
            overrides: Set(String::new()),
            status: Set(JobStatus::Previewed.code().to_owned()),
            preview: Set(None),
            done: Set(0),
            total: Set(0),
            message: Set(String::new()),
            updated_at: Set(now),
            file_deleted_at: Set(file.is_none().then_some(now)),
            plan_version: Set(0),
            file_kept: Set(file.is_some()),
        })
        .exec(&self.db)
        .await?
        .last_insert_id;
        self.audit(
            actor,
            AuditEvent::ok("import.upload", audit_word(kind), id.to_string()).with_detail(file_name),
        )
        .await?;
        Ok(id)
    }
}

impl Store {
    /// Whether the actor's region holds job `id` found in `region` (`None`: not found);
    /// an attempt outside it is audited.
    async fn in_scope(&self, actor: &Actor, kind: JobKind, id: i64, region: Option<&str>) -> StoreResult<()> {
        self.check_scope(actor, record(kind), id, region).await
    }
}

impl crate::handles::Imports<'_> {
    /// A job and its file (opened; empty once deleted, or never kept).
    pub async fn import_job(
        self,
        actor: &Actor,
        kind: JobKind,
        id: i64,
    ) -> StoreResult<(ImportJob, Vec<u8>)> {
        let job = self.import_job_info(actor, kind, id).await?;
        if job.file_deleted_at.is_some() {
            return Ok((job, Vec::new()));
        }
        let sealed: Option<Vec<u8>> = import_jobs::Entity::find_by_id(id)
            .select_only()
            .column(import_jobs::Column::FileBytes)
            .into_tuple()
            .one(&self.db)
            .await?;
        let sealed = sealed.unwrap_or_default();
        let bytes = if sealed.is_empty() { Vec::new() } else { self.keys.open_bytes(&sealed)? };
        Ok((job, bytes))
    }

    /// A job without its file: its page, refreshed while it runs, never reads the file.
    pub async fn import_job_info(self, actor: &Actor, kind: JobKind, id: i64) -> StoreResult<ImportJob> {
        self.require(actor, kind.permission()).await?;
        let row = without_file()
            .filter(import_jobs::Column::Id.eq(id))
            .filter(import_jobs::Column::Kind.eq(kind.code()))
            .into_model::<JobRow>()
            .one(&self.db)
            .await?;
        self.in_scope(actor, kind, id, row.as_ref().map(|r| r.region_code.as_str())).await?;
        row.expect("in scope, so found").try_into()
    }

    /// The actor's region's recent jobs, newest first, without their files.
    pub async fn import_jobs(self, actor: &Actor, kind: JobKind) -> StoreResult<Vec<ImportJob>> {
        self.require(actor, kind.permission()).await?;
        let rows = without_file()
            .filter(actor.scope_condition(import_jobs::Column::RegionCode))
            .filter(import_jobs::Column::Kind.eq(kind.code()))
            .order_by_desc(import_jobs::Column::Id)
            .limit(30)
            .into_model::<JobRow>()
            .all(&self.db)
            .await?;
        rows.into_iter().map(ImportJob::try_from).collect()
    }

    /// Claims a job for its commit, in one conditional update: a job waiting for it (or
    /// failed half way), or one left committing for [`STALE_AFTER_MINUTES`] without
    /// progress. `false` when another request (or server) has it, it is over, or its file
    /// is gone: of two claims at once, exactly one wins. `plan_in_hand`: the caller holds
    /// the plan (the command line that just made it), so a job without its file may be
    /// claimed too.
    pub async fn claim_import_job(
        self,
        actor: &Actor,
        kind: JobKind,
        id: i64,
        plan_in_hand: bool,
    ) -> StoreResult<bool> {
        self.import_job_info(actor, kind, id).await?;
        let now = Utc::now();
        let stale = now - chrono::Duration::minutes(STALE_AFTER_MINUTES);
        let mut claim = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::Status, Expr::value(JobStatus::Committing.code()))
            .col_expr(import_jobs::Column::Done, Expr::value(0i64))
            .col_expr(import_jobs::Column::Total, Expr::value(0i64))
            .col_expr(import_jobs::Column::Message, Expr::value(""))
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(now))
            .filter(import_jobs::Column::Id.eq(id));
        if !plan_in_hand {
            claim = claim.filter(import_jobs::Column::FileDeletedAt.is_null());
        }
        let claimed = claim
            .filter(
                Condition::any()
                    .add(
                        import_jobs::Column::Status
                            .is_in([JobStatus::Previewed.code(), JobStatus::Failed.code()]),
                    )
                    .add(
                        Condition::all()
                            .add(import_jobs::Column::Status.eq(JobStatus::Committing.code()))
                            .add(import_jobs::Column::UpdatedAt.lt(stale)),
                    ),
            )
            .exec(&self.db)
            .await?
            .rows_affected;
        if claimed == 1 {
            self.audit(
                actor,
                AuditEvent::ok("import.claim", audit_word(kind), id.to_string()).with_detail("开始写入"),
            )
            .await?;
        }
        Ok(claimed == 1)
    }

    /// Gives up a job that is not being written; its file goes with the retention.
    pub async fn cancel_import_job(self, actor: &Actor, kind: JobKind, id: i64) -> StoreResult<bool> {
        self.import_job_info(actor, kind, id).await?;
        let cancelled = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::Status, Expr::value(JobStatus::Cancelled.code()))
            .col_expr(import_jobs::Column::Message, Expr::value("已取消，未写入任何数据"))
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(import_jobs::Column::Id.eq(id))
            .filter(import_jobs::Column::Status.eq(JobStatus::Previewed.code()))
            .exec(&self.db)
            .await?
            .rows_affected;
        if cancelled == 1 {
            self.audit(actor, AuditEvent::ok("import.cancel", audit_word(kind), id.to_string())).await?;
        }
        Ok(cancelled == 1)
    }

    /// Deletes the files of jobs that ended more than `retention_days` ago, and gives up
    /// (and empties) jobs left unconfirmed that long; the original cells of their stored
    /// rows go with the files. Returns how many files went.
    pub async fn purge_import_files(self, retention_days: u32) -> StoreResult<u64> {
        let now = Utc::now();
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
        let abandoned = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::Status, Expr::value(JobStatus::Cancelled.code()))
            .col_expr(
                import_jobs::Column::Message,
                Expr::value(format!("超过{retention_days}天未确认导入，已自动取消")),
            )
            .col_expr(import_jobs::Column::FileBytes, Expr::value(Vec::<u8>::new()))
            .col_expr(import_jobs::Column::FileDeletedAt, Expr::value(now))
            .filter(import_jobs::Column::FileDeletedAt.is_null())
            .filter(import_jobs::Column::Status.eq(JobStatus::Previewed.code()))
            .filter(import_jobs::Column::UpdatedAt.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected;
        let ended = import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::FileBytes, Expr::value(Vec::<u8>::new()))
            .col_expr(import_jobs::Column::FileDeletedAt, Expr::value(now))
            .filter(import_jobs::Column::FileDeletedAt.is_null())
            .filter(import_jobs::Column::Status.is_in([
                JobStatus::Done.code(),
                JobStatus::Failed.code(),
                JobStatus::Cancelled.code(),
            ]))
            .filter(import_jobs::Column::UpdatedAt.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected;
        self.purge_plan_cells().await?;
        Ok(abandoned + ended)
    }

    /// Tells that a claimed job's commit is still alive (so it is not taken for stale).
    pub async fn touch_import_job(self, id: i64) -> StoreResult<()> {
        import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(import_jobs::Column::Id.eq(id))
            .filter(import_jobs::Column::Status.eq(JobStatus::Committing.code()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Progress of a job; `message` for a failure or the outcome.
    pub async fn set_import_progress(
        self,
        id: i64,
        status: JobStatus,
        done: i64,
        total: i64,
        message: &str,
    ) -> StoreResult<()> {
        import_jobs::Entity::update_many()
            .col_expr(import_jobs::Column::Status, Expr::value(status.code()))
            .col_expr(import_jobs::Column::Done, Expr::value(done))
            .col_expr(import_jobs::Column::Total, Expr::value(total))
            .col_expr(
                import_jobs::Column::Message,
                Expr::value(message.chars().take(1000).collect::<String>()),
            )
            .col_expr(import_jobs::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(import_jobs::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
