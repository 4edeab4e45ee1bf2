//! Searching and exporting the audit log (auditors and the city administrator).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use guanai_domain::Permission;
use guanai_store::audit::{AuditEntry, AuditEvent, AuditQuery};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::{china_day_start, china_time};
use crate::pages::{render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;
const EXPORT_LIMIT: u64 = 100_000;

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
    #[serde(default)]
    page: u64,
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
            page: self.page,
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
}

pub async fn search(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAudit, "/audit").await?;
    let found = state.store.search_audit(&user.session.actor, &filter.to_query(PER_PAGE)?).await?;
    let pages = found.total.div_ceil(PER_PAGE).max(1);
    let page = filter.page;
    let rows = found.entries.into_iter().map(|entry| Row { at: china_time(&entry.at), entry }).collect();
    let shell =
        Shell::new(&state, &user.session, "审计日志", "/audit", vec![Crumb::here("审计日志")]).await?;
    render(&AuditPage {
        shell,
        prev_link: (page > 0).then(|| format!("/audit?{}", filter.query_string(page - 1))),
        next_link: (page + 1 < pages).then(|| format!("/audit?{}", filter.query_string(page + 1))),
        export_link: format!("/audit/export?{}", filter.query_string(0)),
        filter,
        rows,
        total: found.total,
        page,
        pages,
    })
}

fn csv_field(value: &str) -> String {
    // A leading =, +, - or @ would run as a formula in a spreadsheet.
    let guarded =
        if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The filtered entries as CSV (UTF-8 with BOM, so Excel and WPS open it in Chinese). The
/// export itself is written to the audit log.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAudit, "/audit/export").await?;
    let actor = &user.session.actor;
    let found = state.store.search_audit(actor, &filter.to_query(EXPORT_LIMIT)?).await?;
    let mut out = String::from(
        "\u{feff}时间（北京时间）,操作人,操作人区域,IP,操作,对象类型,对象,涉及个人,结果,说明\r\n",
    );
    for e in &found.entries {
        let fields = [
            china_time(&e.at),
            e.actor_name.clone(),
            e.actor_region.clone().unwrap_or_default(),
            e.ip.clone(),
            e.action.clone(),
            e.target_kind.clone(),
            e.target_id.clone(),
            e.subject.clone().unwrap_or_default(),
            e.outcome.clone(),
            e.detail.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    state
        .store
        .audit(
            actor,
            AuditEvent::ok("audit.export", "审计日志", filter.query_string(0))
                .with_detail(format!("导出{}条", found.entries.len())),
        )
        .await?;
    let filename = format!("audit-{}.csv", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formula_safe() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("吉州区"), "吉州区");
    }
}
