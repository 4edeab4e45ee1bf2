//! Publicity activities, their photos and the report of what they brought.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use guanai_domain::Permission;
use guanai_store::files::StoredFile;
use guanai_store::publicity::{Activity, ActivityKindEntry, ActivityReport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, JsonBody};
use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::files::image_response;
use crate::requests::ids::{Activity as ActivityId, PathId, Photo};
use crate::requests::publicity::{ActivityKindRequest, ActivityQuery, ActivityRequest};
use crate::requests::uploads::{read_images, ImageQuery, IMAGE_BODY_LIMIT};
use crate::session::ApiUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(photos, add_photos))
        .layer(DefaultBodyLimit::max(IMAGE_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(report))
        .routes(routes!(kinds, add_kind))
        .routes(routes!(update_kind))
        .routes(routes!(photo))
        .merge(uploads)
}

/// The city's kinds of activity, the ones in use first (`code` is what an activity's
/// `kind` holds).
#[utoipa::path(
    get,
    path = "/activity-kinds",
    tag = "association",
    responses((status = 200, description = "活动类型", body = Vec<ActivityKindEntry>)),
)]
pub async fn kinds(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<ActivityKindEntry>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activity-kinds").await?;
    Ok(Json(state.store.publicity().kinds(actor).await?))
}

/// Adds a kind of activity (the city's staff who manage publicity). `409` when another
/// kind has the name.
#[utoipa::path(
    post,
    path = "/activity-kinds",
    tag = "association",
    request_body = ActivityKindRequest,
    responses(
        (status = 201, description = "已添加的活动类型", body = ActivityKindEntry),
        (status = 409, description = "已有同名的活动类型", body = ApiErrorBody),
    ),
)]
pub async fn add_kind(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<ActivityKindRequest>,
) -> Result<(StatusCode, Json<ActivityKindEntry>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activity-kinds").await?;
    Ok((StatusCode::CREATED, Json(state.store.publicity().add_kind(actor, &body.label).await?)))
}

/// Renames a kind, or stops (`active: false`) or restarts it. `409` when another kind has
/// the name.
#[utoipa::path(
    post,
    path = "/activity-kinds/{code}",
    tag = "association",
    params(("code" = String, Path, description = "活动类型代码")),
    request_body = ActivityKindRequest,
    responses(
        (status = 200, description = "修改后的活动类型", body = ActivityKindEntry),
        (status = 409, description = "已有同名的活动类型", body = ApiErrorBody),
    ),
)]
pub async fn update_kind(
    State(state): State<AppState>,
    user: ApiUser,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<ActivityKindRequest>,
) -> Result<Json<ActivityKindEntry>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activity-kinds").await?;
    Ok(Json(state.store.publicity().update_kind(actor, &code, &body.label, body.active).await?))
}

/// The activities of the caller's scope in the year `year` (of one `kind`), each with the
/// enrolments that carry its code and their premium.
#[utoipa::path(
    get,
    path = "/activities",
    tag = "association",
    params(ActivityQuery),
    responses((status = 200, description = "宣传活动", body = Vec<Activity>)),
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<Vec<Activity>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities").await?;
    let (year, kind) = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.publicity().activities(actor, Some(year), kind).await?))
}

/// Records an activity held in the caller's scope; the answer carries its code.
#[utoipa::path(
    post,
    path = "/activities",
    tag = "association",
    request_body = ActivityRequest,
    responses((status = 201, description = "已登记的宣传活动", body = Activity)),
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<ActivityRequest>,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activities").await?;
    let new = body.parse().map_err(WebError::BadRequest)?;
    let (id, _) = state.store.publicity().create_activity(actor, new).await?;
    Ok((StatusCode::CREATED, Json(state.store.publicity().activity(actor, id).await?)))
}

/// One activity with what it brought.
#[utoipa::path(
    get,
    path = "/activities/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "宣传活动编号")),
    responses((status = 200, description = "宣传活动", body = Activity)),
)]
pub async fn one(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<ActivityId, ApiError>,
) -> Result<Json<Activity>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities").await?;
    Ok(Json(state.store.publicity().activity(actor, id.id).await?))
}

/// The year's activities by kind and county: how many, people reached, enrolments and premium.
#[utoipa::path(
    get,
    path = "/activities/report",
    tag = "association",
    params(ActivityQuery),
    responses((status = 200, description = "宣传活动统计", body = ActivityReport)),
)]
pub async fn report(
    State(state): State<AppState>,
    user: ApiUser,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<ActivityReport>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities/report").await?;
    let (year, _) = query.parse(state.today()).map_err(WebError::BadRequest)?;
    Ok(Json(state.store.publicity().report(actor, year).await?))
}

/// The photos of an upload: one or more `file` fields of a multipart form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// JPEG, PNG or WebP; at most 15 MB each, 60 MB and 9 photos in all. Each is decoded and
    /// kept re-encoded as a JPEG (no EXIF, so no GPS position), with a thumbnail.
    file: Vec<BinaryFile>,
}

/// A file's bytes (an image).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct BinaryFile(Vec<u8>);

/// The photos of an activity, oldest first.
#[utoipa::path(
    get,
    path = "/activities/{id}/photos",
    tag = "association",
    params(("id" = i64, Path, description = "宣传活动编号")),
    responses((status = 200, description = "活动照片", body = Vec<StoredFile>)),
)]
pub async fn photos(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<ActivityId, ApiError>,
) -> Result<Json<Vec<StoredFile>>, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities").await?;
    Ok(Json(state.store.publicity().photos(actor, id.id).await?))
}

/// Adds photos to an activity: all of them, or none when one is refused (not a JPEG, PNG
/// or WebP image, cut off, too large); the message names the file and says what to do.
#[utoipa::path(
    post,
    path = "/activities/{id}/photos",
    tag = "association",
    params(("id" = i64, Path, description = "宣传活动编号")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "已保存的照片", body = Vec<StoredFile>)),
)]
pub async fn add_photos(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<ActivityId, ApiError>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<Vec<StoredFile>>), ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ManagePublicity, "/api/v1/activities").await?;
    let uploads = read_images(&state.store, &mut multipart).await.map_err(WebError::BadRequest)?;
    let saved = state.store.publicity().add_photos(actor, id.id, uploads).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// One photo as a JPEG (`size=thumb`: its thumbnail, longest side 320 px); each view is
/// written to the audit log.
#[utoipa::path(
    get,
    path = "/activities/photos/{id}",
    tag = "association",
    params(("id" = i64, Path, description = "照片编号"), ImageQuery),
    responses((status = 200, description = "照片（JPEG）", content_type = "image/jpeg", body = BinaryFile)),
)]
pub async fn photo(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<Photo, ApiError>,
    Query(query): Query<ImageQuery>,
) -> Result<Response, ApiError> {
    let actor = &user.session.actor;
    require(&state, actor, Permission::ViewAssociationWork, "/api/v1/activities").await?;
    let variant = query.parse().map_err(WebError::BadRequest)?;
    Ok(image_response(state.store.publicity().photo(actor, id.id, variant).await?))
}
