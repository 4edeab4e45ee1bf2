//! Guanai's web layer: server-rendered pages (askama templates) and the JSON API under
//! `/api/v1`, on axum. Handlers are thin twins: they parse the request into domain types
//! through the one request layer (`requests`, shared by pages and API), call the store with
//! the request's [`guanai_store::Actor`], and render the answer.
//!
//! Error policy: handlers return [`WebError`] (pages) or [`ApiError`] (JSON). Both show a
//! Chinese sentence the user can act on, map a store conflict to 409 and a missing or
//! out-of-scope record to 404, and log a database failure without ever showing SQL.

mod api;
mod assets;
mod charts;
mod config;
mod download;
mod error;
mod files;
mod format;
mod limits;
mod metrics;
mod pages;
mod requests;
mod router;
mod session;
mod state;

pub use api::openapi::document as openapi_document;
pub use config::WebConfig;
pub use error::{ApiError, WebError};
pub use metrics::Metrics;
pub use pages::reports::bulletin_document;
pub use router::router;
pub use session::{CSRF_FIELD, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
pub use state::AppState;
