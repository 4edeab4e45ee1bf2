//! Publicity activities: the list, recording one (its code given at once), its page with
//! the code to print on materials and its photos (`photos.rs`), and the report by kind and
//! county (`report.rs`).

mod photos;
mod report;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use guanai_domain::publicity::ActivityKind;
use guanai_domain::Permission;
use guanai_store::files::StoredFile;
use guanai_store::publicity::Activity;
use guanai_store::sessions::Session;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{Activity as ActivityId, PathId};
use crate::requests::publicity::{ActivityQuery, ActivityRequest};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/publicity", get(list).post(create))
        .route("/publicity/new", get(new_form))
        .route("/publicity/report", get(report::show))
        .route("/publicity/{id}", get(show))
        .merge(photos::routes())
}

#[derive(Template)]
#[template(path = "publicity_list.html")]
struct ListPage {
    shell: Shell,
    year: i32,
    kind: String,
    kinds: [ActivityKind; 8],
    activities: Vec<Activity>,
    can_manage: bool,
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<ActivityQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity").await?;
    let actor = &user.session.actor;
    let (year, kind) = query.parse(state.today()).map_err(WebError::BadRequest)?;
    let activities = state.store.publicity().activities(actor, Some(year), kind).await?;
    let shell =
        Shell::new(&state, &user.session, "宣传活动", "/publicity", vec![Crumb::here("宣传活动")]).await?;
    render(&ListPage {
        shell,
        year,
        kind: query.kind.clone(),
        kinds: ActivityKind::ALL,
        activities,
        can_manage: actor.can(Permission::ManagePublicity),
    })
}

#[derive(Template)]
#[template(path = "publicity_new.html")]
struct NewPage {
    shell: Shell,
    form: ActivityRequest,
    kinds: [ActivityKind; 8],
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    session: &Session,
    form: ActivityRequest,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("宣传活动", "/publicity"), Crumb::here("登记宣传活动")];
    let shell = Shell::new(state, session, "登记宣传活动", "/publicity", trail).await?;
    let failed = error.is_some();
    render_form(&NewPage { shell, form, kinds: ActivityKind::ALL, error }, failed)
}

async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManagePublicity, "/publicity/new").await?;
    let form = ActivityRequest {
        region: user.session.actor.scope().to_string(),
        held_on: state.today().to_string(),
        ..Default::default()
    };
    new_page(&state, &user.session, form, None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<ActivityRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManagePublicity, "/publicity/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.publicity().create_activity(&user.session.actor, new).await {
        Ok((id, _)) => Ok(Redirect::to(&format!("/publicity/{id}")).into_response()),
        Err(err) => new_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}

#[derive(Template)]
#[template(path = "publicity_detail.html")]
struct DetailPage {
    shell: Shell,
    activity: Activity,
    photos: Vec<StoredFile>,
    can_manage: bool,
    max_photos: usize,
    /// Why the last upload was refused.
    error: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<ActivityId>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity").await?;
    detail_page(&state, &user.session, id.id, None).await
}

/// An activity's page, with the refusal of an upload when there was one (then 400).
async fn detail_page(
    state: &AppState,
    session: &Session,
    id: i64,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    let (activity, photos) = tokio::try_join!(
        state.store.publicity().activity(actor, id),
        state.store.publicity().photos(actor, id)
    )?;
    let trail = vec![Crumb::link("宣传活动", "/publicity"), Crumb::here(activity.title.clone())];
    let shell = Shell::new(state, session, &activity.title, "/publicity", trail).await?;
    let failed = error.is_some();
    let page = DetailPage {
        shell,
        activity,
        photos,
        can_manage: actor.can(Permission::ManagePublicity),
        max_photos: guanai_domain::files::MAX_FILES_PER_UPLOAD,
        error,
    };
    render_form(&page, failed)
}
