//! Targets (任务指标): the city sets its counties' targets, a county its townships'; the
//! coverage base (应保户数) is entered per village. Entered on one form per region (the
//! regions below it, each with its progress this year), or imported from .xlsx; the form
//! offers the same layout as a spreadsheet to fill in.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::reports::Dimension;
use guanai_domain::targets::check_target_level;
use guanai_domain::{Permission, RegionCode, RegionLevel};
use guanai_import::targets::{import_targets, targets_xlsx};
use guanai_store::reports::{CoverageRow, ReportQuery};
use serde::Deserialize;

use super::MAX_TARGETS_FILE;
use crate::download::xlsx;
use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::funding::year_choices;
use crate::pages::upload::read_upload;
use crate::pages::{require, Crumb, Shell};
use crate::requests::forms;
use crate::requests::reports::TargetsRequest;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct TargetsQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    region: String,
    /// Set after a save or an import: how many regions changed.
    #[serde(default)]
    saved: String,
}

/// One region of the form, with what it has reached this year.
struct Line {
    code: String,
    name: String,
    row: CoverageRow,
    entered_base: Option<u64>,
}

#[derive(Template)]
#[template(path = "reports_targets.html")]
struct TargetsPage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    region: String,
    region_name: String,
    /// The regions below take targets (households, persons, renewal rate).
    targets: bool,
    /// The regions below are villages: they take a coverage base.
    bases: bool,
    lines: Vec<Line>,
    /// What was typed, when the form is shown again.
    typed: HashMap<String, String>,
    saved: Option<usize>,
    error: Option<String>,
    problems: Vec<String>,
    /// Township-level links to enter the villages' bases (the county's form).
    below: Vec<(String, String)>,
}

impl TargetsPage {
    /// The value a field shows: what was typed, else what is set.
    fn value(&self, line: &Line, field: &str) -> String {
        let set = match field {
            "h" => line.row.target_households,
            "p" => line.row.target_persons,
            _ => line.entered_base,
        };
        self.typed
            .get(&format!("{field}_{}", line.code))
            .cloned()
            .unwrap_or_else(|| set.map(|n| n.to_string()).unwrap_or_default())
    }

    fn renewal(&self, line: &Line) -> String {
        self.typed.get(&format!("r_{}", line.code)).cloned().unwrap_or_else(|| {
            line.row
                .target_renewal_permille
                .map(|p| format!("{}.{}", p.get() / 10, p.get() % 10))
                .unwrap_or_default()
        })
    }
}

struct Shown {
    typed: HashMap<String, String>,
    saved: Option<usize>,
    error: Option<String>,
    problems: Vec<String>,
}

async fn page(
    state: &AppState,
    user: &PageUser,
    year: i32,
    region: Option<RegionCode>,
    shown: Shown,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let query = ReportQuery { year, region, by: Dimension::Region };
    let report = state.store.reports().coverage(actor, &query).await?;
    let entered = state.store.targets().targets_under(actor, &report.region, year).await?;
    let level = report.region.level().child();
    let targets = level.is_some_and(|l| check_target_level(actor.scope().level(), l).is_ok());
    let bases = level == Some(RegionLevel::Village);
    let below = if report.region.level() == RegionLevel::County {
        report.rows.iter().map(|r| (r.key.clone(), r.label.clone())).collect()
    } else {
        Vec::new()
    };
    let lines = report
        .rows
        .iter()
        .filter(|r| r.key != report.region.as_str())
        .map(|r| Line {
            code: r.key.clone(),
            name: r.label.clone(),
            entered_base: entered
                .iter()
                .find(|t| t.region_code.as_str() == r.key)
                .and_then(|t| t.values.eligible_households),
            row: r.clone(),
        })
        .collect();
    let trail =
        super::region_trail(state, actor, &report.region, Crumb::link("统计报表", "/reports"), |code| {
            format!("/targets?{}", crate::pages::query(&[("year", &year.to_string()), ("region", code)]))
        })
        .await?;
    let shell = Shell::new(state, &user.session, "任务指标", "/reports", trail).await?;
    let failed = shown.error.is_some() || !shown.problems.is_empty();
    let page = TargetsPage {
        shell,
        year,
        years: year_choices(state.today()),
        region: report.region.to_string(),
        region_name: report.region_name.clone(),
        targets,
        bases,
        lines,
        typed: shown.typed,
        saved: shown.saved,
        error: shown.error,
        problems: shown.problems,
        below,
    };
    render_form(&page, failed)
}

fn none() -> Shown {
    Shown { typed: HashMap::new(), saved: None, error: None, problems: Vec::new() }
}

/// The targets of the regions below the user's region (or a region within it) for a year.
pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<TargetsQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTargets, "/targets").await?;
    let year = forms::year_or_current(&q.year, state.today()).map_err(WebError::BadRequest)?;
    let region = forms::optional_region("区域代码", &q.region).map_err(WebError::BadRequest)?;
    let saved = q.saved.parse().ok();
    page(&state, &user, year, region, Shown { saved, ..none() }).await
}

/// Saves the form: every row checked, then all written, or the form again with the
/// first mistake and what was typed.
pub async fn save(
    State(state): State<AppState>,
    user: PageUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTargets, "/targets").await?;
    let field =
        |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let region = forms::optional_region("区域代码", &field("region")).map_err(WebError::BadRequest)?;
    let year = forms::year_or_current(&field("year"), state.today()).map_err(WebError::BadRequest)?;
    let changes =
        TargetsRequest::from_form(&fields).and_then(|r| r.to_changes()).map_err(WebError::BadRequest);
    let outcome = match changes {
        Ok(changes) => {
            state.store.targets().set_targets(&user.session.actor, &changes).await.map_err(WebError::from)
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(n) => Ok(Redirect::to(&back(year, region.as_ref(), n)).into_response()),
        Err(err) => {
            let error = Some(form_error(err)?);
            let typed = fields.into_iter().filter(|(k, _)| k.contains('_')).collect();
            page(&state, &user, year, region, Shown { typed, error, ..none() }).await
        }
    }
}

fn back(year: i32, region: Option<&RegionCode>, saved: usize) -> String {
    let region = region.map(RegionCode::as_str).unwrap_or("");
    format!(
        "/targets?{}",
        crate::pages::query(&[
            ("year", &year.to_string()),
            ("region", region),
            ("saved", &saved.to_string())
        ])
    )
}

/// Imports a targets file (.xlsx or .csv) for the year in the URL: all rows or none.
pub async fn import(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<TargetsQuery>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTargets, "/targets").await?;
    let year = forms::year_or_current(&q.year, state.today()).map_err(WebError::BadRequest)?;
    let region = forms::optional_region("区域代码", &q.region).map_err(WebError::BadRequest)?;
    let upload = read_upload(
        &mut multipart,
        MAX_TARGETS_FILE,
        "targets",
        "请选择要导入的任务指标文件（.xlsx 或 .csv）",
    )
    .await;
    let bytes = match upload {
        Ok(upload) => upload.bytes,
        Err(message) => {
            return page(&state, &user, year, region, Shown { error: Some(message), ..none() }).await
        }
    };
    match import_targets(&state.store, &user.session.actor, bytes, year).await {
        Ok(Ok(n)) => Ok(Redirect::to(&back(year, region.as_ref(), n)).into_response()),
        Ok(Err(problems)) => page(&state, &user, year, region, Shown { problems, ..none() }).await,
        Err(guanai_import::ImportError::Unreadable(message)) => {
            page(&state, &user, year, region, Shown { error: Some(message), ..none() }).await
        }
        Err(err) => Err(err.into()),
    }
}

/// The regions below with their targets of the year, in the import's layout: the
/// template to fill in.
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<TargetsQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageTargets, "/targets").await?;
    let actor = &user.session.actor;
    let year = forms::year_or_current(&q.year, state.today()).map_err(WebError::BadRequest)?;
    let region = forms::optional_region("区域代码", &q.region)
        .map_err(WebError::BadRequest)?
        .unwrap_or_else(|| actor.scope().clone());
    let children = state.store.regions().region_children(actor, &region).await?;
    let set = state.store.targets().targets_under(actor, &region, year).await?;
    let list: Vec<(RegionCode, String)> = children.into_iter().map(|r| (r.code, r.name)).collect();
    let bytes = targets_xlsx(&list, &set, year)?;
    Ok(xlsx(&format!("任务指标_{year}年度.xlsx"), &format!("targets-{region}-{year}.xlsx"), bytes))
}
