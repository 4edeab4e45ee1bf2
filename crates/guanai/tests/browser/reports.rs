//! Reports as people use them: the city administrator sets a county's target, sees it on
//! the coverage report, goes one level down and finds the export and the bulletin; the
//! agent on a phone finds its to-do panels first, then its villages' figures, and nothing
//! sticks out of the screen.

use anyhow::{ensure, Context, Result};

use crate::harness::Browser;
use crate::pages::{fill, table, wait_path_where, wait_text};

/// The city administrator: targets, the coverage report, one county down, export and bulletin.
pub async fn city_targets_and_coverage(b: Browser) -> Result<()> {
    b.login_as("demo.city").await?;
    ensure!(b.nav().await?.iter().any(|n| n == "统计报表"), "the city admin's menu has 统计报表");
    b.goto("/targets?year=2026").await?;
    fill(&b, "input[name=h_360802]", "1234").await?;
    fill(&b, "input[name=r_360802]", "86.5").await?;
    b.find("form[method=post][action='/targets'] button[type=submit]").await?.click().await?;
    wait_text(&b, "[data-testid=saved]", "已保存").await?;
    let value = b.find("input[name=h_360802]").await?.prop("value").await?;
    ensure!(value.as_deref() == Some("1234"), "the target is shown as saved: {value:?}");

    b.goto("/reports?year=2026").await?;
    let rows = table(&b, "[data-testid=coverage]").await?;
    let jizhou = rows.iter().find(|r| r.first().is_some_and(|c| c == "吉州区")).context("吉州区's row")?;
    ensure!(jizhou[7] == "1234", "the target is on the report beside the figures: {jizhou:?}");
    ensure!(b.find("svg.chart").await?.is_displayed().await?, "the chart is drawn");
    b.find("[data-testid=coverage] a[href^='/reports?'][href*='region=360802']").await?.click().await?;
    wait_path_where(&b, "the county's report", |p| p == "/reports").await?;
    let heading = b.text("main .breadcrumb").await?;
    ensure!(heading.contains("吉州区"), "one level down, in 吉州区: {heading:?}");
    let export = b.find("[data-testid=export]").await?.attr("href").await?.unwrap_or_default();
    ensure!(export.starts_with("/reports/coverage.xlsx?") && export.contains("region=360802"), "{export}");
    b.goto("/reports/bulletin?year=2026").await?;
    let summary = b.text("[data-testid=bulletin-summary]").await?;
    ensure!(summary.starts_with("截至") && summary.contains("全市计生家庭意外伤害保险参保"), "{summary}");
    let docx = b.find("[data-testid=bulletin-docx]").await?.attr("href").await?.unwrap_or_default();
    ensure!(docx.starts_with("/reports/bulletin.docx"), "{docx}");
    if let Some(part) = b.horizontal_overflow().await? {
        anyhow::bail!("the bulletin sticks out of the window: {part}");
    }
    Ok(())
}

/// The agent: the to-do panels first, then the villages' figures, all within the screen.
pub async fn agent_dashboard(b: Browser) -> Result<()> {
    b.login_as("demo.agent").await?;
    let order: Vec<String> = b
        .js("return Array.from(document.querySelectorAll('section.panel, [data-testid=dashboard]'))
               .map(s => s.matches('[data-testid=dashboard]') ? 'dashboard' : 'panel');")
        .await?;
    ensure!(
        order.last().map(String::as_str) == Some("dashboard"),
        "panels first, then the figures: {order:?}"
    );
    let households = b.text("[data-testid=dash-households]").await?;
    ensure!(households.chars().next().is_some_and(|c| c.is_ascii_digit()), "a real figure: {households:?}");
    ensure!(b.find("[data-testid=chart-regions] svg").await?.is_displayed().await?, "the villages' chart");
    if let Some(part) = b.horizontal_overflow().await? {
        anyhow::bail!("the home page sticks out of the window: {part}");
    }
    ensure!(b.nav().await?.iter().any(|n| n == "统计报表"), "the agent's menu has 统计报表");
    b.expect_not_found("/targets", &[]).await?;
    // Another county's report: the 404 page (its query kept, so checked here rather than
    // with `expect_not_found`, which compares the path alone), naming nothing of it.
    b.goto("/reports?region=360803").await?;
    let heading = b.text("h1").await?;
    ensure!(heading == "找不到页面", "another county's report is not found: {heading:?}");
    let body = b.text("main").await?;
    ensure!(!body.contains("青原区"), "the 404 page names nothing of the county: {body}");
    Ok(())
}
