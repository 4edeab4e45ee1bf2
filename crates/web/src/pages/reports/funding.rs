//! The funding report ("几个一点"): what each kind of source and each source pays of the
//! year's premium within the region, year on year, with a chart; its .xlsx exactly as shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::reports::Ratio;
use guanai_domain::Permission;
use guanai_import::reports::report_xlsx;
use guanai_store::audit::AuditEvent;
use guanai_store::reports::FundingReport;

use super::tables::{funding_tables, shown, ShownTable};
use crate::charts::{self, Bar};
use crate::download::xlsx;
use crate::error::WebError;
use crate::pages::funding::year_choices;
use crate::pages::{render, Crumb, Shell};
use crate::requests::reports::ReportFilter;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "reports_funding.html")]
struct FundingPage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    region: String,
    tables: Vec<ShownTable>,
    chart: String,
    export: String,
}

/// Premium by kind of source as bars, each with its amount and share.
pub(crate) fn funding_bars(report: &FundingReport) -> String {
    let total = report.total.get().max(0) as u64;
    let bars: Vec<Bar> = report
        .kinds
        .iter()
        .map(|k| {
            let amount = k.amount.get().max(0) as u64;
            Bar {
                label: k.kind.label().to_owned(),
                value: amount,
                shown: format!("{}元 {}", k.amount.yuan_string(), Ratio::new(amount, total).percent()),
            }
        })
        .collect();
    charts::bars(&format!("{}年度保费按来源类型", report.year), &bars, None)
}

async fn load(
    state: &AppState,
    user: &PageUser,
    filter: &ReportFilter,
) -> Result<(FundingReport, String), WebError> {
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    let report =
        state.store.reports().funding(&user.session.actor, query.region.as_ref(), query.year).await?;
    let names = state.store.regions().region_names(&[report.region.as_str()]).await?;
    let area = names.get(report.region.as_str()).cloned().unwrap_or_else(|| report.region.to_string());
    Ok((report, area))
}

pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let (report, area) = load(&state, &user, &filter).await?;
    let [kinds, sources] = funding_tables(&report, &area, actor.can(Permission::ViewFunding));
    let year = report.year.to_string();
    let region = report.region.to_string();
    let trail =
        super::region_trail(&state, actor, &report.region, Crumb::link("统计报表", "/reports"), |code| {
            format!("/reports/funding?{}", crate::pages::query(&[("year", &year), ("region", code)]))
        })
        .await?;
    let shell = Shell::new(&state, &user.session, "筹资统计", "/reports", trail).await?;
    render(&FundingPage {
        shell,
        year: report.year,
        years: year_choices(state.today()),
        export: format!(
            "/reports/funding.xlsx?{}",
            crate::pages::query(&[("year", &year), ("region", &region)])
        ),
        region,
        chart: funding_bars(&report),
        tables: vec![shown("funding-kinds", &kinds), shown("funding-sources", &sources)],
    })
}

/// The funding report as .xlsx (a sheet per table, as shown); audited.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let (report, area) = load(&state, &user, &filter).await?;
    let bytes = report_xlsx(&funding_tables(&report, &area, false))?;
    let target = format!("funding/{}/{}", report.year, report.region);
    state.store.audit(actor, AuditEvent::ok("report.export", "统计报表", target)).await?;
    Ok(xlsx(
        &format!("筹资统计_{area}_{}年度.xlsx", report.year),
        &format!("funding-{}-{}.xlsx", report.region, report.year),
        bytes,
    ))
}
