//! The policy list: filtered by year, status and region, a page at a time.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::Permission;
use guanai_store::policies::{PolicyStatus, PolicySummary};

use crate::error::WebError;
use crate::format::TagColor;
use crate::pages::form::render_form;
use crate::pages::{query, require, Crumb, Shell};
use crate::requests::policies::PolicyFilter;
use crate::session::PageUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;

#[derive(Template)]
#[template(path = "policies.html")]
struct ListPage {
    shell: Shell,
    filter: PolicyFilter,
    policies: Vec<PolicySummary>,
    village_names: HashMap<String, String>,
    total: u64,
    /// From 0.
    page: u64,
    pages: u64,
    error: Option<String>,
    prev_link: Option<String>,
    next_link: Option<String>,
    statuses: [PolicyStatus; 4],
}

impl ListPage {
    fn village(&self, code: &str) -> String {
        self.village_names.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<PolicyFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies").await?;
    let actor = &user.session.actor;
    let (policies, total, error) = match filter.to_query(PER_PAGE) {
        Ok(query) => {
            let found = state.store.policies().search_policies(actor, &query).await?;
            (found.policies, found.total, None)
        }
        Err(message) => (Vec::new(), 0, Some(message)),
    };
    let codes: Vec<&str> = policies.iter().map(|p| p.village_code.as_str()).collect();
    let village_names = state.store.regions().region_names(&codes).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let link = |page: u64| {
        format!(
            "/policies?{}",
            query(&[
                ("year", &filter.year),
                ("status", &filter.status),
                ("region", &filter.region),
                ("page", &page.to_string())
            ])
        )
    };
    let shell = Shell::new(&state, &user.session, "保单", "/policies", vec![Crumb::here("保单")]).await?;
    let page = filter.page();
    let failed = error.is_some();
    render_form(
        &ListPage {
            shell,
            prev_link: (page > 0).then(|| link(page - 1)),
            next_link: (page + 1 < pages).then(|| link(page + 1)),
            page,
            filter,
            policies,
            village_names,
            total,
            pages,
            error,
            statuses: PolicyStatus::ALL,
        },
        failed,
    )
}
