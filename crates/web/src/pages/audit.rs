//! Searching and exporting the audit log (auditors and the city administrator).

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use futures_util::stream::{self, StreamExt};
use guanai_domain::Permission;
use guanai_import::csv_out;
use guanai_store::audit::{AuditEntry, AuditEvent, AuditQuery, Outcome};
use serde::Deserialize;

use crate::download;
use crate::error::WebError;
use crate::format::{china_day_start, china_time};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::forms;
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(search)).route("/audit/export", get(export))
}

const PER_PAGE: u64 = 50;
/// Entries an export reads at a time; the whole export is never held.
const EXPORT_STEP: u64 = 1_000;

#[derive(Deserialize, Default, Clone)]
pub struct AuditFilter {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    outcome: String,
    /// First day, China time, `YYYY-MM-DD`.
    #[serde(default)]
    from: String,
    /// Last day included, China time.
    #[serde(default)]
    to: String,
    /// From 0.
    #[serde(default)]
    page: String,
}

impl AuditFilter {
    fn to_query(&self, per_page: u64) -> Result<AuditQuery, WebError> {
        let date = |raw: &str, label: &str| -> Result<Option<NaiveDate>, WebError> {
            match raw.trim() {
                "" => Ok(None),
                text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| {
                    WebError::BadRequest(format!("{label}“{text}”不是有效日期，请按 2026-09-01 的格式填写"))
                }),
            }
        };
        let from = date(&self.from, "开始日期")?;
        let to = date(&self.to, "结束日期")?;
        Ok(AuditQuery {
            actor_name: Some(self.actor.trim().to_owned()),
            action: Some(self.action.trim().to_owned()),
            outcome: Some(self.outcome.trim().to_owned()),
            from: from.map(china_day_start),
            until: to.and_then(|d| d.succ_opt()).map(china_day_start),
            page: forms::page(&self.page).map_err(WebError::BadRequest)?,
            per_page,
        })
    }

    fn query_string(&self, page: u64) -> String {
        serde_urlencoded::to_string([
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("outcome", self.outcome.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("page", &page.to_string()),
        ])
        .unwrap_or_default()
    }
}

struct Row {
    at: String,
    entry: AuditEntry,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    filter: AuditFilter,
    rows: Vec<Row>,
    total: u64,
    page: u64,
    pages: u64,
    prev_link: Option<String>,
    next_link: Option<String>,
    export_link: String,
    actions: &'static [(&'static str, &'static str)],
    outcomes: [Outcome; 2],
}

impl AuditPage {
    /// Whether the action filtered on is one of the select's choices.
    fn is_listed_action(&self) -> bool {
        self.actions.iter().any(|(code, _)| *code == self.filter.action)
    }
}

pub async fn search(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAudit, "/audit").await?;
    let query = filter.to_query(PER_PAGE)?;
    let found = state.store.audit_log().search_audit(&user.session.actor, &query).await?;
    let pages = found.total.div_ceil(PER_PAGE).max(1);
    let page = query.page;
    let rows = found.entries.into_iter().map(|entry| Row { at: china_time(&entry.at), entry }).collect();
    let shell =
        Shell::new(&state, &user.session, "审计日志", "/audit", vec![Crumb::here("审计日志")]).await?;
    render(&AuditPage {
        shell,
        prev_link: (page > 0).then(|| format!("/audit?{}", filter.query_string(page - 1))),
        next_link: (page + 1 < pages).then(|| format!("/audit?{}", filter.query_string(page + 1))),
        export_link: format!("/audit/export?{}", filter.query_string(0)),
        actions: guanai_store::audit_labels::ACTIONS,
        outcomes: Outcome::ALL,
        filter,
        rows,
        total: found.total,
        page,
        pages,
    })
}

const CSV_HEADER: [&str; 11] = [
    "时间（北京时间）",
    "操作人",
    "操作人区域",
    "IP",
    "操作",
    "操作代码",
    "对象类型",
    "对象",
    "涉及个人",
    "结果",
    "说明",
];

fn csv_row(e: &AuditEntry) -> String {
    csv_out::line(&[
        china_time(&e.at).as_str(),
        e.actor_label(),
        e.actor_region.as_deref().unwrap_or_default(),
        e.ip_label(),
        e.action_label(),
        e.action.as_str(),
        e.target_kind.as_str(),
        e.target_id.as_str(),
        e.subject_label().as_str(),
        e.outcome.label(),
        e.detail.as_str(),
    ])
}

/// Where a streamed export has got to.
struct Walk {
    store: guanai_store::Store,
    actor: guanai_store::Actor,
    query: AuditQuery,
    /// The next step reads entries below this id; `None` once the walk is over.
    before: Option<i64>,
}

/// The next piece of the file: the entries of one step as CSV lines; `None` at the end.
/// A database error ends the download unfinished (the browser reports it as failed)
/// rather than with a file that looks complete.
async fn next_step(mut walk: Walk) -> Option<(Result<String, std::io::Error>, Walk)> {
    let before = walk.before?;
    match walk
        .store
        .audit_log()
        .audit_entries_before(&walk.actor, &walk.query, Some(before), EXPORT_STEP)
        .await
    {
        Ok(entries) if entries.is_empty() => None,
        Ok(entries) => {
            walk.before = entries.last().map(|e| e.id).filter(|_| entries.len() as u64 == EXPORT_STEP);
            Some((Ok(entries.iter().map(csv_row).collect()), walk))
        }
        Err(err) => {
            tracing::error!(error = %err, "audit export stopped");
            walk.before = None;
            Some((Err(std::io::Error::other("audit export stopped")), walk))
        }
    }
}

/// Every filtered entry as CSV (UTF-8 with BOM, so Excel and WPS open it in Chinese),
/// streamed step by step however many there are. The entries are those found when the
/// export starts (newer ones, like the export's own, are not in it); the export itself is
/// written to the audit log first, with their number.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAudit, "/audit/export").await?;
    let actor = user.session.actor.clone();
    let query = AuditQuery { page: 0, ..filter.to_query(1)? };
    let newest = state.store.audit_log().search_audit(&actor, &query).await?;
    state
        .store
        .audit(
            &actor,
            AuditEvent::ok("audit.export", "审计日志", filter.query_string(0))
                .with_detail(format!("导出{}条", newest.total)),
        )
        .await?;
    let walk =
        Walk { store: state.store.clone(), actor, query, before: newest.entries.first().map(|e| e.id + 1) };
    let header = format!("{}{}", csv_out::BOM, csv_out::line(&CSV_HEADER));
    let body =
        stream::once(async move { Ok::<_, std::io::Error>(header) }).chain(stream::unfold(walk, next_step));
    let filename = format!("audit-{}.csv", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    Ok(download::csv(&filename, &filename, Body::from_stream(body)))
}
