//! Year on year since 2021 (逐年对比): the region's coverage (households, persons,
//! premium, renewal rate) and its premium by kind of source, one line a year, on a page of
//! its own (six years are read, so the year's reports stay as quick as one year); its
//! .xlsx exactly as shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_import::reports::report_xlsx;
use guanai_store::audit::AuditEvent;
use guanai_store::reports::YearsReport;

use super::tables::{coverage_years_table, funding_years_table, shown, ShownTable};
use crate::download::xlsx;
use crate::error::WebError;
use crate::pages::funding::year_choices;
use crate::pages::{query, render, Crumb, Shell};
use crate::requests::reports::ReportFilter;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "reports_years.html")]
struct YearsPage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    region: String,
    tables: Vec<ShownTable>,
    export: String,
}

async fn load(
    state: &AppState,
    user: &PageUser,
    filter: &ReportFilter,
) -> Result<(YearsReport, String), WebError> {
    let q = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    let report = state.store.reports().years(&user.session.actor, q.region.as_ref(), q.year).await?;
    let names = state.store.regions().region_names(&[report.region.as_str()]).await?;
    let area = names.get(report.region.as_str()).cloned().unwrap_or_else(|| report.region.to_string());
    Ok((report, area))
}

/// The year-on-year page.
pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let (report, area) = load(&state, &user, &filter).await?;
    let year = report.year.to_string();
    let region = report.region.to_string();
    let trail =
        super::region_trail(&state, actor, &report.region, Crumb::link("统计报表", "/reports"), |code| {
            format!("/reports/years?{}", query(&[("year", &year), ("region", code)]))
        })
        .await?;
    let shell = Shell::new(&state, &user.session, "逐年对比", "/reports", trail).await?;
    render(&YearsPage {
        shell,
        year: report.year,
        years: year_choices(state.today()),
        export: format!("/reports/years.xlsx?{}", query(&[("year", &year), ("region", &region)])),
        region,
        tables: vec![
            shown("coverage-years", &coverage_years_table(&report, &area)),
            shown("funding-years", &funding_years_table(&report, &area)),
        ],
    })
}

/// The year-on-year tables as .xlsx (a sheet each, as shown); audited.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let (report, area) = load(&state, &user, &filter).await?;
    let bytes = report_xlsx(&[coverage_years_table(&report, &area), funding_years_table(&report, &area)])?;
    let target = format!("years/{}/{}", report.year, report.region);
    state.store.audit(&user.session.actor, AuditEvent::ok("report.export", "统计报表", target)).await?;
    Ok(xlsx(
        &format!("逐年对比_{area}_{}年度.xlsx", report.year),
        &format!("years-{}-{}.xlsx", report.region, report.year),
        bytes,
    ))
}
