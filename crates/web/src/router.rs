//! The app: every feature's pages (each module's `routes()`), the JSON API under `/api/v1`,
//! the session, metrics and security layers.

use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::get;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{api, assets, metrics, pages, session};

pub fn router(state: AppState) -> Router {
    // Every route under /api/v1, each documented (`api::routes`).
    let (api, _) = api::routes().split_for_parts();
    let app = Router::new()
        .merge(pages::routes())
        .merge(api)
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::session_layer))
        .route("/healthz", get(pages::ops::healthz))
        .route("/metrics", get(pages::ops::metrics))
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .route_layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(TraceLayer::new_for_http());
    with_security_headers(app).with_state(state)
}

/// Our own script and stylesheet only, never inline; no framing by any site.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every response carries. Pages, API answers and downloads hold personal data,
/// so nothing is cached unless the handler said otherwise (the static assets do).
fn with_security_headers(router: Router<AppState>) -> Router<AppState> {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(fixed(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(fixed(header::REFERRER_POLICY, "same-origin"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
