//! Registering a family: the form, its parsing (shared with the API) and the village suggestions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::families::{FamilyCategory, PovertyStatus, Relationship};
use guanai_domain::{Permission, RegionLevel};
use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
use guanai_store::Actor;
use serde::Deserialize;

use super::{form_error, person_id_number, with_status};
use crate::error::WebError;
use crate::pages::forms;
use crate::pages::{render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

/// Largest village list offered as suggestions on the registration form.
const DATALIST_LIMIT: u64 = 3000;

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
    fn parse(&self, today: chrono::NaiveDate) -> Result<(NewFamily, bool), String> {
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
        let (id_number, upgraded) = person_id_number("户主身份证号", &self.head_id_number, today)?;
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
    let (family, upgraded) = form.parse(state.today()).map_err(WebError::BadRequest)?;
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

pub(super) async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/new").await?;
    let form = NewFamilyForm { consent_processing: "on".into(), ..Default::default() };
    new_family_page(&state, &user, form, None).await
}

pub(super) async fn create(
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
