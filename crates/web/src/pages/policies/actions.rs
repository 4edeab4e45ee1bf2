//! What is done to a policy from its page: submit it to the insurer, underwrite it, cancel
//! it, record a payment. A refusal the user can act on shows the policy page with it.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::Permission;
use guanai_store::StoreError;
use serde::Deserialize;

use super::detail::policy_page;
use crate::error::WebError;
use crate::pages::form::form_error;
use crate::pages::require;
use crate::requests::forms;
use crate::requests::ids::{PathId, Policy};
use crate::session::PageUser;
use crate::state::AppState;

/// After a state change: the policy page with `notice`, or with what the user can fix.
async fn act(
    state: &AppState,
    user: &PageUser,
    id: i64,
    result: Result<(), StoreError>,
    notice: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/policies/{id}?notice={notice}")).into_response()),
        Err(err) => policy_page(state, user, id, None, Some(form_error(err)?)).await,
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/policies/submit").await?;
    let result = state.store.policies().submit_policy(&user.session.actor, id).await;
    act(&state, &user, id, result, "submitted").await
}

#[derive(Deserialize)]
pub(super) struct UnderwriteForm {
    #[serde(default)]
    policy_no: String,
}

pub(super) async fn underwrite(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
    Form(form): Form<UnderwriteForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Underwrite, "/policies/underwrite").await?;
    let result = state.store.policies().underwrite_policy(&user.session.actor, id, &form.policy_no).await;
    act(&state, &user, id, result, "underwritten").await
}

#[derive(Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    reason: String,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
    Form(form): Form<CancelForm>,
) -> Result<Response, WebError> {
    let result = state.store.policies().cancel_policy(&user.session.actor, id, &form.reason).await;
    act(&state, &user, id, result, "cancelled").await
}

#[derive(Deserialize)]
pub(super) struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    receipt_no: String,
    #[serde(default)]
    paid_on: String,
}

pub(super) async fn payment(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
    Form(form): Form<PaymentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/policies/payments").await?;
    let parsed = forms::money("缴费金额", &form.amount)
        .and_then(|amount| Ok((amount, forms::date("缴费日期", &form.paid_on)?)));
    let (amount, paid_on) = match parsed {
        Ok(values) => values,
        Err(message) => return policy_page(&state, &user, id, None, Some(message)).await,
    };
    let result = state
        .store
        .policies()
        .record_payment(&user.session.actor, id, amount, &form.method, &form.receipt_no, paid_on)
        .await;
    act(&state, &user, id, result, "paid").await
}
