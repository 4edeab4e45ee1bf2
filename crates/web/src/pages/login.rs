//! Logging in and out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Form;
use axum::Router;
use guanai_store::users::LoginOutcome;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::china_time;
use crate::pages::render;
use crate::session::{set_cookie, PageUser, RequestContext, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/login", get(form).post(submit)).route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// Only paths on this site, so a crafted link cannot send users elsewhere after login.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|path| is_local_path(path)).unwrap_or("/").to_owned()
}

/// A path of this site: printable ASCII starting with a single `/` that is not followed by
/// `/` or `\` (a browser reads both as "another host"), neither as written nor once
/// percent-decoded, and with no control character or space (browsers drop tabs and line
/// breaks, so `/%09/evil` would become `//evil`).
fn is_local_path(path: &str) -> bool {
    let starts_well =
        |text: &str| text.starts_with('/') && !matches!(text.as_bytes().get(1), Some(b'/' | b'\\'));
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    path.bytes().all(|b| b.is_ascii_graphic())
        && starts_well(path)
        && starts_well(&decoded)
        && !decoded.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn login_page(context: &RequestContext, page: LoginPage) -> Result<Response, WebError> {
    let cookie = set_cookie(LOGIN_CSRF_COOKIE, &page.csrf, context.secure, None);
    let mut response = render(&page)?;
    response.headers_mut().append(header::SET_COOKIE, cookie.parse().expect("valid header"));
    Ok(response)
}

fn fresh_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The login form.
pub async fn form(context: RequestContext, Query(query): Query<LoginQuery>) -> Result<Response, WebError> {
    let notice = query.expired.is_some().then(|| "登录已过期，请重新登录".to_owned());
    login_page(
        &context,
        LoginPage {
            csrf: fresh_token(),
            next: safe_next(query.next.as_deref()),
            username: String::new(),
            error: None,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Checks the credentials; on success sets the session cookie and goes on. Attempts are
/// rate-limited per address and for the server (429), and hashed a few at a time.
pub async fn submit(
    State(state): State<AppState>,
    context: RequestContext,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let limits = &state.login_limits;
    let admitted = limits.admit(&context.ip);
    let slot = match admitted {
        Ok(()) => limits.hashing_slot().await,
        Err(_) => None,
    };
    let Some(_slot) = slot else {
        let wait = admitted.err().map_or(10, |too_many| too_many.retry_after.as_secs().max(1));
        let error = format!("登录尝试过于频繁，请{wait}秒后再试");
        let mut response = failed_login(&context, form, error)?;
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response.headers_mut().insert(header::RETRY_AFTER, wait.into());
        return Ok(response);
    };
    let outcome = state
        .store
        .users()
        .login(&form.username, &form.password, &context.ip, &state.config.login_policy)
        .await?;
    drop(_slot);
    // The same words for an unknown name and a wrong password: failures are counted per
    // name and address whether the name exists or not.
    let error = match outcome {
        LoginOutcome::LoggedIn { session_token, must_change_password } => {
            let target = if must_change_password {
                "/account/password".to_owned()
            } else {
                safe_next(form.next.as_deref())
            };
            let max_age = state.config.login_policy.session_idle.num_seconds();
            let mut response = Redirect::to(&target).into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session_token, context.secure, Some(max_age))
                    .parse()
                    .expect("valid header"),
            );
            headers.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, "", context.secure, Some(0)).parse().expect("valid header"),
            );
            return Ok(response);
        }
        LoginOutcome::BadCredentials { failures } => {
            // Growing pauses: each wrong answer in a row waits longer (capped at five).
            let delay = state.config.login_failure_delay * failures.clamp(1, 5) as u32;
            tokio::time::sleep(delay).await;
            let left = state.config.login_policy.max_failures - failures;
            if left <= 2 {
                format!(
                    "用户名或密码错误。再错{left}次，将被锁定{}分钟",
                    state.config.login_policy.lockout.num_minutes()
                )
            } else {
                "用户名或密码错误，请重新输入".to_owned()
            }
        }
        LoginOutcome::Locked { until } => {
            format!(
                "连续多次登录失败，已暂停从此处登录，请于{}（北京时间）后再试，或联系管理员解锁",
                china_time(&until)
            )
        }
    };
    let mut response = failed_login(&context, form, error)?;
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    Ok(response)
}

/// The login form again, with what went wrong.
fn failed_login(context: &RequestContext, form: LoginForm, error: String) -> Result<Response, WebError> {
    login_page(
        context,
        LoginPage {
            csrf: fresh_token(),
            next: safe_next(form.next.as_deref()),
            username: form.username,
            error: Some(error),
            notice: None,
        },
    )
}

/// Ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    context: RequestContext,
    user: PageUser,
) -> Result<Response, WebError> {
    state.store.sessions().end_session(&user.token).await?;
    state
        .store
        .audit(
            &user.session.actor,
            guanai_store::audit::AuditEvent::ok("logout", "用户", user.session.actor.username().to_owned()),
        )
        .await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", context.secure, Some(0)).parse().expect("valid header"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/users?x=1")), "/users?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        for hostile in ["/%09/evil", "/%2F/evil", "/%5Cevil", "/\t/evil", "/a b", "/%00", "/\u{3000}x"] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(Some("/policies?q=%E5%BC%A0")), "/policies?q=%E5%BC%A0");
    }
}
