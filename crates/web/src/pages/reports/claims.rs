//! The claims report (理赔统计): the claims' measures per county for a year, ranked by
//! loss ratio, and year on year since 2021 — the region's totals per year and each
//! county's loss ratio per year — with the loss ratios as a chart; its .xlsx exactly as
//! shown. The figures are the store's `claims/measures.rs` counts, the same the claims'
//! own measures page shows.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::reports::{growth_text, ranks, Ratio};
use guanai_domain::Permission;
use guanai_import::reports::{report_xlsx, Cell, ReportTable};
use guanai_store::audit::AuditEvent;
use guanai_store::claims::{ClaimMeasures, CountyMeasures};
use guanai_store::reports::ClaimsReport;

use super::tables::{shown, ShownTable};
use crate::charts::{self, Bar};
use crate::download::xlsx;
use crate::error::WebError;
use crate::pages::funding::year_choices;
use crate::pages::{query, render, Crumb, Shell};
use crate::requests::reports::ReportFilter;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "reports_claims.html")]
struct ClaimsPage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    region: String,
    tables: Vec<ShownTable>,
    chart: String,
    export: String,
}

fn rate(ratio: Ratio) -> Cell {
    Cell::Rate(ratio.percent())
}

fn amount(m: &CountyMeasures) -> u64 {
    m.amount_paid.get().max(0) as u64
}

/// One county's (or the total's) measures as cells, after its first column.
fn measure_cells(m: &CountyMeasures) -> Vec<Cell> {
    vec![
        Cell::Count(m.insured_persons),
        Cell::Money(m.premium),
        Cell::Count(m.reported),
        rate(m.frequency()),
        Cell::Count(m.paid),
        rate(m.paid_share()),
        Cell::Money(m.amount_paid),
        rate(m.loss_ratio()),
        Cell::Rate(m.average_days()),
        rate(m.fast_lane_share()),
        Cell::Count(m.breached),
    ]
}

const MEASURE_HEADERS: [&str; 11] = [
    "参保人数",
    "保费（元）",
    "报案件数",
    "出险率",
    "赔付件数",
    "赔付占比",
    "赔付金额（元）",
    "赔付率",
    "报案至赔付平均天数",
    "快速通道占比",
    "超时限件数",
];

/// The year's measures per county, ranked by loss ratio (highest first), with the total.
/// `lists`: each county's name leads to its claims.
pub(crate) fn county_table(m: &ClaimMeasures, area: &str, lists: bool) -> ReportTable {
    let order = ranks(&m.rows.iter().map(|r| r.loss_ratio().permille()).collect::<Vec<_>>());
    let mut ranked: Vec<(Option<usize>, &CountyMeasures)> = order.into_iter().zip(&m.rows).collect();
    ranked.sort_by_key(|(rank, r)| (rank.unwrap_or(usize::MAX), r.county.clone()));
    let mut headers = vec!["县（区）".to_owned()];
    headers.extend(MEASURE_HEADERS.iter().map(|h| (*h).to_owned()));
    headers.push("赔付率排名".to_owned());
    let rows = ranked
        .iter()
        .map(|(rank, r)| {
            let link = lists.then(|| format!("/claims?{}", query(&[("region", &r.county)])));
            let mut cells = vec![(Cell::Text(r.county_name.clone()), link)];
            cells.extend(measure_cells(r).into_iter().map(|c| (c, None)));
            cells.push((Cell::Text(rank.map_or_else(|| "—".to_owned(), |n| n.to_string())), None));
            cells
        })
        .collect();
    let mut total = vec![Cell::Text(format!("合计（{area}）"))];
    total.extend(measure_cells(&m.total));
    total.push(Cell::Text("—".to_owned()));
    ReportTable {
        title: format!("{}年度理赔情况（{area}，按赔付率排名）", m.year),
        headers,
        rows,
        total: Some(total),
    }
}

/// The region's totals year on year since 2021, with the claims' growth.
pub(crate) fn years_table(report: &ClaimsReport) -> ReportTable {
    let mut headers = vec!["保单年度".to_owned()];
    headers.extend(MEASURE_HEADERS.iter().map(|h| (*h).to_owned()));
    headers.push("报案同比".to_owned());
    headers.push("赔付金额同比".to_owned());
    let mut last: Option<&CountyMeasures> = None;
    let mut rows = Vec::new();
    for m in &report.years {
        let t = &m.total;
        let mut cells = vec![(Cell::Text(format!("{}年度", m.year)), None)];
        cells.extend(measure_cells(t).into_iter().map(|c| (c, None)));
        let growth = |f: fn(&CountyMeasures) -> u64| {
            Cell::Rate(last.map_or_else(|| "—".to_owned(), |l| growth_text(f(t), f(l))))
        };
        cells.push((growth(|m| m.reported), None));
        cells.push((growth(amount), None));
        rows.push(cells);
        last = Some(t);
    }
    ReportTable {
        title: format!(
            "{}理赔情况逐年对比（{}–{}年度）",
            report.region_name,
            first_year(report),
            report.year
        ),
        headers,
        rows,
        total: None,
    }
}

/// Each county's loss ratio per year since 2021 (a county without premium shows `—`).
pub(crate) fn loss_ratio_table(report: &ClaimsReport) -> ReportTable {
    let mut counties: Vec<(String, String)> = Vec::new();
    for m in &report.years {
        for r in &m.rows {
            if !counties.iter().any(|(c, _)| *c == r.county) {
                counties.push((r.county.clone(), r.county_name.clone()));
            }
        }
    }
    counties.sort();
    let mut headers = vec!["县（区）".to_owned()];
    headers.extend(report.years.iter().map(|m| format!("{}年度", m.year)));
    let of = |m: &ClaimMeasures, county: &str| {
        m.rows
            .iter()
            .find(|r| r.county == county)
            .map_or_else(|| "—".to_owned(), |r| r.loss_ratio().percent())
    };
    let rows = counties
        .iter()
        .map(|(code, name)| {
            let mut cells = vec![(Cell::Text(name.clone()), None)];
            cells.extend(report.years.iter().map(|m| (Cell::Rate(of(m, code)), None)));
            cells
        })
        .collect();
    let mut total = vec![Cell::Text(format!("合计（{}）", report.region_name))];
    total.extend(report.years.iter().map(|m| rate(m.total.loss_ratio())));
    ReportTable {
        title: format!("各县（区）赔付率逐年对比（{}–{}年度）", first_year(report), report.year),
        headers,
        rows,
        total: Some(total),
    }
}

fn first_year(report: &ClaimsReport) -> i32 {
    report.years.first().map_or(report.year, |m| m.year)
}

/// The report's three tables, as the page shows them and the export writes them.
fn tables(report: &ClaimsReport, lists: bool) -> Vec<ReportTable> {
    let mut out = Vec::new();
    if let Some(m) = report.this_year() {
        out.push(county_table(m, &report.region_name, lists));
    }
    out.push(years_table(report));
    out.push(loss_ratio_table(report));
    out
}

/// The counties' loss ratios as bars, each with its paid amount.
pub(crate) fn loss_ratio_bars(m: &ClaimMeasures) -> String {
    let bars: Vec<Bar> = m
        .rows
        .iter()
        .map(|r| Bar {
            label: r.county_name.clone(),
            value: r.loss_ratio().permille().unwrap_or(0),
            shown: r.loss_ratio().percent(),
        })
        .collect();
    charts::bars(&format!("{}年度各县（区）赔付率", m.year), &bars, None)
}

async fn load(state: &AppState, user: &PageUser, filter: &ReportFilter) -> Result<ClaimsReport, WebError> {
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    Ok(state.store.reports().claims(&user.session.actor, query.region.as_ref(), query.year).await?)
}

/// The claims report page.
pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let report = load(&state, &user, &filter).await?;
    let year = report.year.to_string();
    let region = report.region.to_string();
    let trail =
        super::region_trail(&state, actor, &report.region, Crumb::link("统计报表", "/reports"), |code| {
            format!("/reports/claims?{}", query(&[("year", &year), ("region", code)]))
        })
        .await?;
    let shell = Shell::new(&state, &user.session, "理赔统计", "/reports", trail).await?;
    let keys = ["claims-counties", "claims-years", "claims-loss-ratios"];
    let tables = tables(&report, actor.can(Permission::ViewClaims));
    let skip = usize::from(report.this_year().is_none());
    render(&ClaimsPage {
        shell,
        year: report.year,
        years: year_choices(state.today()),
        export: format!("/reports/claims.xlsx?{}", query(&[("year", &year), ("region", &region)])),
        region,
        chart: report.this_year().map(loss_ratio_bars).unwrap_or_default(),
        tables: tables.iter().zip(&keys[skip..]).map(|(t, k)| shown(k, t)).collect(),
    })
}

/// The claims report as .xlsx (a sheet per table, as shown); audited.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let report = load(&state, &user, &filter).await?;
    let bytes = report_xlsx(&tables(&report, false))?;
    let target = format!("claims/{}/{}", report.year, report.region);
    state.store.audit(actor, AuditEvent::ok("report.export", "统计报表", target)).await?;
    Ok(xlsx(
        &format!("理赔统计_{}_{}年度.xlsx", report.region_name, report.year),
        &format!("claims-{}-{}.xlsx", report.region, report.year),
        bytes,
    ))
}
