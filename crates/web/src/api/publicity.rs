//! Publicity activities and the report of what they brought.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::publicity::{Activity, ActivityKindEntry, ActivityReport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::ids::{Activity as ActivityId, PathId};
use crate::requests::publicity::{ActivityKindRequest, ActivityQuery, ActivityRequest};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(report))
        .routes(routes!(kinds, add_kind))
        .routes(routes!(update_kind))
}

/// The city's kinds of activity, the ones in use first (`code` is what an activity's
/// `kind` holds).
#[utoipa::path(
    get,
    path = "/activity-kinds",
    tag = "association",
    responses((status = 200, description = "活动类型", body = Vec<ActivityKindEntry>)),
)]
pub async fn kinds(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<ActivityKindEntry>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activity-kinds").await?;
    Ok(Json(state.store.publicity().kinds(actor).await?))
}

/// Adds a kind of activity (the city's staff who manage publicity). `409` when another
/// kind has the name.
#[utoipa::path(
    post,
    path = "/activity-kinds",
    tag = "association",
    request_body = ActivityKindRequest,
    responses(
        (status = 201, description = "已添加的活动类型", body = ActivityKindEntry),
        (status = 409, description = "已有同名的活动类型", body = ApiErrorBody),
    ),
)]
pub async fn add_kind(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<ActivityKindRequest>,
) -> Result<(StatusCode, Json<ActivityKindEntry>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activity-kinds").await?;
    Ok((StatusCode::CREATED, Json(state.store.publicity().add_kind(actor, &body.label).await?)))
}

/// Renames a kind, or stops (`active: false`) or restarts it. `409` when another kind has
/// the name.
#[utoipa::path(
    post,
    path = "/activity-kinds/{code}",
    tag = "association",
    params(("code" = String, Path, description = "活动类型代码")),
    request_body = ActivityKindRequest,
    responses(
        (status = 200, description = "修改后的活动类型", body = ActivityKindEntry),
        (status = 409, description = "已有同名的活动类型", body = ApiErrorBody),
    ),
)]
pub async fn update_kind(
    State(state): State<AppState>,
    user: ApiUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<ActivityKindRequest>,
) -> Result<Json<ActivityKindEntry>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activity-kinds").await?;
    Ok(Json(state.store.publicity().update_kind(actor, &code, &body.label, body.active).await?))
}

/// The activities of the caller's scope in the year `year` (of one `kind`), each with the
/// enrolments that carry its code and their premium.
#[utoipa::path(
    get,
    path = "/activities",
    tag = "association",
    params(ActivityQuery),
    responses((status = 200, description = "宣传活动", body = Vec<Activity>)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<Vec<Activity>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities").await?;
    let (year, kind) = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.publicity().activities(actor, Some(year), kind).await?))
}

/// Records an activity held in the caller's scope; the answer carries its code.
#[utoipa::path(
    post,
    path = "/activities",
    tag = "association",
    request_body = ActivityRequest,
    responses((status = 201, description = "已登记的宣传活动", body = Activity)),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<ActivityRequest>,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activities").await?;
    let new = body.parse().map_err(WebError::BadRequest)?;
    let (id, _) = state.store.publicity().create_activity(actor, new).await?;
    Ok((StatusCode::CREATED, Json(state.store.publicity().activity(actor, id).await?)))
}

/// One activity with what it brought.
#[utoipa::path(
    get,
    path = "/activities/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "宣传活动编号")),
    responses((status = 200, description = "宣传活动", body = Activity)),
)]
pub async fn one(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<ActivityId, ApiError>,
) -> Result<Json<Activity>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities").await?;
    Ok(Json(state.store.publicity().activity(actor, id.id).await?))
}

/// The year's activities by kind and county: how many, people reached, enrolments and premium.
#[utoipa::path(
    get,
    path = "/activities/report",
    tag = "association",
    params(ActivityQuery),
    responses((status = 200, description = "宣传活动统计", body = ActivityReport)),
)]
pub async fn report(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<ActivityReport>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities/report").await?;
    let (year, _) = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.publicity().report(actor, year).await?))
}
