//! Funding sources, subsidy rules, receipts and ledgers.

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
