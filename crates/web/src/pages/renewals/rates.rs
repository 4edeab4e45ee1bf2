//! The renewal rate table: the season's curve day by day (an SVG drawn by `charts`, the
//! numbers in a table beside it), counties, townships, villages and agents ranked with the
//! targets set beside them, and year on year since 2021 in total and per county.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::renewals::shown_rate;
use guanai_domain::Permission;
use guanai_store::renewals::{RateRow, RateTable};

use crate::charts::{self, Series};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::form::render_form;
use crate::pages::{require, Crumb, Shell};
use crate::requests::forms;
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub(super) struct RatesFilter {
    #[serde(default)]
    year: String,
}

#[derive(Template)]
#[template(path = "renewals_rates.html")]
struct RatesPage {
    shell: Shell,
    year: String,
    table: Option<RateTable>,
    names: HashMap<String, String>,
    error: Option<String>,
}

impl RatesPage {
    fn rate(&self, rate: &Option<u64>) -> String {
        shown_rate(*rate)
    }

    /// The ranked tables: counties, townships, villages.
    fn sections(&self) -> Vec<(&'static str, &[RateRow])> {
        match &self.table {
            Some(t) => vec![
                ("县（市、区）排名", t.counties.as_slice()),
                ("乡镇（街道）排名", t.townships.as_slice()),
                ("村（社区）排名", t.villages.as_slice()),
            ],
            None => Vec::new(),
        }
    }

    fn place(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }

    /// A target in tenths of a percent as people read it, or `—` where none is set.
    fn target(&self, permille: &Option<u32>) -> String {
        shown_rate(permille.map(u64::from))
    }

    /// Whether a rate reaches its target: `met`, `short`, or nothing to compare.
    fn against(&self, rate: &Option<u64>, permille: &Option<u32>) -> &'static str {
        match (rate, permille) {
            (Some(r), Some(t)) if *r >= u64::from(*t) => "met",
            (Some(_), Some(_)) => "short",
            _ => "",
        }
    }

    /// The season's curve: households renewed by each day, and the target's level.
    fn curve_svg(&self) -> String {
        let Some(t) = &self.table else { return String::new() };
        let points = t.curve.iter().map(|p| (p.day, p.cumulative)).collect();
        let series = [Series { name: "已续保户数".to_owned(), color: "#1677ff", points, dashed: false }];
        let level = t.total.target_permille.map(|goal| {
            let households = (t.total.counts.due_households * u64::from(goal)).div_ceil(1000);
            (households, format!("目标{}（{households}户）", shown_rate(Some(u64::from(goal)))))
        });
        charts::lines(
            &format!("{}年度到期保单续保进度", t.year),
            &series,
            level.as_ref().map(|(v, name)| (*v, name.as_str())),
        )
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<RatesFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/renewals/rates").await?;
    let actor = &user.session.actor;
    let year = match filter.year.trim() {
        "" => Ok(forms::this_year(state.today()) - 1),
        raw => forms::number("年度", raw, 2000, 2100),
    };
    let (table, error) = match year {
        Ok(year) => (Some(state.store.renewals().renewal_rates(actor, year).await?), None),
        Err(message) => (None, Some(message)),
    };
    let codes: Vec<&str> = table
        .iter()
        .flat_map(|t| t.counties.iter().chain(&t.townships).chain(&t.villages))
        .map(|r| r.region_code.as_str())
        .chain(table.iter().flat_map(|t| t.agents.iter().map(|a| a.township_code.as_str())))
        .collect();
    let names = state.store.regions().region_names(&codes).await?;
    let trail = vec![Crumb::link("待续保清单", "/renewals"), Crumb::here("续保率")];
    let shell = Shell::new(&state, &user.session, "续保率", "/renewals", trail).await?;
    let failed = error.is_some();
    let year = table.as_ref().map(|t| t.year.to_string()).unwrap_or(filter.year);
    render_form(&RatesPage { shell, year, table, names, error }, failed)
}
