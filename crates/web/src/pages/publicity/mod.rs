//! Publicity activities: the list, recording one (its code given at once), its page with
//! the code and its QR image to print on materials, the scanned code remembered for the
//! enrolments that follow (`scan.rs`), its photos (`photos.rs`), the city's kinds
//! (`kinds.rs`) and the report by kind and county (`report.rs`).

mod kinds;
mod photos;
mod report;
mod scan;

pub use scan::remembered_activity_code;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use guanai_domain::Permission;
use guanai_store::files::StoredFile;
use guanai_store::publicity::{Activity, ActivityKindEntry};
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
        .route("/publicity/kinds", get(kinds::list).post(kinds::add))
        .route("/publicity/kinds/{code}", axum::routing::post(kinds::update))
        .route("/publicity/{id}", get(show))
        .route("/publicity/{id}/qr.svg", get(scan::qr_image))
        .route("/hd/{code}", get(scan::remember))
        .merge(photos::routes())
}

#[derive(Template)]
#[template(path = "publicity_list.html")]
struct ListPage {
    shell: Shell,
    year: i32,
    kind: String,
    kinds: Vec<ActivityKindEntry>,
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
    let kinds = state.store.publicity().kinds(actor).await?;
    let shell =
        Shell::new(&state, &user.session, "宣传活动", "/publicity", vec![Crumb::here("宣传活动")]).await?;
    render(&ListPage {
        shell,
        year,
        kind: query.kind.clone(),
        kinds,
        activities,
        can_manage: actor.can(Permission::ManagePublicity),
    })
}

#[derive(Template)]
#[template(path = "publicity_new.html")]
struct NewPage {
    shell: Shell,
    form: ActivityRequest,
    /// The kinds in use.
    kinds: Vec<ActivityKindEntry>,
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
    let kinds =
        state.store.publicity().kinds(&session.actor).await?.into_iter().filter(|k| k.active).collect();
    render_form(&NewPage { shell, form, kinds, error }, failed)
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
    /// What the QR image holds: the address that remembers the code on a phone.
    scan_link: String,
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
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity").await?;
    detail_page(&state, &user.session, id.id, None, &headers).await
}

/// An activity's page, with the refusal of an upload when there was one (then 400).
async fn detail_page(
    state: &AppState,
    session: &Session,
    id: i64,
    error: Option<String>,
    headers: &axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    let (activity, photos) = tokio::try_join!(
        state.store.publicity().activity(actor, id),
        state.store.publicity().photos(actor, id)
    )?;
    let scan_link = scan::scan_link(state, headers, &activity.code);
    let trail = vec![Crumb::link("宣传活动", "/publicity"), Crumb::here(activity.title.clone())];
    let shell = Shell::new(state, session, &activity.title, "/publicity", trail).await?;
    let failed = error.is_some();
    let page = DetailPage {
        shell,
        activity,
        scan_link,
        photos,
        can_manage: actor.can(Permission::ManagePublicity),
        max_photos: guanai_domain::files::MAX_FILES_PER_UPLOAD,
        error,
    };
    render_form(&page, failed)
}
