//! Logging in and out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_store::users::LoginOutcome;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::china_time;
use crate::pages::render;
use crate::session::{set_cookie, PageUser, RequestContext, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::state::AppState;

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
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
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

/// Checks the credentials; on success sets the session cookie and goes on.
pub async fn submit(
    State(state): State<AppState>,
    context: RequestContext,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let outcome =
        state.store.login(&form.username, &form.password, &context.ip, &state.config.login_policy).await?;
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
            let delay = state.config.login_failure_delay * failures.clamp(1, 5) as u32;
            tokio::time::sleep(delay).await;
            let left = state.config.login_policy.max_failures - failures;
            if failures > 0 && left <= 2 {
                format!(
                    "用户名或密码错误。再错{left}次，账号将被锁定{}分钟",
                    state.config.login_policy.lockout.num_minutes()
                )
            } else {
                "用户名或密码错误，请重新输入".to_owned()
            }
        }
        LoginOutcome::Locked { until } => {
            format!(
                "连续多次密码错误，账号已锁定，请于{}（北京时间）后再试，或联系管理员解锁",
                china_time(&until)
            )
        }
    };
    let mut response = login_page(
        &context,
        LoginPage {
            csrf: fresh_token(),
            next: safe_next(form.next.as_deref()),
            username: form.username,
            error: Some(error),
            notice: None,
        },
    )?;
    *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    Ok(response)
}

/// Ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    context: RequestContext,
    user: PageUser,
) -> Result<Response, WebError> {
    state.store.end_session(&user.token).await?;
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
    }
}
