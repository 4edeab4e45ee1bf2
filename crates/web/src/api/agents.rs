//! Village agents: the registry, the handover to a successor, each agent's funnel.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::agents::{Agent, AgentWork, HandoverOutcome, IdleAgent};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::agents::{AgentListQuery, AgentRequest, HandoverRequest};
use crate::requests::ids::{Agent as AgentId, PathId};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(handover))
        .routes(routes!(idle))
}

/// The agents of the caller's scope (serving ones; `with_left=1` for all), each with its
/// funnel for the season `year`: families enrolled for, underwritten, renewed.
#[utoipa::path(
    get,
    path = "/agents",
    tag = "association",
    params(AgentListQuery),
    responses((status = 200, description = "服务专员及其工作漏斗", body = Vec<AgentWork>)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<AgentListQuery>,
) -> Result<Json<Vec<AgentWork>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/agents").await?;
    let filter = query.filter().map_err(WebError::BadRequest)?;
    let year = query.year(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.agents().work(actor, &filter, year).await?))
}

/// Registers an agent serving villages of one township; the account, when given, is
/// scoped to them.
#[utoipa::path(
    post,
    path = "/agents",
    tag = "association",
    request_body = AgentRequest,
    responses(
        (status = 201, description = "已登记的服务专员", body = Agent),
        (status = 409, description = "账号已由另一名在任的服务专员使用", body = ApiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<AgentRequest>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageAgents, "/api/v1/agents").await?;
    let new = body.parse().map_err(WebError::BadRequest)?;
    let id = state.store.agents().create_agent(actor, new).await?;
    Ok((StatusCode::CREATED, Json(state.store.agents().agent(actor, id).await?)))
}

/// One agent with its funnel for this season.
#[utoipa::path(
    get,
    path = "/agents/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "服务专员编号")),
    responses((status = 200, description = "服务专员", body = AgentWork)),
)]
pub async fn one(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<AgentId, ApiError>,
) -> Result<Json<AgentWork>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/agents").await?;
    let year = crate::requests::forms::this_year(state.today());
    Ok(Json(state.store.agents().agent_work(actor, id.id, year).await?))
}

/// The agent leaves and a serving successor of the same township takes over its villages,
/// login scope and open tasks, in one step. `409` when it was handed over already.
#[utoipa::path(
    post,
    path = "/agents/{id}/handover",
    tag = "association",
    params(("id" = i64, Path, description = "离任的服务专员编号")),
    request_body = HandoverRequest,
    responses(
        (status = 200, description = "交接结果", body = HandoverOutcome),
        (status = 409, description = "已经交接过", body = ApiErrorBody),
    ),
)]
pub async fn handover(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<AgentId, ApiError>,
    JsonBody(body): JsonBody<HandoverRequest>,
) -> Result<Json<HandoverOutcome>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageAgents, "/api/v1/agents").await?;
    let handover = body.parse(id.id, state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.agents().handover(actor, &handover).await?))
}

/// Serving agents of the caller's scope with no activity in the season `year`.
#[utoipa::path(
    get,
    path = "/agents/idle",
    tag = "association",
    params(AgentListQuery),
    responses((status = 200, description = "本年度没有工作记录的服务专员", body = Vec<IdleAgent>)),
)]
pub async fn idle(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<AgentListQuery>,
) -> Result<Json<Vec<IdleAgent>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/agents/idle").await?;
    let filter = query.filter().map_err(WebError::BadRequest)?;
    let year = query.year(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.agents().idle_agents(actor, filter.region, year).await?))
}
