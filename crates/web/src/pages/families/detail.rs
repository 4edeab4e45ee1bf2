//! One family's page: members, consents, events and policies, with the forms acting on them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use chrono::NaiveDate;
use guanai_domain::families::{MemberEvent, Relationship};
use guanai_domain::Permission;
use guanai_store::families::{ConsentKind, FamilyDetail, FamilySummary, Person};
use guanai_store::policies::{PolicyQuery, PolicySummary};
use serde::Deserialize;

use super::{CONSENT_KINDS, EVENT_KINDS};
use crate::error::WebError;
use crate::format::{china_time, TagColor};
use crate::pages::form::render_form;
use crate::pages::{require, Crumb, Shell};
use crate::requests::families::MemberForm;
use crate::requests::ids::{Family, PathId};
use crate::session::PageUser;
use crate::state::AppState;

/// A member as the family page shows them.
struct MemberRow {
    id: i64,
    name: String,
    id_number: String,
    revealed: bool,
    /// The birth date, or the age for a role that sees the age only.
    born: String,
    sex: &'static str,
    relationship: &'static str,
    active: bool,
    status: &'static str,
}

struct ConsentRow {
    kind: &'static str,
    child: String,
    given_by: String,
    recorded_by: String,
    recorded_at: String,
}

struct EventRow {
    person: String,
    kind: &'static str,
    date: NaiveDate,
    note: String,
    recorded_by: String,
}

/// A member to choose in a form: id and name.
struct Choice {
    id: i64,
    name: String,
}

/// What a family page shows besides the family: a message, a revealed number, a form.
#[derive(Default)]
pub(super) struct Extras {
    pub(super) error: Option<String>,
    pub(super) notice: Option<&'static str>,
    pub(super) revealed_id: Option<(i64, String)>,
    pub(super) revealed_phone: Option<String>,
    pub(super) member_form: MemberForm,
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    shell: Shell,
    family: FamilySummary,
    village_name: String,
    phone: Option<String>,
    phone_revealed: bool,
    members: Vec<MemberRow>,
    consents: Vec<ConsentRow>,
    events: Vec<EventRow>,
    policies: Vec<PolicySummary>,
    active: Vec<Choice>,
    movable: Vec<Choice>,
    children: Vec<Choice>,
    can_manage: bool,
    can_reveal: bool,
    can_enrol: bool,
    /// The 报案 button: association staff and agents, and the insurer's staff taking a
    /// hotline call (who may not enrol).
    can_report_claims: bool,
    extras: Extras,
    today: NaiveDate,
    relationships: Vec<Relationship>,
    event_kinds: [MemberEvent; 4],
    consent_kinds: [ConsentKind; 3],
}

pub(super) async fn family_page(
    state: &AppState,
    user: &PageUser,
    detail: FamilyDetail,
    extras: Extras,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let FamilyDetail { summary, members, consents, events, revealable } = detail;
    let today = state.today();
    let policies = state
        .store
        .policies()
        .search_policies(
            actor,
            &PolicyQuery { family_id: Some(summary.id), per_page: 50, ..Default::default() },
        )
        .await?
        .policies;
    let village_name = state
        .store
        .regions()
        .region_names(&[summary.village_code.as_str()])
        .await?
        .remove(&summary.village_code)
        .unwrap_or_else(|| summary.village_code.clone());
    let name_of = |id: i64| {
        members.iter().find(|m| m.id == id).map(|m| m.name.to_string()).unwrap_or_else(|| format!("人员{id}"))
    };
    let ended =
        |id: i64| events.iter().rev().find(|e| e.person_id == id && e.kind.ends_membership()).map(|e| e.kind);
    let rows = members
        .iter()
        .map(|m| {
            let revealed = extras.revealed_id.as_ref().filter(|(id, _)| *id == m.id);
            MemberRow {
                id: m.id,
                name: m.name.to_string(),
                id_number: revealed.map(|(_, full)| full.clone()).unwrap_or_else(|| m.id_masked.clone()),
                revealed: revealed.is_some(),
                born: m.born_shown(),
                sex: m.sex.label(),
                relationship: m.relationship.label(),
                active: m.active,
                status: match (m.active, ended(m.id)) {
                    (true, _) => "在册",
                    (false, Some(MemberEvent::Death)) => "死亡",
                    (false, _) => "已迁出",
                },
            }
        })
        .collect();
    let choice = |m: &Person| Choice { id: m.id, name: m.name.to_string() };
    let active: Vec<Choice> = members.iter().filter(|m| m.active).map(choice).collect();
    let movable =
        members.iter().filter(|m| m.active && m.relationship != Relationship::Head).map(choice).collect();
    let children = members.iter().filter(|m| m.active && m.needs_guardian_consent).map(choice).collect();
    let consents = consents
        .iter()
        .map(|c| ConsentRow {
            kind: c.kind.label(),
            child: c.person_id.map(name_of).unwrap_or_default(),
            given_by: c.given_by.to_string(),
            recorded_by: c.recorded_by.clone(),
            recorded_at: china_time(&c.recorded_at),
        })
        .collect();
    let events = events
        .iter()
        .map(|e| EventRow {
            person: name_of(e.person_id),
            kind: e.kind.label(),
            date: e.event_date,
            note: e.note.clone(),
            recorded_by: e.recorded_by.clone(),
        })
        .collect();
    let trail = vec![Crumb::link("家庭档案", "/families"), Crumb::here(format!("{}户", summary.head_name))];
    let title = format!("{}户 · 家庭档案", summary.head_name);
    let shell = Shell::new(state, &user.session, &title, "/families", trail).await?;
    let failed = extras.error.is_some();
    let revealing = extras.revealed_id.is_some() || extras.revealed_phone.is_some();
    let page = FamilyPage {
        shell,
        village_name,
        phone: extras.revealed_phone.clone().or_else(|| summary.phone_masked.clone()),
        phone_revealed: extras.revealed_phone.is_some(),
        family: summary,
        members: rows,
        consents,
        events,
        policies,
        active,
        movable,
        children,
        can_manage: actor.can(Permission::ManageFamilies),
        can_reveal: revealable,
        can_enrol: actor.can(Permission::Enrol),
        can_report_claims: actor.can(Permission::ReportClaims),
        extras,
        today,
        relationships: Relationship::ALL.into_iter().filter(|r| *r != Relationship::Head).collect(),
        event_kinds: EVENT_KINDS,
        consent_kinds: CONSENT_KINDS,
    };
    let mut response = render_form(&page, failed)?;
    if revealing {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// Loads the family (within scope, else 404 and audited) and renders its page.
pub(super) async fn load_family_page(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    extras: Extras,
) -> Result<Response, WebError> {
    let detail = state.store.families().family(&user.session.actor, family_id).await?;
    family_page(state, user, detail, extras).await
}

#[derive(Deserialize, Default)]
pub(super) struct ShowQuery {
    #[serde(default)]
    notice: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/families").await?;
    let notice = match query.notice.as_str() {
        "upgraded" => Some("身份证号是15位旧号码，已按国家标准自动升级为18位；请与本人身份证核对无误"),
        _ => None,
    };
    load_family_page(&state, &user, id, Extras { notice, ..Default::default() }).await
}
