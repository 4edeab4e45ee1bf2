//! Gifted policies in bulk (送保): select, preview, confirm.

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
