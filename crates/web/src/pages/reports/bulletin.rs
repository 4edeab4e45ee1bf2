//! The bulletin (通报): generated sentences (`domain::reports::bulletin_summary`, with the
//! year's claims once any is reported), the regions below ranked in a table and the
//! counties' claims ranked by loss ratio, a printable A4 page, and a .docx of the same text
//! and tables for offices to edit in WPS or Word before issuing it (written with `docx-rs`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use docx_rs::{AlignmentType, Docx, Paragraph, Run, RunFonts, Table, TableCell, TableRow};
use guanai_domain::reports::{bulletin_summary, growth_text, ranks, BulletinFacts, Ratio};
use guanai_domain::{RegionCode, RegionLevel};
use guanai_import::reports::{Cell, ReportTable};
use guanai_store::audit::AuditEvent;
use guanai_store::claims::ClaimMeasures;
use guanai_store::reports::{BulletinFigures, CoverageReport};
use guanai_store::Actor;

use super::tables::{shown, ShownTable};
use crate::error::WebError;
use crate::pages::{render, Crumb, Shell};
use crate::requests::reports::ReportFilter;
use crate::session::PageUser;
use crate::state::AppState;

/// What the page and the document both say.
pub(crate) struct Bulletin {
    pub title: String,
    pub issuer: String,
    pub date: String,
    pub summary: String,
    /// The regions below ranked, then (once claims are reported) the counties' claims.
    pub tables: Vec<ReportTable>,
}

/// The bulletin of a coverage report (by region) and the year's claims on `today`.
pub(crate) fn bulletin(report: &CoverageReport, claims: &ClaimMeasures, today: NaiveDate) -> Bulletin {
    let area = match report.region.level() {
        RegionLevel::City => "全市".to_owned(),
        _ => report.region_name.clone(),
    };
    let area = if report.year == today.year() { area } else { format!("{area}{}年度", report.year) };
    let order = ranks(&report.rows.iter().map(|r| r.coverage().permille()).collect::<Vec<_>>());
    let mut ranked: Vec<(Option<usize>, &guanai_store::reports::CoverageRow)> =
        order.into_iter().zip(&report.rows).collect();
    ranked.sort_by_key(|(rank, row)| (rank.unwrap_or(usize::MAX), row.key.clone()));
    let mut reached: Vec<&guanai_store::reports::CoverageRow> =
        report.rows.iter().filter(|r| r.reached()).collect();
    reached.sort_by_key(|r| std::cmp::Reverse(r.completion().and_then(|c| c.permille()).unwrap_or(0)));
    let facts = BulletinFacts {
        as_of: today,
        area,
        households: report.total.insured_households,
        persons: report.total.insured_persons,
        last_households: report.total.last_year_households,
        renewal: report.total.renewal(),
        coverage: report.total.coverage(),
        premium: report.total.premium,
        claims: (claims.total.reported > 0).then(|| {
            let t = &claims.total;
            (t.reported, t.amount_paid, t.loss_ratio())
        }),
        reached: reached.iter().map(|r| r.label.clone()).collect(),
        with_target: report.rows.iter().filter(|r| r.target_households.is_some()).count(),
    };
    let rate = |r: Option<Ratio>| Cell::Rate(r.map_or_else(|| "—".to_owned(), |r| r.percent()));
    let table = ReportTable {
        title: format!("{}年度各{}参保情况（按覆盖率排名）", report.year, super::level_label(&report.region)),
        headers: [
            "排名",
            super::level_label(&report.region),
            "参保户数",
            "参保人数",
            "同比",
            "覆盖率",
            "目标完成率",
            "续保率",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: ranked
            .iter()
            .map(|(rank, r)| {
                [
                    Cell::Text(rank.map_or_else(|| "—".to_owned(), |n| n.to_string())),
                    Cell::Text(r.label.clone()),
                    Cell::Count(r.insured_households),
                    Cell::Count(r.insured_persons),
                    Cell::Rate(growth_text(r.insured_households, r.last_year_households)),
                    rate(Some(r.coverage())),
                    rate(r.completion()),
                    rate(Some(r.renewal())),
                ]
                .into_iter()
                .map(|c| (c, None))
                .collect()
            })
            .collect(),
        total: None,
    };
    let mut tables = vec![table];
    if claims.total.reported > 0 {
        tables.push(super::claims::county_table(claims, &report.region_name, false));
    }
    Bulletin {
        title: format!("关于{}年度计生家庭意外伤害保险工作进展情况的通报", report.year),
        issuer: format!("{}计划生育协会", report.region_name),
        date: format!("{}年{}月{}日", today.year(), today.month(), today.day()),
        summary: bulletin_summary(&facts),
        tables,
    }
}

#[derive(Template)]
#[template(path = "reports_bulletin.html")]
struct BulletinPage {
    shell: Shell,
    bulletin: Bulletin,
    tables: Vec<ShownTable>,
    chart: String,
    docx: String,
}

async fn load(state: &AppState, actor: &Actor, filter: &ReportFilter) -> Result<BulletinFigures, WebError> {
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    Ok(state.store.reports().bulletin(actor, query.region.as_ref(), query.year).await?)
}

/// The bulletin of `region` (the actor's scope when absent) and `year` as a Word document,
/// with its file name and the coverage it tells of: what the download sends (and the
/// benchmark times).
pub async fn bulletin_document(
    state: &AppState,
    actor: &Actor,
    region: Option<&RegionCode>,
    year: i32,
) -> Result<(String, CoverageReport, Vec<u8>), WebError> {
    let figures = state.store.reports().bulletin(actor, region, year).await?;
    let b = bulletin(&figures.coverage, &figures.claims, state.today());
    let bytes = bulletin_docx(&b)?;
    Ok((format!("{}_{}.docx", b.title, figures.coverage.region_name), figures.coverage, bytes))
}

/// The bulletin as a printable page.
pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let BulletinFigures { coverage: report, claims } = load(&state, &user.session.actor, &filter).await?;
    let b = bulletin(&report, &claims, state.today());
    let shell = Shell::new(
        &state,
        &user.session,
        "通报",
        "/reports",
        vec![Crumb::link("统计报表", "/reports"), Crumb::here("通报")],
    )
    .await?;
    let docx = format!(
        "/reports/bulletin.docx?{}",
        crate::pages::query(&[("year", &report.year.to_string()), ("region", report.region.as_str())])
    );
    render(&BulletinPage {
        shell,
        tables: b
            .tables
            .iter()
            .zip(["bulletin-table", "bulletin-claims"])
            .map(|(t, k)| shown(k, t))
            .collect(),
        chart: super::coverage::coverage_bars(&report),
        bulletin: b,
        docx,
    })
}

fn text_run(text: &str, size: usize, bold: bool) -> Run {
    let run = Run::new()
        .add_text(text)
        .size(size)
        .fonts(RunFonts::new().east_asia("仿宋").ascii("Times New Roman"));
    if bold {
        run.bold()
    } else {
        run
    }
}

/// The bulletin as a Word document (A4): title, issuer and date, the summary, the table.
pub(crate) fn bulletin_docx(b: &Bulletin) -> Result<Vec<u8>, WebError> {
    let cell = |text: &str, bold: bool| {
        TableCell::new().add_paragraph(Paragraph::new().add_run(text_run(text, 24, bold)))
    };
    let mut doc = Docx::new()
        .page_size(11906, 16838)
        .add_paragraph(Paragraph::new().add_run(text_run(&b.title, 36, true)).align(AlignmentType::Center))
        .add_paragraph(Paragraph::new().add_run(text_run(&b.issuer, 28, false)).align(AlignmentType::Center))
        .add_paragraph(Paragraph::new().add_run(text_run(&b.summary, 32, false)));
    for table in &b.tables {
        let mut rows = vec![TableRow::new(table.headers.iter().map(|h| cell(h, true)).collect())];
        for row in &table.rows {
            rows.push(TableRow::new(row.iter().map(|(c, _)| cell(&c.shown(), false)).collect()));
        }
        if let Some(total) = &table.total {
            rows.push(TableRow::new(total.iter().map(|c| cell(&c.shown(), true)).collect()));
        }
        doc = doc
            .add_paragraph(Paragraph::new().add_run(text_run(&table.title, 28, true)))
            .add_table(Table::new(rows));
    }
    let doc = doc
        .add_paragraph(Paragraph::new().add_run(text_run(&b.issuer, 32, false)).align(AlignmentType::Right))
        .add_paragraph(Paragraph::new().add_run(text_run(&b.date, 32, false)).align(AlignmentType::Right));
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| WebError::Internal(format!("docx: {e}")))?;
    Ok(out.into_inner())
}

/// The bulletin as .docx; audited as an export.
pub async fn docx(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Response, WebError> {
    let query = filter.to_query(state.today()).map_err(WebError::BadRequest)?;
    let (name, report, bytes) =
        bulletin_document(&state, &user.session.actor, query.region.as_ref(), query.year).await?;
    let target = format!("bulletin/{}/{}", report.year, report.region);
    state.store.audit(&user.session.actor, AuditEvent::ok("bulletin.export", "通报", target)).await?;
    Ok(crate::download::docx(&name, &format!("bulletin-{}-{}.docx", report.region, report.year), bytes))
}
