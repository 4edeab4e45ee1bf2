//! Every route in one place.

use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{api, assets, metrics, pages, session};

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(pages::home::show))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/account/password", get(pages::account::form).post(pages::account::submit))
        .route("/regions", get(pages::regions::root))
        .route("/regions/{code}", get(pages::regions::show))
        .route("/orgs", get(pages::orgs::list))
        .route("/users", get(pages::users::list).post(pages::users::create))
        .route("/users/new", get(pages::users::new_form))
        .route("/users/{id}", get(pages::users::show))
        .route("/users/{id}/unlock", post(pages::users::unlock))
        .route("/audit", get(pages::audit::search))
        .route("/audit/export", get(pages::audit::export))
        .merge(pages::families::routes())
        .merge(pages::policies::routes())
        .merge(pages::funding::routes())
        .merge(pages::products::routes())
        .merge(pages::gifting::routes())
        .merge(pages::imports::routes())
        .merge(pages::exchange::routes());
    // Every route under /api/v1, each documented (`api::routes`).
    let (api, _) = api::routes().split_for_parts();
    let app = Router::new()
        .merge(pages)
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
