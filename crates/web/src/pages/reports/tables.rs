//! The reports' tables, built once from the store's reports: the page shows them (with a
//! link behind each figure that has a list) and the .xlsx export writes the very same
//! cells.

use guanai_domain::funding::FundingKind;
use guanai_domain::reports::{growth_text, ranks, Dimension, Ratio};
use guanai_domain::Fen;
use guanai_domain::RegionLevel;
use guanai_import::reports::{Cell, ReportTable};
use guanai_store::policies::PolicyStatus;
use guanai_store::reports::{CoverageReport, CoverageRow, FundingReport, YearLine, YearsReport};

use crate::pages::query;

/// Where a coverage row's figures lead: the lists behind them, when the user may see them.
struct Links<'a> {
    report: &'a CoverageReport,
    lists: bool,
}

impl Links<'_> {
    /// The report one level down (regions above the village only).
    fn drill(&self, row: &CoverageRow) -> Option<String> {
        let deeper = self.report.by == Dimension::Region
            && row.key.len() < RegionLevel::Village.code_len()
            && row.key != self.report.region.as_str();
        deeper.then(|| {
            format!("/reports?{}", query(&[("year", &self.report.year.to_string()), ("region", &row.key)]))
        })
    }

    /// The families counted: of the region, or of the category or status within the report's region.
    fn families(&self, row: &CoverageRow) -> Option<String> {
        if !self.lists {
            return None;
        }
        let region = self.report.region.as_str();
        Some(match self.report.by {
            Dimension::Region => format!("/families?{}", query(&[("region", &row.key)])),
            Dimension::Category => {
                format!("/families?{}", query(&[("region", region), ("category", &row.key)]))
            }
            Dimension::Poverty => {
                format!("/families?{}", query(&[("region", region), ("poverty", &row.key)]))
            }
        })
    }

    /// The underwritten policies of the year counted (by region only: the policy list
    /// filters by region, not by category).
    fn policies(&self, row: &CoverageRow) -> Option<String> {
        if !self.lists {
            return None;
        }
        let region =
            if self.report.by == Dimension::Region { row.key.as_str() } else { self.report.region.as_str() };
        Some(format!(
            "/policies?{}",
            query(&[
                ("year", &self.report.year.to_string()),
                ("status", PolicyStatus::Underwritten.code()),
                ("region", region),
            ])
        ))
    }
}

fn rate(ratio: Option<Ratio>) -> Cell {
    Cell::Rate(ratio.map_or_else(|| "—".to_owned(), |r| r.percent()))
}

fn coverage_cells(row: &CoverageRow, rank: Option<usize>) -> Vec<Cell> {
    vec![
        Cell::Text(row.label.clone()),
        Cell::Count(row.eligible_households),
        Cell::Count(row.insured_households),
        rate(Some(row.coverage())),
        Cell::Count(row.insured_persons),
        Cell::Count(row.last_year_households),
        Cell::Rate(row.growth()),
        row.target_households.map_or(Cell::Text("—".to_owned()), Cell::Count),
        rate(row.completion()),
        rate(Some(row.renewal())),
        Cell::Money(row.premium),
        Cell::Text(rank.map_or_else(|| "—".to_owned(), |r| r.to_string())),
    ]
}

/// The coverage report as a table: one row per region (or category, or status), ranked
/// by coverage rate, and the total.
pub(crate) fn coverage_table(report: &CoverageReport, lists: bool) -> ReportTable {
    let first = match report.by {
        Dimension::Region => super::level_label(&report.region).to_owned(),
        Dimension::Category => "家庭类型".to_owned(),
        Dimension::Poverty => "脱贫状态".to_owned(),
    };
    let headers = [
        first.as_str(),
        "应保户数",
        "参保户数",
        "覆盖率",
        "参保人数",
        "上年参保户数",
        "同比",
        "目标户数",
        "目标完成率",
        "续保率",
        "保费（元）",
        "覆盖率排名",
    ];
    let links = Links { report, lists };
    let rank = ranks(&report.rows.iter().map(|r| r.coverage().permille()).collect::<Vec<_>>());
    let rows = report
        .rows
        .iter()
        .zip(rank)
        .map(|(row, rank)| {
            let cells = coverage_cells(row, rank);
            let link = |i: usize| match i {
                0 => links.drill(row),
                1 => links.families(row),
                2 => links.policies(row),
                _ => None,
            };
            cells.into_iter().enumerate().map(|(i, c)| (c, link(i))).collect()
        })
        .collect();
    let mut total = coverage_cells(&report.total, None);
    total[0] = Cell::Text(format!("合计（{}）", report.total.label));
    ReportTable {
        title: format!("{}年度参保覆盖情况（{}，{}）", report.year, report.region_name, report.by.label()),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
        total: Some(total),
    }
}

/// The funding report as two tables: by kind of source, year on year; and by source.
pub(crate) fn funding_tables(report: &FundingReport, area: &str, ledgers: bool) -> [ReportTable; 2] {
    let share = |amount: i64| rate(Some(Ratio::new(amount.max(0) as u64, report.total.get().max(0) as u64)));
    let kinds = ReportTable {
        title: format!("{}年度保费筹资（按来源类型，{area}）", report.year),
        headers: ["来源类型", "本年金额（元）", "上年金额（元）", "同比", "占保费"]
            .map(str::to_owned)
            .to_vec(),
        rows: report
            .kinds
            .iter()
            .map(|k| {
                vec![
                    (Cell::Text(k.kind.label().to_owned()), None),
                    (Cell::Money(k.amount), None),
                    (Cell::Money(k.last_year_amount), None),
                    (
                        Cell::Rate(growth_text(
                            k.amount.get().max(0) as u64,
                            k.last_year_amount.get().max(0) as u64,
                        )),
                        None,
                    ),
                    (share(k.amount.get()), None),
                ]
            })
            .collect(),
        total: Some(vec![
            Cell::Text("合计".to_owned()),
            Cell::Money(report.total),
            Cell::Money(report.last_year_total),
            Cell::Rate(growth_text(
                report.total.get().max(0) as u64,
                report.last_year_total.get().max(0) as u64,
            )),
            share(report.total.get()),
        ]),
    };
    let sources = ReportTable {
        title: format!("{}年度保费筹资（按资金来源，{area}）", report.year),
        headers: ["资金来源", "类型", "本区域金额（元）", "保单数", "认捐/预算（元）", "全部已分配（元）"]
            .map(str::to_owned)
            .to_vec(),
        rows: report
            .sources
            .iter()
            .map(|s| {
                vec![
                    (Cell::Text(s.name.clone()), ledgers.then(|| format!("/funding/{}", s.source_id))),
                    (Cell::Text(s.kind.label().to_owned()), None),
                    (Cell::Money(s.amount), None),
                    (Cell::Count(s.policies), None),
                    (Cell::Money(s.pledged), None),
                    (Cell::Money(s.allocated), None),
                ]
            })
            .collect(),
        total: None,
    };
    [kinds, sources]
}

/// One cell as the page shows it: its text, the list behind it, whether it is a number
/// (right-aligned).
pub(crate) struct ShownCell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
}

/// A table as the page shows it (`reports_table.html`).
pub(crate) struct ShownTable {
    pub key: &'static str,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<ShownCell>>,
    pub total: Vec<ShownCell>,
}

/// The table's cells as shown; `key` names it for tests (`data-testid`).
pub(crate) fn shown(key: &'static str, table: &ReportTable) -> ShownTable {
    let cell = |c: &Cell, href: Option<String>| ShownCell { text: c.shown(), href, num: c.is_number() };
    ShownTable {
        key,
        title: table.title.clone(),
        headers: table.headers.clone(),
        rows: table.rows.iter().map(|r| r.iter().map(|(c, h)| cell(c, h.clone())).collect()).collect(),
        total: table.total.iter().flatten().map(|c| cell(c, None)).collect(),
    }
}

/// The region's coverage year on year since 2021.
pub(crate) fn coverage_years_table(report: &YearsReport, area: &str) -> ReportTable {
    let mut last: Option<&YearLine> = None;
    let mut rows = Vec::new();
    for l in &report.lines {
        let growth = |f: fn(&YearLine) -> u64| {
            Cell::Rate(last.map_or_else(|| "—".to_owned(), |p| growth_text(f(l), f(p))))
        };
        rows.push(
            vec![
                Cell::Text(format!("{}年度", l.year)),
                Cell::Count(l.insured_households),
                growth(|l| l.insured_households),
                Cell::Count(l.insured_persons),
                growth(|l| l.insured_persons),
                Cell::Money(l.premium),
                rate(Some(l.renewal())),
            ]
            .into_iter()
            .map(|c| (c, None))
            .collect(),
        );
        last = Some(l);
    }
    ReportTable {
        title: format!("{area}参保情况逐年对比（{}–{}年度）", first_year(report), report.year),
        headers: ["保单年度", "参保户数", "户数同比", "参保人数", "人数同比", "保费（元）", "续保率"]
            .map(str::to_owned)
            .to_vec(),
        rows,
        total: None,
    }
}

/// The region's premium by kind of source year on year since 2021.
pub(crate) fn funding_years_table(report: &YearsReport, area: &str) -> ReportTable {
    let mut headers = vec!["保单年度".to_owned()];
    headers.extend(FundingKind::ALL.iter().map(|k| format!("{}（元）", k.label())));
    headers.push("合计（元）".to_owned());
    headers.push("同比".to_owned());
    let sum = |l: &YearLine| l.funding.iter().map(|f| f.get()).sum::<i64>();
    let mut last: Option<i64> = None;
    let mut rows = Vec::new();
    for l in &report.lines {
        let mut cells = vec![Cell::Text(format!("{}年度", l.year))];
        cells.extend(l.funding.iter().map(|f| Cell::Money(*f)));
        let total = sum(l);
        cells.push(Cell::Money(Fen::new(total)));
        cells.push(Cell::Rate(
            last.map_or_else(|| "—".to_owned(), |p| growth_text(total.max(0) as u64, p.max(0) as u64)),
        ));
        rows.push(cells.into_iter().map(|c| (c, None)).collect());
        last = Some(total);
    }
    ReportTable {
        title: format!("{area}保费筹资逐年对比（按来源类型，{}–{}年度）", first_year(report), report.year),
        headers,
        rows,
        total: None,
    }
}

fn first_year(report: &YearsReport) -> i32 {
    report.lines.first().map_or(report.year, |l| l.year)
}
