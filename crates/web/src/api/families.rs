//! Families and members. ID and phone numbers are always masked here; names and birth
//! dates are as the store's read types give them to the caller (`guanai_store::shown`).
//! The same rules and messages as the pages: both parse through `requests::families`. An
//! exact look-up by ID or phone number is a POST (`/families/lookup`), never a URL.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::families::{ConsentKind, FamilyDetail, FamilySummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::families::{new_member, register, FamilyFilter, LookupForm, NewFamilyRequest};
use crate::requests::ids::{Family, PathId};
use crate::session::ApiUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(lookup))
        .routes(routes!(show))
        .routes(routes!(add_member))
}

#[derive(Serialize, ToSchema)]
pub struct FamilyList {
    total: u64,
    /// From 0.
    page: u64,
    per_page: u64,
    families: Vec<FamilySummary>,
}

/// The families within the caller's scope, newest first, 50 a page. Query parameters, all
/// optional: `region` (9- or 12-digit code), `name` (start of any member's name; only for
/// roles that see names in full), `category` (code), `poverty` (`none`, `lifted`,
/// `monitored`, `dibao`), `page` (from 0). A malformed filter is a 400 with the reason in
/// Chinese; so is an `id_number` or `phone` (use `POST /families/lookup`).
#[utoipa::path(
    get,
    path = "/families",
    tag = "families",
    params(FamilyFilter),
    responses((status = 200, description = "一页家庭", body = FamilyList)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(filter): Query<FamilyFilter>,
) -> Result<Json<FamilyList>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/families").await?;
    let query = filter.to_query(actor, PER_PAGE).map_err(WebError::BadRequest)?;
    let found = state.store.families().search_families(actor, &query).await?;
    Ok(Json(FamilyList {
        total: found.total,
        page: query.page,
        per_page: PER_PAGE,
        families: found.families,
    }))
}

/// The families within the caller's scope with a member of this ID number, or with this
/// phone number: a JSON body `{"id_number": "…"}`, `{"phone": "…"}` or both. Audit-logged
/// with whose record matched; at most 30 look-ups per user in ten minutes, then `429`.
#[utoipa::path(
    post,
    path = "/families/lookup",
    tag = "families",
    request_body = LookupForm,
    responses(
        (status = 200, description = "匹配的家庭", body = FamilyList),
        (status = 429, description = "十分钟内精确查找次数已达上限", body = ApiErrorBody),
    ),
)]
pub async fn lookup(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<LookupForm>,
) -> Result<Json<FamilyList>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/families/lookup").await?;
    let lookup = body.to_lookup().map_err(WebError::BadRequest)?;
    let found = state.store.families().lookup_families(actor, &lookup).await?;
    Ok(Json(FamilyList { total: found.total, page: 0, per_page: PER_PAGE, families: found.families }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateFamily {
    /// 12-digit village code within the caller's scope.
    village_code: String,
    /// A category code, e.g. `only_child`.
    category: String,
    /// `none`, `lifted`, `monitored` or `dibao` (or the Chinese label).
    #[serde(default)]
    poverty: String,
    #[serde(default)]
    address: String,
    phone: Option<String>,
    head_name: String,
    /// 18 characters; a legacy 15-digit number is upgraded (see `id_upgraded_from_15`).
    head_id_number: String,
    /// The head gave both consents: to processing and to sharing with the insurer.
    #[serde(default)]
    consents: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    id: i64,
    /// Set when the head's 15-digit ID number was upgraded to 18: check it with the person.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    id_upgraded_from_15: bool,
}

/// Registers a family with its head in a village within the caller's scope: `201` with
/// the new family's `id`. A head already registered in another family is a `409`;
/// malformed input (ID number, phone, village) a `400` with the reason in Chinese.
#[utoipa::path(
    post,
    path = "/families",
    tag = "families",
    request_body = CreateFamily,
    responses(
        (status = 201, description = "已登记的家庭", body = Created),
        (status = 409, description = "户主已在另一户登记", body = ApiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<CreateFamily>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageFamilies, "/api/v1/families").await?;
    let consents =
        if body.consents { vec![ConsentKind::Processing, ConsentKind::InsurerSharing] } else { Vec::new() };
    let request = NewFamilyRequest {
        village: body.village_code,
        category: body.category,
        poverty: body.poverty,
        address: body.address,
        phone: body.phone.unwrap_or_default(),
        head_name: body.head_name,
        head_id_number: body.head_id_number,
        consents,
        consent_by: String::new(),
    };
    let (id, id_upgraded_from_15) = register(&state, actor, &request).await?;
    Ok((StatusCode::CREATED, Json(Created { id, id_upgraded_from_15 })))
}

/// One family within the caller's scope: summary, members (ID numbers masked), consents
/// in force and member events. Outside the scope: `404`, and the attempt is audit-logged.
#[utoipa::path(
    get,
    path = "/families/{id}",
    tag = "families",
    params(("id" = i64, Path, description = "家庭编号")),
    responses((status = 200, description = "家庭及其成员", body = FamilyDetail)),
)]
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<Family, ApiError>,
) -> Result<Json<FamilyDetail>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewFamilies, "/api/v1/families").await?;
    Ok(Json(state.store.families().family(actor, id.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddMember {
    name: String,
    id_number: String,
    /// Relationship to the head: `spouse`, `child`, `parent`, `grandchild`,
    /// `child_in_law`, `sibling`, `other` (or the Chinese word).
    relationship: String,
}

/// Adds a member to a family within the caller's scope: `201` with the person's `id`. A
/// person already registered in a family is a `409`.
#[utoipa::path(
    post,
    path = "/families/{id}/members",
    tag = "families",
    params(("id" = i64, Path, description = "家庭编号")),
    request_body = AddMember,
    responses(
        (status = 201, description = "已添加的成员", body = Created),
        (status = 409, description = "此人已在某户登记", body = ApiErrorBody),
    ),
)]
pub async fn add_member(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<Family, ApiError>,
    JsonBody(body): JsonBody<AddMember>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManageFamilies, "/api/v1/families/members").await?;
    let family_id = id.id;
    let (person, id_upgraded_from_15) =
        new_member(&body.name, &body.id_number, &body.relationship, state.today())
            .map_err(WebError::BadRequest)?;
    let id = state.store.families().add_member(actor, family_id, person).await?;
    Ok((StatusCode::CREATED, Json(Created { id, id_upgraded_from_15 })))
}
