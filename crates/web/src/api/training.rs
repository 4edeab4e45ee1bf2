//! Training sessions: recording them, the agents' sign-in by code, scores.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::training::{SignedIn, TrainingDetail, TrainingSummary};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, WebError};
use crate::requests::ids::{PathId, TrainingSession};
use crate::requests::publicity::YearFilter;
use crate::requests::training::{ScoresRequest, SignInRequest, TrainingRequest};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(sign_in))
        .routes(routes!(scores))
}

/// The sessions the caller may see (its scope's and those above it) of the year `year`.
#[utoipa::path(
    get,
    path = "/trainings",
    tag = "association",
    params(YearFilter),
    responses((status = 200, description = "培训", body = Vec<TrainingSummary>)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<YearFilter>,
) -> Result<Json<Vec<TrainingSummary>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/trainings").await?;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.training().trainings(actor, Some(year)).await?))
}

/// Records a session with a fresh sign-in code (in the answer, for those who manage it).
#[utoipa::path(
    post,
    path = "/trainings",
    tag = "association",
    request_body = TrainingRequest,
    responses((status = 201, description = "已登记的培训", body = TrainingDetail)),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<TrainingRequest>,
) -> Result<(StatusCode, Json<TrainingDetail>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageTraining, "/api/v1/trainings").await?;
    let new = body.parse().map_err(WebError::BadRequest)?;
    let id = state.store.training().create_training(actor, new).await?;
    Ok((StatusCode::CREATED, Json(state.store.training().training(actor, id).await?)))
}

/// One session with its attendees, scores and certificates.
#[utoipa::path(
    get,
    path = "/trainings/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "培训编号")),
    responses((status = 200, description = "培训", body = TrainingDetail)),
)]
pub async fn one(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<TrainingSession, ApiError>,
) -> Result<Json<TrainingDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/trainings").await?;
    Ok(Json(state.store.training().training(actor, id.id).await?))
}

/// A village agent signs in to today's session with the code shown there; twice changes
/// nothing (`already`).
#[utoipa::path(
    post,
    path = "/trainings/sign-in",
    tag = "association",
    request_body = SignInRequest,
    responses((status = 200, description = "签到结果", body = SignedIn)),
)]
pub async fn sign_in(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<SignInRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::SignInTraining, "/api/v1/trainings/sign-in").await?;
    let code = body.parse().map_err(WebError::BadRequest)?;
    Ok(Json(state.store.training().sign_in(actor, &code).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Recorded {
    recorded: u64,
}

/// Records attendees' scores; all or none (an attendee who did not sign in refuses all).
#[utoipa::path(
    post,
    path = "/trainings/{id}/scores",
    tag = "association",
    params(("id" = i64, Path, description = "培训编号")),
    request_body = ScoresRequest,
    responses((status = 200, description = "已登记的成绩数", body = Recorded)),
)]
pub async fn scores(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<TrainingSession, ApiError>,
    JsonBody(body): JsonBody<ScoresRequest>,
) -> Result<Json<Recorded>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageTraining, "/api/v1/trainings").await?;
    let scores = body.parse().map_err(WebError::BadRequest)?;
    let recorded = state.store.training().record_scores(actor, id.id, &scores).await?;
    Ok(Json(Recorded { recorded }))
}
