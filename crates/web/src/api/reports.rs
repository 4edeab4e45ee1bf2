//! Reports and targets in JSON: the coverage report, the funding report, the season's
//! curve, the claims report and the figures year on year of a region and year (raw counts, so every ratio can be
//! computed both ways), and the targets, read and set. The same requests and store calls as the report pages.

use axum::extract::{Query, State};
use axum::Json;
use guanai_domain::Permission;
use guanai_store::reports::{ClaimsReport, CoverageReport, FundingReport, SeasonCurve, YearsReport};
use guanai_store::targets::Target;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, WebError};
use crate::requests::reports::{ReportFilter, TargetsRequest};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(coverage))
        .routes(routes!(funding))
        .routes(routes!(season))
        .routes(routes!(claims))
        .routes(routes!(years))
        .routes(routes!(targets, set_targets))
}

fn bad(message: String) -> ApiError {
    ApiError(WebError::BadRequest(message))
}

/// The coverage report: insured households and persons against the eligible base and the
/// targets, year on year, with renewals and premium, by region (one level below the
/// region asked for), family category or poverty status, and the total.
#[utoipa::path(
    get,
    path = "/reports/coverage",
    tag = "reports",
    params(ReportFilter),
    responses((status = 200, description = "参保覆盖统计", body = CoverageReport)),
)]
pub async fn coverage(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Json<CoverageReport>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewReports, "/api/v1/reports/coverage").await?;
    let query = filter.to_query(state.today()).map_err(bad)?;
    Ok(Json(state.store.reports().coverage(actor, &query).await?))
}

/// The premium of the year's policies (not cancelled) by funding source and kind of
/// source, this year and last, within the region.
#[utoipa::path(
    get,
    path = "/reports/funding",
    tag = "reports",
    params(ReportFilter),
    responses((status = 200, description = "筹资统计", body = FundingReport)),
)]
pub async fn funding(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Json<FundingReport>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewReports, "/api/v1/reports/funding").await?;
    let query = filter.to_query(state.today()).map_err(bad)?;
    Ok(Json(state.store.reports().funding(actor, query.region.as_ref(), query.year).await?))
}

/// Households insured day by day through the season (a family counts from its first
/// underwriting of the year), this year and last.
#[utoipa::path(
    get,
    path = "/reports/season",
    tag = "reports",
    params(ReportFilter),
    responses((status = 200, description = "参保进度（逐日）", body = SeasonCurve)),
)]
pub async fn season(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Json<SeasonCurve>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewReports, "/api/v1/reports/season").await?;
    let query = filter.to_query(state.today()).map_err(bad)?;
    Ok(Json(state.store.reports().season(actor, query.region.as_ref(), query.year).await?))
}

/// The claims' measures per county (reported, paid, refused, amount paid, premium and
/// insured persons, days from report to payment, fast lane, clocks breached) for every
/// year from 2021 to the year asked for, the last being that year's.
#[utoipa::path(
    get,
    path = "/reports/claims",
    tag = "reports",
    params(ReportFilter),
    responses((status = 200, description = "理赔统计（逐年）", body = ClaimsReport)),
)]
pub async fn claims(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Json<ClaimsReport>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewReports, "/api/v1/reports/claims").await?;
    let query = filter.to_query(state.today()).map_err(bad)?;
    Ok(Json(state.store.reports().claims(actor, query.region.as_ref(), query.year).await?))
}

/// The region's figures for every year from 2021 to the year asked for: insured
/// households and persons, premium, renewed and due households, and the premium by kind
/// of source (in the order of the funding kinds).
#[utoipa::path(
    get,
    path = "/reports/years",
    tag = "reports",
    params(ReportFilter),
    responses((status = 200, description = "逐年对比", body = YearsReport)),
)]
pub async fn years(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Json<YearsReport>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewReports, "/api/v1/reports/years").await?;
    let query = filter.to_query(state.today()).map_err(bad)?;
    Ok(Json(state.store.reports().years(actor, query.region.as_ref(), query.year).await?))
}

/// The targets and coverage bases set for the region (the caller's scope when absent)
/// and every region below it, for the year.
#[utoipa::path(
    get,
    path = "/targets",
    tag = "reports",
    params(ReportFilter),
    responses((status = 200, description = "任务指标", body = Vec<Target>)),
)]
pub async fn targets(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<ReportFilter>,
) -> Result<Json<Vec<Target>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewReports, "/api/v1/targets").await?;
    let query = filter.to_query(state.today()).map_err(bad)?;
    let region = query.region.unwrap_or_else(|| actor.scope().clone());
    Ok(Json(state.store.targets().targets_under(actor, &region, query.year).await?))
}

#[derive(Serialize, ToSchema)]
pub struct TargetsSet {
    /// How many regions' targets changed (0 when the same values are sent again).
    changed: usize,
}

/// Sets targets (the regions one level below the caller's) and coverage bases (villages)
/// for a year: all rows or none. Figures left out stay as they are.
#[utoipa::path(
    post,
    path = "/targets",
    tag = "reports",
    request_body = TargetsRequest,
    responses((status = 200, description = "已保存", body = TargetsSet)),
)]
pub async fn set_targets(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<TargetsRequest>,
) -> Result<Json<TargetsSet>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageTargets, "/api/v1/targets").await?;
    let changes = body.to_changes().map_err(bad)?;
    let changed = state.store.targets().set_targets(actor, &changes).await?;
    Ok(Json(TargetsSet { changed }))
}
