//! Funding sources and ledgers, the year's packages, and gifted policies in bulk (送保).
//! Money is in fen (integers) throughout.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use guanai_domain::Permission;
use guanai_store::funding::{Ledger, Source};
use guanai_store::policies::{GiftOutcome, GiftPreview, GiftRequest};
use guanai_store::products::Package;
use serde::Deserialize;

use super::{require, JsonBody};
use crate::error::{ApiError, WebError};
use crate::requests::gifting::selection;
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/funding/sources", get(sources))
        .route("/funding/sources/{id}", get(ledger))
        .route("/packages", get(packages))
        .route("/gifting/preview", post(gift_preview))
        .route("/gifting", post(gift))
}

#[derive(Deserialize)]
pub struct YearQuery {
    /// The scheme year; every year when absent.
    #[serde(default)]
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
pub async fn ledger(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Ledger>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFunding, "/api/v1/funding/sources").await?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound(format!("找不到资金来源“{id}”")))?;
    Ok(Json(state.store.funding().ledger(actor, id).await?))
}

/// The "1+N" packages, each with its base product and add-ons and their terms; of one
/// year when `year` is given.
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
#[derive(Deserialize)]
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
