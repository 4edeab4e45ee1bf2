//! Joint supervision visits: the list, recording a visit with its team and actions, the
//! printable visit record with each action's state, marking an action done; and the
//! owner's open actions on the home page (`panels`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::Permission;
use guanai_store::sessions::Session;
use guanai_store::supervision::{VisitDetail, VisitSummary};
use guanai_store::users::User;
use guanai_store::Actor;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::home::{Panel, PanelItem};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{PathId, SupervisionAction, Visit};
use crate::requests::publicity::YearFilter;
use crate::requests::supervision::VisitRequest;
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/supervision", get(list).post(create))
        .route("/supervision/new", get(new_form))
        .route("/supervision/{id}", get(show))
        .route("/supervision/actions/{id}/done", post(complete))
}

/// The home page's panel of the user's own open supervision actions, the overdue first
/// marked; none when the user owns no open action.
pub(crate) async fn panels(state: &AppState, actor: &Actor) -> Result<Vec<Panel>, WebError> {
    let actions = state.store.supervision().my_actions(actor).await?;
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    let overdue = actions.iter().filter(|a| a.state.is_overdue()).count();
    let items = actions
        .into_iter()
        .map(|a| PanelItem {
            label: a.description.clone(),
            href: Some(format!("/supervision/{}", a.visit_id)),
            note: format!("{}，期限 {}", a.state.label(), a.due_on),
        })
        .collect();
    Ok(vec![Panel {
        title: format!("督导整改待办（逾期{overdue}项）"),
        figures: Vec::new(),
        empty_text: "没有待办",
        items,
    }])
}

#[derive(Template)]
#[template(path = "supervision_list.html")]
struct ListPage {
    shell: Shell,
    year: i32,
    visits: Vec<VisitSummary>,
    can_manage: bool,
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<YearFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/supervision").await?;
    let actor = &user.session.actor;
    let year = query.parse(state.today()).map_err(WebError::BadRequest)?;
    let visits = state.store.supervision().visits(actor, Some(year)).await?;
    let shell =
        Shell::new(&state, &user.session, "联合督导", "/supervision", vec![Crumb::here("联合督导")]).await?;
    render(&ListPage { shell, year, visits, can_manage: actor.can(Permission::ManageSupervision) })
}

#[derive(Template)]
#[template(path = "supervision_new.html")]
struct NewPage {
    shell: Shell,
    form: VisitRequest,
    users: Vec<User>,
    error: Option<String>,
}

impl NewPage {
    fn member(&self, id: &i64) -> bool {
        self.form.members.contains(id)
    }
}

async fn new_page(
    state: &AppState,
    session: &Session,
    form: VisitRequest,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    let users = if actor.can(Permission::ViewUsers) {
        state.store.users().list_users(actor).await?.into_iter().filter(|u| u.active).collect()
    } else {
        Vec::new()
    };
    let trail = vec![Crumb::link("联合督导", "/supervision"), Crumb::here("登记督导")];
    let shell = Shell::new(state, session, "登记督导", "/supervision", trail).await?;
    let failed = error.is_some();
    render_form(&NewPage { shell, form, users, error }, failed)
}

async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageSupervision, "/supervision/new").await?;
    let form = VisitRequest {
        region: user.session.actor.scope().to_string(),
        visited_on: state.today().to_string(),
        members: user.session.actor.user_id().into_iter().collect(),
        ..Default::default()
    };
    new_page(&state, &user.session, form, None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageSupervision, "/supervision/new").await?;
    let form = match VisitRequest::from_pairs(&pairs) {
        Ok(form) => form,
        Err(message) => return new_page(&state, &user.session, VisitRequest::default(), Some(message)).await,
    };
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.supervision().create_visit(&user.session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/supervision/{id}")).into_response()),
        Err(err) => new_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}

#[derive(Template)]
#[template(path = "supervision_detail.html")]
struct DetailPage {
    shell: Shell,
    visit: VisitDetail,
    visited_on: String,
    user_id: i64,
    can_manage: bool,
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<Visit>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/supervision").await?;
    let actor = &user.session.actor;
    let visit = state.store.supervision().visit(actor, id.id).await?;
    let visited_on = visit.summary.visited_on.format("%Y年%-m月%-d日").to_string();
    let trail = vec![Crumb::link("联合督导", "/supervision"), Crumb::here(format!("督导记录 {visited_on}"))];
    let shell = Shell::new(&state, &user.session, "督导记录", "/supervision", trail).await?;
    let can_manage = actor.can(Permission::ManageSupervision)
        && guanai_domain::RegionCode::parse(&visit.summary.region_code).is_ok_and(|r| actor.sees(&r));
    render(&DetailPage { shell, visit, visited_on, user_id: actor.user_id().unwrap_or(0), can_manage })
}

/// Marks an action done, then back to its visit.
async fn complete(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<SupervisionAction>,
    Form(form): Form<DoneForm>,
) -> Result<Response, WebError> {
    state.store.supervision().complete_action(&user.session.actor, id.id).await?;
    let visit = form.visit.trim().parse::<i64>().unwrap_or(0);
    let target = if visit > 0 { format!("/supervision/{visit}") } else { "/".to_owned() };
    Ok(Redirect::to(&target).into_response())
}

#[derive(serde::Deserialize, Default)]
struct DoneForm {
    #[serde(default)]
    visit: String,
}
