//! Granting a region below a source's own the right to spend it (送保), and withdrawing
//! the grant; the rule itself is the store's (`guanai_store::grants`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::{Permission, RegionCode};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::require;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    region: String,
}

fn parse(id: &str, region: &str) -> Result<(i64, RegionCode), WebError> {
    let id = id.parse().map_err(|_| WebError::NotFound(format!("找不到资金来源“{id}”")))?;
    let region = RegionCode::parse(region).map_err(|e| WebError::BadRequest(format!("授权区划：{e}")))?;
    Ok((id, region))
}

pub async fn grant(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<GrantForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/grants").await?;
    let (id, region) = parse(&id, &form.region)?;
    state.store.funding().grant_source(&user.session.actor, id, &region).await?;
    Ok(Redirect::to(&format!("/funding/{id}#grants")).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    user: PageUser,
    Path((id, region)): Path<(String, String)>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/grants").await?;
    let (id, region) = parse(&id, &region)?;
    state.store.funding().revoke_source_grant(&user.session.actor, id, &region).await?;
    Ok(Redirect::to(&format!("/funding/{id}#grants")).into_response())
}
