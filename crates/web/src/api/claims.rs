//! Claims (理赔): report, papers (ticked, or as photos and PDFs), the insurer's queue by
//! the clock, missing papers, the decision, the advance (art. 25), payment and
//! satisfaction, and the measures per county. Thin over `requests::claims` and
//! `store.claims()`, as the pages are.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use guanai_domain::claims::{Paper, ReportChannel};
use guanai_domain::{Fen, Permission};
use guanai_store::claims::{ClaimDetail, ClaimMeasures, ClaimPage, PaperFile, Reported};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::publicity::BinaryFile;
use crate::api::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::files::image_response;
use crate::requests::claims::{
    AdvanceBody, ClaimListQuery, DecisionBody, MeasuresQuery, PapersBody, PaymentBody, ReportBody,
    SatisfactionBody,
};
use crate::requests::ids::{Claim, PaperFile as PaperFileId, PathId};
use crate::requests::uploads::{read_paper_files, ImageQuery, IMAGE_BODY_LIMIT};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(papers, add_papers))
        .layer(DefaultBodyLimit::max(IMAGE_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(list, report))
        .routes(routes!(measures))
        .routes(routes!(show))
        .routes(routes!(paper_file))
        .merge(uploads)
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

/// The papers of an upload: the paper they show and one or more `file` fields of a
/// multipart form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PaperUpload {
    /// The paper's code (`id_card`, `invoices` …), one of the claim kind's checklist.
    paper: Paper,
    /// JPEG, PNG or WebP photos, or PDF files (told by their first bytes); at most 15 MB
    /// each, 60 MB and 9 files in all. A photo is kept re-encoded as a JPEG (no EXIF, so no
    /// GPS position) with a thumbnail; a PDF as it came, sealed, without a thumbnail.
    file: Vec<BinaryFile>,
}

/// What a papers' POST answers: the claim, and the files kept (none when papers were only
/// ticked).
#[derive(Serialize, ToSchema)]
pub struct PapersAdded {
    claim: ClaimDetail,
    files: Vec<PaperFile>,
}

/// Records papers received: as JSON, the codes of papers handed in; as a multipart form, a
/// paper's photos or PDFs (`paper` and `file` fields), kept in the file store, which marks
/// that paper received in the same transaction. All files are kept or, when one is refused
/// (not a photo or PDF, cut off, too large), none, with a Chinese message naming the file.
/// When the checklist is complete the decision clock starts; a paper added again changes
/// nothing.
#[utoipa::path(
    post,
    path = "/claims/{id}/papers",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    request_body(content(
        (PapersBody = "application/json"),
        (PaperUpload = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "已登记的材料（JSON）", body = PapersAdded),
        (status = 201, description = "已保存的材料文件（multipart）", body = PapersAdded),
    ),
)]
pub async fn add_papers(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
    request: Request,
) -> Result<Response, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ReportClaims, "/api/v1/claims/papers").await?;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let (status, files) = if multipart {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|_| bad("上传的表单无法读取，请重新选择文件后再试".to_owned()))?;
        let (paper, uploads) = read_paper_files(&state.store, &mut form).await.map_err(bad)?;
        (StatusCode::CREATED, state.store.claims().add_paper_files(actor, id.id, paper, uploads).await?)
    } else {
        let JsonBody(body) = JsonBody::<PapersBody>::from_request(request, &state).await?;
        state.store.claims().add_papers(actor, id.id, &body.papers).await?;
        (StatusCode::OK, Vec::new())
    };
    let claim = state.store.claims().claim(actor, id.id).await?;
    Ok((status, Json(PapersAdded { claim, files })).into_response())
}

/// The files of a claim's papers, oldest first, each with the paper it shows; the view is
/// audited.
#[utoipa::path(
    get,
    path = "/claims/{id}/papers",
    tag = "claims",
    params(("id" = i64, Path, description = "理赔案件编号")),
    responses((status = 200, description = "理赔材料文件", body = Vec<PaperFile>)),
)]
pub async fn papers(
    State(state): State<AppState>,
    user: ApiUser,
    id: ClaimId,
) -> Result<Json<Vec<PaperFile>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewClaims, "/api/v1/claims/papers").await?;
    Ok(Json(state.store.claims().paper_files(actor, id.id).await?))
}

/// One file of a claim's papers: a photo as a JPEG (`size=thumb`: its thumbnail, longest
/// side 320 px), or a PDF (`application/pdf`, inline; it has no thumbnail). Only for users
/// whose scope covers the claim; each view is written to the audit log.
#[utoipa::path(
    get,
    path = "/claims/papers/{id}",
    tag = "claims",
    params(("id" = i64, Path, description = "材料文件编号"), ImageQuery),
    responses((status = 200, description = "材料文件（JPEG 或 PDF）", content(
        (BinaryFile = "image/jpeg"),
        (BinaryFile = "application/pdf"),
    ))),
)]
pub async fn paper_file(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<PaperFileId, ApiError>,
    Query(query): Query<ImageQuery>,
) -> Result<Response, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewClaims, "/api/v1/claims/papers").await?;
    let variant = query.parse().map_err(bad)?;
    Ok(image_response(state.store.claims().paper_file(actor, id.id, variant).await?))
}

/// The claims' measures per county (and its insurer sub-branch) for a cover year, as raw
/// counts: reported, paid, refused, amount paid against premium (loss ratio), insured
/// persons (claim frequency), days from report to payment (sum and each claim's, for the
/// average and the median), fast lane, breaches, and satisfaction (count, sum, each score).
#[utoipa::path(
    get,
    path = "/claims/measures",
    tag = "claims",
    params(MeasuresQuery),
    responses((status = 200, description = "各县理赔指标与满意度", body = ClaimMeasures)),
)]
pub async fn measures(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<MeasuresQuery>,
) -> Result<Json<ClaimMeasures>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewClaims, "/api/v1/claims/measures").await?;
    let year = query.year(state.today()).map_err(bad)?;
    Ok(Json(state.store.claims().measures(actor, year).await?))
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
