//! The printable certificate of an attendee who passed, and the agents not trained since a
//! day (the newly appointed after an election first), per county.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::{Permission, RegionLevel};
use guanai_store::training::{Certificate, UntrainedAgent};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::agents::optional_id;
use crate::requests::forms;
use crate::requests::ids::{PathId, TrainingSession};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub(super) struct CertificateQuery {
    #[serde(default)]
    agent: String,
}

#[derive(Template)]
#[template(path = "training_certificate.html")]
struct CertificatePage {
    certificate: Certificate,
    held_on: String,
}

pub(super) async fn certificate(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<TrainingSession>,
    Query(query): Query<CertificateQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/training").await?;
    let agent = optional_id("学员", &query.agent)
        .map_err(WebError::BadRequest)?
        .ok_or_else(|| WebError::BadRequest("请从培训页面选择学员".to_owned()))?;
    let certificate = state.store.training().certificate(&user.session.actor, id.id, agent).await?;
    let held_on = certificate.held_on.format("%Y年%-m月%-d日").to_string();
    render(&CertificatePage { certificate, held_on })
}

#[derive(Deserialize, Default)]
pub(super) struct UntrainedQuery {
    #[serde(default)]
    since: String,
}

/// The agents of one county.
pub(super) struct CountyGroup {
    pub county: String,
    pub agents: Vec<UntrainedAgent>,
}

#[derive(Template)]
#[template(path = "training_untrained.html")]
struct UntrainedPage {
    shell: Shell,
    since: chrono::NaiveDate,
    groups: Vec<CountyGroup>,
}

pub(super) async fn untrained(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<UntrainedQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/training/untrained").await?;
    let default_since =
        chrono::NaiveDate::from_ymd_opt(forms::this_year(state.today()), 1, 1).expect("1 January");
    let since = forms::optional_date("起始日期", &query.since)
        .map_err(WebError::BadRequest)?
        .unwrap_or(default_since);
    let list = state.store.training().untrained_agents(&user.session.actor, None, since).await?;
    let mut groups: Vec<CountyGroup> = Vec::new();
    for agent in list {
        let county = guanai_domain::RegionCode::parse(&agent.agent.township_code)
            .ok()
            .and_then(|r| r.at_level(RegionLevel::County))
            .map(|r| r.to_string())
            .unwrap_or_default();
        match groups.iter_mut().find(|g| g.county == county) {
            Some(group) => group.agents.push(agent),
            None => groups.push(CountyGroup { county, agents: vec![agent] }),
        }
    }
    let codes: Vec<&str> = groups.iter().map(|g| g.county.as_str()).collect();
    let names = state.store.regions().region_names(&codes).await?;
    for group in &mut groups {
        if let Some(name) = names.get(&group.county) {
            group.county = format!("{name}（{}）", group.county);
        }
    }
    let trail = vec![Crumb::link("培训", "/training"), Crumb::here("未培训的服务专员")];
    let shell = Shell::new(&state, &user.session, "未培训的服务专员", "/training", trail).await?;
    render(&UntrainedPage { shell, since, groups })
}
