//! Reports (统计报表), targets (任务指标), the bulletin (通报) and the home page's dashboard.
//! Each report's table is built once (`tables.rs`) from the store's report and shown, and
//! exported to .xlsx from the very same table, so the export is what was on the screen.

mod bulletin;
mod claims;
mod coverage;
pub(crate) mod dashboard;
mod funding;
mod tables;
mod targets;
mod years;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use guanai_domain::{RegionCode, RegionLevel};
use guanai_store::Actor;

pub use bulletin::bulletin_document;

use crate::error::WebError;
use crate::pages::Crumb;
use crate::state::AppState;

/// The largest targets file taken (a city's villages fit many times over).
const MAX_TARGETS_FILE: usize = 5 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(coverage::show))
        .route("/reports/coverage.xlsx", get(coverage::export))
        .route("/reports/claims", get(claims::show))
        .route("/reports/claims.xlsx", get(claims::export))
        .route("/reports/years", get(years::show))
        .route("/reports/years.xlsx", get(years::export))
        .route("/reports/funding", get(funding::show))
        .route("/reports/funding.xlsx", get(funding::export))
        .route("/reports/bulletin", get(bulletin::show))
        .route("/reports/bulletin.docx", get(bulletin::docx))
        .route("/targets", get(targets::show).post(targets::save))
        .route("/targets.xlsx", get(targets::export))
        .route(
            "/targets/import",
            post(targets::import).layer(DefaultBodyLimit::max(MAX_TARGETS_FILE + 64 * 1024)),
        )
}

/// The breadcrumb down from the user's scope to `region`: each level a link to the same
/// report of that level (`link(code)`), the last without one.
pub(crate) async fn region_trail(
    state: &AppState,
    actor: &Actor,
    region: &RegionCode,
    first: Crumb,
    link: impl Fn(&str) -> String,
) -> Result<Vec<Crumb>, WebError> {
    let chain: Vec<RegionCode> = region.ancestry().into_iter().filter(|r| actor.sees(r)).collect();
    let codes: Vec<&str> = chain.iter().map(RegionCode::as_str).collect();
    let names = state.store.regions().region_names(&codes).await?;
    let mut trail = vec![first];
    for (i, code) in chain.iter().enumerate() {
        let name = names.get(code.as_str()).cloned().unwrap_or_else(|| code.to_string());
        trail.push(if i + 1 == chain.len() {
            Crumb::here(name)
        } else {
            Crumb::link(name, link(code.as_str()))
        });
    }
    Ok(trail)
}

/// What a report's first column calls its rows, by the level they are at.
pub(crate) fn level_label(region: &RegionCode) -> &'static str {
    region.level().child().unwrap_or(RegionLevel::Village).label()
}
