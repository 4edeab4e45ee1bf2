//! Families and their members: list, register, detail, member events, moves, consents, reveals.
//!
//! Lists and pages show ID and phone numbers masked, and names masked too for roles without
//! `RevealPersonalData` (supervisors). A full number is shown only after an explicit POST,
//! which the store writes to the audit log; that answer is never cached.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use guanai_domain::families::{FamilyCategory, MemberEvent, PovertyStatus, Relationship};
use guanai_domain::{mask_name, IdNumber, Permission, RegionLevel};
use guanai_store::families::{
    ConsentKind, FamilyDetail, FamilyQuery, FamilySummary, NewFamily, NewPerson, Person,
};
use guanai_store::policies::{PolicyQuery, PolicySummary};
use guanai_store::Actor;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::{china, china_time};
use crate::pages::{forms, render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;
/// Largest village list offered as suggestions on the registration form.
const DATALIST_LIMIT: u64 = 3000;
/// The kinds of member event recorded by hand (a move has its own form).
const EVENT_KINDS: [MemberEvent; 4] =
    [MemberEvent::Birth, MemberEvent::Death, MemberEvent::Marriage, MemberEvent::MoveAway];
const CONSENT_KINDS: [ConsentKind; 3] =
    [ConsentKind::Processing, ConsentKind::InsurerSharing, ConsentKind::Guardian];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/families", get(list).post(create))
        .route("/families/new", get(new_form))
        .route("/families/{id}", get(show))
        .route("/families/{id}/members", post(add_member))
        .route("/families/{id}/consents", post(record_consent))
        .route("/families/{id}/consents/withdraw", post(withdraw_consent))
        .route("/families/{id}/reveal-phone", post(reveal_phone))
        // The family page's forms choose the member from a list; the person routes name it.
        .route("/families/{id}/events", post(family_event))
        .route("/families/{id}/move", post(family_move))
        .route("/persons/{pid}/events", post(person_event))
        .route("/persons/{pid}/move", post(person_move))
        .route("/persons/{pid}/reveal", post(reveal_id))
}

/// Today in China, the date people write on forms.
fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&china()).date_naive()
}

fn parse_id(raw: &str, what: &str) -> Result<i64, WebError> {
    raw.trim().parse().map_err(|_| WebError::NotFound(format!("找不到{what}“{raw}”")))
}

/// A name as this actor may see it: in full, or `张*`.
pub(crate) fn shown_name(actor: &Actor, name: &str) -> String {
    if actor.can(Permission::RevealPersonalData) {
        name.to_owned()
    } else {
        mask_name(name)
    }
}

/// Errors the user can fix are shown on the form; the rest become error pages.
fn form_error(err: WebError) -> Result<String, WebError> {
    match err {
        WebError::BadRequest(m) | WebError::Conflict(m) | WebError::Forbidden(m) => Ok(m),
        other => Err(other),
    }
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

/// A parsed ID number of someone to register: valid, and not born in the future.
fn person_id_number(label: &str, raw: &str) -> Result<(IdNumber, bool), String> {
    let (id, upgraded) = forms::id_number(raw).map_err(|e| format!("{label}：{e}"))?;
    if id.birth_date() > today() {
        return Err(format!("{label}：出生日期晚于今天，请核对号码"));
    }
    Ok((id, upgraded))
}

// ---------------------------------------------------------------------------------------
// The list

/// Filters of the family list (page and API), as typed.
#[derive(Deserialize, Default, Clone)]
pub struct FamilyFilter {
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub poverty: String,
    #[serde(default)]
    pub page: String,
}

impl FamilyFilter {
    pub fn page(&self) -> u64 {
        self.page.trim().parse().unwrap_or(0)
    }

    /// The store's query; the first wrong filter is reported in Chinese.
    pub fn to_query(&self, actor: &Actor, per_page: u64) -> Result<FamilyQuery, String> {
        let region = forms::optional_region("区域代码", &self.region)?;
        if let Some(r) = &region {
            if !actor.sees(r) && !r.contains(actor.scope()) {
                return Err(format!("区域“{r}”不在您的管理范围内"));
            }
        }
        let id_number = match self.id_number.trim() {
            "" => None,
            raw => Some(forms::id_number(raw).map_err(|e| format!("身份证号：{e}"))?.0),
        };
        let phone = forms::optional_mobile(&self.phone).map_err(|e| format!("手机号：{e}"))?;
        let category = match self.category.trim() {
            "" => None,
            code if FamilyCategory::DEFAULTS.iter().any(|(c, _)| *c == code) => Some(code.to_owned()),
            other => return Err(format!("未知的家庭类型“{other}”")),
        };
        let poverty = match self.poverty.trim() {
            "" => None,
            raw => Some(PovertyStatus::parse(raw).ok_or_else(|| format!("未知的脱贫状态“{raw}”"))?),
        };
        Ok(FamilyQuery {
            region,
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            id_number,
            phone,
            category,
            poverty,
            page: self.page(),
            per_page,
        })
    }

    fn query_string(&self, page: u64) -> String {
        serde_urlencoded::to_string([
            ("region", self.region.as_str()),
            ("name", self.name.as_str()),
            ("id_number", self.id_number.as_str()),
            ("phone", self.phone.as_str()),
            ("category", self.category.as_str()),
            ("poverty", self.poverty.as_str()),
            ("page", &page.to_string()),
        ])
        .unwrap_or_default()
    }
}

/// One line of the list, as shown.
struct ListRow {
    id: i64,
    code: String,
    head: String,
    village: String,
    category: String,
    poverty: &'static str,
    members: u64,
    phone: String,
}

#[derive(Template)]
#[template(path = "families.html")]
struct FamiliesPage {
    shell: Shell,
    filter: FamilyFilter,
    error: Option<String>,
    rows: Vec<ListRow>,
    total: u64,
    page: u64,
    pages: u64,
    prev_link: Option<String>,
    next_link: Option<String>,
    can_create: bool,
    categories: [(&'static str, &'static str); 6],
    statuses: [PovertyStatus; 4],
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<FamilyFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/families").await?;
    let actor = &user.session.actor;
    let (found, error) = match filter.to_query(actor, PER_PAGE) {
        Ok(query) => (Some(state.store.search_families(actor, &query).await?), None),
        Err(message) => (None, Some(message)),
    };
    let (families, total) = found.map(|f| (f.families, f.total)).unwrap_or_default();
    let codes: Vec<&str> = families.iter().map(|f| f.village_code.as_str()).collect();
    let names = state.store.region_names(&codes).await?;
    let rows = families
        .iter()
        .map(|f| ListRow {
            id: f.id,
            code: f.code.clone(),
            head: shown_name(actor, &f.head_name),
            village: names.get(&f.village_code).cloned().unwrap_or_else(|| f.village_code.clone()),
            category: f.category_name.clone(),
            poverty: f.poverty.label(),
            members: f.members,
            phone: f.phone_masked.clone().unwrap_or_default(),
        })
        .collect();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = filter.page();
    let shell =
        Shell::new(&state, &user.session, "家庭档案", "/families", vec![Crumb::here("家庭档案")]).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let response = render(&FamiliesPage {
        shell,
        prev_link: (page > 0).then(|| format!("/families?{}", filter.query_string(page - 1))),
        next_link: (page + 1 < pages).then(|| format!("/families?{}", filter.query_string(page + 1))),
        filter,
        error,
        rows,
        total,
        page,
        pages,
        can_create: actor.can(Permission::ManageFamilies),
        categories: FamilyCategory::DEFAULTS,
        statuses: PovertyStatus::ALL,
    })?;
    Ok(with_status(response, status))
}

// ---------------------------------------------------------------------------------------
// Registering a family

/// The registration form (page) and body (API), kept as typed to show again after an error.
#[derive(Deserialize, Default)]
pub(crate) struct NewFamilyForm {
    #[serde(default)]
    pub village: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub poverty: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub head_name: String,
    #[serde(default)]
    pub head_id_number: String,
    /// Checkbox: 同意处理个人信息.
    #[serde(default)]
    pub consent_processing: String,
    /// Checkbox: 同意向保险公司提供个人信息.
    #[serde(default)]
    pub consent_insurer: String,
    /// Who signed the consents; the head if empty.
    #[serde(default)]
    pub consent_by: String,
}

impl NewFamilyForm {
    /// Parses every field; the first problem is reported in Chinese. The flag says the
    /// head's ID number was upgraded from 15 digits.
    fn parse(&self) -> Result<(NewFamily, bool), String> {
        let village = forms::region("村（社区）代码", &self.village)?;
        if village.level() != RegionLevel::Village {
            return Err("村（社区）代码须为12位的村级区划代码".to_owned());
        }
        if !FamilyCategory::DEFAULTS.iter().any(|(code, _)| *code == self.category.trim()) {
            return Err("请选择家庭类型".to_owned());
        }
        let poverty = PovertyStatus::parse(&self.poverty).ok_or("请选择脱贫状态")?;
        let phone = forms::optional_mobile(&self.phone).map_err(|e| format!("联系电话：{e}"))?;
        if self.head_name.trim().is_empty() {
            return Err("请填写户主姓名".to_owned());
        }
        let (id_number, upgraded) = person_id_number("户主身份证号", &self.head_id_number)?;
        if self.consent_by.trim().chars().count() > 50 {
            return Err("签署人姓名不超过50个字".to_owned());
        }
        let head =
            NewPerson { name: self.head_name.trim().to_owned(), id_number, relationship: Relationship::Head };
        let family = NewFamily {
            village,
            category: self.category.trim().to_owned(),
            poverty,
            address: self.address.trim().to_owned(),
            phone,
            head,
        };
        Ok((family, upgraded))
    }

    /// The consents ticked on the form.
    fn consents(&self) -> Vec<ConsentKind> {
        let mut kinds = Vec::new();
        if !self.consent_processing.is_empty() {
            kinds.push(ConsentKind::Processing);
        }
        if !self.consent_insurer.is_empty() {
            kinds.push(ConsentKind::InsurerSharing);
        }
        kinds
    }
}

/// Registers the family, then records the consents given; the family's id and whether the
/// head's ID number was upgraded from 15 digits. Input errors are `BadRequest`.
pub(crate) async fn register(
    state: &AppState,
    actor: &Actor,
    form: &NewFamilyForm,
) -> Result<(i64, bool), WebError> {
    let (family, upgraded) = form.parse().map_err(WebError::BadRequest)?;
    let head_name = family.head.name.clone();
    let id = state.store.create_family(actor, family).await?;
    let given_by = Some(form.consent_by.trim()).filter(|s| !s.is_empty()).unwrap_or(&head_name);
    for kind in form.consents() {
        state.store.record_consent(actor, id, kind, None, given_by).await?;
    }
    Ok((id, upgraded))
}

struct Village {
    code: String,
    name: String,
}

/// The villages within the actor's scope, walking down the tree, or nothing if there are
/// more than [`DATALIST_LIMIT`] (or the scope is a whole city: too many look-ups).
async fn villages_in_scope(state: &AppState, actor: &Actor) -> Result<Vec<Village>, WebError> {
    let scope = actor.scope();
    if scope.level() == RegionLevel::City {
        return Ok(Vec::new());
    }
    let mut level = vec![state.store.region(actor, scope).await?];
    while level.first().is_some_and(|r| r.level != RegionLevel::Village) {
        if level.iter().map(|r| r.children).sum::<u64>() > DATALIST_LIMIT {
            return Ok(Vec::new());
        }
        let mut next = Vec::new();
        for region in level.iter().filter(|r| r.children > 0) {
            next.extend(state.store.region_children(actor, &region.code).await?);
        }
        level = next;
    }
    Ok(level.into_iter().map(|r| Village { code: r.code.to_string(), name: r.name }).collect())
}

#[derive(Template)]
#[template(path = "family_new.html")]
struct NewFamilyPage {
    shell: Shell,
    form: NewFamilyForm,
    villages: Vec<Village>,
    categories: [(&'static str, &'static str); 6],
    statuses: [PovertyStatus; 4],
    error: Option<String>,
}

async fn new_family_page(
    state: &AppState,
    user: &PageUser,
    form: NewFamilyForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let villages = villages_in_scope(state, &user.session.actor).await?;
    let trail = vec![Crumb::link("家庭档案", "/families"), Crumb::here("登记家庭")];
    let shell = Shell::new(state, &user.session, "登记家庭", "/families", trail).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = NewFamilyPage {
        shell,
        form,
        villages,
        categories: FamilyCategory::DEFAULTS,
        statuses: PovertyStatus::ALL,
        error,
    };
    Ok(with_status(render(&page)?, status))
}

async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/new").await?;
    let form = NewFamilyForm { consent_processing: "on".into(), ..Default::default() };
    new_family_page(&state, &user, form, None).await
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<NewFamilyForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/new").await?;
    match register(&state, &user.session.actor, &form).await {
        Ok((id, false)) => Ok(Redirect::to(&format!("/families/{id}")).into_response()),
        Ok((id, true)) => Ok(Redirect::to(&format!("/families/{id}?notice=upgraded")).into_response()),
        Err(err) => {
            let message = form_error(err)?;
            new_family_page(&state, &user, form, Some(message)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// One family

/// A member as the family page shows them.
struct MemberRow {
    id: i64,
    name: String,
    id_number: String,
    revealed: bool,
    birth_date: NaiveDate,
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

/// The add-member form, kept as typed after an error.
#[derive(Deserialize, Default)]
pub(crate) struct MemberForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub relationship: String,
}

impl MemberForm {
    pub fn parse(&self) -> Result<(NewPerson, bool), String> {
        if self.name.trim().is_empty() {
            return Err("请填写成员姓名".to_owned());
        }
        let (id_number, upgraded) = person_id_number("身份证号", &self.id_number)?;
        let relationship = Relationship::parse(&self.relationship)
            .filter(|r| *r != Relationship::Head)
            .ok_or("请选择与户主的关系（每户只有一位户主）")?;
        Ok((NewPerson { name: self.name.trim().to_owned(), id_number, relationship }, upgraded))
    }
}

/// What a family page shows besides the family: a message, a revealed number, a form.
#[derive(Default)]
struct Extras {
    error: Option<String>,
    notice: Option<&'static str>,
    revealed_id: Option<(i64, String)>,
    revealed_phone: Option<String>,
    member_form: MemberForm,
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
    extras: Extras,
    today: NaiveDate,
    relationships: Vec<Relationship>,
    event_kinds: [MemberEvent; 4],
    consent_kinds: [ConsentKind; 3],
}

fn under_14(birth: NaiveDate, today: NaiveDate) -> bool {
    birth.checked_add_months(chrono::Months::new(14 * 12)).is_some_and(|d| d > today)
}

async fn family_page(
    state: &AppState,
    user: &PageUser,
    detail: FamilyDetail,
    extras: Extras,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let FamilyDetail { mut summary, members, consents, events } = detail;
    let today = today();
    let policies = state
        .store
        .search_policies(
            actor,
            &PolicyQuery { family_id: Some(summary.id), per_page: 50, ..Default::default() },
        )
        .await?
        .policies;
    let village_name = state
        .store
        .region_names(&[summary.village_code.as_str()])
        .await?
        .remove(&summary.village_code)
        .unwrap_or_else(|| summary.village_code.clone());
    let name_of = |id: i64| {
        members
            .iter()
            .find(|m| m.id == id)
            .map(|m| shown_name(actor, &m.name))
            .unwrap_or_else(|| format!("人员{id}"))
    };
    let ended =
        |id: i64| events.iter().rev().find(|e| e.person_id == id && e.kind.ends_membership()).map(|e| e.kind);
    let rows = members
        .iter()
        .map(|m| {
            let revealed = extras.revealed_id.as_ref().filter(|(id, _)| *id == m.id);
            MemberRow {
                id: m.id,
                name: shown_name(actor, &m.name),
                id_number: revealed.map(|(_, full)| full.clone()).unwrap_or_else(|| m.id_masked.clone()),
                revealed: revealed.is_some(),
                birth_date: m.birth_date,
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
    let choice = |m: &Person| Choice { id: m.id, name: shown_name(actor, &m.name) };
    let active: Vec<Choice> = members.iter().filter(|m| m.active).map(choice).collect();
    let movable =
        members.iter().filter(|m| m.active && m.relationship != Relationship::Head).map(choice).collect();
    let children = members.iter().filter(|m| m.active && under_14(m.birth_date, today)).map(choice).collect();
    let consents = consents
        .iter()
        .map(|c| ConsentRow {
            kind: c.kind.label(),
            child: c.person_id.map(name_of).unwrap_or_default(),
            given_by: shown_name(actor, &c.given_by),
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
    summary.head_name = shown_name(actor, &summary.head_name);
    let trail = vec![Crumb::link("家庭档案", "/families"), Crumb::here(format!("{}户", summary.head_name))];
    let title = format!("{}户 · 家庭档案", summary.head_name);
    let shell = Shell::new(state, &user.session, &title, "/families", trail).await?;
    let status = if extras.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
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
        can_reveal: actor.can(Permission::RevealPersonalData),
        can_enrol: actor.can(Permission::Enrol),
        extras,
        today,
        relationships: Relationship::ALL.into_iter().filter(|r| *r != Relationship::Head).collect(),
        event_kinds: EVENT_KINDS,
        consent_kinds: CONSENT_KINDS,
    };
    let mut response = with_status(render(&page)?, status);
    if revealing {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// Loads the family (within scope, else 404 and audited) and renders its page.
async fn load_family_page(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    extras: Extras,
) -> Result<Response, WebError> {
    let detail = state.store.family(&user.session.actor, family_id).await?;
    family_page(state, user, detail, extras).await
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    #[serde(default)]
    notice: String,
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/families").await?;
    let id = parse_id(&id, "家庭")?;
    let notice = match query.notice.as_str() {
        "upgraded" => Some("身份证号是15位旧号码，已按国家标准自动升级为18位；请与本人身份证核对无误"),
        _ => None,
    };
    load_family_page(&state, &user, id, Extras { notice, ..Default::default() }).await
}

/// After a change: back to the family page, or the page again with what went wrong.
async fn done(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    outcome: Result<bool, WebError>,
    member_form: MemberForm,
) -> Result<Response, WebError> {
    match outcome {
        Ok(false) => Ok(Redirect::to(&format!("/families/{family_id}")).into_response()),
        Ok(true) => Ok(Redirect::to(&format!("/families/{family_id}?notice=upgraded")).into_response()),
        Err(err) => {
            let extras = Extras { error: Some(form_error(err)?), member_form, ..Default::default() };
            load_family_page(state, user, family_id, extras).await
        }
    }
}

async fn add_member(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/members").await?;
    let id = parse_id(&id, "家庭")?;
    let outcome = async {
        let (person, upgraded) = form.parse().map_err(WebError::BadRequest)?;
        state.store.add_member(&user.session.actor, id, person).await?;
        Ok(upgraded)
    }
    .await;
    done(&state, &user, id, outcome, form).await
}

#[derive(Deserialize, Default)]
struct ConsentForm {
    #[serde(default)]
    kind: String,
    /// The child, for a guardian's consent.
    #[serde(default)]
    person: String,
    #[serde(default)]
    given_by: String,
}

async fn record_consent(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/consents").await?;
    let id = parse_id(&id, "家庭")?;
    let actor = &user.session.actor;
    let outcome = async {
        let bad = |m: &str| WebError::BadRequest(m.to_owned());
        let kind = ConsentKind::parse(form.kind.trim()).ok_or_else(|| bad("请选择同意事项"))?;
        let child = match (kind, form.person.trim()) {
            (ConsentKind::Guardian, "") => return Err(bad("监护人同意须选择是哪位未满14周岁的成员")),
            (ConsentKind::Guardian, raw) => {
                let child: i64 = raw.parse().map_err(|_| bad("请选择未成年成员"))?;
                let detail = state.store.family(actor, id).await?;
                let member = detail.members.iter().find(|m| m.id == child);
                if !member.is_some_and(|m| under_14(m.birth_date, today())) {
                    return Err(bad("监护人同意只适用于本家庭未满14周岁的成员"));
                }
                Some(child)
            }
            _ => None,
        };
        state.store.record_consent(actor, id, kind, child, &form.given_by).await?;
        Ok(false)
    }
    .await;
    done(&state, &user, id, outcome, MemberForm::default()).await
}

async fn withdraw_consent(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/consents").await?;
    let id = parse_id(&id, "家庭")?;
    let outcome = async {
        let kind = ConsentKind::parse(form.kind.trim())
            .ok_or_else(|| WebError::BadRequest("请选择要撤回的同意事项".to_owned()))?;
        state.store.withdraw_consent(&user.session.actor, id, kind, None).await?;
        Ok(false)
    }
    .await;
    done(&state, &user, id, outcome, MemberForm::default()).await
}

/// A member action's form: the member (chosen on the family page, or in the path) and the
/// family (in the path, or a hidden field).
#[derive(Deserialize, Default)]
struct MemberActionForm {
    #[serde(default)]
    family: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    to_family: String,
    #[serde(default)]
    relationship: String,
}

/// The family and member of a member action; the member must belong to the family (else
/// "not found"), so the page shown afterwards is the member's own family.
async fn member_of(
    state: &AppState,
    actor: &Actor,
    family: &str,
    person: &str,
) -> Result<(i64, i64), WebError> {
    let family_id = parse_id(family, "家庭")?;
    let detail = state.store.family(actor, family_id).await?;
    let person_id: i64 = person.trim().parse().map_err(|_| WebError::BadRequest("请选择成员".to_owned()))?;
    if !detail.members.iter().any(|m| m.id == person_id) {
        return Err(WebError::NotFound(format!("本家庭没有人员“{person_id}”")));
    }
    Ok((family_id, person_id))
}

async fn member_event(
    state: &AppState,
    user: &PageUser,
    family: &str,
    person: &str,
    form: &MemberActionForm,
) -> Result<Response, WebError> {
    require(state, &user.session, Permission::ManageFamilies, "/persons/events").await?;
    let actor = &user.session.actor;
    let family_id = parse_id(family, "家庭")?;
    let outcome = async {
        let (_, person_id) = member_of(state, actor, family, person).await?;
        let bad = WebError::BadRequest;
        let kind = MemberEvent::parse(&form.kind)
            .filter(|k| EVENT_KINDS.contains(k))
            .ok_or_else(|| bad("请选择变动类型".to_owned()))?;
        let date = forms::date("变动日期", &form.date).map_err(bad)?;
        state.store.record_member_event(actor, person_id, kind, date, &form.note).await?;
        Ok(false)
    }
    .await;
    done(state, user, family_id, outcome, MemberForm::default()).await
}

async fn member_move(
    state: &AppState,
    user: &PageUser,
    family: &str,
    person: &str,
    form: &MemberActionForm,
) -> Result<Response, WebError> {
    require(state, &user.session, Permission::ManageFamilies, "/persons/move").await?;
    let actor = &user.session.actor;
    let family_id = parse_id(family, "家庭")?;
    let outcome = async {
        let (_, person_id) = member_of(state, actor, family, person).await?;
        let bad = |m: String| WebError::BadRequest(m);
        let to: i64 =
            form.to_family.trim().parse().map_err(|_| bad("请填写迁入家庭的系统编号（数字）".to_owned()))?;
        let relationship = Relationship::parse(&form.relationship)
            .filter(|r| *r != Relationship::Head)
            .ok_or_else(|| bad("请选择在新家庭中与户主的关系".to_owned()))?;
        let date = forms::date("迁移日期", &form.date).map_err(bad)?;
        if date > today() {
            return Err(bad("迁移日期不能晚于今天".to_owned()));
        }
        state.store.move_person(actor, person_id, to, relationship, date).await?;
        Ok(false)
    }
    .await;
    done(state, user, family_id, outcome, MemberForm::default()).await
}

async fn family_event(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_event(&state, &user, &id, &form.person, &form).await
}

async fn person_event(
    State(state): State<AppState>,
    user: PageUser,
    Path(pid): Path<String>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_event(&state, &user, &form.family, &pid, &form).await
}

async fn family_move(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_move(&state, &user, &id, &form.person, &form).await
}

async fn person_move(
    State(state): State<AppState>,
    user: PageUser,
    Path(pid): Path<String>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_move(&state, &user, &form.family, &pid, &form).await
}

/// Shows the family page with one member's full ID number; the store logs the view.
async fn reveal_id(
    State(state): State<AppState>,
    user: PageUser,
    Path(pid): Path<String>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::RevealPersonalData, "/persons/reveal").await?;
    let actor = &user.session.actor;
    let family_id = parse_id(&form.family, "家庭")?;
    let detail = state.store.family(actor, family_id).await?;
    let person_id = parse_id(&pid, "人员")?;
    if !detail.members.iter().any(|m| m.id == person_id) {
        return Err(WebError::NotFound(format!("本家庭没有人员“{person_id}”")));
    }
    let full = state.store.reveal_id_number(actor, person_id).await?;
    let extras = Extras { revealed_id: Some((person_id, full)), ..Default::default() };
    family_page(&state, &user, detail, extras).await
}

/// Shows the family page with the full phone number; the store logs the view.
async fn reveal_phone(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::RevealPersonalData, "/families/reveal-phone").await?;
    let id = parse_id(&id, "家庭")?;
    let full = state.store.reveal_phone(&user.session.actor, id).await?;
    load_family_page(&state, &user, id, Extras { revealed_phone: full, ..Default::default() }).await
}

#[cfg(test)]
mod tests {
    use super::under_14;
    use chrono::NaiveDate;

    #[test]
    fn a_child_is_under_14_until_the_fourteenth_birthday() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert!(under_14(d(2012, 9, 2), d(2026, 9, 1)));
        assert!(!under_14(d(2012, 9, 1), d(2026, 9, 1)));
        assert!(!under_14(d(1990, 1, 1), d(2026, 9, 1)));
    }
}
