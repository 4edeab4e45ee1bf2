//! A village agent's own page, on the phone: the season's funnel, signing in to today's
//! training, the open supervision actions, the publicity to record.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use guanai_domain::Permission;
use guanai_store::agents::AgentWork;
use guanai_store::supervision::ActionView;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "agents_me.html")]
struct MePage {
    shell: Shell,
    work: Option<AgentWork>,
    actions: Vec<ActionView>,
}

pub(super) async fn show(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::SignInTraining, "/agents/me").await?;
    let actor = &user.session.actor;
    let year = crate::requests::forms::this_year(state.today());
    let work = match state.store.agents().my_agent(actor).await? {
        Some(agent) => Some(state.store.agents().agent_work(actor, agent.id, year).await?),
        None => None,
    };
    let actions = state.store.supervision().my_actions(actor).await?;
    let shell =
        Shell::new(&state, &user.session, "我的工作", "/agents/me", vec![Crumb::here("我的工作")]).await?;
    render(&MePage { shell, work, actions })
}
