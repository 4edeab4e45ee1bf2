//! Training sessions: the list, recording a session, its page (the sign-in code to show at
//! the session, attendees, scores), the agents' phone sign-in (`sign_in.rs`), the printable
//! certificate and the untrained agents per county (`lists.rs`).

mod lists;
mod sign_in;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::Permission;
use guanai_store::sessions::Session;
use guanai_store::training::{TrainingDetail, TrainingSummary};

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{PathId, TrainingSession};
use crate::requests::publicity::YearFilter;
use crate::requests::training::{ScoresRequest, TrainingRequest};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/training", get(list).post(create))
        .route("/training/new", get(new_form))
        .route("/training/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/training/untrained", get(lists::untrained))
        .route("/training/{id}", get(show))
        .route("/training/{id}/scores", post(scores))
        .route("/training/{id}/qr.svg", get(sign_in_qr))
        .route("/training/{id}/certificate", get(lists::certificate))
}

#[derive(Template)]
#[template(path = "training_list.html")]
struct ListPage {
    shell: Shell,
    year: i32,
    sessions: Vec<TrainingSummary>,
    can_manage: bool,
    can_sign_in: bool,
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<YearFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/training").await?;
    let actor = &user.session.actor;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    let sessions = state.store.training().trainings(actor, Some(year)).await?;
    let shell = Shell::new(&state, &user.session, "培训", "/training", vec![Crumb::here("培训")]).await?;
    render(&ListPage {
        shell,
        year,
        sessions,
        can_manage: actor.can(Permission::ManageTraining),
        can_sign_in: actor.can(Permission::SignInTraining),
    })
}

#[derive(Template)]
#[template(path = "training_new.html")]
struct NewPage {
    shell: Shell,
    form: TrainingRequest,
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    session: &Session,
    form: TrainingRequest,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("培训", "/training"), Crumb::here("登记培训")];
    let shell = Shell::new(state, session, "登记培训", "/training", trail).await?;
    let failed = error.is_some();
    render_form(&NewPage { shell, form, error }, failed)
}

async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTraining, "/training/new").await?;
    let form = TrainingRequest {
        region: user.session.actor.scope().to_string(),
        held_on: state.today().to_string(),
        pass_mark: guanai_domain::training::DEFAULT_PASS_MARK.to_string(),
        ..Default::default()
    };
    new_page(&state, &user.session, form, None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<TrainingRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTraining, "/training/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.training().create_training(&user.session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/training/{id}")).into_response()),
        Err(err) => new_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}

#[derive(Template)]
#[template(path = "training_detail.html")]
struct DetailPage {
    shell: Shell,
    training: TrainingDetail,
    error: Option<String>,
    /// What the sign-in QR image holds (for those who run the session).
    sign_in_link: Option<String>,
}

impl DetailPage {
    fn time(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::format::china_time(at)
    }
}

async fn detail_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    error: Option<String>,
    headers: &axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let training = state.store.training().training(&user.session.actor, id).await?;
    let sign_in_link = training.sign_in_code.as_ref().map(|code| sign_in_link(state, headers, code));
    let trail = vec![Crumb::link("培训", "/training"), Crumb::here(training.summary.topic.clone())];
    let shell = Shell::new(state, &user.session, &training.summary.topic, "/training", trail).await?;
    let failed = error.is_some();
    render_form(&DetailPage { shell, training, error, sign_in_link }, failed)
}

/// The address a session's sign-in QR image holds: the sign-in page with the code filled in.
fn sign_in_link(state: &AppState, headers: &axum::http::HeaderMap, code: &str) -> String {
    crate::pages::qr::link(state, headers, &format!("/training/sign-in?code={code}"))
}

/// The sign-in QR image of a session, for those who run it (who see its code).
async fn sign_in_qr(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<TrainingSession>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/training").await?;
    let training = state.store.training().training(&user.session.actor, id.id).await?;
    let code =
        training.sign_in_code.ok_or_else(|| WebError::NotFound(format!("找不到培训“{}”的签到码", id.id)))?;
    crate::pages::qr::image(&sign_in_link(&state, &headers, &code))
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<TrainingSession>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/training").await?;
    detail_page(&state, &user, id.id, None, &headers).await
}

async fn scores(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<TrainingSession>,
    headers: axum::http::HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTraining, "/training").await?;
    let scores = match ScoresRequest::from_pairs(&pairs).parse() {
        Ok(scores) => scores,
        Err(message) => return detail_page(&state, &user, id.id, Some(message), &headers).await,
    };
    match state.store.training().record_scores(&user.session.actor, id.id, &scores).await {
        Ok(_) => Ok(Redirect::to(&format!("/training/{}", id.id)).into_response()),
        Err(err) => detail_page(&state, &user, id.id, Some(form_error(err)?), &headers).await,
    }
}
