//! The city's kinds of publicity activity: the list with how many activities each has,
//! and, for the city's staff who manage publicity, adding a kind, renaming one and
//! stopping or restarting it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::{Permission, RegionLevel};
use guanai_store::publicity::ActivityKindEntry;
use guanai_store::sessions::Session;
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "publicity_kinds.html")]
struct KindsPage {
    shell: Shell,
    kinds: Vec<(ActivityKindEntry, u64)>,
    can_manage: bool,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub(super) struct KindForm {
    #[serde(default)]
    label: String,
    /// `"0"` stops the kind; anything else keeps or puts it in use.
    #[serde(default)]
    active: String,
}

async fn page(
    state: &AppState,
    session: &Session,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    let store = state.store.publicity();
    let counts = store.kind_counts(actor).await?;
    let kinds = store
        .kinds(actor)
        .await?
        .into_iter()
        .map(|k| {
            let n = counts.get(&k.code).copied().unwrap_or(0);
            (k, n)
        })
        .collect();
    let trail = vec![Crumb::link("宣传活动", "/publicity"), Crumb::here("活动类型")];
    let shell = Shell::new(state, session, "活动类型", "/publicity", trail).await?;
    let can_manage = actor.can(Permission::ManagePublicity) && actor.scope().level() <= RegionLevel::City;
    let failed = error.is_some();
    render_form(&KindsPage { shell, kinds, can_manage, error, notice }, failed)
}

pub(super) async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity/kinds").await?;
    page(&state, &user.session, None, None).await
}

pub(super) async fn add(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<KindForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManagePublicity, "/publicity/kinds").await?;
    match state.store.publicity().add_kind(&user.session.actor, &form.label).await {
        Ok(_) => Ok(Redirect::to("/publicity/kinds").into_response()),
        Err(err) => page(&state, &user.session, Some(form_error(err)?), None).await,
    }
}

pub(super) async fn update(
    State(state): State<AppState>,
    user: PageUser,
    Path(code): Path<String>,
    Form(form): Form<KindForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManagePublicity, "/publicity/kinds").await?;
    let active = form.active.trim() != "0";
    match state.store.publicity().update_kind(&user.session.actor, &code, &form.label, active).await {
        Ok(_) => page(&state, &user.session, None, Some("已保存")).await,
        Err(err) => page(&state, &user.session, Some(form_error(err)?), None).await,
    }
}
