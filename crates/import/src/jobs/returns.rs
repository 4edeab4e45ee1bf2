//! The insurer's returned file as a job: uploaded and planned once (a verdict per policy,
//! stored as rows; the decisions are the rows to underwrite or refuse), shown from the
//! stored plan, and confirmed: the stored decisions are checked again against the
//! database exactly as a file would be (a stored decision is no more trusted than a file)
//! and written only if every one is still to be done as previewed; otherwise the file is
//! planned again and the job shows the new plan.

use std::collections::HashSet;

use guanai_store::{Actor, Store, StoreError};
use serde::{Deserialize, Serialize};

use super::{summary, to_json, with_heartbeat, ImportJob, JobKind, JobStatus, PlanRow, PLAN_VERSION};
use crate::insurer::{
    self, Decision, RefusedRow, ReturnEntry, ReturnOutcome, ReturnPlan, ReturnTotals, ReturnVerdict,
};
use crate::ImportError;

const KIND: JobKind = JobKind::InsurerReturn;

/// What a returned file's plan says as a whole, stored with its job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReturnSummary {
    pub totals: ReturnTotals,
    /// Planned again at a confirmation, because the database had changed since the
    /// preview: nothing was written.
    pub changed: bool,
}

/// What a stored row keeps of an entry besides its first line, verdict and reason.
#[derive(Serialize, Deserialize)]
struct EntryData {
    lines: Vec<usize>,
    policy_id: Option<i64>,
    known: bool,
    head_name: String,
    policy_no: String,
    /// For an entry not imported: its rows as in the file, for the report.
    refused: Vec<RefusedRow>,
}

/// A job just uploaded, with its plan.
pub struct Uploaded {
    pub id: i64,
    pub plan: ReturnPlan,
}

/// A job with its stored plan, as a page shows it.
pub struct ReturnView {
    pub job: ImportJob,
    pub summary: Option<ReturnSummary>,
    /// Problems first, then refusals, underwritings and what is done already.
    pub entries: Vec<ReturnEntry>,
    /// Entries not in `entries`.
    pub hidden: usize,
}

/// The outcome of a confirmation.
pub enum Confirmed {
    Written(ReturnOutcome),
    /// The database changed since the preview: nothing was written, and the job shows the
    /// new plan to confirm again.
    Changed,
    /// Another confirmation has the job, or it has ended: nothing was done here.
    Busy,
}

/// Reads and plans a returned file; a file that cannot be read is refused (`ImportError`)
/// and makes no job. Otherwise the file is kept with a new job (`keep_file`: sealed in the
/// database; the command line keeps its own) and the plan stored.
pub async fn upload(
    store: &Store,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
    keep_file: bool,
) -> Result<Uploaded, ImportError> {
    let (plan, bytes) = insurer::plan_return_and_keep(store, actor, bytes).await?;
    let id = store
        .imports()
        .create_import_job(actor, KIND, file_name, keep_file.then_some(bytes.as_slice()))
        .await?;
    store_plan(store, actor, id, &plan, false).await?;
    Ok(Uploaded { id, plan })
}

/// Problems first, then what will be written, then what is done already; in file order.
fn shown_order(entry: &ReturnEntry) -> (u8, usize) {
    let rank = match entry.verdict {
        ReturnVerdict::Rejected => 0,
        ReturnVerdict::Refuse => 1,
        ReturnVerdict::Underwrite => 2,
        ReturnVerdict::Unchanged => 3,
    };
    (rank, entry.lines.first().copied().unwrap_or_default())
}

async fn store_plan(
    store: &Store,
    actor: &Actor,
    id: i64,
    plan: &ReturnPlan,
    changed: bool,
) -> Result<(), ImportError> {
    let refused = plan.refused_rows();
    let mut entries: Vec<&ReturnEntry> = plan.entries.iter().collect();
    entries.sort_by_key(|e| shown_order(e));
    let rows: Vec<PlanRow> = entries
        .into_iter()
        .map(|e| {
            let data = EntryData {
                lines: e.lines.clone(),
                policy_id: e.policy_id,
                known: e.known,
                head_name: e.head_name.clone(),
                policy_no: e.policy_no.clone(),
                refused: if e.verdict == ReturnVerdict::Rejected {
                    refused.iter().filter(|r| e.lines.contains(&r.line)).cloned().collect()
                } else {
                    Vec::new()
                },
            };
            PlanRow {
                line: e.lines.first().copied().unwrap_or_default() as i64,
                verdict: e.verdict.as_str().to_owned(),
                reason: e.reason.clone(),
                data: to_json(&data),
                cells: Vec::new(),
            }
        })
        .collect();
    let summary = ReturnSummary { totals: plan.totals.clone(), changed };
    store.imports().set_import_plan(actor, KIND, id, "", (PLAN_VERSION, &to_json(&summary)), &rows).await?;
    Ok(())
}

fn entry_of(row: PlanRow) -> Result<(ReturnEntry, Vec<RefusedRow>), ImportError> {
    let verdict = ReturnVerdict::parse(&row.verdict).ok_or_else(|| row.unknown_verdict())?;
    let data: EntryData = serde_json::from_str(&row.data).map_err(|e| {
        StoreError::Database(guanai_store::imports::corrupt(format!("stored entry unreadable: {e}")))
    })?;
    let entry = ReturnEntry {
        lines: data.lines,
        policy_id: data.policy_id,
        known: data.known,
        head_name: data.head_name,
        verdict,
        policy_no: data.policy_no,
        reason: row.reason,
    };
    Ok((entry, data.refused))
}

async fn stored_entries(
    store: &Store,
    actor: &Actor,
    id: i64,
    verdicts: &[&str],
    limit: Option<u64>,
) -> Result<Vec<(ReturnEntry, Vec<RefusedRow>)>, ImportError> {
    let rows = store.imports().import_plan_rows(actor, KIND, id, verdicts, limit, false).await?;
    rows.into_iter().map(entry_of).collect()
}

/// A job and its stored plan, with at most `shown` of its entries; the file is not read.
pub async fn view(store: &Store, actor: &Actor, id: i64, shown: usize) -> Result<ReturnView, ImportError> {
    let job = store.imports().import_job_info(actor, KIND, id).await?;
    let summary: Option<ReturnSummary> = summary(&job);
    let entries: Vec<ReturnEntry> = stored_entries(store, actor, id, &[], Some(shown as u64))
        .await?
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    let all = summary.as_ref().map_or(0, |s| {
        let t = &s.totals;
        t.underwrite + t.refuse + t.unchanged
    });
    let rejected = stored_entries(store, actor, id, &[ReturnVerdict::Rejected.as_str()], None).await?.len();
    let hidden = (all + rejected).saturating_sub(entries.len());
    Ok(ReturnView { job, summary, entries, hidden })
}

/// The rows not imported of a job's stored plan, in file order, for the report.
pub async fn refused_rows(store: &Store, actor: &Actor, id: i64) -> Result<Vec<RefusedRow>, ImportError> {
    let entries = stored_entries(store, actor, id, &[ReturnVerdict::Rejected.as_str()], None).await?;
    let mut rows: Vec<RefusedRow> = entries.into_iter().flat_map(|(_, rows)| rows).collect();
    rows.sort_by_key(|r| r.line);
    Ok(rows)
}

/// The decisions of a job's stored plan: its policies to underwrite and to refuse.
async fn stored_decisions(store: &Store, actor: &Actor, id: i64) -> Result<Vec<Decision>, ImportError> {
    let verdicts = [ReturnVerdict::Underwrite.as_str(), ReturnVerdict::Refuse.as_str()];
    let entries = stored_entries(store, actor, id, &verdicts, None).await?;
    let mut decisions = Vec::with_capacity(entries.len());
    for (e, _) in entries {
        let Some(policy_id) = e.policy_id else { continue };
        decisions.push(match e.verdict {
            ReturnVerdict::Underwrite => Decision::Underwrite {
                policy_id,
                policy_no: guanai_store::policy_no_in("import_job_rows.data", &e.policy_no)?,
            },
            _ => Decision::Refuse { policy_id, reason: e.reason },
        });
    }
    decisions.sort_by_key(Decision::policy_id);
    Ok(decisions)
}

/// Confirms a job: claims it (of two confirmations at once one writes, the other is
/// `Busy`), checks its stored decisions again against the database, and writes them if
/// every one is still to be done as previewed. Otherwise nothing is written: the file is
/// planned again (the decisions alone when the file is not kept) and the job waits again
/// with the new plan (`Changed`). `plan_in_hand`: the command line, whose job keeps no file.
pub async fn confirm(
    store: &Store,
    actor: &Actor,
    id: i64,
    plan_in_hand: bool,
) -> Result<Confirmed, ImportError> {
    let decisions = stored_decisions(store, actor, id).await?;
    if decisions.is_empty() {
        return Err(StoreError::invalid("没有需要写入的承保结果，请重新上传文件").into());
    }
    if !super::claim(store, actor, KIND, id, plan_in_hand).await? {
        return Ok(Confirmed::Busy);
    }
    let total = decisions.len() as i64;
    let work = async {
        let plan = insurer::plan_decisions(store, actor, &decisions).await?;
        let posted: HashSet<&Decision> = decisions.iter().collect();
        let still =
            plan.decisions().len() == posted.len() && plan.decisions().iter().all(|d| posted.contains(d));
        if !still {
            let (_, bytes) = store.imports().import_job(actor, KIND, id).await?;
            let plan =
                if bytes.is_empty() { plan } else { insurer::plan_return(store, actor, bytes).await? };
            store.imports().set_import_progress(id, JobStatus::Previewed, 0, 0, "").await?;
            store_plan(store, actor, id, &plan, true).await?;
            return Ok(Confirmed::Changed);
        }
        let outcome = plan.commit(store, actor).await?;
        let message = format!("导入完成：承保{}份，拒保{}份", outcome.underwritten, outcome.refused);
        store.imports().set_import_progress(id, JobStatus::Done, total, total, &message).await?;
        Ok(Confirmed::Written(outcome))
    };
    let outcome = with_heartbeat(store, id, work).await;
    if let Err(err) = &outcome {
        let message = super::failure_message(id, err, "未写入的结果可再次确认");
        if let Err(err) = store.imports().set_import_progress(id, JobStatus::Failed, 0, total, &message).await
        {
            tracing::error!(%err, job = id, "could not record the end of an import");
        }
    }
    outcome
}
