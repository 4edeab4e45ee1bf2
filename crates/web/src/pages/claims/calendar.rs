//! The working-day calendar the claims' clocks count on: the city administrator types
//! the year's holidays and make-up working days (调休) as the State Council announces
//! them, one line each (`2026-10-01 至 2026-10-07 休 国庆节`, `2026-10-10 班`).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::Permission;
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "claims_calendar.html")]
struct CalendarPage {
    shell: Shell,
    text: String,
    saved: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct CalendarForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    user: &PageUser,
    text: String,
    saved: bool,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("理赔", "/claims"), Crumb::here("工作日历")];
    let shell = Shell::new(state, &user.session, "工作日历", "/claims", trail).await?;
    let failed = error.is_some();
    render_form(&CalendarPage { shell, text, saved, error }, failed)
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    axum::extract::Query(query): axum::extract::Query<CalendarForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::EditWorkCalendar, "/settings/calendar").await?;
    let text = state.store.claims().calendar_text_for(&user.session.actor).await?;
    page(&state, &user, text, query.saved.is_some(), None).await
}

pub(super) async fn save(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<CalendarForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::EditWorkCalendar, "/settings/calendar").await?;
    match state.store.claims().save_calendar(&user.session.actor, &form.text).await {
        Ok(()) => Ok(Redirect::to("/settings/calendar?saved=1").into_response()),
        Err(err) => page(&state, &user, form.text, false, Some(form_error(err)?)).await,
    }
}
