//! The family page's POST handlers: adding members, member events and moves, consents, and
//! revealing a full ID or phone number.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::families::{MemberEvent, Relationship};
use guanai_domain::Permission;
use guanai_store::families::{ConsentKind, FamilyDetail};
use guanai_store::Actor;
use serde::Deserialize;

use super::detail::{family_page, load_family_page, Extras};
use super::EVENT_KINDS;
use crate::error::WebError;
use crate::pages::form::form_error;
use crate::pages::require;
use crate::requests::families::MemberForm;
use crate::requests::forms;
use crate::requests::ids::{self, Family, PathId, Person};
use crate::session::PageUser;
use crate::state::AppState;

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

pub(super) async fn add_member(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Form(form): Form<MemberForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/members").await?;
    let outcome = async {
        let (person, upgraded) = form.parse(state.today()).map_err(WebError::BadRequest)?;
        state.store.families().add_member(&user.session.actor, id, person).await?;
        Ok(upgraded)
    }
    .await;
    done(&state, &user, id, outcome, form).await
}

#[derive(Deserialize, Default)]
pub(super) struct ConsentForm {
    #[serde(default)]
    kind: String,
    /// The child, for a guardian's consent.
    #[serde(default)]
    person: String,
    #[serde(default)]
    given_by: String,
}

pub(super) async fn record_consent(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/consents").await?;
    let actor = &user.session.actor;
    let outcome = async {
        let bad = |m: &str| WebError::BadRequest(m.to_owned());
        let kind = ConsentKind::from_code(form.kind.trim()).ok().ok_or_else(|| bad("请选择同意事项"))?;
        let child = match (kind, form.person.trim()) {
            (ConsentKind::Guardian, "") => return Err(bad("监护人同意须选择是哪位未满14周岁的成员")),
            (ConsentKind::Guardian, raw) => {
                let child: i64 = raw.parse().map_err(|_| bad("请选择未成年成员"))?;
                let detail = state.store.families().family(actor, id).await?;
                let member = detail.members.iter().find(|m| m.id == child);
                if !member.is_some_and(|m| m.needs_guardian_consent) {
                    return Err(bad("监护人同意只适用于本家庭未满14周岁的成员"));
                }
                Some(child)
            }
            _ => None,
        };
        state.store.families().record_consent(actor, id, kind, child, &form.given_by).await?;
        Ok(false)
    }
    .await;
    done(&state, &user, id, outcome, MemberForm::default()).await
}

pub(super) async fn withdraw_consent(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/families/consents").await?;
    let outcome = async {
        let kind = ConsentKind::from_code(form.kind.trim())
            .ok()
            .ok_or_else(|| WebError::BadRequest("请选择要撤回的同意事项".to_owned()))?;
        state.store.families().withdraw_consent(&user.session.actor, id, kind, None).await?;
        Ok(false)
    }
    .await;
    done(&state, &user, id, outcome, MemberForm::default()).await
}

/// A member action's form: the member (chosen on the family page, or in the path) and the
/// family (in the path, or a hidden field).
#[derive(Deserialize, Default)]
pub(super) struct MemberActionForm {
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

/// The family, loaded, if the member belongs to it (else "not found"), so the page shown
/// afterwards is the member's own family.
async fn member_of(
    state: &AppState,
    actor: &Actor,
    family_id: i64,
    person_id: i64,
) -> Result<FamilyDetail, WebError> {
    let detail = state.store.families().family(actor, family_id).await?;
    if !detail.members.iter().any(|m| m.id == person_id) {
        return Err(WebError::NotFound(format!("本家庭没有人员“{person_id}”")));
    }
    Ok(detail)
}

/// The member chosen on the family page's form.
fn chosen(raw: &str) -> Result<i64, WebError> {
    raw.trim().parse().map_err(|_| WebError::BadRequest("请选择成员".to_owned()))
}

/// The family named by a person route's hidden field.
fn family_field(form: &MemberActionForm) -> Result<i64, WebError> {
    ids::parse_id::<Family>(&form.family)
}

#[derive(Clone, Copy)]
enum MemberAction {
    Event,
    Move,
}

/// A member event or move, from the family page (member chosen) or a person route.
async fn member_action(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    person: Result<i64, WebError>,
    form: &MemberActionForm,
    action: MemberAction,
) -> Result<Response, WebError> {
    let page = match action {
        MemberAction::Event => "/persons/events",
        MemberAction::Move => "/persons/move",
    };
    require(state, &user.session, Permission::ManageFamilies, page).await?;
    let actor = &user.session.actor;
    let outcome = async {
        let person_id = person?;
        member_of(state, actor, family_id, person_id).await?;
        match action {
            MemberAction::Event => record_event(state, actor, person_id, form).await?,
            MemberAction::Move => move_member(state, actor, person_id, form).await?,
        }
        Ok(false)
    }
    .await;
    done(state, user, family_id, outcome, MemberForm::default()).await
}

async fn record_event(
    state: &AppState,
    actor: &Actor,
    person_id: i64,
    form: &MemberActionForm,
) -> Result<(), WebError> {
    let bad = WebError::BadRequest;
    let kind = MemberEvent::from_code(form.kind.trim())
        .ok()
        .filter(|k| EVENT_KINDS.contains(k))
        .ok_or_else(|| bad("请选择变动类型".to_owned()))?;
    let date = forms::date("变动日期", &form.date).map_err(bad)?;
    Ok(state.store.families().record_member_event(actor, person_id, kind, date, &form.note).await?)
}

async fn move_member(
    state: &AppState,
    actor: &Actor,
    person_id: i64,
    form: &MemberActionForm,
) -> Result<(), WebError> {
    let bad = WebError::BadRequest;
    let to: i64 =
        form.to_family.trim().parse().map_err(|_| bad("请填写迁入家庭的系统编号（数字）".to_owned()))?;
    let relationship = Relationship::parse(&form.relationship)
        .filter(|r| *r != Relationship::Head)
        .ok_or_else(|| bad("请选择在新家庭中与户主的关系".to_owned()))?;
    let date = forms::date("迁移日期", &form.date).map_err(bad)?;
    if date > state.today() {
        return Err(bad("迁移日期不能晚于今天".to_owned()));
    }
    Ok(state.store.families().move_person(actor, person_id, to, relationship, date).await?)
}

pub(super) async fn family_event(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_action(&state, &user, id, chosen(&form.person), &form, MemberAction::Event).await
}

pub(super) async fn person_event(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Person>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_action(&state, &user, family_field(&form)?, Ok(id), &form, MemberAction::Event).await
}

pub(super) async fn family_move(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_action(&state, &user, id, chosen(&form.person), &form, MemberAction::Move).await
}

pub(super) async fn person_move(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Person>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    member_action(&state, &user, family_field(&form)?, Ok(id), &form, MemberAction::Move).await
}

/// Shows the family page with one member's full ID number; the store logs the view.
pub(super) async fn reveal_id(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id: person_id, .. }: PathId<Person>,
    Form(form): Form<MemberActionForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::RevealPersonalData, "/persons/reveal").await?;
    let actor = &user.session.actor;
    let detail = member_of(&state, actor, family_field(&form)?, person_id).await?;
    let full = state.store.families().reveal_id_number(actor, person_id).await?;
    let extras = Extras { revealed_id: Some((person_id, full)), ..Default::default() };
    family_page(&state, &user, detail, extras).await
}

/// Shows the family page with the full phone number; the store logs the view.
pub(super) async fn reveal_phone(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Family>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::RevealPersonalData, "/families/reveal-phone").await?;
    let full = state.store.families().reveal_phone(&user.session.actor, id).await?;
    load_family_page(&state, &user, id, Extras { revealed_phone: full, ..Default::default() }).await
}
