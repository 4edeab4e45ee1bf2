//! Renewal season (续保): the due list, renewing one family (quote and confirm), batch
//! renewal of fully funded families (preview and confirm), the lapse follow-ups and the
//! renewal rate.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::outbox::OutboxState;
use guanai_store::policies::Channel;
use guanai_store::renewals::{
    BatchPreview, BatchRenewed, DuePolicy, FollowUp, RateTable, RenewalQuote, Renewed, SeasonSettings,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::forms;
use crate::requests::ids::{FollowUp as FollowUpId, PathId, Policy};
use crate::requests::renewals::{BatchBody, DueFilter, FollowUpBody, RenewBody};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(due_list))
        .routes(routes!(quote))
        .routes(routes!(renew))
        .routes(routes!(batch_preview))
        .routes(routes!(batch_renew))
        .routes(routes!(follow_ups))
        .routes(routes!(close_follow_up))
        .routes(routes!(rates))
        .routes(routes!(outbox))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(WebError::BadRequest(message.into()))
}

#[derive(Serialize, ToSchema)]
pub struct DueList {
    total: u64,
    /// The season's settings the list was made with.
    settings: SeasonSettings,
    policies: Vec<DuePolicy>,
}

/// The policies due for renewal within the caller's scope (from 60 days before their end
/// to the end of the grace period), by end date, 100 a page: each family as it is now,
/// what renewal does with each member, and what the family would pay next year.
#[utoipa::path(
    get,
    path = "/renewals/due",
    tag = "renewals",
    params(DueFilter),
    responses((status = 200, description = "一页待续保保单", body = DueList)),
)]
pub async fn due_list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<DueFilter>,
) -> Result<Json<DueList>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/renewals/due").await?;
    let query = filter.to_query(100).map_err(bad)?;
    let found = state.store.renewals().due_list(actor, &query).await?;
    Ok(Json(DueList { total: found.total, settings: query.settings, policies: found.policies }))
}

/// Prices the renewal of one due policy under next year's package and subsidy rules and
/// checks every member (the rule that refuses one is named); changes nothing.
#[utoipa::path(
    post,
    path = "/renewals/due/{id}/quote",
    tag = "renewals",
    params(("id" = i64, Path, description = "上一年度保单编号")),
    request_body = RenewBody,
    responses(
        (status = 200, description = "续保报价", body = RenewalQuote),
        (status = 409, description = "该保单已经续保", body = ApiErrorBody),
    ),
)]
pub async fn quote(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<Policy, ApiError>,
    JsonBody(body): JsonBody<RenewBody>,
) -> Result<Json<RenewalQuote>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/renewals/due/quote").await?;
    let request = body.to_request(id.id, Channel::for_role(actor.role())).map_err(bad)?;
    Ok(Json(state.store.renewals().renewal_quote(actor, &request).await?))
}

/// Renews one family: next year's policy linked to last year's, submitted to the insurer
/// when the family's consents are in; the family's part recorded when paid now. Renewing a
/// policy renewed already answers 409 and writes nothing.
#[utoipa::path(
    post,
    path = "/renewals/due/{id}/renew",
    tag = "renewals",
    params(("id" = i64, Path, description = "上一年度保单编号")),
    request_body = RenewBody,
    responses(
        (status = 201, description = "已续保", body = Renewed),
        (status = 409, description = "已经续保，或资金情况已有变化", body = ApiErrorBody),
    ),
)]
pub async fn renew(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<Policy, ApiError>,
    JsonBody(body): JsonBody<RenewBody>,
) -> Result<(StatusCode, Json<Renewed>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/renewals/due/renew").await?;
    let request = body.to_request(id.id, Channel::for_role(actor.role())).map_err(bad)?;
    Ok((StatusCode::CREATED, Json(state.store.renewals().renew(actor, &request).await?)))
}

/// What renewing every fully funded due family of a region at once would do: households,
/// persons, premium, what each funding source pays; changes nothing.
#[utoipa::path(
    post,
    path = "/renewals/batch/preview",
    tag = "renewals",
    request_body = BatchBody,
    responses((status = 200, description = "批量续保预览", body = BatchPreview)),
)]
pub async fn batch_preview(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<BatchBody>,
) -> Result<Json<BatchPreview>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::BatchRenew, "/api/v1/renewals/batch").await?;
    let query = body.to_query().map_err(bad)?;
    Ok(Json(state.store.renewals().batch_preview(actor, &query).await?))
}

/// Renews every fully funded due family of a region at once, all or nothing within the
/// budgets; `expected_households` is the preview's count (409 if it changed).
#[utoipa::path(
    post,
    path = "/renewals/batch",
    tag = "renewals",
    request_body = BatchBody,
    responses(
        (status = 201, description = "已批量续保", body = BatchRenewed),
        (status = 409, description = "预算不足，或与预览时不同", body = ApiErrorBody),
    ),
)]
pub async fn batch_renew(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<BatchBody>,
) -> Result<(StatusCode, Json<BatchRenewed>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::BatchRenew, "/api/v1/renewals/batch").await?;
    if body.expected_households.is_none() {
        return Err(bad("请先预览，并在确认时带上预览的户数（expected_households）"));
    }
    let query = body.to_query().map_err(bad)?;
    Ok((StatusCode::CREATED, Json(state.store.renewals().batch_renew(actor, &query).await?)))
}

/// The lapse follow-ups within the caller's scope (a village agent: their villages' and
/// their own), open ones first.
#[utoipa::path(
    get,
    path = "/renewals/follow-ups",
    tag = "renewals",
    responses((status = 200, description = "脱保跟进任务", body = Vec<FollowUp>)),
)]
pub async fn follow_ups(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<FollowUp>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/renewals/follow-ups").await?;
    Ok(Json(state.store.renewals().follow_ups(actor, false).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    ok: bool,
}

/// Records how a follow-up ended (409 when it was closed already).
#[utoipa::path(
    post,
    path = "/renewals/follow-ups/{id}",
    tag = "renewals",
    params(("id" = i64, Path, description = "跟进任务编号")),
    request_body = FollowUpBody,
    responses(
        (status = 200, description = "已办结", body = Done),
        (status = 409, description = "已经办结", body = ApiErrorBody),
    ),
)]
pub async fn close_follow_up(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<FollowUpId, ApiError>,
    JsonBody(body): JsonBody<FollowUpBody>,
) -> Result<Json<Done>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/renewals/follow-ups").await?;
    let outcome = body.outcome().map_err(bad)?;
    let note = body.note().map_err(bad)?;
    state.store.renewals().close_follow_up(actor, id.id, outcome, note).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatesQuery {
    /// The scheme year whose policies were due, 2000 to 2100; empty: last year's.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    year: String,
}

/// The renewal rate (renewed ÷ due, households and persons) within the caller's scope, per
/// county, township and village, ranked, with the same totals year on year since 2021.
#[utoipa::path(
    get,
    path = "/renewals/rates",
    tag = "renewals",
    params(RatesQuery),
    responses((status = 200, description = "续保率", body = RateTable)),
)]
pub async fn rates(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<RatesQuery>,
) -> Result<Json<RateTable>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/renewals/rates").await?;
    let year = match q.year.trim() {
        "" => forms::this_year(state.today()) - 1,
        raw => forms::number("年度", raw, 2000, 2100).map_err(bad)?,
    };
    Ok(Json(state.store.renewals().renewal_rates(actor, year).await?))
}

/// The outbox within the caller's scope: messages by state (queued, sent, failed, opted
/// out) and the newest 100, phones masked.
#[utoipa::path(
    get,
    path = "/outbox",
    tag = "renewals",
    responses((status = 200, description = "消息发送情况", body = OutboxState)),
)]
pub async fn outbox(State(state): State<AppState>, user: ApiUser) -> Result<Json<OutboxState>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/outbox").await?;
    Ok(Json(state.store.outbox().state(actor).await?))
}
