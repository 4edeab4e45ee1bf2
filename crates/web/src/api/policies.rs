//! Quotes, enrolment, policies, underwriting and the coverage look-up by ID number; and
//! the public certificate check.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::identity::IdNumber;
use guanai_domain::{Fen, Permission};
use guanai_store::policies::{
    Channel, Coverage, EnrolRequest, PolicyDetail, PolicyStatus, PolicySummary, PublicCertificate, Quote,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::ids::{PathId, Policy};
use crate::requests::policies::PolicyListQuery;
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(submit))
        .routes(routes!(underwrite))
        .routes(routes!(cancel))
        .routes(routes!(coverage))
        .routes(routes!(verify))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(WebError::BadRequest(message.into()))
}

/// A policy's id in the path.
type PolicyId = PathId<Policy, ApiError>;

/// An enrolment: which family, package, shares and members.
#[derive(Deserialize, ToSchema)]
pub struct EnrolBody {
    family_id: i64,
    package_id: i64,
    /// How many shares (default 1).
    #[serde(default = "one")]
    shares: u32,
    member_ids: Vec<i64>,
    /// The family part (in fen) of the quote the user accepted; refused if it changed.
    expected_family_part_fen: Option<i64>,
    /// Also submit to the insurer (needs the family's consents).
    #[serde(default)]
    submit: bool,
    /// The code of the publicity activity the enrolment came from (`HD7KQ2MX`), if any.
    activity_code: Option<String>,
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
#[utoipa::path(
    post,
    path = "/quotes",
    tag = "policies",
    request_body = EnrolBody,
    responses((status = 200, description = "报价", body = Quote)),
)]
pub async fn quote(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<EnrolBody>,
) -> Result<Json<Quote>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/quotes").await?;
    Ok(Json(state.store.policies().quote(actor, &body.request(Channel::for_role(actor.role()))).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    id: i64,
    status: PolicyStatus,
}

/// Enrols a family: writes the policy with its premium split, and submits it when asked.
#[utoipa::path(
    post,
    path = "/policies",
    tag = "policies",
    request_body = EnrolBody,
    responses(
        (status = 201, description = "已参保的保单", body = Enrolled),
        (status = 409, description = "资金来源额度不足，或家庭自付部分与报价不同", body = ApiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<EnrolBody>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::Enrol, "/api/v1/policies").await?;
    let activity = crate::requests::publicity::enrolment_activity(body.activity_code.as_deref())
        .map_err(crate::error::WebError::BadRequest)?;
    let activity_id = match &activity {
        Some(code) => {
            Some(state.store.publicity().activity_for_enrolment(actor, code, body.family_id).await?)
        }
        None => None,
    };
    let request = body.request(Channel::for_role(actor.role()));
    let id = state.store.policies().enrol_attributed(actor, &request, activity_id).await?;
    let mut status = PolicyStatus::Draft;
    if body.submit {
        state.store.policies().submit_policy(actor, id).await?;
        status = PolicyStatus::Submitted;
    }
    Ok((StatusCode::CREATED, Json(Enrolled { id, status })))
}

#[derive(Serialize, ToSchema)]
pub struct PolicyList {
    total: u64,
    policies: Vec<PolicySummary>,
}

/// Policies within the caller's scope, newest first, 100 a page.
#[utoipa::path(
    get,
    path = "/policies",
    tag = "policies",
    params(PolicyListQuery),
    responses((status = 200, description = "一页保单", body = PolicyList)),
)]
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
#[utoipa::path(
    get,
    path = "/policies/{id}",
    tag = "policies",
    params(("id" = i64, Path, description = "保单编号")),
    responses((status = 200, description = "保单", body = PolicyDetail)),
)]
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    id: PolicyId,
) -> Result<Json<PolicyDetail>, ApiError> {
    Ok(Json(state.store.policies().policy(&user.session.actor, id.id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    ok: bool,
}

/// Submits a draft to the insurer (needs the family's consents).
#[utoipa::path(
    post,
    path = "/policies/{id}/submit",
    tag = "policies",
    params(("id" = i64, Path, description = "保单编号")),
    responses(
        (status = 200, description = "已提交", body = Done),
        (status = 400, description = "不是草稿，或家庭尚未同意向保险公司提供信息", body = ApiErrorBody),
    ),
)]
pub async fn submit(
    State(state): State<AppState>,
    user: ApiUser,
    id: PolicyId,
) -> Result<Json<Done>, ApiError> {
    state.store.policies().submit_policy(&user.session.actor, id.id).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize, ToSchema)]
pub struct UnderwriteBody {
    policy_no: String,
}

/// The insurer confirms a submitted policy with its policy number.
#[utoipa::path(
    post,
    path = "/policies/{id}/underwrite",
    tag = "policies",
    params(("id" = i64, Path, description = "保单编号")),
    request_body = UnderwriteBody,
    responses(
        (status = 200, description = "已承保", body = Done),
        (status = 409, description = "保单号已被使用", body = ApiErrorBody),
    ),
)]
pub async fn underwrite(
    State(state): State<AppState>,
    user: ApiUser,
    id: PolicyId,
    JsonBody(body): JsonBody<UnderwriteBody>,
) -> Result<Json<Done>, ApiError> {
    state.store.policies().underwrite_policy(&user.session.actor, id.id, &body.policy_no).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize, ToSchema)]
pub struct CancelBody {
    reason: String,
}

/// Cancels a policy with a reason; its funding goes back to the sources.
#[utoipa::path(
    post,
    path = "/policies/{id}/cancel",
    tag = "policies",
    params(("id" = i64, Path, description = "保单编号")),
    request_body = CancelBody,
    responses((status = 200, description = "已撤销", body = Done)),
)]
pub async fn cancel(
    State(state): State<AppState>,
    user: ApiUser,
    id: PolicyId,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<Done>, ApiError> {
    state.store.policies().cancel_policy(&user.session.actor, id.id, &body.reason).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Deserialize, ToSchema)]
pub struct CoverageQuery {
    id_number: String,
}

/// Who is covered: the person with this ID number (within the caller's scope) and the
/// policies that cover them; a JSON body `{"id_number": "…"}` (a POST: the number is in no
/// URL). Audit-logged and counted as an exact look-up (`429` past the limit). 404 when
/// nobody in scope has the number.
#[utoipa::path(
    post,
    path = "/coverage",
    tag = "policies",
    request_body = CoverageQuery,
    responses(
        (status = 200, description = "参保人员及其保单", body = Coverage),
        (status = 404, description = "管辖范围内没有这个身份证号的参保人员", body = ApiErrorBody),
        (status = 429, description = "十分钟内精确查找次数已达上限", body = ApiErrorBody),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/verify/{code}",
    tag = "policies",
    security(()),
    params(("code" = String, Path, description = "保险凭证上的验证码")),
    responses(
        (status = 200, description = "凭证核验结果（脱敏）", body = PublicCertificate),
        (status = 404, description = "没有这个验证码的保险凭证", body = ApiErrorBody),
    ),
)]
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
