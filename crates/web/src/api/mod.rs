//! The JSON API under `/api/v1`, for other front ends. Authenticated by the same session
//! cookie as the pages; state-changing calls carry the session's CSRF token in the
//! `X-CSRF-Token` header (it is given by `GET /api/v1/me`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use guanai_domain::{Password, Permission, RegionCode, Role, Username};
use guanai_store::regions::Region;
use guanai_store::users::{NewUser, User};
use guanai_store::Actor;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod agents;
pub mod claims;
pub mod claims_exchange;
pub mod families;
pub mod funding;
pub mod openapi;
pub mod policies;
pub mod publicity;
pub mod renewals;
pub mod reports;
pub mod student_aid;
pub mod supervision;
pub mod training;

use crate::error::{ApiError, ApiErrorBody, WebError};
use crate::requests::ids::{self, PathId};
use crate::session::ApiUser;
use crate::state::AppState;

/// Every route of the API with its documentation, paths under `/api/v1`: a handler is
/// routed only through `routes!`, which needs its `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(openapi::serve))
        .routes(routes!(region))
        .routes(routes!(list_users, create_user))
        .routes(routes!(user))
        .merge(families::routes())
        .merge(policies::routes())
        .merge(funding::routes())
        .merge(claims::routes())
        .merge(claims_exchange::routes())
        .merge(agents::routes())
        .merge(training::routes())
        .merge(publicity::routes())
        .merge(supervision::routes())
        .merge(student_aid::routes())
        .merge(reports::routes())
        .merge(renewals::routes());
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/api/v1", api)
}

/// A JSON request body whose parse errors answer in the API's own shape, in Chinese.
pub struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError(WebError::BadRequest(format!(
                "请求内容不是有效的 JSON，或缺少必填字段：{}",
                rejection.body_text()
            )))),
        }
    }
}

pub(crate) async fn require(
    state: &AppState,
    actor: &Actor,
    permission: Permission,
    route: &str,
) -> Result<(), ApiError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(state.store.deny(actor, "api.call", "接口", route).await.into())
    }
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    username: String,
    display_name: String,
    role: Role,
    role_label: &'static str,
    region_code: RegionCode,
    csrf_token: String,
}

/// The logged-in user, with the CSRF token to send on state-changing calls.
#[utoipa::path(get, path = "/me", tag = "users", responses((status = 200, description = "当前用户", body = Me)))]
pub async fn me(user: ApiUser) -> Json<Me> {
    let actor = &user.session.actor;
    Json(Me {
        username: actor.username().to_owned(),
        display_name: actor.display_name().to_owned(),
        role: actor.role(),
        role_label: actor.role().label(),
        region_code: actor.scope().clone(),
        csrf_token: user.session.csrf_token.clone(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct RegionWithChildren {
    #[serde(flatten)]
    region: Region,
    children_list: Vec<Region>,
}

/// One region within the caller's scope and the regions directly below it.
#[utoipa::path(
    get,
    path = "/regions/{code}",
    tag = "regions",
    params(("code" = String, Path, description = "区划代码（2、4、6、9 或 12 位）")),
    responses((status = 200, description = "区域及其下一级区域", body = RegionWithChildren)),
)]
pub async fn region(
    State(state): State<AppState>,
    user: ApiUser,
    Path(code): Path<String>,
) -> Result<Json<RegionWithChildren>, ApiError> {
    let actor = &user.session.actor;
    let code = RegionCode::parse(&code).map_err(|e| WebError::NotFound(e.to_string()))?;
    let region = state.store.regions().region(actor, &code).await?;
    let children_list = state.store.regions().region_children(actor, &code).await?;
    Ok(Json(RegionWithChildren { region, children_list }))
}

/// The users within the caller's scope.
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, description = "用户列表", body = Vec<User>)))]
pub async fn list_users(State(state): State<AppState>, user: ApiUser) -> Result<Json<Vec<User>>, ApiError> {
    require(&state, &user.session.actor, Permission::ViewUsers, "/api/v1/users").await?;
    Ok(Json(state.store.users().list_users(&user.session.actor).await?))
}

/// One user within the caller's scope; 404 otherwise.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "用户编号")),
    responses((status = 200, description = "用户", body = User)),
)]
pub async fn user(
    State(state): State<AppState>,
    user: ApiUser,
    id: PathId<ids::User, ApiError>,
) -> Result<Json<User>, ApiError> {
    require(&state, &user.session.actor, Permission::ViewUsers, "/api/v1/users").await?;
    Ok(Json(state.store.users().user(&user.session.actor, id.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUser {
    username: String,
    display_name: String,
    /// A role the caller may grant, e.g. `village_agent`.
    role: String,
    /// The region the user works in, within the caller's scope.
    region_code: String,
    org_id: Option<i64>,
    /// The initial password, to be changed at first login.
    password: String,
}

/// Creates a user within the caller's scope, with a role the caller may grant.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "已创建的用户", body = User),
        (status = 409, description = "用户名已被使用", body = ApiErrorBody),
    ),
)]
pub async fn create_user(
    State(state): State<AppState>,
    user: ApiUser,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    require(&state, &user.session.actor, Permission::ManageUsers, "/api/v1/users").await?;
    let bad = |m: String| ApiError(WebError::BadRequest(m));
    let new = NewUser {
        username: Username::parse(&body.username).map_err(|e| bad(e.to_string()))?,
        display_name: body.display_name,
        role: Role::parse(&body.role).map_err(|e| bad(e.to_string()))?,
        region: RegionCode::parse(&body.region_code).map_err(|e| bad(e.to_string()))?,
        org_id: body.org_id,
        password: Password::parse(&body.password).map_err(|e| bad(e.to_string()))?,
        must_change_password: true,
    };
    let created = state.store.users().create_user(&user.session.actor, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}
