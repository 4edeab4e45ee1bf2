//! Granting a region below a source's own the right to spend it (送保), and withdrawing
//! the grant; the rule itself is the store's (`guanai_store::grants`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::{Permission, RegionCode};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::require;
use crate::requests::ids::{self, FundingSource, PathId};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    region: String,
}

fn parse_region(region: &str) -> Result<RegionCode, WebError> {
    RegionCode::parse(region).map_err(|e| WebError::BadRequest(format!("授权区划：{e}")))
}

pub async fn grant(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<FundingSource>,
    Form(form): Form<GrantForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/grants").await?;
    let region = parse_region(&form.region)?;
    state.store.funding().grant_source(&user.session.actor, id, &region).await?;
    Ok(Redirect::to(&format!("/funding/{id}#grants")).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    user: PageUser,
    Path((id, region)): Path<(String, String)>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/grants").await?;
    let (id, region) = (ids::parse_id::<FundingSource>(&id)?, parse_region(&region)?);
    state.store.funding().revoke_source_grant(&user.session.actor, id, &region).await?;
    Ok(Redirect::to(&format!("/funding/{id}#grants")).into_response())
}
