//! Registering a family: the form page (its parsing is `requests::families`, shared with the
//! API) and the village suggestions.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::families::{FamilyCategory, PovertyStatus};
use guanai_domain::{Permission, RegionLevel};
use guanai_store::Actor;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::requests::families::{register, NewFamilyForm};
use crate::session::PageUser;
use crate::state::AppState;

/// Largest village list offered as suggestions on the registration form.
const DATALIST_LIMIT: u64 = 3000;

struct Village {
    code: String,
    name: String,
}

/// The villages within the actor's scope, walking down the tree, or nothing if there are
/// more than [`DATALIST_LIMIT`] (or the scope is a whole city: too many look-ups).
async fn villages_in_scope(state: &AppState, actor: &Actor) -> Result<Vec<Village>, WebError> {
    let scope = actor.scope();
    if scope.level() == RegionLevel::City {
        return Ok(Vec::new());
    }
    let mut level = vec![state.store.regions().region(actor, scope).await?];
    while level.first().is_some_and(|r| r.level != RegionLevel::Village) {
        if level.iter().map(|r| r.children).sum::<u64>() > DATALIST_LIMIT {
            return Ok(Vec::new());
        }
        let mut next = Vec::new();
        for region in level.iter().filter(|r| r.children > 0) {
            next.extend(state.store.regions().region_children(actor, &region.code).await?);
        }
        level = next;
    }
    Ok(level.into_iter().map(|r| Village { code: r.code.to_string(), name: r.name }).collect())
}

#[derive(Template)]
#[template(path = "family_new.html")]
struct NewFamilyPage {
    shell: Shell,
    form: NewFamilyForm,
    villages: Vec<Village>,
    categories: [(&'static str, &'static str); 6],
    statuses: [PovertyStatus; 4],
    error: Option<String>,
}

async fn new_family_page(
    state: &AppState,
    user: &PageUser,
    form: NewFamilyForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let villages = villages_in_scope(state, &user.session.actor).await?;
    let trail = vec![Crumb::link("家庭档案", "/families"), Crumb::here("登记家庭")];
    let shell = Shell::new(state, &user.session, "登记家庭", "/families", trail).await?;
    let failed = error.is_some();
    let page = NewFamilyPage {
        shell,
        form,
        villages,
        categories: FamilyCategory::DEFAULTS,
        statuses: PovertyStatus::ALL,
        error,
    };
    render_form(&page, failed)
}

pub(super) async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/new").await?;
    let form = NewFamilyForm { consent_processing: "on".into(), ..Default::default() };
    new_family_page(&state, &user, form, None).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<NewFamilyForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/new").await?;
    match register(&state, &user.session.actor, &form.request()).await {
        Ok((id, false)) => Ok(Redirect::to(&format!("/families/{id}")).into_response()),
        Ok((id, true)) => Ok(Redirect::to(&format!("/families/{id}?notice=upgraded")).into_response()),
        Err(err) => {
            let message = form_error(err)?;
            new_family_page(&state, &user, form, Some(message)).await
        }
    }
}
