//! The claims exchange with the insurer's core system (理赔交换): the export of new reports
//! with their papers list, and the insurer's file of decisions and payments, previewed
//! then confirmed. Confirming plans the file again against the database as it is then, so
//! a preview is never trusted, and a second import of the same file changes nothing.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use guanai_domain::Permission;
use guanai_import::claims_exchange::{self, ClaimsOutcome, ClaimsPlan, RowVerdict, MAX_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::publicity::BinaryFile;
use crate::api::require;
use crate::download::xlsx;
use crate::error::{ApiError, WebError};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export)).merge(
        OpenApiRouter::new()
            .routes(routes!(preview))
            .routes(routes!(confirm))
            .layer(DefaultBodyLimit::max(MAX_BYTES)),
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Export again the claims sent that day (YYYY-MM-DD) instead of the new ones.
    again_on: Option<NaiveDate>,
}

/// One row of the insurer's file and what it would do.
#[derive(Serialize, ToSchema)]
pub struct PreviewRow {
    /// The row's number in the file.
    line: usize,
    claim_id: Option<i64>,
    /// `apply`, `unchanged` (applied already) or `refused`.
    verdict: String,
    /// What the row does, or the row and the fix (Chinese).
    message: String,
}

/// The preview of an insurer's file.
#[derive(Serialize, ToSchema)]
pub struct Preview {
    rows: Vec<PreviewRow>,
    apply: usize,
    unchanged: usize,
    refused: usize,
}

/// What a confirmation did.
#[derive(Serialize, ToSchema)]
pub struct Applied {
    decided: usize,
    paid: usize,
    unchanged: usize,
    refused: usize,
}

fn preview_of(plan: &ClaimsPlan) -> Preview {
    let count = |v: RowVerdict| plan.rows.iter().filter(|r| r.verdict == v).count();
    Preview {
        rows: plan
            .rows
            .iter()
            .map(|r| PreviewRow {
                line: r.line,
                claim_id: r.claim_id,
                verdict: match r.verdict {
                    RowVerdict::Apply => "apply",
                    RowVerdict::Unchanged => "unchanged",
                    RowVerdict::Refused => "refused",
                }
                .to_owned(),
                message: r.message.clone(),
            })
            .collect(),
        apply: count(RowVerdict::Apply),
        unchanged: count(RowVerdict::Unchanged),
        refused: count(RowVerdict::Refused),
    }
}

fn import_error(err: guanai_import::ImportError) -> ApiError {
    ApiError(WebError::from(err))
}

/// The claims reported and not yet sent to the insurer within the caller's scope (or,
/// with `again_on`, those sent that day), with their papers list, as an `.xlsx`; new ones
/// are marked sent. Audited.
#[utoipa::path(
    get,
    path = "/claims/exchange/export",
    tag = "claims",
    params(ExportQuery),
    responses((status = 200, description = "理赔报案清单（.xlsx）", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = BinaryFile)),
)]
pub async fn export(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::DecideClaims, "/api/v1/claims/exchange").await?;
    let rows = state.store.claims().export_to_insurer(actor, query.again_on).await?;
    let bytes = claims_exchange::claims_xlsx(&rows).map_err(import_error)?;
    let day = query.again_on.unwrap_or_else(|| state.today());
    Ok(xlsx(&format!("理赔报案-{day}.xlsx"), &format!("claims-{day}.xlsx"), bytes))
}

/// The caller's file planned, once the caller may decide claims.
async fn planned(state: &AppState, user: &ApiUser, body: &[u8]) -> Result<ClaimsPlan, ApiError> {
    let actor = &user.session.actor;
    require(state, actor, Permission::DecideClaims, "/api/v1/claims/exchange").await?;
    claims_exchange::plan_claims(&state.store, actor, body.to_vec()).await.map_err(import_error)
}

/// Previews the insurer's file (the `.xlsx` as the request body): what each row would
/// do; every bad row refused with its row number and the fix. Writes nothing.
#[utoipa::path(
    post,
    path = "/claims/exchange/import/preview",
    tag = "claims",
    request_body(content = BinaryFile, content_type = "application/octet-stream"),
    responses((status = 200, description = "逐行预检结果", body = Preview)),
)]
pub async fn preview(
    State(state): State<AppState>,
    user: ApiUser,
    body: Bytes,
) -> Result<Json<Preview>, ApiError> {
    Ok(Json(preview_of(&planned(&state, &user, &body).await?)))
}

/// Applies the insurer's file (the same body as the preview): the file is planned again
/// and its valid rows applied through the same rules as the claim's page; rows applied
/// already change nothing.
#[utoipa::path(
    post,
    path = "/claims/exchange/import/confirm",
    tag = "claims",
    request_body(content = BinaryFile, content_type = "application/octet-stream"),
    responses((status = 200, description = "已导入", body = Applied)),
)]
pub async fn confirm(
    State(state): State<AppState>,
    user: ApiUser,
    body: Bytes,
) -> Result<Json<Applied>, ApiError> {
    let plan = planned(&state, &user, &body).await?;
    let ClaimsOutcome { decided, paid, unchanged, refused } =
        plan.commit(&state.store, &user.session.actor).await.map_err(import_error)?;
    Ok(Json(Applied { decided, paid, unchanged, refused }))
}
