//! The user's own account: changing the password (forced after a first login).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Form;
use axum::Router;
use guanai_domain::Password;
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::form::render_form;
use crate::pages::{render, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/account/password", get(form).post(submit))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    shell: Shell,
    forced: bool,
    error: Option<String>,
}

async fn page(state: &AppState, user: &PageUser, error: Option<String>) -> Result<PasswordPage, WebError> {
    let shell =
        Shell::new(state, &user.session, "修改密码", "/account/password", vec![Crumb::here("修改密码")])
            .await?;
    Ok(PasswordPage { shell, forced: user.session.must_change_password, error })
}

pub async fn form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    render(&page(&state, &user, None).await?)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let result = async {
        if form.new != form.confirm {
            return Err(WebError::BadRequest("两次输入的新密码不一致".to_owned()));
        }
        let new = Password::parse(&form.new).map_err(|e| WebError::BadRequest(e.to_string()))?;
        state.store.users().change_password(&user.session.actor, &form.current, &new, &user.token).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/?password_changed=1").into_response()),
        Err(WebError::BadRequest(message)) => render_form(&page(&state, &user, Some(message)).await?, true),
        Err(other) => Err(other),
    }
}
