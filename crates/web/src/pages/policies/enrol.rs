//! Enrolling one family in two steps: the form (package, shares, members), then the quote
//! to confirm (the premium, each rule checked, who pays what).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::{Fen, Permission};
use guanai_store::families::Person;
use guanai_store::policies::{Channel, EnrolRequest, Quote};
use guanai_store::products::Package;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::forms;
use crate::requests::ids::{Family, PathId};
use crate::session::PageUser;
use crate::state::AppState;

/// The enrolment form's fields; members come as repeated `member` fields.
#[derive(Debug, Default)]
struct EnrolForm {
    package_id: String,
    shares: String,
    members: Vec<i64>,
    expected_family_part: String,
    submit_now: bool,
    /// The code of the publicity activity the enrolment came from, as typed.
    activity_code: String,
    /// Came back from a submission (an empty member list then means "nobody").
    submitted: bool,
}

impl EnrolForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = EnrolForm { submitted: true, ..Default::default() };
        for (key, value) in pairs {
            match key.as_str() {
                "package_id" => form.package_id = value,
                "shares" => form.shares = value,
                "member" => {
                    if let Ok(id) = value.parse() {
                        form.members.push(id);
                    }
                }
                "expected_family_part" => form.expected_family_part = value,
                "submit_now" => form.submit_now = value == "1",
                "activity_code" => form.activity_code = value,
                _ => {}
            }
        }
        form
    }

    fn request(&self, family_id: i64, channel: Channel) -> Result<EnrolRequest, String> {
        let package_id = self.package_id.trim().parse().map_err(|_| "请选择保障方案".to_owned())?;
        let shares = forms::number("份数", &self.shares, 1u32, 10)?;
        let expected_family_part = match self.expected_family_part.trim() {
            "" => None,
            raw => Some(Fen::new(raw.parse().map_err(|_| "核算结果无效，请重新核算".to_owned())?)),
        };
        Ok(EnrolRequest {
            family_id,
            package_id,
            shares,
            member_ids: self.members.clone(),
            channel,
            expected_family_part,
        })
    }
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    shell: Shell,
    family_id: i64,
    head_name: String,
    packages: Vec<Package>,
    members: Vec<Person>,
    form: EnrolForm,
    error: Option<String>,
    today: chrono::NaiveDate,
}

impl EnrolPage {
    /// When the cover of `package` would start if the family enrolled today.
    fn start_of(&self, package: &Package) -> String {
        match package.enrolment_start(self.today) {
            Ok(start) if package.starts_after_underwriting(start) => format!("承保次日起保，最早 {start}"),
            Ok(start) => format!("{start} 起保"),
            Err(e) => e.to_string(),
        }
    }

    fn chosen(&self, person: &i64) -> bool {
        // Everyone is ticked on a fresh form; after a submission, exactly who was ticked.
        (!self.form.submitted && self.form.members.is_empty()) || self.form.members.contains(person)
    }
}

async fn enrol_page(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    form: EnrolForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let family = state.store.families().family(actor, family_id).await?;
    // Only what may be sold today: a year whose cover is over is not offered.
    let packages = state.store.products().packages_on_sale(None).await?;
    let trail = enrol_trail(family.summary.head_name.as_str(), family_id, "参保");
    let shell = Shell::new(state, &user.session, "参保", "/families", trail).await?;
    let failed = error.is_some();
    let page = EnrolPage {
        shell,
        family_id,
        head_name: family.summary.head_name.to_string(),
        packages,
        members: family.members.into_iter().filter(|m| m.active).collect(),
        form,
        error,
        today: state.today(),
    };
    render_form(&page, failed)
}

/// Step 1: choose the package, the shares and who is insured.
pub(super) async fn form(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id: family_id, .. }: PathId<Family>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/families/enrol").await?;
    // An activity's QR code scanned today fills the activity code in (still editable).
    let activity_code = crate::pages::publicity::remembered_activity_code(&headers).unwrap_or_default();
    let form = EnrolForm { shares: "1".to_owned(), submit_now: true, activity_code, ..Default::default() };
    enrol_page(&state, &user, family_id, form, None).await
}

#[derive(Template)]
#[template(path = "enrol_quote.html")]
struct QuotePage {
    shell: Shell,
    quote: Quote,
    head_name: String,
    activity_code: String,
}

/// Step 2: the premium, each rule checked, and who pays what; nothing is saved yet.
pub(super) async fn quote(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id: family_id, .. }: PathId<Family>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (form, request) = match read_enrolment(&state, &user, family_id, pairs).await? {
        Ok(read) => read,
        Err(back_to_form) => return Ok(back_to_form),
    };
    let quote = match state.store.policies().quote(&user.session.actor, &request).await {
        Ok(quote) => quote,
        Err(err) => return enrol_page(&state, &user, family_id, form, Some(form_error(err)?)).await,
    };
    let head_name = quote.head_name.to_string();
    let trail = enrol_trail(&head_name, family_id, "确认参保");
    let shell = Shell::new(&state, &user.session, "确认参保", "/families", trail).await?;
    render(&QuotePage { shell, quote, head_name, activity_code: form.activity_code })
}

/// The posted enrolment form as a request; a field that does not parse sends the user back
/// to the form with the reason.
async fn read_enrolment(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    pairs: Vec<(String, String)>,
) -> Result<Result<(EnrolForm, EnrolRequest), Response>, WebError> {
    require(state, &user.session, Permission::Enrol, "/families/enrol").await?;
    let form = EnrolForm::from_pairs(pairs);
    match form.request(family_id, Channel::for_role(user.session.actor.role())) {
        Ok(request) => Ok(Ok((form, request))),
        Err(message) => Ok(Err(enrol_page(state, user, family_id, form, Some(message)).await?)),
    }
}

/// The breadcrumb of the enrolment steps: the family list, the family, this step.
fn enrol_trail(head_name: &str, family_id: i64, step: &str) -> Vec<Crumb> {
    vec![
        Crumb::link("家庭档案", "/families"),
        Crumb::link(head_name.to_owned(), format!("/families/{family_id}")),
        Crumb::here(step.to_owned()),
    ]
}

/// Confirms: writes the policy (and submits it to the insurer when asked).
pub(super) async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id: family_id, .. }: PathId<Family>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (form, request) = match read_enrolment(&state, &user, family_id, pairs).await? {
        Ok(read) => read,
        Err(back_to_form) => return Ok(back_to_form),
    };
    let actor = &user.session.actor;
    let activity = match crate::requests::publicity::enrolment_activity(Some(&form.activity_code)) {
        Ok(None) => None,
        Ok(Some(code)) => match state.store.publicity().activity_for_enrolment(actor, &code, family_id).await
        {
            Ok(id) => Some(id),
            Err(err) => return enrol_page(&state, &user, family_id, form, Some(form_error(err)?)).await,
        },
        Err(message) => return enrol_page(&state, &user, family_id, form, Some(message)).await,
    };
    let policy_id = match state.store.policies().enrol_attributed(actor, &request, activity).await {
        Ok(id) => id,
        Err(err) => return enrol_page(&state, &user, family_id, form, Some(form_error(err)?)).await,
    };
    if form.submit_now {
        if let Err(err) = state.store.policies().submit_policy(actor, policy_id).await {
            let message = WebError::from(err).to_string();
            let target = format!(
                "/policies/{policy_id}?{}",
                crate::pages::query(&[("error", &format!("保单已保存为草稿，但未能提交承保：{message}"))])
            );
            return Ok(Redirect::to(&target).into_response());
        }
    }
    Ok(Redirect::to(&format!("/policies/{policy_id}?notice=created")).into_response())
}
