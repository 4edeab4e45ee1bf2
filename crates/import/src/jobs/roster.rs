//! Roster jobs: a county's roster uploaded, planned once and stored, its columns chosen
//! again if need be, then written in batches with progress.

use guanai_store::{Actor, Store, StoreError};
use serde::{Deserialize, Serialize};

use super::{
    file_problem, summary, to_json, with_heartbeat, ImportJob, JobKind, JobStatus, PlanRow, PLAN_VERSION,
};
use crate::columns::{recognise, ColumnMap, Field};
use crate::roster::{plan_roster, RosterPlan, RowVerdict, Totals, Verdict};
use crate::ImportError;

const KIND: JobKind = JobKind::Roster;

/// Rows kept besides the refused and warned ones, to show what will go in.
const OTHER_ROWS: usize = 50;

/// What a roster's plan says as a whole, stored with its job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RosterSummary {
    /// The file's header row (for choosing columns).
    pub headers: Vec<String>,
    /// (field label, column index) recognised or chosen.
    pub mapped: Vec<(String, usize)>,
    /// Labels of the required fields still without a column.
    pub missing: Vec<String>,
    /// Why the file cannot be read at all.
    pub error: Option<String>,
    pub totals: Option<Totals>,
}

/// A job just uploaded: its summary and, when the file could be planned, the plan (the
/// command line runs it at once, without planning again).
pub struct Uploaded {
    pub id: i64,
    pub summary: RosterSummary,
    pub plan: Option<RosterPlan>,
}

/// A job with its stored plan, as a page shows it.
pub struct RosterView {
    pub job: ImportJob,
    /// `None`: never planned, or planned by an older version (new column choices plan it
    /// again).
    pub summary: Option<RosterSummary>,
    /// Refused and warned rows first, then a few others, at most the number asked for.
    pub rows: Vec<RowVerdict>,
}

/// Keeps the file as a new job (`keep_file`: sealed in the database; the command line
/// keeps its own), plans it once and stores the plan. A file that cannot be read is a job
/// whose summary says why.
pub async fn upload(
    store: &Store,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
    keep_file: bool,
    overrides: &[(Field, usize)],
) -> Result<Uploaded, ImportError> {
    let id = store
        .imports()
        .create_import_job(actor, KIND, file_name, keep_file.then_some(bytes.as_slice()))
        .await?;
    let (summary, plan) = plan_and_store(store, actor, id, bytes, overrides).await?;
    Ok(Uploaded { id, summary, plan })
}

/// New column choices for a job waiting for its confirmation: its file planned again
/// with them, and the new plan stored.
pub async fn remap(
    store: &Store,
    actor: &Actor,
    id: i64,
    overrides: &[(Field, usize)],
) -> Result<RosterSummary, ImportError> {
    let (job, bytes) = store.imports().import_job(actor, KIND, id).await?;
    if job.status != JobStatus::Previewed || bytes.is_empty() {
        return Err(StoreError::invalid("该导入已开始、已结束或文件已删除，不能再修改列对应").into());
    }
    Ok(plan_and_store(store, actor, id, bytes, overrides).await?.0)
}

async fn plan_and_store(
    store: &Store,
    actor: &Actor,
    id: i64,
    bytes: Vec<u8>,
    overrides: &[(Field, usize)],
) -> Result<(RosterSummary, Option<RosterPlan>), ImportError> {
    let (summary, plan) = match plan_roster(store, actor, bytes, overrides).await {
        Ok(plan) => {
            let (mapped, missing) = mapping(&plan.map);
            let summary = RosterSummary {
                headers: plan.headers.clone(),
                mapped,
                missing,
                error: None,
                totals: Some(plan.totals.clone()),
            };
            (summary, Some(plan))
        }
        Err(ImportError::MissingColumns { headers, .. }) => {
            let mut map = recognise(&headers);
            for (field, column) in overrides {
                map.assign(*field, *column);
            }
            let (mapped, missing) = mapping(&map);
            (RosterSummary { headers, mapped, missing, ..Default::default() }, None)
        }
        Err(err) => (RosterSummary { error: Some(file_problem(err)?), ..Default::default() }, None),
    };
    let rows = plan.as_ref().map(stored_rows).unwrap_or_default();
    let overrides = ColumnMap::encode_overrides(overrides);
    store
        .imports()
        .set_import_plan(actor, KIND, id, &overrides, (PLAN_VERSION, &to_json(&summary)), &rows)
        .await?;
    Ok((summary, plan))
}

fn mapping(map: &ColumnMap) -> (Vec<(String, usize)>, Vec<String>) {
    let mapped = map.fields.iter().map(|(f, c)| (f.label().to_owned(), *c)).collect();
    let missing = map.missing().iter().map(|f| f.label().to_owned()).collect();
    (mapped, missing)
}

/// The rows a plan keeps: every refused row with its original cells (for the report),
/// every warned row, then the first [`OTHER_ROWS`] others.
pub fn stored_rows(plan: &RosterPlan) -> Vec<PlanRow> {
    let row = |v: &RowVerdict, cells: Vec<String>| PlanRow {
        line: v.line as i64,
        verdict: v.verdict.as_str().to_owned(),
        reason: v.reason.clone(),
        data: String::new(),
        cells,
    };
    let mut refused = plan.refused_rows().map(|(source, v)| (v.line, row(v, source.cells.clone())));
    let mut rows = Vec::new();
    let mut others = 0;
    for verdict in &plan.verdicts {
        match verdict.verdict {
            Verdict::Refused => {
                let (line, stored) = refused.next().expect("one source row per refused row");
                debug_assert_eq!(line, verdict.line);
                rows.push(stored);
            }
            Verdict::Warned => rows.push(row(verdict, Vec::new())),
            _ => others += 1,
        }
    }
    let rest = plan.verdicts.iter().filter(|v| !matches!(v.verdict, Verdict::Refused | Verdict::Warned));
    rows.extend(rest.take(OTHER_ROWS.min(others)).map(|v| row(v, Vec::new())));
    rows
}

/// The refused rows of a plan in hand as .xlsx, from the rows it stores (the command
/// line's `--report`, a dry run's too).
pub fn plan_report(plan: &RosterPlan) -> Result<Vec<u8>, ImportError> {
    let refused: Vec<PlanRow> =
        stored_rows(plan).into_iter().filter(|r| r.verdict == Verdict::Refused.as_str()).collect();
    crate::report::refused_rows_xlsx(&plan.headers, &refused)
}

fn verdict_of(row: PlanRow) -> Result<RowVerdict, ImportError> {
    let verdict = Verdict::parse(&row.verdict).ok_or_else(|| row.unknown_verdict())?;
    Ok(RowVerdict { line: row.line as usize, verdict, reason: row.reason })
}

/// A job and its stored plan, with at most `rows` of its rows; the file is not read.
pub async fn view(store: &Store, actor: &Actor, id: i64, rows: u64) -> Result<RosterView, ImportError> {
    let job = store.imports().import_job_info(actor, KIND, id).await?;
    let summary = summary(&job);
    let stored = store.imports().import_plan_rows(actor, KIND, id, &[], Some(rows), false).await?;
    let rows = stored.into_iter().map(verdict_of).collect::<Result<_, _>>()?;
    Ok(RosterView { job, summary, rows })
}

/// The refused rows of a job's stored plan as .xlsx (the file is not read again), and the
/// job; `None` when the plan's original cells are gone with the file.
pub async fn refused_report(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<(ImportJob, Option<Vec<u8>>), ImportError> {
    let job = store.imports().import_job_info(actor, KIND, id).await?;
    let Some(summary) = summary::<RosterSummary>(&job) else {
        return Ok((job, None));
    };
    let rows =
        store.imports().import_plan_rows(actor, KIND, id, &[Verdict::Refused.as_str()], None, true).await?;
    if rows.iter().any(|r| r.cells.is_empty()) {
        return Ok((job, None));
    }
    Ok((job, Some(crate::report::refused_rows_xlsx(&summary.headers, &rows)?)))
}

/// Writes a claimed job: `plan` when the caller has it (the command line that just
/// uploaded), else the job's file planned again with its column choices. Households go in
/// `batch` per transaction; after each batch the job's progress is recorded and
/// `progress(done, total)` told; the job beats every minute meanwhile. Its end is recorded
/// with the job and in the audit log, and returned.
pub async fn run(
    store: &Store,
    actor: &Actor,
    id: i64,
    plan: Option<RosterPlan>,
    batch: usize,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<Totals, ImportError> {
    use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
    let (done, total) = (AtomicI64::new(0), AtomicI64::new(0));
    let work = async {
        let plan = match plan {
            Some(plan) => plan,
            None => {
                let (job, bytes) = store.imports().import_job(actor, KIND, id).await?;
                plan_roster(store, actor, bytes, &ColumnMap::decode_overrides(&job.overrides)).await?
            }
        };
        total.store(plan.totals.households_new as i64, Relaxed);
        store.imports().set_import_progress(id, JobStatus::Committing, 0, total.load(Relaxed), "").await?;
        plan.commit_in_batches(store, actor, batch, |written, all| {
            progress(written, all);
            done.store(written as i64, Relaxed);
            async move {
                if let Err(err) = store
                    .imports()
                    .set_import_progress(id, JobStatus::Committing, written as i64, all as i64, "")
                    .await
                {
                    tracing::warn!(%err, job = id, "could not record an import's progress");
                }
            }
        })
        .await
    };
    let outcome = with_heartbeat(store, id, work).await;
    let (status, message, done) = match &outcome {
        Ok(t) => (
            JobStatus::Done,
            format!(
                "导入完成：新增{}人，更新{}人，无变化{}人，有提示{}人，拒绝{}行",
                t.created, t.updated, t.unchanged, t.warned, t.refused
            ),
            total.load(Relaxed),
        ),
        Err(err) => (
            JobStatus::Failed,
            super::failure_message(id, err, "已写入的家庭保持完整，可再次执行导入以补全其余部分"),
            done.load(Relaxed),
        ),
    };
    let event = guanai_store::audit::AuditEvent::ok("import.commit", "导入", id.to_string());
    let _ = store.audit(actor, event.with_detail(message.clone())).await;
    if let Err(err) =
        store.imports().set_import_progress(id, status, done, total.load(Relaxed), &message).await
    {
        tracing::error!(%err, job = id, "could not record the end of an import");
    }
    outcome
}
