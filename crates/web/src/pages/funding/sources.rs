//! The list of a year's funding sources and the form registering a source.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::funding::FundingKind;
use guanai_domain::{Permission, Uscc};
use guanai_store::funding::{NewSource, Source};
use guanai_store::sessions::Session;
use serde::Deserialize;

use super::{names_of, year_choices};
use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::forms::{self, this_year, year_or_current};
use crate::session::PageUser;
use crate::state::AppState;

/// The kinds a source may be registered as: the family's own part is computed, not a
/// source.
fn source_kinds() -> Vec<FundingKind> {
    FundingKind::ALL.into_iter().filter(|k| *k != FundingKind::Family).collect()
}

// ---- the list ------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct YearFilter {
    #[serde(default)]
    year: String,
}

#[derive(Template)]
#[template(path = "funding.html")]
struct FundingPage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    sources: Vec<Source>,
    region_names: HashMap<String, String>,
    can_manage: bool,
}

impl FundingPage {
    fn region_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.region_names.get(code).map(String::as_str).unwrap_or(code)
    }
}

/// The sources of one year visible to the user, with their ledger totals.
pub async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<YearFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFunding, "/funding").await?;
    let actor = &user.session.actor;
    let year = year_or_current(&filter.year, state.today()).map_err(WebError::BadRequest)?;
    let sources = state.store.funding().sources(actor, Some(year)).await?;
    let codes: Vec<&str> = sources.iter().map(|s| s.region_code.as_str()).collect();
    let region_names = names_of(&state, &codes).await?;
    let shell =
        Shell::new(&state, &user.session, "资金来源", "/funding", vec![Crumb::here("资金来源")]).await?;
    render(&FundingPage {
        shell,
        year,
        years: year_choices(state.today()),
        sources,
        region_names,
        can_manage: actor.can(Permission::ManageFunding),
    })
}

// ---- a new source --------------------------------------------------------------------

/// The values of the new-source form, kept to show again after an error.
#[derive(Deserialize, Default)]
pub struct SourceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    payer: String,
    #[serde(default)]
    uscc: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    pledged: String,
}

impl SourceForm {
    fn parse(&self) -> Result<NewSource, String> {
        let kind = FundingKind::parse(&self.kind)
            .filter(|k| *k != FundingKind::Family)
            .ok_or_else(|| "请选择资金类型".to_owned())?;
        let uscc = match self.uscc.trim() {
            "" => None,
            raw => Some(Uscc::parse(raw).map_err(|e| e.to_string())?),
        };
        Ok(NewSource {
            name: self.name.clone(),
            kind,
            payer: self.payer.clone(),
            uscc,
            year: forms::number("年度", &self.year, 2000, 2100)?,
            region: forms::region("区域", &self.region)?,
            pledged: forms::money("认捐（预算）金额", &self.pledged)?,
        })
    }
}

#[derive(Template)]
#[template(path = "funding_new.html")]
struct NewSourcePage {
    shell: Shell,
    form: SourceForm,
    kinds: Vec<FundingKind>,
    error: Option<String>,
}

async fn new_source_page(
    state: &AppState,
    session: &Session,
    form: SourceForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("资金来源", "/funding"), Crumb::here("新增资金来源")];
    let shell = Shell::new(state, session, "新增资金来源", "/funding", trail).await?;
    let failed = error.is_some();
    render_form(&NewSourcePage { shell, form, kinds: source_kinds(), error }, failed)
}

/// The form registering a funding source; the region defaults to the user's own.
pub async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/new").await?;
    let form = SourceForm {
        year: this_year(state.today()).to_string(),
        region: user.session.actor.scope().to_string(),
        ..Default::default()
    };
    new_source_page(&state, &user.session, form, None).await
}

/// Registers a funding source within the user's scope.
pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<SourceForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_source_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.funding().create_source(&user.session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/funding/{id}")).into_response()),
        Err(err) => new_source_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}
