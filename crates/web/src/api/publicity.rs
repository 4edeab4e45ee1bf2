//! Publicity activities and the report of what they brought.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::publicity::{Activity, ActivityReport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, WebError};
use crate::requests::ids::{Activity as ActivityId, PathId};
use crate::requests::publicity::{ActivityQuery, ActivityRequest};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(one)).routes(routes!(report))
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
