//! Village agents: the registry with each agent's funnel, registering an agent, an agent's
//! page with the handover to a successor, and the agent's own phone page (`me.rs`).

mod me;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::agents::AgentKind;
use guanai_domain::Permission;
use guanai_store::agents::{Agent, AgentFilter, AgentWork, HandoverRecord};
use guanai_store::sessions::Session;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::agents::{AgentListQuery, AgentRequest, HandoverRequest};
use crate::requests::ids::{Agent as AgentId, PathId};
use crate::session::PageUser;
use crate::state::AppState;

/// The navigation of the association's own work (merged after the house's entries).
pub(crate) const ASSOCIATION_NAV: [(&str, &str, Option<Permission>); 6] = [
    ("/agents/me", "我的工作", Some(Permission::SignInTraining)),
    ("/agents", "服务专员", Some(Permission::ManageAgents)),
    ("/training", "培训", Some(Permission::ViewAssociationWork)),
    ("/publicity", "宣传活动", Some(Permission::ViewAssociationWork)),
    ("/supervision", "联合督导", Some(Permission::ViewAssociationWork)),
    ("/student-aid", "金秋助学", Some(Permission::ViewAssociationWork)),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agents", get(list).post(create))
        .route("/agents/new", get(new_form))
        .route("/agents/me", get(me::show))
        .route("/agents/{id}", get(show))
        .route("/agents/{id}/handover", post(handover))
}

#[derive(Template)]
#[template(path = "agents_list.html")]
struct ListPage {
    shell: Shell,
    year: i32,
    query: AgentListQuery,
    work: Vec<AgentWork>,
    can_manage: bool,
}

/// The agents of the user's scope with their funnel for the season; the idle ones marked.
async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<AgentListQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/agents").await?;
    let actor = &user.session.actor;
    let filter = query.filter().map_err(WebError::BadRequest)?;
    let year = query.year(state.today()).map_err(WebError::BadRequest)?;
    let work = state.store.agents().work(actor, &filter, year).await?;
    let shell =
        Shell::new(&state, &user.session, "服务专员", "/agents", vec![Crumb::here("服务专员")]).await?;
    render(&ListPage { shell, year, query, work, can_manage: actor.can(Permission::ManageAgents) })
}

#[derive(Template)]
#[template(path = "agents_new.html")]
struct NewPage {
    shell: Shell,
    form: AgentRequest,
    kinds: [AgentKind; 2],
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    session: &Session,
    form: AgentRequest,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("服务专员", "/agents"), Crumb::here("登记服务专员")];
    let shell = Shell::new(state, session, "登记服务专员", "/agents", trail).await?;
    let failed = error.is_some();
    render_form(&NewPage { shell, form, kinds: AgentKind::ALL, error }, failed)
}

async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageAgents, "/agents/new").await?;
    let form = AgentRequest {
        appointed_on: state.today().to_string(),
        kind: "specialist".into(),
        ..Default::default()
    };
    new_page(&state, &user.session, form, None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<AgentRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageAgents, "/agents/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.agents().create_agent(&user.session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/agents/{id}")).into_response()),
        Err(err) => new_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}

#[derive(Template)]
#[template(path = "agents_detail.html")]
struct DetailPage {
    shell: Shell,
    work: AgentWork,
    handovers: Vec<HandoverRecord>,
    /// Serving agents of the same township who could take over.
    successors: Vec<Agent>,
    can_manage: bool,
    today: chrono::NaiveDate,
    error: Option<String>,
    notice: Option<String>,
}

async fn detail_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let year = crate::requests::forms::this_year(state.today());
    let work = state.store.agents().agent_work(actor, id, year).await?;
    let handovers = state.store.agents().handovers(actor, id).await?;
    let can_manage = actor.can(Permission::ManageAgents) && work.agent.serving();
    let successors = if can_manage {
        let township = guanai_domain::RegionCode::parse(&work.agent.township_code).ok();
        let filter = AgentFilter { region: township, ..Default::default() };
        state.store.agents().agents(actor, &filter).await?.into_iter().filter(|a| a.id != id).collect()
    } else {
        Vec::new()
    };
    let trail = vec![Crumb::link("服务专员", "/agents"), Crumb::here(work.agent.name.clone())];
    let shell = Shell::new(state, &user.session, &work.agent.name, "/agents", trail).await?;
    let failed = error.is_some();
    let page =
        DetailPage { shell, work, handovers, successors, can_manage, today: state.today(), error, notice };
    render_form(&page, failed)
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<AgentId>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/agents").await?;
    detail_page(&state, &user, id.id, None, None).await
}

/// The agent leaves; the chosen successor takes over in one step.
async fn handover(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<AgentId>,
    Form(form): Form<HandoverRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageAgents, "/agents").await?;
    let handover = match form.parse(id.id, state.today()) {
        Ok(h) => h,
        Err(message) => return detail_page(&state, &user, id.id, Some(message), None).await,
    };
    match state.store.agents().handover(&user.session.actor, &handover).await {
        Ok(done) => {
            let notice = format!("已交接：{}个村，{}项待办移交给接任者", done.villages.len(), done.tasks);
            detail_page(&state, &user, id.id, None, Some(notice)).await
        }
        Err(err) => detail_page(&state, &user, id.id, Some(form_error(err)?), None).await,
    }
}
