//! Who is asking, and may this request change anything. One middleware loads the session
//! for every request and checks the CSRF token of every state-changing one, so no handler
//! can forget to; the extractors below hand the session to handlers.

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use guanai_store::audit::AuditEvent;
use guanai_store::sessions::Session;

use crate::config::WebConfig;
use crate::error::{ApiError, WebError};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "guanai_session";
/// Double-submit token of the login form, which is posted before any session exists.
pub const LOGIN_CSRF_COOKIE: &str = "guanai_login_csrf";
/// Name of the hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Header carrying the CSRF token for API calls.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Largest form body the CSRF check reads.
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// What the middleware learned about a request.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub ip: String,
    /// Served over TLS (directly or behind a trusted proxy): cookies get `Secure`.
    pub secure: bool,
    pub session: Option<Session>,
    pub session_token: Option<String>,
    /// A session cookie came with the request (if `session` is `None`, it had expired).
    pub had_session_cookie: bool,
}

/// The value of the cookie `name` the request came with (`None` when absent or empty).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned()).filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site, Secure over TLS.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_seconds: Option<i64>) -> String {
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure);
    if let Some(age) = max_age_seconds {
        cookie = cookie.max_age(cookie::time::Duration::seconds(age));
    }
    cookie.build().to_string()
}

/// The client's address. Behind a trusted proxy it is the right-most `X-Forwarded-For`
/// entry, the one the proxy appended; entries to its left were written by the client and
/// prove nothing.
pub(crate) fn client_ip(request: &Request, config: &WebConfig) -> String {
    if config.trust_proxy {
        if let Some(forwarded) = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next().map(str::trim).filter(|hop| !hop.is_empty()))
        {
            return forwarded.to_owned();
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn is_tls(request: &Request, config: &WebConfig) -> bool {
    config.secure_cookies
        || (config.trust_proxy
            && request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https"))
}

/// Compares tokens in time that does not depend on where they differ (`subtle`).
fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn submitted_token(parts: &Parts, body: &[u8]) -> Option<String> {
    if let Some(value) = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(value.to_owned());
    }
    let from_pairs = |raw: &[u8]| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
            .ok()?
            .into_iter()
            .find(|(key, _)| key == CSRF_FIELD)
            .map(|(_, value)| value)
    };
    if is_form(parts) {
        if let Some(token) = from_pairs(body) {
            return Some(token);
        }
    }
    parts.uri.query().and_then(|q| from_pairs(q.as_bytes()))
}

/// Loads the session and enforces CSRF on every method but GET, HEAD and OPTIONS.
pub async fn session_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = client_ip(&request, &state.config);
    let secure = is_tls(&request, &state.config);
    let is_api = request.uri().path().starts_with("/api/");
    let token = cookie(request.headers(), SESSION_COOKIE);
    let session = match &token {
        Some(token) => match state.store.sessions().session(token, &ip, &state.config.login_policy).await {
            Ok(session) => session,
            Err(err) => return respond(is_api, err.into()),
        },
        None => None,
    };
    let mut request = request;
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let is_login = request.uri().path() == "/login";
    if !safe && (session.is_some() || is_login) {
        let expected = if is_login {
            cookie(request.headers(), LOGIN_CSRF_COOKIE)
        } else {
            session.as_ref().map(|s| s.csrf_token.clone())
        };
        let (parts, body) = request.into_parts();
        // Only a urlencoded form carries its token in the body; other bodies (JSON,
        // uploads) carry it in the header or the query string and pass through unread.
        let (body, bytes) = if is_form(&parts) {
            match axum::body::to_bytes(body, FORM_LIMIT).await {
                Ok(bytes) => (Body::from(bytes.clone()), bytes),
                Err(_) => return respond(is_api, WebError::BadRequest("提交的内容过大".to_owned())),
            }
        } else {
            (body, axum::body::Bytes::new())
        };
        let submitted = submitted_token(&parts, &bytes);
        let valid = matches!((&expected, &submitted), (Some(e), Some(s)) if constant_time_eq(e, s));
        if !valid {
            if let Some(session) = &session {
                let event = AuditEvent::denied("csrf", "请求", parts.uri.path().to_owned())
                    .with_detail("CSRF 令牌缺失或不符");
                if let Err(err) = state.store.audit(&session.actor, event).await {
                    return respond(is_api, err.into());
                }
            }
            return respond(is_api, WebError::Csrf);
        }
        request = Request::from_parts(parts, body);
    }
    request.extensions_mut().insert(RequestContext {
        ip,
        secure,
        had_session_cookie: token.is_some(),
        session_token: token,
        session,
    });
    next.run(request).await
}

fn respond(is_api: bool, err: WebError) -> Response {
    if is_api {
        ApiError(err).into_response()
    } else {
        err.into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| WebError::Internal("session middleware missing".to_owned()))
    }
}

/// A logged-in user on a page. Without a session it redirects to the login page (saying
/// the session expired if a cookie came); with a password to change, to that page.
pub struct PageUser {
    pub session: Session,
    pub token: String,
}

impl<S: Send + Sync> FromRequestParts<S> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context =
            RequestContext::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let path = parts.uri.path();
        let (Some(session), Some(token)) = (context.session, context.session_token) else {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut target = format!("/login?next={}", encode(next));
            if context.had_session_cookie {
                target.push_str("&expired=1");
            }
            return Err(Redirect::to(&target).into_response());
        };
        if session.must_change_password && path != "/account/password" && path != "/logout" {
            return Err(Redirect::to("/account/password").into_response());
        }
        Ok(PageUser { session, token })
    }
}

/// A logged-in user of the JSON API; `401` without a session.
pub struct ApiUser {
    pub session: Session,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = RequestContext::from_request_parts(parts, state).await?;
        match context.session {
            Some(session) if !session.must_change_password => Ok(ApiUser { session }),
            Some(_) => Err(ApiError(WebError::Forbidden("请先修改初始密码".to_owned()))),
            None => Err(ApiError(WebError::Unauthenticated)),
        }
    }
}

pub fn encode(raw: &str) -> String {
    serde_urlencoded::to_string([("", raw)]).map(|s| s[1..].to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_match_only_when_equal() {
        assert!(super::constant_time_eq("a1b2c3", "a1b2c3"));
        assert!(!super::constant_time_eq("a1b2c3", "a1b2c4"));
        assert!(!super::constant_time_eq("a1b2c3", "a1b2c"));
        assert!(!super::constant_time_eq("", "a"));
    }
}
