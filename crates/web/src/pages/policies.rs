//! Enrolment of one family, policies, underwriting, payments, certificates and their public check.

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
