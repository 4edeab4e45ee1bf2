//! Batch renewal of the fully funded due families of a region: the form (the region), the
//! preview (households, persons, premium, what each source pays), the confirmation.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::Permission;
use guanai_store::renewals::BatchPreview;
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::requests::renewals::BatchBody;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub(super) struct BatchForm {
    #[serde(default)]
    region: String,
    #[serde(default)]
    expected_households: String,
}

impl BatchForm {
    fn body(&self) -> Result<BatchBody, String> {
        let expected = match self.expected_households.trim() {
            "" => None,
            raw => Some(raw.parse().map_err(|_| "预览结果无效，请重新预览".to_owned())?),
        };
        Ok(BatchBody { region: self.region.clone(), expected_households: expected })
    }
}

#[derive(Template)]
#[template(path = "renewals_batch.html")]
struct BatchPage {
    shell: Shell,
    region: String,
    preview: Option<BatchPreview>,
    error: Option<String>,
}

fn trail() -> Vec<Crumb> {
    vec![Crumb::link("待续保清单", "/renewals"), Crumb::here("批量续保")]
}

async fn page(
    state: &AppState,
    user: &PageUser,
    region: String,
    preview: Option<BatchPreview>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let shell = Shell::new(state, &user.session, "批量续保", "/renewals", trail()).await?;
    let failed = error.is_some();
    render_form(&BatchPage { shell, region, preview, error }, failed)
}

pub(super) async fn form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::BatchRenew, "/renewals/batch").await?;
    let region = user.session.actor.scope().to_string();
    page(&state, &user, region, None, None).await
}

pub(super) async fn preview(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<BatchForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::BatchRenew, "/renewals/batch").await?;
    let query = match form.body().and_then(|b| b.to_query()) {
        Ok(query) => query,
        Err(message) => return page(&state, &user, form.region, None, Some(message)).await,
    };
    match state.store.renewals().batch_preview(&user.session.actor, &query).await {
        Ok(preview) => page(&state, &user, form.region, Some(preview), None).await,
        Err(err) => page(&state, &user, form.region, None, Some(form_error(err)?)).await,
    }
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<BatchForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::BatchRenew, "/renewals/batch").await?;
    let query = match form.body().and_then(|b| b.to_query()) {
        Ok(query) if query.expected.is_some() => query,
        Ok(_) => return page(&state, &user, form.region, None, Some("请先预览再确认".to_owned())).await,
        Err(message) => return page(&state, &user, form.region, None, Some(message)).await,
    };
    match state.store.renewals().batch_renew(&user.session.actor, &query).await {
        Ok(_) => Ok(Redirect::to("/renewals?state=renewed&notice=batch").into_response()),
        Err(err) => page(&state, &user, form.region, None, Some(form_error(err)?)).await,
    }
}
