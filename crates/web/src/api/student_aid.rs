//! Student aid (金秋助学): applications, the review steps, figures.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::student_aid::{AidApplication, AidFigure};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::ids::{AidApplication as AidId, PathId};
use crate::requests::publicity::YearFilter;
use crate::requests::student_aid::{ApplicationRequest, ReviewRequest};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(review))
        .routes(routes!(figures))
}

/// The applications of the caller's scope made in the year `year`.
#[utoipa::path(
    get,
    path = "/student-aid",
    tag = "association",
    params(YearFilter),
    responses((status = 200, description = "助学申请", body = Vec<AidApplication>)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<YearFilter>,
) -> Result<Json<Vec<AidApplication>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/student-aid").await?;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.student_aid().applications(actor, Some(year), None).await?))
}

/// Enters an application for a student of a registered family in the caller's scope.
#[utoipa::path(
    post,
    path = "/student-aid",
    tag = "association",
    request_body = ApplicationRequest,
    responses((status = 201, description = "已登记的申请", body = AidApplication)),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<ApplicationRequest>,
) -> Result<(StatusCode, Json<AidApplication>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ApplyStudentAid, "/api/v1/student-aid").await?;
    let new = body.parse().map_err(WebError::BadRequest)?;
    let id = state.store.student_aid().apply(actor, new).await?;
    Ok((StatusCode::CREATED, Json(state.store.student_aid().application(actor, id).await?)))
}

/// One application.
#[utoipa::path(
    get,
    path = "/student-aid/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "助学申请编号")),
    responses((status = 200, description = "助学申请", body = AidApplication)),
)]
pub async fn one(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<AidId, ApiError>,
) -> Result<Json<AidApplication>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/student-aid").await?;
    Ok(Json(state.store.student_aid().application(actor, id.id).await?))
}

/// One review step: the county's review (county staff), the city's approval with the
/// source that pays (taken from its budget; `409` when the budget is short), payment, or a
/// refusal. `409` too when the application is not at the step's status.
#[utoipa::path(
    post,
    path = "/student-aid/{id}/review",
    tag = "association",
    params(("id" = i64, Path, description = "助学申请编号")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "审核后的申请", body = AidApplication),
        (status = 409, description = "申请不在该环节，或资金来源预算不足", body = ApiErrorBody),
    ),
)]
pub async fn review(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<AidId, ApiError>,
    JsonBody(body): JsonBody<ReviewRequest>,
) -> Result<Json<AidApplication>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ReviewStudentAid, "/api/v1/student-aid").await?;
    let review = body.parse(state.today()).map_err(WebError::BadRequest)?;
    state.store.student_aid().review(actor, id.id, review).await?;
    Ok(Json(state.store.student_aid().application(actor, id.id).await?))
}

/// Figures per county for the year `year`: applications, approved, paid, refused, amounts.
#[utoipa::path(
    get,
    path = "/student-aid/figures",
    tag = "association",
    params(YearFilter),
    responses((status = 200, description = "金秋助学统计", body = Vec<AidFigure>)),
)]
pub async fn figures(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<YearFilter>,
) -> Result<Json<Vec<AidFigure>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/student-aid/figures").await?;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.student_aid().figures(actor, Some(year)).await?))
}
