//! The report (报案) of a claim for a family member: one short form that fits a phone.
//! Agents and association staff report for the family; the insurer's staff take the
//! hotline's calls. A second report of the same incident leads to the first claim.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::claims::{ClaimKind, ReportChannel};
use guanai_domain::{Permission, Role};
use guanai_store::families::FamilyDetail;
use guanai_store::Actor;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::requests::claims::ReportForm;
use crate::requests::ids::{Family, PathId};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "claims_new.html")]
struct ReportPage {
    shell: Shell,
    family: FamilyDetail,
    form: ReportForm,
    kinds: [ClaimKind; 6],
    today: String,
    error: Option<String>,
}

/// How a report by this user comes in.
fn channel(actor: &Actor) -> ReportChannel {
    match actor.role() {
        Role::VillageAgent => ReportChannel::Agent,
        role if role.is_insurer() => ReportChannel::InsurerHotline,
        _ => ReportChannel::Association,
    }
}

async fn page(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    form: ReportForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let family = state.store.families().family(&user.session.actor, family_id).await?;
    let trail = vec![
        Crumb::link(format!("{}户", family.summary.head_name), format!("/families/{family_id}")),
        Crumb::here("报案"),
    ];
    let shell = Shell::new(state, &user.session, "报案", "/claims", trail).await?;
    let failed = error.is_some();
    let today = state.today().format("%Y-%m-%d").to_string();
    render_form(&ReportPage { shell, family, form, kinds: ClaimKind::ALL, today, error }, failed)
}

pub(super) async fn form(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ReportClaims, "/claims/new").await?;
    page(&state, &user, id, ReportForm::default(), None).await
}

pub(super) async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Form(form): Form<ReportForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ReportClaims, "/claims/new").await?;
    let actor = &user.session.actor;
    let claim = match form.to_body().and_then(|body| body.to_new_claim(channel(actor))) {
        Ok(claim) => claim,
        Err(message) => return page(&state, &user, id, form, Some(message)).await,
    };
    // The person must be of this family: the store checks scope, the page the family.
    let family = state.store.families().family(actor, id).await?;
    if !family.members.iter().any(|m| m.id == claim.person_id) {
        return page(&state, &user, id, form, Some("请选择本户的成员".to_owned())).await;
    }
    match state.store.claims().report_claim(actor, claim).await {
        Ok(reported) => {
            let notice = if reported.duplicate { "duplicate" } else { "reported" };
            Ok(Redirect::to(&format!("/claims/{}?notice={notice}", reported.id)).into_response())
        }
        Err(err) => page(&state, &user, id, form, Some(form_error(err)?)).await,
    }
}
