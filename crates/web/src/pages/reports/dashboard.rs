//! The home page's dashboard, per role and scope, from the same reports as the report
//! pages: the association's staff, supervisors and auditors see coverage, targets,
//! renewals and premium with the regions below side by side, the season's curve and the
//! premium by kind of source; village agents see their villages' figures (after their
//! to-do lists); the insurer's users see what is insured, the premium and the loss ratio
//! per county (the claim queue by clock is the claims' home panel). Everyone's figures
//! include the year's claims: reported and paid, the amount paid, the loss ratio and the
//! claims with a clock breached. Every figure links to the report or list behind it; every
//! chart has its numbers beside it.

use guanai_domain::reports::{growth_text, Ratio};
use guanai_domain::{Permission, Role};
use guanai_store::claims::ClaimMeasures;
use guanai_store::policies::PolicyStatus;
use guanai_store::reports::{CoverageReport, FundingReport, Overview, SeasonCurve};
use guanai_store::Actor;

use super::coverage::{coverage_bars, season_chart};
use super::funding::funding_bars;
use crate::charts::{self, Bar};
use crate::error::WebError;
use crate::pages::query;
use crate::requests::forms::this_year;
use crate::state::AppState;

/// One headline figure: its value as shown, a note (year on year, the base), and the
/// report or list behind it.
pub(crate) struct Stat {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub note: String,
    pub href: Option<String>,
}

/// A chart with its numbers (label, value as shown) beside it.
pub(crate) struct Chart {
    pub key: &'static str,
    pub title: String,
    pub svg: String,
    pub numbers: Vec<(String, String)>,
}

pub(crate) struct Dashboard {
    pub title: String,
    pub stats: Vec<Stat>,
    pub charts: Vec<Chart>,
    /// Shown above the to-do panels (agents see their to-do lists first).
    pub first: bool,
    pub report_href: String,
}

/// The dashboard of the user's scope for this year, or none for a role without reports.
pub(crate) async fn dashboard(state: &AppState, actor: &Actor) -> Result<Option<Dashboard>, WebError> {
    if !actor.can(Permission::ViewReports) {
        return Ok(None);
    }
    let year = this_year(state.today());
    let Overview { coverage, season, funding, claims } = state.store.reports().overview(actor, year).await?;
    let lists = actor.can(Permission::ViewFamilies);
    let report_href = format!("/reports?{}", query(&[("year", &year.to_string())]));
    let claims_href = format!("/reports/claims?{}", query(&[("year", &year.to_string())]));
    let mut stats = headline(&coverage, &report_href, lists);
    stats.extend(claim_stats(&claims, &claims_href));
    let mut charts = Vec::new();
    if actor.role().is_insurer() {
        stats.retain(|s| {
            matches!(s.key, "dash-households" | "dash-persons" | "dash-premium")
                || s.key.starts_with("dash-claims")
        });
        charts.push(loss_ratio_panel(&claims));
        charts.push(premium_by_region(&coverage));
    } else {
        charts.push(Chart {
            key: "chart-regions",
            title: format!("各{}覆盖率", super::level_label(&coverage.region)),
            svg: coverage_bars(&coverage),
            numbers: coverage
                .rows
                .iter()
                .map(|r| {
                    (r.label.clone(), format!("{}户 / {}", r.insured_households, r.coverage().percent()))
                })
                .collect(),
        });
        charts.push(season_panel(&season, coverage.total.target_households));
        if actor.role() != Role::VillageAgent {
            charts.push(by_source(&funding));
            charts.push(loss_ratio_panel(&claims));
        }
    }
    Ok(Some(Dashboard {
        title: format!("{}年度{}参保概况", year, coverage.region_name),
        stats,
        charts,
        first: actor.role() != Role::VillageAgent,
        report_href,
    }))
}

fn headline(report: &CoverageReport, report_href: &str, lists: bool) -> Vec<Stat> {
    let t = &report.total;
    let insured = lists.then(|| {
        format!(
            "/policies?{}",
            query(&[
                ("year", &report.year.to_string()),
                ("status", PolicyStatus::Underwritten.code()),
                ("region", report.region.as_str()),
            ])
        )
    });
    let report = Some(report_href.to_owned());
    let mut stats = vec![
        Stat {
            key: "dash-households",
            label: "参保户数",
            value: t.insured_households.to_string(),
            note: format!("同比 {}", t.growth()),
            href: insured.clone(),
        },
        Stat {
            key: "dash-persons",
            label: "参保人数",
            value: t.insured_persons.to_string(),
            note: format!(
                "上年 {} 人（{}）",
                t.last_year_persons,
                growth_text(t.insured_persons, t.last_year_persons)
            ),
            href: insured,
        },
        Stat {
            key: "dash-coverage",
            label: "覆盖率",
            value: t.coverage().percent(),
            note: format!("应保 {} 户", t.eligible_households),
            href: report.clone(),
        },
    ];
    if let Some(target) = t.target_households {
        stats.push(Stat {
            key: "dash-completion",
            label: "目标完成率",
            value: Ratio::new(t.insured_households, target).percent(),
            note: format!("目标 {target} 户"),
            href: report.clone(),
        });
    }
    stats.push(Stat {
        key: "dash-renewal",
        label: "续保率",
        value: t.renewal().percent(),
        note: format!("上年 {} 户中 {} 户续保", t.due_households, t.renewed_households),
        href: report.clone(),
    });
    stats.push(Stat {
        key: "dash-premium",
        label: "保费（元）",
        value: t.premium.yuan_string(),
        note: "已承保保单".to_owned(),
        href: report,
    });
    stats
}

/// The year's claims: reported (and paid), the amount paid, the loss ratio, the breaches.
fn claim_stats(m: &ClaimMeasures, href: &str) -> Vec<Stat> {
    let t = &m.total;
    let href = Some(href.to_owned());
    vec![
        Stat {
            key: "dash-claims-reported",
            label: "理赔报案（件）",
            value: t.reported.to_string(),
            note: format!("已赔付 {} 件（{}）", t.paid, t.paid_share().percent()),
            href: href.clone(),
        },
        Stat {
            key: "dash-claims-paid",
            label: "赔付金额（元）",
            value: t.amount_paid.yuan_string(),
            note: format!("报案至赔付平均 {} 天", t.average_days()),
            href: href.clone(),
        },
        Stat {
            key: "dash-claims-loss-ratio",
            label: "赔付率",
            value: t.loss_ratio().percent(),
            note: "赔付金额 ÷ 保费".to_owned(),
            href: href.clone(),
        },
        Stat {
            key: "dash-claims-breached",
            label: "超时限案件",
            value: t.breached.to_string(),
            note: format!("快速通道 {}", t.fast_lane_share().percent()),
            href,
        },
    ]
}

/// The counties' loss ratios side by side.
fn loss_ratio_panel(m: &ClaimMeasures) -> Chart {
    Chart {
        key: "chart-loss-ratio",
        title: "各县（区）赔付率".to_owned(),
        svg: super::claims::loss_ratio_bars(m),
        numbers: m
            .rows
            .iter()
            .map(|r| {
                (
                    r.county_name.clone(),
                    format!("{} / {}元", r.loss_ratio().percent(), r.amount_paid.yuan_string()),
                )
            })
            .collect(),
    }
}

fn season_panel(curve: &SeasonCurve, target: Option<u64>) -> Chart {
    let last = curve.this_year.last();
    let mut numbers: Vec<(String, String)> = Vec::new();
    if let Some(p) = last {
        numbers.push((format!("截至{}", p.day), format!("{}户", p.cumulative)));
        numbers.push(("上年同期".to_owned(), format!("{}户", curve.last_year_by(p.day))));
    }
    numbers
        .push(("上年全年".to_owned(), format!("{}户", curve.last_year.last().map_or(0, |p| p.cumulative))));
    if let Some(t) = target {
        numbers.push(("目标".to_owned(), format!("{t}户")));
    }
    Chart { key: "chart-season", title: "参保进度".to_owned(), svg: season_chart(curve, target), numbers }
}

fn by_source(report: &FundingReport) -> Chart {
    Chart {
        key: "chart-funding",
        title: "保费来源".to_owned(),
        svg: funding_bars(report),
        numbers: report
            .kinds
            .iter()
            .map(|k| (k.kind.label().to_owned(), format!("{}元", k.amount.yuan_string())))
            .collect(),
    }
}

fn premium_by_region(report: &CoverageReport) -> Chart {
    let bars: Vec<Bar> = report
        .rows
        .iter()
        .map(|r| Bar {
            label: r.label.clone(),
            value: r.premium.get().max(0) as u64,
            shown: format!("{}元", r.premium.yuan_string()),
        })
        .collect();
    Chart {
        key: "chart-premium",
        title: format!("各{}保费", super::level_label(&report.region)),
        svg: charts::bars(&format!("{}年度保费", report.year), &bars, None),
        numbers: report
            .rows
            .iter()
            .map(|r| (r.label.clone(), format!("{}户 / {}元", r.insured_households, r.premium.yuan_string())))
            .collect(),
    }
}
