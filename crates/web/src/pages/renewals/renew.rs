//! Renewing one family on a phone, in two steps: confirm the members (a newborn added, the
//! deceased dropped, anyone the age rules refuse shown with the rule), then see next
//! year's premium and who pays what, and record the family's part (paid now, or to be
//! collected).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::Permission;
use guanai_store::policies::{Channel, PAYMENT_METHODS};
use guanai_store::renewals::{DuePolicy, RenewalQuote};

use crate::error::WebError;
use crate::format::TagColor;
use crate::pages::form::{form_error, render_form};
use crate::pages::{query, render, require, Crumb, Shell};
use crate::requests::ids::{PathId, Policy};
use crate::requests::renewals::RenewBody;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "renewals_renew.html")]
struct RenewPage {
    shell: Shell,
    due: DuePolicy,
    /// Who is ticked: the defaults on a fresh form, then what was sent.
    chosen: Vec<i64>,
    error: Option<String>,
}

impl RenewPage {
    fn ticked(&self, person: &i64) -> bool {
        self.chosen.contains(person)
    }
}

fn trail(step: &str) -> Vec<Crumb> {
    vec![Crumb::link("待续保清单", "/renewals"), Crumb::here(step.to_owned())]
}

async fn renew_page(
    state: &AppState,
    user: &PageUser,
    policy_id: i64,
    chosen: Option<Vec<i64>>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let due = state.store.renewals().due_policy_of(actor, policy_id, &Default::default()).await?;
    let chosen =
        chosen.unwrap_or_else(|| due.next.as_ref().map(|n| n.member_ids.clone()).unwrap_or_default());
    let shell = Shell::new(state, &user.session, "续保", "/renewals", trail("续保")).await?;
    let failed = error.is_some();
    render_form(&RenewPage { shell, due, chosen, error }, failed)
}

/// Step 1: the family as it is now, who renewal keeps, adds or refuses.
pub(super) async fn form(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/renewals/due").await?;
    renew_page(&state, &user, id, None, None).await
}

#[derive(Template)]
#[template(path = "renewals_quote.html")]
struct QuotePage {
    shell: Shell,
    renewal: RenewalQuote,
    methods: [(&'static str, &'static str); 3],
}

/// Step 2: next year's premium and who pays what; nothing is saved yet.
pub(super) async fn quote(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/renewals/due").await?;
    let actor = &user.session.actor;
    let body = match RenewBody::from_pairs(&pairs) {
        Ok(body) => body,
        Err(message) => return renew_page(&state, &user, id, None, Some(message)).await,
    };
    let chosen = body.member_ids.clone();
    let request = match body.to_request(id, Channel::for_role(actor.role())) {
        Ok(request) => request,
        Err(message) => return renew_page(&state, &user, id, chosen, Some(message)).await,
    };
    let renewal = match state.store.renewals().renewal_quote(actor, &request).await {
        Ok(renewal) => renewal,
        Err(err) => return renew_page(&state, &user, id, chosen, Some(form_error(err)?)).await,
    };
    let shell = Shell::new(&state, &user.session, "确认续保", "/renewals", trail("确认续保")).await?;
    render(&QuotePage { shell, renewal, methods: PAYMENT_METHODS })
}

/// Confirms: writes next year's policy, linked to last year's.
pub(super) async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/renewals/due").await?;
    let actor = &user.session.actor;
    let body = RenewBody::from_pairs(&pairs).map_err(WebError::BadRequest)?;
    let chosen = body.member_ids.clone();
    let request = match body.to_request(id, Channel::for_role(actor.role())) {
        Ok(request) => request,
        Err(message) => return renew_page(&state, &user, id, chosen, Some(message)).await,
    };
    let renewed = match state.store.renewals().renew(actor, &request).await {
        Ok(renewed) => renewed,
        Err(err) => return renew_page(&state, &user, id, chosen, Some(form_error(err)?)).await,
    };
    let mut pairs = vec![("notice", "created".to_owned())];
    if let Some(note) = renewed.note {
        pairs.push(("error", format!("已续保，保单暂存为草稿，未能提交承保：{note}")));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok(Redirect::to(&format!("/policies/{}?{}", renewed.policy_id, query(&pairs))).into_response())
}
