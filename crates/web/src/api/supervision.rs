//! Joint supervision visits and their actions.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::supervision::{ActionView, VisitDetail, VisitSummary};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, WebError};
use crate::requests::ids::{PathId, SupervisionAction, Visit};
use crate::requests::publicity::YearFilter;
use crate::requests::supervision::VisitRequest;
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(complete))
        .routes(routes!(mine))
}

/// The visits the caller may see in the year `year`, with open and overdue actions.
#[utoipa::path(
    get,
    path = "/supervision/visits",
    tag = "association",
    params(YearFilter),
    responses((status = 200, description = "督导记录", body = Vec<VisitSummary>)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<YearFilter>,
) -> Result<Json<Vec<VisitSummary>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/supervision/visits").await?;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.supervision().visits(actor, Some(year)).await?))
}

/// Records a joint visit (a team of association and insurer users) with its actions.
#[utoipa::path(
    post,
    path = "/supervision/visits",
    tag = "association",
    request_body = VisitRequest,
    responses((status = 201, description = "已登记的督导记录", body = VisitDetail)),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<VisitRequest>,
) -> Result<(StatusCode, Json<VisitDetail>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageSupervision, "/api/v1/supervision/visits").await?;
    let new = body.parse().map_err(WebError::BadRequest)?;
    let id = state.store.supervision().create_visit(actor, new).await?;
    Ok((StatusCode::CREATED, Json(state.store.supervision().visit(actor, id).await?)))
}

/// One visit with its team and actions.
#[utoipa::path(
    get,
    path = "/supervision/visits/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "督导记录编号")),
    responses((status = 200, description = "督导记录", body = VisitDetail)),
)]
pub async fn one(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<Visit, ApiError>,
) -> Result<Json<VisitDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/supervision/visits").await?;
    Ok(Json(state.store.supervision().visit(actor, id.id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Completed {
    /// False when the action was done already (nothing changed).
    changed: bool,
}

/// Marks an action done (its owner, or a supervision manager of its region).
#[utoipa::path(
    post,
    path = "/supervision/actions/{id}/done",
    tag = "association",
    params(("id" = i64, Path, description = "整改事项编号")),
    responses((status = 200, description = "已完成", body = Completed)),
)]
pub async fn complete(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<SupervisionAction, ApiError>,
) -> Result<Json<Completed>, ApiError> {
    let changed = state.store.supervision().complete_action(&user.session.actor, id.id).await?;
    Ok(Json(Completed { changed }))
}

/// The caller's own open actions, the earliest due first.
#[utoipa::path(
    get,
    path = "/supervision/my-actions",
    tag = "association",
    responses((status = 200, description = "我的整改事项", body = Vec<ActionView>)),
)]
pub async fn mine(State(state): State<AppState>, user: ApiUser) -> Result<Json<Vec<ActionView>>, ApiError> {
    Ok(Json(state.store.supervision().my_actions(&user.session.actor).await?))
}
