//! Exchange files with the insurer (承保交换), and the list exports.
//!
//! - `GET /exchange`: the export form of the list to underwrite and, for the insurer, the
//!   upload of its returned file.
//! - `GET /exchange/underwriting.xlsx`: the list to underwrite (docs/EXCHANGE.md), ID
//!   numbers in full only for roles that may see them; the store audit-logs every export.
//! - `POST /exchange/return`: the returned file is read and planned once, and kept as an
//!   import job with its plan (`guanai_import::jobs::returns`): a verdict per policy,
//!   stored as rows. A file that cannot be read is answered on the exchange page.
//! - `GET /exchange/returns/{id}`: the job's preview, from its stored plan.
//! - `POST /exchange/returns/{id}/confirm`: the stored decisions are checked again against
//!   the database exactly as a file would be (a stored decision is no more trusted than a
//!   file). Only if every one is still to be done, as previewed, are they written;
//!   otherwise the file is planned again and the new preview shown to confirm again. Of two
//!   confirmations at once, one writes.
//! - `GET /exchange/returns/{id}/refused.xlsx`: the rows not imported as a spreadsheet,
//!   from the stored plan.
//! - `GET /policies/export.xlsx`, `/families/export.xlsx`, `/funding/{id}/export.xlsx`:
//!   the lists as filtered on screen (the same query parameters), audit-logged.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use guanai_domain::regions::short_region_name;
use guanai_domain::Permission;
use guanai_import::exports::{self, FilledBy, UNDERWRITING_COLUMNS};
use guanai_import::insurer::{ReturnEntry, ReturnTotals};
use guanai_import::jobs::returns::{self, Confirmed};
use guanai_import::jobs::{ImportJob, JobStatus};
use guanai_import::ImportError;
use guanai_store::policies::{PolicyQuery, PolicyStatus, UnderwritingQuery};
use guanai_store::sessions::Session;
use serde::Deserialize;

use crate::download::xlsx;
use crate::error::WebError;
use crate::format::china_day_start;
use crate::pages::form::with_status;
use crate::pages::funding::{this_year, year_choices, year_or_current};
use crate::pages::upload::{read_upload, Upload};
use crate::pages::{render, Crumb, Shell};
use crate::requests::families::FamilyFilter;
use crate::requests::forms;
use crate::requests::ids::{self, PathId};
use crate::session::PageUser;
use crate::state::AppState;

/// Largest returned file accepted (a city's list is a few MB).
const MAX_RETURN_BYTES: usize = 32 * 1024 * 1024;
/// Verdicts listed on the preview page (problems first); the report has every refused row.
const SHOWN_ENTRIES: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exchange", get(page))
        .route("/exchange/underwriting.xlsx", get(underwriting))
        .route("/exchange/return", post(upload).layer(DefaultBodyLimit::max(MAX_RETURN_BYTES + 64 * 1024)))
        .route("/exchange/returns/{id}", get(show))
        .route("/exchange/returns/{id}/confirm", post(confirm))
        .route("/exchange/returns/{id}/refused.xlsx", get(refused_report))
        .route("/policies/export.xlsx", get(export_policies))
        .route("/families/export.xlsx", get(export_families))
        .route("/funding/{id}/export.xlsx", get(export_ledger))
}

/// The exchange pages are for those who enrol (association staff) and the insurer.
async fn require_exchange(state: &AppState, session: &Session) -> Result<(), WebError> {
    let actor = &session.actor;
    if actor.can(Permission::Underwrite) || actor.can(Permission::Enrol) {
        Ok(())
    } else {
        Err(state.store.deny(actor, "page.view", "页面", "/exchange").await.into())
    }
}

async fn require(
    state: &AppState,
    session: &Session,
    permission: Permission,
    page: &str,
) -> Result<(), WebError> {
    crate::pages::require(state, session, permission, page).await
}

// ---------------------------------------------------------------- the page

/// Filters of the list to underwrite, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct UnderwritingFilter {
    #[serde(default)]
    region: String,
    #[serde(default)]
    year: String,
    /// First day submitted, China time.
    #[serde(default)]
    from: String,
    /// Last day submitted, included.
    #[serde(default)]
    to: String,
}

impl UnderwritingFilter {
    fn to_query(&self, today: chrono::NaiveDate) -> Result<UnderwritingQuery, String> {
        let from = forms::optional_date("提交日期（起）", &self.from)?;
        let to = forms::optional_date("提交日期（止）", &self.to)?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err("提交日期的起始日不能晚于截止日".to_owned());
            }
        }
        Ok(UnderwritingQuery {
            region: forms::optional_region("区域代码", &self.region)?,
            year: year_or_current(&self.year, today)?,
            submitted_from: from.map(china_day_start),
            submitted_until: to.and_then(|d| d.succ_opt()).map(china_day_start),
        })
    }
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    underwritten: Option<usize>,
    #[serde(default)]
    refused: Option<usize>,
    #[serde(default)]
    unchanged: Option<usize>,
}

#[derive(Template)]
#[template(path = "exchange.html")]
struct ExchangePage {
    shell: Shell,
    filter: UnderwritingFilter,
    years: Vec<i32>,
    year: i32,
    submitted: u64,
    can_upload: bool,
    columns: Vec<(&'static str, &'static str, &'static str)>,
    done: Option<String>,
    error: Option<String>,
    max_mb: usize,
}

async fn exchange_page(
    state: &AppState,
    user: &PageUser,
    filter: UnderwritingFilter,
    done: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let year = year_or_current(&filter.year, state.today()).unwrap_or_else(|_| this_year(state.today()));
    let submitted = state.store.policies().policy_counts(actor, year).await?.submitted;
    let shell =
        Shell::new(state, &user.session, "承保交换", "/policies", vec![Crumb::here("承保交换")]).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let columns = UNDERWRITING_COLUMNS
        .iter()
        .map(|(name, meaning, by)| {
            (*name, *meaning, if *by == FilledBy::Insurer { "保险公司" } else { "关爱系统" })
        })
        .collect();
    let response = render(&ExchangePage {
        shell,
        filter,
        years: year_choices(state.today()),
        year,
        submitted,
        can_upload: actor.can(Permission::Underwrite),
        columns,
        done,
        error,
        max_mb: MAX_RETURN_BYTES / 1024 / 1024,
    })?;
    Ok(with_status(response, status))
}

/// The export form and, for the insurer, the upload of its returned file.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    require_exchange(&state, &user.session).await?;
    let message = match (done.underwritten, done.refused) {
        (Some(u), Some(r)) => Some(format!(
            "导入完成：承保 {u} 份，拒保 {r} 份（已撤销并退回资助资金），无变化 {} 份",
            done.unchanged.unwrap_or(0)
        )),
        _ => None,
    };
    exchange_page(&state, &user, UnderwritingFilter::default(), message, None).await
}

/// The list to underwrite as .xlsx. Supervisors (who may not see full ID numbers) get it
/// masked; the store writes the export to the audit log.
async fn underwriting(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<UnderwritingFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/exchange/underwriting.xlsx").await?;
    let actor = &user.session.actor;
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    let list = state.store.policies().underwriting_list(actor, &query).await?;
    let region = query.region.as_ref().unwrap_or(actor.scope());
    let region_name = state
        .store
        .regions()
        .region_names(&[region.as_str()])
        .await?
        .remove(region.as_str())
        .map(|n| short_region_name(&n))
        .unwrap_or_else(|| region.to_string());
    let title = format!("{region_name}{}年度计生家庭保险承保清单", query.year);
    let bytes = exports::underwriting_xlsx(&list, &title)?;
    Ok(xlsx(
        &format!("承保清单-{region_name}-{}.xlsx", query.year),
        &format!("underwriting-{region}-{}.xlsx", query.year),
        bytes,
    ))
}

// ---------------------------------------------------------------- the returned file

struct Shown {
    lines: String,
    entry: ReturnEntry,
}

#[derive(Template)]
#[template(path = "exchange_preview.html")]
struct PreviewPage {
    shell: Shell,
    job: ImportJob,
    totals: ReturnTotals,
    shown: Vec<Shown>,
    hidden: usize,
    /// Policies to underwrite or refuse: there is something to confirm.
    to_write: bool,
    /// The plan was made again at a confirmation: the database had changed.
    changed: bool,
    /// The job waits for its confirmation.
    waiting: bool,
    status: &'static str,
}

/// The job's preview from its stored plan; `status` is the answer's (409 after a
/// confirmation found the database changed).
async fn preview_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    status: StatusCode,
) -> Result<Response, WebError> {
    let view = returns::view(&state.store, &user.session.actor, id, SHOWN_ENTRIES).await?;
    let summary = view.summary.unwrap_or_default();
    let totals = summary.totals;
    let shown = view.entries.into_iter().map(|entry| Shown { lines: entry.lines_label(), entry }).collect();
    let trail = vec![Crumb::link("承保交换", "/exchange"), Crumb::here("核对回传结果")];
    let shell = Shell::new(state, &user.session, "核对回传结果", "/policies", trail).await?;
    let waiting = view.job.status == JobStatus::Previewed;
    let response = render(&PreviewPage {
        shell,
        to_write: totals.underwrite + totals.refuse > 0,
        totals,
        shown,
        hidden: view.hidden,
        changed: summary.changed && waiting,
        waiting,
        status: view.job.status.label(),
        job: view.job,
    })?;
    Ok(with_status(response, status))
}

/// Reads the returned file, keeps it as a job with its plan, and shows the plan; writes
/// nothing else.
async fn upload(
    State(state): State<AppState>,
    user: PageUser,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Underwrite, "/exchange/return").await?;
    let upload =
        read_upload(&mut multipart, MAX_RETURN_BYTES, "回传文件", "请选择保险公司回传的 .xlsx 或 .csv 文件")
            .await;
    let Upload { name, bytes } = match upload {
        Ok(upload) => upload,
        Err(message) => {
            return exchange_page(&state, &user, UnderwritingFilter::default(), None, Some(message)).await
        }
    };
    match returns::upload(&state.store, &user.session.actor, &name, bytes, true).await {
        Ok(uploaded) => Ok(Redirect::to(&format!("/exchange/returns/{}", uploaded.id)).into_response()),
        Err(ImportError::Store(err)) => Err(err.into()),
        Err(err) => {
            exchange_page(&state, &user, UnderwritingFilter::default(), None, Some(err.to_string())).await
        }
    }
}

/// A returned file's job: its verdicts, and the confirmation while it waits.
async fn show(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ExchangeJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Underwrite, "/exchange/return").await?;
    preview_page(&state, &user, id, StatusCode::OK).await
}

/// Writes the job's decisions, if they are all still to be done as previewed.
async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ExchangeJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Underwrite, "/exchange/return").await?;
    match returns::confirm(&state.store, &user.session.actor, id, false).await? {
        Confirmed::Written(outcome) => {
            let view = returns::view(&state.store, &user.session.actor, id, 0).await?;
            let unchanged = view.summary.map_or(0, |s| s.totals.unchanged);
            Ok(Redirect::to(&format!(
                "/exchange?underwritten={}&refused={}&unchanged={unchanged}",
                outcome.underwritten, outcome.refused
            ))
            .into_response())
        }
        Confirmed::Changed => preview_page(&state, &user, id, StatusCode::CONFLICT).await,
        Confirmed::Busy => Ok(Redirect::to(&format!("/exchange/returns/{id}")).into_response()),
    }
}

/// The rows not imported, from the job's stored plan.
async fn refused_report(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ExchangeJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Underwrite, "/exchange/return").await?;
    let rows = returns::refused_rows(&state.store, &user.session.actor, id).await?;
    let bytes = exports::refused_return_xlsx(&rows)?;
    Ok(xlsx("承保回传-未导入的行.xlsx", "refused-rows.xlsx", bytes))
}

// ---------------------------------------------------------------- list exports

/// The policy list's filters (the same as `/policies`).
#[derive(Deserialize, Default)]
struct PolicyFilter {
    #[serde(default)]
    year: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    region: String,
}

impl PolicyFilter {
    fn to_query(&self) -> Result<PolicyQuery, String> {
        Ok(PolicyQuery {
            year: match self.year.trim() {
                "" => None,
                raw => Some(forms::number("年度", raw, 2000, 2100)?),
            },
            status: match self.status.trim() {
                "" => None,
                raw => Some(PolicyStatus::from_code(raw).ok().ok_or("未知的保单状态")?),
            },
            region: forms::optional_region("区域", &self.region)?,
            ..Default::default()
        })
    }
}

async fn place_names(
    state: &AppState,
    codes: impl IntoIterator<Item = &str>,
) -> Result<HashMap<String, String>, WebError> {
    Ok(state.store.regions().region_names(&exports::place_codes(codes)).await?)
}

/// The policy list as filtered, every page of it.
async fn export_policies(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<PolicyFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies").await?;
    let query = filter.to_query().map_err(WebError::BadRequest)?;
    let policies = state.store.policies().export_policies(&user.session.actor, &query).await?;
    let names = place_names(&state, policies.iter().map(|p| p.village_code.as_str())).await?;
    let bytes = exports::policies_xlsx(&policies, &names)?;
    Ok(xlsx("保单.xlsx", "policies.xlsx", bytes))
}

/// The family list as filtered, every page of it.
async fn export_families(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<FamilyFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/families").await?;
    let actor = &user.session.actor;
    let query = filter.to_query(actor, 1000).map_err(WebError::BadRequest)?;
    let rows = state.store.policies().export_families(actor, &query).await?;
    let names = place_names(&state, rows.iter().map(|r| r.summary.village_code.as_str())).await?;
    let bytes = exports::families_xlsx(&rows, &names)?;
    Ok(xlsx("家庭档案.xlsx", "families.xlsx", bytes))
}

/// A funding source's ledger with every policy it pays for.
async fn export_ledger(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFunding, "/funding").await?;
    let actor = &user.session.actor;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound(format!("找不到资金来源“{id}”")))?;
    let ledger = state.store.funding().ledger(actor, id).await?;
    let lines = state.store.policies().export_ledger_lines(actor, id).await?;
    let mut names = place_names(&state, lines.iter().map(|l| l.village_code.as_str())).await?;
    names.extend(state.store.regions().region_names(&[ledger.source.region_code.as_str()]).await?);
    let bytes = exports::ledger_xlsx(&ledger.source, &lines, &names)?;
    Ok(xlsx(&format!("资金台账-{}.xlsx", ledger.source.name), &format!("ledger-{id}.xlsx"), bytes))
}
