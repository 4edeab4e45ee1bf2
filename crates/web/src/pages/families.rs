//! Families and their members: list, register, detail, member events, moves, consents, reveals.

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
