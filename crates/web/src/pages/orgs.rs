//! Association units and insurer branches within one's scope.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use guanai_domain::Permission;
use guanai_store::orgs::Org;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/orgs", get(list))
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    shell: Shell,
    orgs: Vec<Org>,
    region_names: HashMap<String, String>,
}

impl OrgsPage {
    fn region_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.region_names.get(code).map(String::as_str).unwrap_or(code)
    }
}

pub async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewOrgs, "/orgs").await?;
    let orgs = state.store.orgs().list_orgs(&user.session.actor).await?;
    let codes: Vec<&str> = orgs.iter().map(|o| o.region_code.as_str()).collect();
    let region_names = state.store.regions().region_names(&codes).await?;
    let shell = Shell::new(&state, &user.session, "机构", "/orgs", vec![Crumb::here("机构")]).await?;
    render(&OrgsPage { shell, orgs, region_names })
}
