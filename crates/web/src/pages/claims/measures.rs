//! The claims' measures and the families' satisfaction per county (and its insurer
//! sub-branch) for a cover year: raw counts with the ratios they give, for the association
//! and the insurer alike (each within its scope).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::Permission;
use guanai_store::claims::ClaimMeasures;

use crate::error::WebError;
use crate::pages::form::render_form;
use crate::pages::{require, Crumb, Shell};
use crate::requests::claims::MeasuresQuery;
use crate::requests::forms::this_year;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "claims_measures.html")]
struct MeasuresPage {
    shell: Shell,
    measures: ClaimMeasures,
    error: Option<String>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<MeasuresQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewClaims, "/claims").await?;
    let (year, error) = match query.year(state.today()) {
        Ok(year) => (year, None),
        Err(message) => (this_year(state.today()), Some(message)),
    };
    let measures = state.store.claims().measures(&user.session.actor, year).await?;
    let trail = vec![Crumb::link("理赔", "/claims"), Crumb::here("理赔指标")];
    let shell = Shell::new(&state, &user.session, "理赔指标与满意度", "/claims/measures", trail).await?;
    let failed = error.is_some();
    render_form(&MeasuresPage { shell, measures, error }, failed)
}
