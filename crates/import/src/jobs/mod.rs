//! Import jobs as a service, used by the web pages and the command line alike. A job
//! holds an uploaded file (sealed; the command line keeps its file itself), its plan —
//! made once, by streaming the file, and stored as typed data: a versioned summary and the
//! rows a page or a report lists — and the state of its commit. Pages and reports read the
//! stored plan and never the file; only a commit (or new column choices) plans the file
//! again.
//!
//! The operations: `upload` (keep the file, plan it, store the plan), `remap` (roster: new
//! column choices, planned again), [`claim`] (one conditional update: of two claims at
//! once exactly one wins, and a commit left without progress is claimed again), `run`
//! (roster: commit in batches with progress, beating every minute) or `confirm` (insurer:
//! the stored decisions checked again against the database, then written), [`cancel`], and
//! `view` (the job with its stored plan). `roster.rs` and `returns.rs` hold each kind's.

use std::future::Future;

use guanai_store::{Actor, Store, StoreError};
use serde::de::DeserializeOwned;

pub use guanai_store::imports::{ImportJob, JobKind, JobStatus, PlanRow};

use crate::ImportError;

pub mod returns;
pub mod roster;

/// The shape of the stored plans; a job planned under another shape shows no plan until it
/// is planned again.
pub const PLAN_VERSION: i32 = 1;

/// Claims a job for its commit; see [`Store::claim_import_job`]. `plan_in_hand`: the caller
/// just made the plan (the command line), so a job whose file was never kept may be run.
pub async fn claim(
    store: &Store,
    actor: &Actor,
    kind: JobKind,
    id: i64,
    plan_in_hand: bool,
) -> Result<bool, ImportError> {
    Ok(store.imports().claim_import_job(actor, kind, id, plan_in_hand).await?)
}

/// Gives up a job that is waiting for its confirmation; `false` when it is not waiting.
pub async fn cancel(store: &Store, actor: &Actor, kind: JobKind, id: i64) -> Result<bool, ImportError> {
    Ok(store.imports().cancel_import_job(actor, kind, id).await?)
}

/// The summary a job stores, if it was planned under this version's shape.
fn summary<T: DeserializeOwned>(job: &ImportJob) -> Option<T> {
    if job.plan_version != PLAN_VERSION {
        return None;
    }
    serde_json::from_str(job.preview.as_deref()?).ok()
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plans always serialise")
}

/// What is wrong with a file, for the user; a database failure stays an error.
fn file_problem(err: ImportError) -> Result<String, ImportError> {
    match err {
        ImportError::Store(err) => Err(ImportError::Store(err)),
        other => Ok(other.to_string()),
    }
}

/// Why a claimed job stopped, for its page: the error in Chinese, or for a database
/// failure (logged with the detail) a sentence without it; `then` says what to do.
fn failure_message(id: i64, err: &ImportError, then: &str) -> String {
    match err {
        ImportError::Store(StoreError::Database(detail)) => {
            tracing::error!(%detail, job = id, "an import job failed on the database");
            format!("导入中断：系统内部错误（详情已记入日志）。{then}")
        }
        other => format!("导入中断：{other}。{then}"),
    }
}

/// `work`, beating every minute meanwhile so that the claimed job is not taken for stale.
async fn with_heartbeat<T>(store: &Store, id: i64, work: impl Future<Output = T>) -> T {
    let heartbeat = async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            // A missed beat only risks a second claim after STALE_AFTER_MINUTES, which
            // completes what is missing (a commit is idempotent).
            let _ = store.imports().touch_import_job(id).await;
        }
    };
    tokio::select! {
        outcome = work => outcome,
        () = heartbeat => unreachable!("the heartbeat never ends"),
    }
}
