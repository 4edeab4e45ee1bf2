//! Browsing the region tree within one's scope.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use guanai_domain::{Permission, RegionCode};
use guanai_store::regions::Region;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/regions", get(root)).route("/regions/{code}", get(show))
}

#[derive(Template)]
#[template(path = "regions.html")]
struct RegionPage {
    shell: Shell,
    region: Region,
    children: Vec<Region>,
}

/// The tree starts at the user's own region.
pub async fn root(user: PageUser) -> Response {
    Redirect::to(&format!("/regions/{}", user.session.actor.scope())).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    require(&state, &user.session, Permission::ViewRegions, "/regions").await?;
    let code = RegionCode::parse(&code).map_err(|e| WebError::NotFound(e.to_string()))?;
    let region = state.store.regions().region(actor, &code).await?;
    let children = state.store.regions().region_children(actor, &code).await?;
    // The breadcrumb walks from the user's own region down to this one.
    let chain: Vec<RegionCode> = code.ancestry().into_iter().filter(|c| actor.sees(c)).collect();
    let chain_refs: Vec<&str> = chain.iter().map(|c| c.as_str()).collect();
    let names = state.store.regions().region_names(&chain_refs).await?;
    let mut trail: Vec<Crumb> = chain
        .iter()
        .map(|c| {
            Crumb::link(
                names.get(c.as_str()).cloned().unwrap_or_else(|| c.to_string()),
                format!("/regions/{c}"),
            )
        })
        .collect();
    if let Some(last) = trail.last_mut() {
        last.href = None;
    }
    let shell = Shell::new(&state, &user.session, &region.name, "/regions", trail).await?;
    render(&RegionPage { shell, region, children })
}
