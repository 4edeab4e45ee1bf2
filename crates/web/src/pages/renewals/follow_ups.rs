//! The lapse follow-ups: an agent's to-do list (first on their home page), each task closed
//! with its outcome.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::renewals::{FollowUpStatus, LapseOutcome};
use guanai_domain::Permission;
use guanai_store::renewals::FollowUp;
use guanai_store::Actor;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::home::{Panel, PanelItem};
use crate::pages::{require, Crumb, Shell};
use crate::requests::ids::{FollowUp as FollowUpId, PathId};
use crate::requests::renewals::FollowUpBody;
use crate::session::PageUser;
use crate::state::AppState;

/// Most open tasks the home panel lists.
const ON_HOME: usize = 8;

#[derive(Template)]
#[template(path = "renewals_follow_ups.html")]
struct FollowUpsPage {
    shell: Shell,
    tasks: Vec<FollowUp>,
    outcomes: [LapseOutcome; 5],
    can_close: bool,
    error: Option<String>,
}

impl FollowUpsPage {
    fn open(&self, task: &FollowUp) -> bool {
        task.status == FollowUpStatus::Open
    }
}

async fn page(state: &AppState, user: &PageUser, error: Option<String>) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let tasks = state.store.renewals().follow_ups(actor, false).await?;
    let trail = vec![Crumb::link("待续保清单", "/renewals"), Crumb::here("脱保跟进")];
    let shell = Shell::new(state, &user.session, "脱保跟进", "/renewals", trail).await?;
    let failed = error.is_some();
    let page = FollowUpsPage {
        shell,
        tasks,
        outcomes: LapseOutcome::ALL,
        can_close: actor.can(Permission::Enrol),
        error,
    };
    render_form(&page, failed)
}

pub(super) async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/renewals/follow-ups").await?;
    page(&state, &user, None).await
}

pub(super) async fn close(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<FollowUpId>,
    Form(body): Form<FollowUpBody>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/renewals/follow-ups").await?;
    let read = body.outcome().and_then(|outcome| Ok((outcome, body.note()?)));
    let (outcome, note) = match read {
        Ok(read) => read,
        Err(message) => return page(&state, &user, Some(message)).await,
    };
    if let Err(err) = state.store.renewals().close_follow_up(&user.session.actor, id, outcome, note).await {
        return page(&state, &user, Some(form_error(err)?)).await;
    }
    Ok(Redirect::to("/renewals/follow-ups").into_response())
}

/// The home page's to-do list of lapsed families, for those who follow them up.
pub(crate) async fn home_panels(state: &AppState, actor: &Actor) -> Result<Vec<Panel>, WebError> {
    if !actor.can(Permission::Enrol) {
        return Ok(Vec::new());
    }
    let open = state.store.renewals().follow_ups(actor, true).await?;
    let total = open.len();
    let mut items: Vec<PanelItem> = open
        .into_iter()
        .take(ON_HOME)
        .map(|t| PanelItem {
            label: format!("{}户（{}年度保单已脱保）", t.head_name, t.year),
            href: Some(format!("/families/{}", t.family_id)),
            note: "待跟进".to_owned(),
        })
        .collect();
    if total > ON_HOME {
        items.push(PanelItem {
            label: format!("全部{total}户"),
            href: Some("/renewals/follow-ups".to_owned()),
            note: String::new(),
        });
    }
    Ok(vec![Panel {
        title: format!("待办：脱保家庭跟进（{total}户）"),
        figures: Vec::new(),
        empty_text: "没有待跟进的脱保家庭",
        items,
    }])
}
