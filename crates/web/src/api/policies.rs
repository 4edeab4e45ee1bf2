//! Quotes, enrolment, policies, underwriting and the coverage look-up by ID number; and
//! the public certificate check.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use guanai_domain::identity::IdNumber;
use guanai_domain::{Fen, Permission};
use guanai_store::policies::{
    Channel, Coverage, EnrolRequest, PolicyDetail, PolicyStatus, PolicySummary, PublicCertificate, Quote,
};
use serde::{Deserialize, Serialize};

use crate::api::{require, JsonBody};
use crate::error::{ApiError, WebError};
use crate::requests::policies::PolicyListQuery;
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/quotes", post(quote))
        .route("/policies", get(list).post(create))
        .route("/policies/{id}", get(show))
        .route("/policies/{id}/submit", post(submit))
        .route("/policies/{id}/underwrite", post(underwrite))
        .route("/policies/{id}/cancel", post(cancel))
        .route("/coverage", post(coverage))
        .route("/verify/{code}", get(verify))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(WebError::BadRequest(message.into()))
}

fn id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError(WebError::NotFound(format!("找不到保单“{raw}”"))))
}

/// An enrolment: which family, package, shares and members.
#[derive(Deserialize)]
pub struct EnrolBody {
    family_id: i64,
    package_id: i64,
    #[serde(default = "one")]
    shares: u32,
    member_ids: Vec<i64>,
    /// The family part (in fen) of the quote the user accepted; refused if it changed.
    expected_family_part_fen: Option<i64>,
    /// Also submit to the insurer (needs the family's consents).
    #[serde(default)]
    submit: bool,
}

fn one() -> u32 {
    1
}

impl EnrolBody {
    fn request(&self, channel: Channel) -> EnrolRequest {
        EnrolRequest {
            family_id: self.family_id,
            package_id: self.package_id,
            shares: self.shares,
            member_ids: self.member_ids.clone(),
            channel,
            expected_family_part: self.expected_family_part_fen.map(Fen::new),
        }
    }
}

/// Prices an enrolment and checks every eligibility rule; changes nothing.
pub async fn quote(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<EnrolBody>,
) -> Result<Json<Quote>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/quotes").await?;
    Ok(Json(state.store.policies().quote(actor, &body.request(Channel::for_role(actor.role()))).await?))
}

#[derive(Serialize)]
pub struct Created {
    id: i64,
    status: PolicyStatus,
}

/// Enrols a family: writes the policy with its premium split, and submits it when asked.
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<EnrolBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/policies").await?;
    let id = state.store.policies().enrol(actor, &body.request(Channel::for_role(actor.role()))).await?;
    let mut status = PolicyStatus::Draft;
    if body.submit {
        state.store.policies().submit_policy(actor, id).await?;
        status = PolicyStatus::Submitted;
    }
    Ok((StatusCode::CREATED, Json(Created { id, status })))
}

#[derive(Serialize)]
pub struct PolicyList {
    total: u64,
    policies: Vec<PolicySummary>,
}

/// Policies within the caller's scope, newest first, 100 a page.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<PolicyListQuery>,
) -> Result<Json<PolicyList>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/policies").await?;
    let query = q.to_query(100).map_err(bad)?;
    let found = state.store.policies().search_policies(actor, &query).await?;
    Ok(Json(PolicyList { total: found.total, policies: found.policies }))
}

/// One policy with its insured members (masked IDs), products, funding and payments.
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<PolicyDetail>, ApiError> {
    Ok(Json(state.store.policies().policy(&user.session.actor, id(&raw)?).await?))
}

#[derive(Serialize)]
pub struct Done {
    ok: bool,
}

/// Submits a draft to the insurer (needs the family's consents).
pub async fn submit(
    State(state): State<AppState>,
    user: ApiUser,
    Path(raw): Path<String>,
) -> Result<Json<Done>, ApiError> {
    state.store.policies().submit_policy(&user.session.actor, id(&raw)?).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize)]
pub struct UnderwriteBody {
    policy_no: String,
}

/// The insurer confirms a submitted policy with its policy number.
pub async fn underwrite(
    State(state): State<AppState>,
    user: ApiUser,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<UnderwriteBody>,
) -> Result<Json<Done>, ApiError> {
    state.store.policies().underwrite_policy(&user.session.actor, id(&raw)?, &body.policy_no).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize)]
pub struct CancelBody {
    reason: String,
}

/// Cancels a policy with a reason; its funding goes back to the sources.
pub async fn cancel(
    State(state): State<AppState>,
    user: ApiUser,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<Done>, ApiError> {
    state.store.policies().cancel_policy(&user.session.actor, id(&raw)?, &body.reason).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize)]
pub struct CoverageQuery {
    id_number: String,
}

/// Who is covered: the person with this ID number (within the caller's scope) and the
/// policies that cover them; a JSON body `{"id_number": "…"}` (a POST: the number is in no
/// URL). Audit-logged and counted as an exact look-up (`429` past the limit). 404 when
/// nobody in scope has the number.
pub async fn coverage(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(q): JsonBody<CoverageQuery>,
) -> Result<Json<Coverage>, ApiError> {
    let id = IdNumber::parse(&q.id_number).map_err(|e| bad(e.to_string()))?.id;
    state
        .store
        .policies()
        .coverage_by_id_number(&user.session.actor, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError(WebError::NotFound("没有找到该身份证号的参保人员".to_owned())))
}

/// The public check of a certificate code: masked data only, no login.
pub async fn verify(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<PublicCertificate>, ApiError> {
    state
        .store
        .policies()
        .verify_certificate(&code)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError(WebError::NotFound("未找到该验证码对应的保险凭证".to_owned())))
}
