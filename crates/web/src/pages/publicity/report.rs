//! The report of a year's activities by kind and county, with the enrolments and premium
//! they brought.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::Permission;
use guanai_store::publicity::ActivityReport;
use std::collections::HashMap;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::publicity::ActivityQuery;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "publicity_report.html")]
struct ReportPage {
    shell: Shell,
    report: ActivityReport,
    names: HashMap<String, String>,
}

impl ReportPage {
    fn name<'a>(&'a self, code: &'a str) -> &'a str {
        self.names.get(code).map(String::as_str).unwrap_or(code)
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<ActivityQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity/report").await?;
    let (year, _) = query.parse(state.today()).map_err(WebError::BadRequest)?;
    let report = state.store.publicity().report(&user.session.actor, year).await?;
    let codes: Vec<&str> = report.rows.iter().map(|r| r.region_code.as_str()).collect();
    let names = state.store.regions().region_names(&codes).await?;
    let trail = vec![Crumb::link("宣传活动", "/publicity"), Crumb::here("活动成效统计")];
    let shell = Shell::new(&state, &user.session, "活动成效统计", "/publicity", trail).await?;
    render(&ReportPage { shell, report, names })
}
