//! Signing in to a session on the phone: the agent types the code shown at the session
//! (or opens the QR link `/training/sign-in?code=…`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use guanai_domain::Permission;
use guanai_store::training::SignedIn;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::requests::training::SignInRequest;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "training_sign_in.html")]
struct SignInPage {
    shell: Shell,
    code: String,
    done: Option<SignedIn>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    user: &PageUser,
    code: String,
    done: Option<SignedIn>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("我的工作", "/agents/me"), Crumb::here("培训签到")];
    let shell = Shell::new(state, &user.session, "培训签到", "/agents/me", trail).await?;
    let failed = error.is_some();
    render_form(&SignInPage { shell, code, done, error }, failed)
}

pub(super) async fn form(
    State(state): State<AppState>,
    user: PageUser,
    Query(request): Query<SignInRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::SignInTraining, "/training/sign-in").await?;
    page(&state, &user, request.code, None, None).await
}

pub(super) async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    Form(request): Form<SignInRequest>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::SignInTraining, "/training/sign-in").await?;
    let code = match request.parse() {
        Ok(code) => code,
        Err(message) => return page(&state, &user, request.code, None, Some(message)).await,
    };
    match state.store.training().sign_in(&user.session.actor, &code).await {
        Ok(done) => page(&state, &user, String::new(), Some(done), None).await,
        Err(err) => page(&state, &user, request.code, None, Some(form_error(err)?)).await,
    }
}
