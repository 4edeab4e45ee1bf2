//! The claims of the user's region: the insurer's work queue ordered by the clock
//! (`filter=open`), due soon, breached, waiting for papers, or all.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::claims::ClaimStatus;
use guanai_domain::Permission;
use guanai_store::claims::ClaimSummary;

use crate::error::WebError;
use crate::format::TagColor;
use crate::pages::form::render_form;
use crate::pages::{query, require, Crumb, Shell};
use crate::requests::claims::ClaimListQuery;
use crate::session::PageUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;

/// The list's filters as links: code and label.
pub(super) const FILTERS: [(&str, &str); 5] = [
    ("open", "待办（按时限）"),
    ("due_soon", "即将到期"),
    ("breached", "已超期"),
    ("papers_pending", "待补材料"),
    ("all", "全部"),
];

#[derive(Template)]
#[template(path = "claims_list.html")]
struct ListPage {
    shell: Shell,
    filter: ClaimListQuery,
    claims: Vec<ClaimSummary>,
    village_names: HashMap<String, String>,
    total: u64,
    page: u64,
    pages: u64,
    error: Option<String>,
    prev_link: Option<String>,
    next_link: Option<String>,
    statuses: [ClaimStatus; 8],
    filters: [(&'static str, &'static str); 5],
    /// The insurer's users see the claims exchange.
    can_exchange: bool,
}

impl ListPage {
    fn village(&self, code: &str) -> String {
        self.village_names.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }

    fn current(&self, code: &str) -> bool {
        self.filter.filter == code || (code == "all" && self.filter.filter.is_empty())
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ClaimListQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewClaims, "/claims").await?;
    let actor = &user.session.actor;
    let (claims, total, error) = match filter.to_query(PER_PAGE) {
        Ok(query) => {
            let found = state.store.claims().claims(actor, &query).await?;
            (found.claims, found.total, None)
        }
        Err(message) => (Vec::new(), 0, Some(message)),
    };
    let codes: Vec<&str> = claims.iter().map(|c| c.village_code.as_str()).collect();
    let village_names = state.store.regions().region_names(&codes).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let link = |page: u64| {
        format!(
            "/claims?{}",
            query(&[
                ("filter", &filter.filter),
                ("status", &filter.status),
                ("region", &filter.region),
                ("page", &page.to_string())
            ])
        )
    };
    let shell = Shell::new(&state, &user.session, "理赔", "/claims", vec![Crumb::here("理赔")]).await?;
    let page = filter.page();
    let failed = error.is_some();
    render_form(
        &ListPage {
            can_exchange: user.session.actor.can(guanai_domain::Permission::DecideClaims),
            shell,
            prev_link: (page > 0).then(|| link(page - 1)),
            next_link: (page + 1 < pages).then(|| link(page + 1)),
            page,
            filter,
            claims,
            village_names,
            total,
            pages,
            error,
            statuses: ClaimStatus::ALL,
            filters: FILTERS,
        },
        failed,
    )
}
