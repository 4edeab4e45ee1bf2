//! Renewal season (续保): the due list and its spreadsheet (`mod.rs`), renewing one family
//! on a phone in two steps (`renew`), batch renewal with its preview (`batch`), the lapse
//! follow-ups and the agent's home panel (`follow_ups`), the renewal rate (`rates`).

mod batch;
mod follow_ups;
mod rates;
mod renew;

pub(crate) use follow_ups::home_panels;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use guanai_domain::Permission;
use guanai_import::exports::place_codes;
use guanai_store::renewals::DuePolicy;
use serde::Deserialize;

use crate::download::xlsx;
use crate::error::WebError;
use crate::format::TagColor;
use crate::pages::form::render_form;
use crate::pages::{query, require, Crumb, Shell};
use crate::requests::renewals::DueFilter;
use crate::session::PageUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/renewals", get(due_list))
        .route("/renewals/export.xlsx", get(export))
        .route("/renewals/due/{id}", get(renew::form).post(renew::confirm))
        .route("/renewals/due/{id}/quote", post(renew::quote))
        .route("/renewals/batch", get(batch::form).post(batch::confirm))
        .route("/renewals/batch/preview", post(batch::preview))
        .route("/renewals/follow-ups", get(follow_ups::list))
        .route("/renewals/follow-ups/{id}", post(follow_ups::close))
        .route("/renewals/rates", get(rates::show))
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "renewals_due.html")]
struct DuePage {
    shell: Shell,
    filter: DueFilter,
    due: Vec<DuePolicy>,
    names: HashMap<String, String>,
    total: u64,
    page: u64,
    pages: u64,
    error: Option<String>,
    notice: Option<String>,
    prev_link: Option<String>,
    next_link: Option<String>,
    export_link: String,
    can_renew: bool,
    can_batch: bool,
}

impl DuePage {
    fn place(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }
}

/// The due list: filters, one row a due policy, the export and the batch.
async fn due_list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<DueFilter>,
    Query(notice): Query<Notice>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/renewals").await?;
    let actor = &user.session.actor;
    let (due, total, error) = match filter.to_query(PER_PAGE) {
        Ok(q) => {
            let found = state.store.renewals().due_list(actor, &q).await?;
            (found.policies, found.total, None)
        }
        Err(message) => (Vec::new(), 0, Some(message)),
    };
    let codes: Vec<&str> = due.iter().map(|d| d.village_code.as_str()).collect();
    let names = state.store.regions().region_names(&codes).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let link = |page: u64, path: &str| {
        format!(
            "{path}?{}",
            query(&[
                ("region", &filter.region),
                ("package", &filter.package),
                ("state", &filter.state),
                ("page", &page.to_string())
            ])
        )
    };
    let page = filter.page();
    let shell =
        Shell::new(&state, &user.session, "续保", "/renewals", vec![Crumb::here("待续保清单")]).await?;
    let failed = error.is_some();
    let notice = notice.notice.map(|n| match n.as_str() {
        "batch" => "批量续保已完成".to_owned(),
        _ => "已办理".to_owned(),
    });
    render_form(
        &DuePage {
            shell,
            prev_link: (page > 0).then(|| link(page - 1, "/renewals")),
            next_link: (page + 1 < pages).then(|| link(page + 1, "/renewals")),
            export_link: link(0, "/renewals/export.xlsx"),
            page,
            filter,
            due,
            names,
            total,
            pages,
            error,
            notice,
            can_renew: actor.can(Permission::Enrol),
            can_batch: actor.can(Permission::BatchRenew),
        },
        failed,
    )
}

/// The due list as filtered, every page of it, as a spreadsheet.
async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<DueFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/renewals").await?;
    let q = filter.to_query(1000).map_err(WebError::BadRequest)?;
    let due = state.store.renewals().export_due(&user.session.actor, &q).await?;
    let names =
        state.store.regions().region_names(&place_codes(due.iter().map(|d| d.village_code.as_str()))).await?;
    let bytes = guanai_import::renewals::due_xlsx(&due, &names)?;
    Ok(xlsx("待续保清单.xlsx", "renewals-due.xlsx", bytes))
}
