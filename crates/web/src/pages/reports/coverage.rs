//! The coverage report (参保覆盖): by region, family category or poverty status, year on
//! year, against targets, ranked; the regions side by side and the season's curve as
//! charts with their numbers beside; its .xlsx exactly as shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use guanai_domain::reports::Dimension;
use guanai_domain::Permission;
use guanai_import::reports::report_xlsx;
use guanai_store::audit::AuditEvent;
use guanai_store::reports::{CoverageReport, SeasonCurve};

use super::tables::{coverage_table, shown, ShownTable};
use crate::charts::{self, Bar, Series};
use crate::download::xlsx;
use crate::error::WebError;
use crate::pages::funding::year_choices;
use crate::pages::{render, Crumb, Shell};
use crate::requests::reports::ReportFilter;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "reports_coverage.html")]
struct CoveragePage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    region: String,
    region_name: String,
    by: Dimension,
    dims: Vec<(&'static str, String, bool)>,
    tables: Vec<ShownTable>,
    chart: String,
    season_chart: String,
    season_rows: Vec<(NaiveDate, u64, u64)>,
    export: String,
    can_targets: bool,
}

/// The bars of a report's rows by coverage rate, the rate shown at each.
pub(crate) fn coverage_bars(report: &CoverageReport) -> String {
    let bars: Vec<Bar> = report
        .rows
        .iter()
        .map(|r| Bar {
            label: r.label.clone(),
            value: r.coverage().permille().unwrap_or(0),
            shown: r.coverage().percent(),
        })
        .collect();
    charts::bars(&format!("{}年度覆盖率（{}）", report.year, report.by.label()), &bars, None)
}

/// The season's curve: this year, last year on the same days, and the households target.
pub(crate) fn season_chart(curve: &SeasonCurve, target: Option<u64>) -> String {
    let shift = |d: NaiveDate| d.with_year(d.year() + 1).unwrap_or(d);
    let series = [
        Series {
            name: format!("{}年", curve.year),
            color: "#1677ff",
            points: curve.this_year.iter().map(|p| (p.day, p.cumulative)).collect(),
            dashed: false,
        },
        Series {
            name: format!("{}年同期", curve.year - 1),
            color: "#8c8c8c",
            points: curve.last_year.iter().map(|p| (shift(p.day), p.cumulative)).collect(),
            dashed: true,
        },
    ];
    let label = target.map(|t| (t, format!("目标{t}户")));
    charts::lines(
        &format!("{}年度参保进度（累计承保户数）", curve.year),
        &series,
        label.as_ref().map(|(t, l)| (*t, l.as_str())),
    )
}

async fn report(
    state: &AppState,
    user: &PageUser,
    filter: &ReportFilter,
) -> Result<(CoverageReport, SeasonCurve), WebError> {
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    let actor = &user.session.actor;
    let reports = state.store.reports();
    Ok(tokio::try_join!(
        reports.coverage(actor, &query),
        reports.season(actor, query.region.as_ref(), query.year)
    )?)
}

/// The coverage report page.
pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let (report, curve) = report(&state, &user, &filter).await?;
    let table = coverage_table(&report, actor.can(Permission::ViewFamilies));
    let region = report.region.to_string();
    let year = report.year.to_string();
    let link = |by: Dimension| {
        format!(
            "/reports?{}",
            crate::pages::query(&[("year", &year), ("region", &region), ("by", by.code())])
        )
    };
    let trail =
        super::region_trail(&state, actor, &report.region, Crumb::link("统计报表", "/reports"), |code| {
            format!("/reports?{}", crate::pages::query(&[("year", &year), ("region", code)]))
        })
        .await?;
    let shell = Shell::new(&state, &user.session, "参保覆盖统计", "/reports", trail).await?;
    let page = CoveragePage {
        shell,
        year: report.year,
        years: year_choices(state.today()),
        region: region.clone(),
        region_name: report.region_name.clone(),
        by: report.by,
        dims: Dimension::ALL.iter().map(|d| (d.label(), link(*d), *d == report.by)).collect(),
        tables: vec![shown("coverage", &table)],
        chart: coverage_bars(&report),
        season_chart: season_chart(&curve, report.total.target_households),
        season_rows: curve.this_year.iter().map(|p| (p.day, p.households, p.cumulative)).collect(),
        export: format!(
            "/reports/coverage.xlsx?{}",
            crate::pages::query(&[("year", &year), ("region", &region), ("by", report.by.code())])
        ),
        can_targets: actor.can(Permission::ManageTargets),
    };
    render(&page)
}

/// The coverage report as .xlsx, exactly as the page shows its table; audited.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    let report = state.store.reports().coverage(actor, &query).await?;
    let table = coverage_table(&report, false);
    let bytes = report_xlsx(std::slice::from_ref(&table))?;
    state
        .store
        .audit(
            actor,
            AuditEvent::ok(
                "report.export",
                "统计报表",
                format!("coverage/{}/{}", report.year, report.region),
            ),
        )
        .await?;
    let name = format!("参保覆盖统计_{}_{}年度.xlsx", report.region_name, report.year);
    Ok(xlsx(&name, &format!("coverage-{}-{}.xlsx", report.region, report.year), bytes))
}
