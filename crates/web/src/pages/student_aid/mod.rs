//! Student aid (金秋助学): the year's applications with figures per county, entering an
//! application, and an application's page with the review step the user may take: the
//! county's review, the city's approval with the paying source, payment, refusal.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::student_aid::AidStatus;
use guanai_domain::{Permission, RegionLevel};
use guanai_store::funding::Source;
use guanai_store::sessions::Session;
use guanai_store::student_aid::{AidApplication, AidFigure};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{AidApplication as AidId, PathId};
use crate::requests::publicity::YearFilter;
use crate::requests::student_aid::{ApplicationRequest, ReviewRequest};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/student-aid", get(list).post(create))
        .route("/student-aid/new", get(new_form))
        .route("/student-aid/{id}", get(show))
        .route("/student-aid/{id}/review", post(review))
}

#[derive(Template)]
#[template(path = "student_aid_list.html")]
struct ListPage {
    shell: Shell,
    year: i32,
    applications: Vec<AidApplication>,
    figures: Vec<AidFigure>,
    can_apply: bool,
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<YearFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/student-aid").await?;
    let actor = &user.session.actor;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    let (applications, figures) = tokio::try_join!(
        state.store.student_aid().applications(actor, Some(year), None),
        state.store.student_aid().figures(actor, Some(year))
    )?;
    let shell =
        Shell::new(&state, &user.session, "金秋助学", "/student-aid", vec![Crumb::here("金秋助学")]).await?;
    render(&ListPage {
        shell,
        year,
        applications,
        figures,
        can_apply: actor.can(Permission::ApplyStudentAid),
    })
}

#[derive(Template)]
#[template(path = "student_aid_new.html")]
struct NewPage {
    shell: Shell,
    form: ApplicationRequest,
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    session: &Session,
    form: ApplicationRequest,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("金秋助学", "/student-aid"), Crumb::here("登记助学申请")];
    let shell = Shell::new(state, session, "登记助学申请", "/student-aid", trail).await?;
    let failed = error.is_some();
    render_form(&NewPage { shell, form, error }, failed)
}

#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    family: String,
}

async fn new_form(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ApplyStudentAid, "/student-aid/new").await?;
    let form = ApplicationRequest {
        family_id: query.family,
        admission_year: crate::requests::forms::this_year(state.today()).to_string(),
        ..Default::default()
    };
    new_page(&state, &user.session, form, None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<ApplicationRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ApplyStudentAid, "/student-aid/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.student_aid().apply(&user.session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/student-aid/{id}")).into_response()),
        Err(err) => new_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}

#[derive(Template)]
#[template(path = "student_aid_detail.html")]
struct DetailPage {
    shell: Shell,
    application: AidApplication,
    /// The steps the user may take now.
    county_step: bool,
    city_step: bool,
    pay_step: bool,
    sources: Vec<Source>,
    today: chrono::NaiveDate,
    error: Option<String>,
}

async fn detail_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let application = state.store.student_aid().application(actor, id).await?;
    let reviewer = actor.can(Permission::ReviewStudentAid);
    let level = actor.scope().level();
    let county_step = reviewer && level == RegionLevel::County && application.status == AidStatus::Submitted;
    let city_step = reviewer && level == RegionLevel::City && application.status == AidStatus::CountyApproved;
    let pay_step = reviewer && level == RegionLevel::City && application.status == AidStatus::CityApproved;
    let sources = if city_step {
        state.store.funding().spendable_sources(actor, Some(application.year)).await?
    } else {
        Vec::new()
    };
    let trail = vec![Crumb::link("金秋助学", "/student-aid"), Crumb::here(format!("助学申请 {id}"))];
    let shell = Shell::new(state, &user.session, "助学申请", "/student-aid", trail).await?;
    let failed = error.is_some();
    let page = DetailPage {
        shell,
        application,
        county_step,
        city_step,
        pay_step,
        sources,
        today: state.today(),
        error,
    };
    render_form(&page, failed)
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<AidId>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/student-aid").await?;
    detail_page(&state, &user, id.id, None).await
}

async fn review(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<AidId>,
    Form(form): Form<ReviewRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ReviewStudentAid, "/student-aid").await?;
    let review = match form.parse(state.today()) {
        Ok(review) => review,
        Err(message) => return detail_page(&state, &user, id.id, Some(message)).await,
    };
    match state.store.student_aid().review(&user.session.actor, id.id, review).await {
        Ok(_) => Ok(Redirect::to(&format!("/student-aid/{}", id.id)).into_response()),
        Err(err) => detail_page(&state, &user, id.id, Some(form_error(err)?)).await,
    }
}
