//! Enrolment of one family, policies, underwriting, payments, certificates and their
//! public check. An agent enrols on a phone in two steps: choose the package and members,
//! then confirm the premium and who pays what.
//!
//! `enrol` the two steps, `list` the policy list, `detail` one policy's page, `actions` its
//! state changes and payments, `certificate` the printable certificate and its public check.

mod actions;
mod certificate;
mod detail;
mod enrol;
mod list;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/families/{id}/enrol", get(enrol::form).post(enrol::confirm))
        .route("/families/{id}/enrol/quote", post(enrol::quote))
        .route("/policies", get(list::list))
        .route("/policies/{id}", get(detail::show))
        .route("/policies/{id}/submit", post(actions::submit))
        .route("/policies/{id}/underwrite", post(actions::underwrite))
        .route("/policies/{id}/cancel", post(actions::cancel))
        .route("/policies/{id}/payments", post(actions::payment))
        .route("/policies/{id}/certificate", get(certificate::certificate))
        .route("/verify", get(certificate::verify))
}
