//! Funding sources and ledgers, the year's packages, and gifted policies in bulk (送保).
//! Money is in fen (integers) throughout.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::funding::{Ledger, Source};
use guanai_store::policies::{GiftOutcome, GiftPreview, GiftRequest};
use guanai_store::products::Package;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::gifting::selection;
use crate::requests::ids::{FundingSource, PathId};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sources))
        .routes(routes!(ledger))
        .routes(routes!(packages))
        .routes(routes!(gift_preview))
        .routes(routes!(gift))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The scheme year; every year when absent.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    year: Option<String>,
}

impl YearQuery {
    fn year(&self) -> Result<Option<i32>, ApiError> {
        match self.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| ApiError(WebError::BadRequest(format!("年度“{raw}”须为四位数字，如 2026")))),
        }
    }
}

/// The funding sources visible to the caller (its region, below and above), of one year
/// when `year` is given, with their ledger totals (pledged, allocated, received, remaining).
#[utoipa::path(
    get,
    path = "/funding/sources",
    tag = "funding",
    params(YearQuery),
    responses((status = 200, description = "资金来源", body = Vec<Source>)),
)]
pub async fn sources(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<Vec<Source>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFunding, "/api/v1/funding/sources").await?;
    Ok(Json(state.store.funding().sources(actor, query.year()?).await?))
}

/// One source's ledger: the source with its totals, its subsidy rules, its receipts and
/// the policies within the caller's scope it pays for (newest 500). 404 outside the scope.
#[utoipa::path(
    get,
    path = "/funding/sources/{id}",
    tag = "funding",
    params(("id" = i64, Path, description = "资金来源编号")),
    responses((status = 200, description = "资金来源的台账", body = Ledger)),
)]
pub async fn ledger(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<FundingSource, ApiError>,
) -> Result<Json<Ledger>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFunding, "/api/v1/funding/sources").await?;
    Ok(Json(state.store.funding().ledger(actor, id.id).await?))
}

/// The "1+N" packages, each with its base product and add-ons and their terms; of one
/// year when `year` is given.
#[utoipa::path(
    get,
    path = "/packages",
    tag = "products",
    params(YearQuery),
    responses((status = 200, description = "套餐", body = Vec<Package>)),
)]
pub async fn packages(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<Vec<Package>>, ApiError> {
    require(&state, &user.session.actor, Permission::ViewFamilies, "/api/v1/packages").await?;
    Ok(Json(state.store.products().packages(query.year()?).await?))
}

/// A gift: the source paying, the package, and the families — `family_ids` when given,
/// else every family of `region_code` (the caller's scope when absent), optionally of one
/// `category` and `poverty` status.
#[derive(Deserialize, ToSchema)]
pub struct GiftBody {
    source_id: i64,
    package_id: i64,
    region_code: Option<String>,
    category: Option<String>,
    poverty: Option<String>,
    family_ids: Option<Vec<i64>>,
}

impl GiftBody {
    fn request(self, user: &ApiUser) -> Result<GiftRequest, ApiError> {
        let selection = selection(
            user.session.actor.scope(),
            self.region_code.as_deref().unwrap_or(""),
            self.category.as_deref().unwrap_or(""),
            self.poverty.as_deref().unwrap_or(""),
            self.family_ids.unwrap_or_default(),
        )
        .map_err(WebError::BadRequest)?;
        Ok(GiftRequest { source_id: self.source_id, package_id: self.package_id, selection })
    }
}

/// What a gift would do, changing nothing: families selected, eligible and skipped (with
/// reasons), the total premium, what the source has left and how many it can cover.
#[utoipa::path(
    post,
    path = "/gifting/preview",
    tag = "funding",
    request_body = GiftBody,
    responses((status = 200, description = "送保预览", body = GiftPreview)),
)]
pub async fn gift_preview(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<GiftBody>,
) -> Result<Json<GiftPreview>, ApiError> {
    let actor = user.session.actor.clone();
    require(&state, &actor, Permission::Gift, "/api/v1/gifting/preview").await?;
    let request = body.request(&user)?;
    Ok(Json(state.store.policies().gift_preview(&actor, &request).await?))
}

/// Creates a gifted policy, paid in full by the source, for every eligible family of the
/// selection — or none at all: `409` when the source cannot pay for them all, `400` when
/// no family qualifies. `201` with the number created and the total.
#[utoipa::path(
    post,
    path = "/gifting",
    tag = "funding",
    request_body = GiftBody,
    responses(
        (status = 201, description = "已送保的保单数与总保费", body = GiftOutcome),
        (status = 409, description = "资金来源不足以支付全部保费，未送保", body = ApiErrorBody),
    ),
)]
pub async fn gift(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<GiftBody>,
) -> Result<(StatusCode, Json<GiftOutcome>), ApiError> {
    let actor = user.session.actor.clone();
    require(&state, &actor, Permission::Gift, "/api/v1/gifting").await?;
    let request = body.request(&user)?;
    Ok((StatusCode::CREATED, Json(state.store.policies().gift(&actor, &request).await?)))
}
