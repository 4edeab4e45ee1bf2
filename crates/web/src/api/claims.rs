//! Claims (理赔): report, papers, the insurer's queue by the clock, missing papers, the
//! decision, the advance (art. 25), payment and satisfaction. Thin over
//! `requests::claims` and `store.claims()`, as the pages are.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::claims::{Paper, ReportChannel};
use guanai_domain::{Fen, Permission};
use guanai_store::claims::{ClaimDetail, ClaimPage, Reported};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::claims::{
    AdvanceBody, ClaimListQuery, DecisionBody, PapersBody, PaymentBody, ReportBody, SatisfactionBody,
};
use crate::requests::ids::{Claim, PathId};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, report))
        .routes(routes!(show))
        .routes(routes!(add_papers))
        .routes(routes!(request_papers))
        .routes(routes!(decide))
        .routes(routes!(advance))
        .routes(routes!(pay))
        .routes(routes!(satisfaction))
}

type ClaimId = PathId<Claim, ApiError>;

fn bad(message: String) -> ApiError {
    ApiError(WebError::BadRequest(message))
}

/// The claims within the caller's scope, 100 a page: open ones by their most urgent
/// clock first (the insurer's queue), then the others, newest first.
#[utoipa::path(
    get,
    path = "/claims",
    tag = "claims",
    params(ClaimListQuery),
    responses((status = 200, description = "一页理赔案件", body = ClaimPage)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ClaimListQuery>,
) -> Result<Json<ClaimPage>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewClaims, "/api/v1/claims").await?;
    let query = query.to_query(100).map_err(bad)?;
    Ok(Json(state.store.claims().claims(actor, &query).await?))
}

/// Reports a claim (报案) after its checks, each refusal naming its rule (`400`). A second
/// report of the same incident (person, day, kind) answers `200` with the first claim and
/// `duplicate: true`; nothing is written twice.
#[utoipa::path(
    post,
    path = "/claims",
    tag = "claims",
    request_body = ReportBody,
    responses(
        (status = 201, description = "已报案", body = Reported),
        (status = 200, description = "同一事故已报过案：原案件", body = Reported),
    ),
)]
pub async fn report(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<ReportBody>,
) -> Result<(StatusCode, Json<Reported>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ReportClaims, "/api/v1/claims").await?;
    let claim = body.to_new_claim(ReportChannel::Api).map_err(bad)?;
    let reported = state.store.claims().report_claim(actor, claim).await?;
    let status = if reported.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(reported)))
}

/// One claim with its papers, clocks and what the rules propose; the view is audited.
#[utoipa::path(
    get,
    path = "/claims/{id}",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    responses((status = 200, description = "理赔案件", body = ClaimDetail)),
)]
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
) -> Result<Json<ClaimDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewClaims, "/api/v1/claims").await?;
    Ok(Json(state.store.claims().claim(actor, id.id).await?))
}

/// Records papers received; when the checklist is complete the decision clock starts.
/// Adding a paper again changes nothing.
#[utoipa::path(
    post,
    path = "/claims/{id}/papers",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    request_body = PapersBody,
    responses((status = 200, description = "理赔案件", body = ClaimDetail)),
)]
pub async fn add_papers(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
    JsonBody(body): JsonBody<PapersBody>,
) -> Result<Json<ClaimDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ReportClaims, "/api/v1/claims/papers").await?;
    state.store.claims().add_papers(actor, id.id, &body.papers).await?;
    Ok(Json(state.store.claims().claim(actor, id.id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MissingPapers {
    /// Everything still missing, told at once (art. 22); empty: the papers are complete.
    papers: Vec<Paper>,
}

/// The insurer asks for every missing paper at once (保险法 art. 22).
#[utoipa::path(
    post,
    path = "/claims/{id}/missing-papers",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    responses(
        (status = 200, description = "缺少的材料", body = MissingPapers),
        (status = 409, description = "案件刚被其他人处理过", body = ApiErrorBody),
    ),
)]
pub async fn request_papers(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
) -> Result<Json<MissingPapers>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::DecideClaims, "/api/v1/claims/missing-papers").await?;
    let papers = state.store.claims().request_missing_papers(actor, id.id).await?;
    Ok(Json(MissingPapers { papers }))
}

/// The insurer's decision: pay what the rules propose (or another amount with its
/// reason), in full or in part, or refuse with reason codes and a written reason.
#[utoipa::path(
    post,
    path = "/claims/{id}/decision",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "已核定的案件", body = ClaimDetail),
        (status = 409, description = "已被他人核定，或共用限额刚被其他理赔占用", body = ApiErrorBody),
    ),
)]
pub async fn decide(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<ClaimDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::DecideClaims, "/api/v1/claims/decision").await?;
    let decision = body.to_decision().map_err(bad)?;
    state.store.claims().decide(actor, id.id, decision).await?;
    Ok(Json(state.store.claims().claim(actor, id.id).await?))
}

/// Pays the certain part in advance while the amount is still open (保险法 art. 25).
#[utoipa::path(
    post,
    path = "/claims/{id}/advance",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    request_body = AdvanceBody,
    responses((status = 200, description = "理赔案件", body = ClaimDetail)),
)]
pub async fn advance(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
    JsonBody(body): JsonBody<AdvanceBody>,
) -> Result<Json<ClaimDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::DecideClaims, "/api/v1/claims/advance").await?;
    if body.amount_fen <= 0 {
        return Err(bad("先予支付金额须大于0".to_owned()));
    }
    state.store.claims().pay_advance(actor, id.id, Fen::new(body.amount_fen), body.paid_on).await?;
    Ok(Json(state.store.claims().claim(actor, id.id).await?))
}

/// Records the payment of an approved claim (the account is stored sealed, shown masked).
#[utoipa::path(
    post,
    path = "/claims/{id}/payment",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    request_body = PaymentBody,
    responses((status = 200, description = "理赔案件", body = ClaimDetail)),
)]
pub async fn pay(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
    JsonBody(body): JsonBody<PaymentBody>,
) -> Result<Json<ClaimDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::DecideClaims, "/api/v1/claims/payment").await?;
    let payment = body.to_payment().map_err(bad)?;
    state.store.claims().pay(actor, id.id, payment).await?;
    Ok(Json(state.store.claims().claim(actor, id.id).await?))
}

/// The family's satisfaction after payment (1–5 and a comment), once; closes the claim.
#[utoipa::path(
    post,
    path = "/claims/{id}/satisfaction",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    request_body = SatisfactionBody,
    responses((status = 200, description = "理赔案件", body = ClaimDetail)),
)]
pub async fn satisfaction(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
    JsonBody(body): JsonBody<SatisfactionBody>,
) -> Result<Json<ClaimDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ReportClaims, "/api/v1/claims/satisfaction").await?;
    state.store.claims().record_satisfaction(actor, id.id, body.score, &body.comment).await?;
    Ok(Json(state.store.claims().claim(actor, id.id).await?))
}
