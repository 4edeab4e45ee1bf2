//! Users within one's scope: the list, one user, and creating a user.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Form;
use axum::Router;
use guanai_domain::{Password, Permission, RegionCode, Role, Username};
use guanai_store::orgs::Org;
use guanai_store::users::{NewUser, User};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::china_time;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{self, PathId};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/new", get(new_form))
        .route("/users/{id}", get(show))
        .route("/users/{id}/unlock", post(unlock))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    shell: Shell,
    users: Vec<User>,
    region_names: HashMap<String, String>,
    can_create: bool,
}

impl UsersPage {
    fn region_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.region_names.get(code).map(String::as_str).unwrap_or(code)
    }
}

pub async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewUsers, "/users").await?;
    let actor = &user.session.actor;
    let users = state.store.users().list_users(actor).await?;
    let codes: Vec<&str> = users.iter().map(|u| u.region_code.as_str()).collect();
    let region_names = state.store.regions().region_names(&codes).await?;
    let shell =
        Shell::new(&state, &user.session, "用户管理", "/users", vec![Crumb::here("用户管理")]).await?;
    render(&UsersPage { shell, users, region_names, can_create: actor.can(Permission::ManageUsers) })
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    shell: Shell,
    user: User,
    region_name: String,
    created_at: String,
    /// Addresses with failed logins: (address, failures, locked until, last failure).
    failures: Vec<(String, i32, Option<String>, String)>,
    locked: bool,
    can_unlock: bool,
}

pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::User>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewUsers, "/users").await?;
    let shown = state.store.users().user(&user.session.actor, id).await?;
    let region_name = state
        .store
        .regions()
        .region_names(&[shown.region_code.as_str()])
        .await?
        .remove(&shown.region_code)
        .unwrap_or_else(|| shown.region_code.clone());
    let trail = vec![Crumb::link("用户管理", "/users"), Crumb::here(shown.display_name.clone())];
    let shell = Shell::new(&state, &user.session, &shown.display_name, "/users", trail).await?;
    let now = chrono::Utc::now();
    let actor = &user.session.actor;
    let failures = state.store.users().login_failures(actor, id).await?;
    let locked = failures.iter().any(|f| f.locked_until.is_some_and(|t| t > now));
    let can_unlock =
        !failures.is_empty() && actor.can(Permission::ManageUsers) && actor.role().manages(shown.role);
    render(&UserPage {
        shell,
        created_at: china_time(&shown.created_at),
        failures: failures
            .into_iter()
            .map(|f| {
                let until = f.locked_until.filter(|t| *t > now).map(|t| china_time(&t));
                (f.ip, f.failures, until, china_time(&f.last_failure_at))
            })
            .collect(),
        locked,
        can_unlock,
        region_name,
        user: shown,
    })
}

/// Clears the user's failed logins at every address (an administrator's unlock).
pub async fn unlock(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::User>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageUsers, "/users").await?;
    state.store.users().unlock_user(&user.session.actor, id).await?;
    Ok(Redirect::to(&format!("/users/{id}")).into_response())
}

/// The values of the new-user form, kept to show again after an error.
#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage {
    shell: Shell,
    form: NewUserForm,
    roles: &'static [Role],
    orgs: Vec<Org>,
    error: Option<String>,
}

async fn new_user_page(
    state: &AppState,
    user: &PageUser,
    form: NewUserForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let orgs = state.store.orgs().list_orgs(actor).await.unwrap_or_default();
    let trail = vec![Crumb::link("用户管理", "/users"), Crumb::here("新建用户")];
    let shell = Shell::new(state, &user.session, "新建用户", "/users", trail).await?;
    let failed = error.is_some();
    render_form(&NewUserPage { shell, form, roles: actor.role().grantable_roles(), orgs, error }, failed)
}

pub async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageUsers, "/users/new").await?;
    new_user_page(&state, &user, NewUserForm::default(), None).await
}

impl NewUserForm {
    /// Parses every field; the first problem is reported in Chinese.
    fn parse(&self) -> Result<NewUser, String> {
        let username = Username::parse(&self.username).map_err(|e| e.to_string())?;
        let role = Role::parse(&self.role).map_err(|_| "请选择角色".to_owned())?;
        let region = RegionCode::parse(&self.region).map_err(|e| e.to_string())?;
        let org_id = match self.org_id.trim() {
            "" => None,
            raw => Some(raw.parse().map_err(|_| "所属机构无效".to_owned())?),
        };
        let password = Password::parse(&self.password).map_err(|e| format!("初始密码：{e}"))?;
        Ok(NewUser {
            username,
            display_name: self.display_name.clone(),
            role,
            region,
            org_id,
            password,
            must_change_password: true,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageUsers, "/users/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_user_page(&state, &user, form, Some(message)).await,
    };
    match state.store.users().create_user(&user.session.actor, new).await {
        Ok(created) => Ok(Redirect::to(&format!("/users/{}", created.id)).into_response()),
        Err(err) => new_user_page(&state, &user, form, Some(form_error(err)?)).await,
    }
}
