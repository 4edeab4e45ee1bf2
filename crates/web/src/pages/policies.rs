//! Enrolment of one family, policies, underwriting, payments, certificates and their
//! public check. An agent enrols on a phone in two steps: choose the package and members,
//! then confirm the premium and who pays what.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Datelike;
use guanai_domain::{Fen, Permission};
use guanai_store::families::Person;
use guanai_store::policies::{
    Certificate, Channel, EnrolRequest, PolicyDetail, PolicyQuery, PolicyStatus, PolicySummary,
    PublicCertificate, Quote, PAYMENT_METHODS,
};
use guanai_store::products::Package;
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::forms;
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/families/{id}/enrol", get(enrol_form).post(enrol_confirm))
        .route("/families/{id}/enrol/quote", post(enrol_quote))
        .route("/policies", get(list))
        .route("/policies/{id}", get(show))
        .route("/policies/{id}/submit", post(submit))
        .route("/policies/{id}/underwrite", post(underwrite))
        .route("/policies/{id}/cancel", post(cancel))
        .route("/policies/{id}/payments", post(payment))
        .route("/policies/{id}/certificate", get(certificate))
        .route("/verify", get(verify))
}

fn parse_id(raw: &str, what: &str) -> Result<i64, WebError> {
    raw.parse().map_err(|_| WebError::NotFound(format!("找不到{what}“{raw}”")))
}

// ---------------------------------------------------------------- enrolment

/// The enrolment form's fields; members come as repeated `member` fields.
#[derive(Debug, Default)]
struct EnrolForm {
    package_id: String,
    shares: String,
    members: Vec<i64>,
    expected_family_part: String,
    submit_now: bool,
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
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
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
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// Step 1: choose the package, the shares and who is insured.
async fn enrol_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/families/enrol").await?;
    let family_id = parse_id(&id, "家庭")?;
    let form = EnrolForm { shares: "1".to_owned(), submit_now: true, ..Default::default() };
    enrol_page(&state, &user, family_id, form, None).await
}

#[derive(Template)]
#[template(path = "enrol_quote.html")]
struct QuotePage {
    shell: Shell,
    quote: Quote,
    head_name: String,
}

/// Step 2: the premium, each rule checked, and who pays what; nothing is saved yet.
async fn enrol_quote(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (family_id, form, request) = match read_enrolment(&state, &user, &id, pairs).await? {
        Ok(read) => read,
        Err(back_to_form) => return Ok(back_to_form),
    };
    let actor = &user.session.actor;
    let quote = match state.store.policies().quote(actor, &request).await {
        Ok(quote) => quote,
        Err(err) => return retry_enrol(&state, &user, family_id, form, err.into()).await,
    };
    let head_name = quote.head_name.to_string();
    let trail = enrol_trail(&head_name, family_id, "确认参保");
    let shell = Shell::new(&state, &user.session, "确认参保", "/families", trail).await?;
    render(&QuotePage { shell, quote, head_name })
}

/// The posted enrolment form as a request; a field that does not parse sends the user back
/// to the form with the reason.
async fn read_enrolment(
    state: &AppState,
    user: &PageUser,
    id: &str,
    pairs: Vec<(String, String)>,
) -> Result<Result<(i64, EnrolForm, EnrolRequest), Response>, WebError> {
    require(state, &user.session, Permission::Enrol, "/families/enrol").await?;
    let family_id = parse_id(id, "家庭")?;
    let form = EnrolForm::from_pairs(pairs);
    match form.request(family_id, Channel::for_role(user.session.actor.role())) {
        Ok(request) => Ok(Ok((family_id, form, request))),
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

/// Shows a rule the user can act on back on the form; anything else is an error page.
async fn retry_enrol(
    state: &AppState,
    user: &PageUser,
    family_id: i64,
    form: EnrolForm,
    err: WebError,
) -> Result<Response, WebError> {
    match err {
        WebError::BadRequest(m) | WebError::Conflict(m) | WebError::Forbidden(m) => {
            enrol_page(state, user, family_id, form, Some(m)).await
        }
        other => Err(other),
    }
}

/// Confirms: writes the policy (and submits it to the insurer when asked).
async fn enrol_confirm(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (family_id, form, request) = match read_enrolment(&state, &user, &id, pairs).await? {
        Ok(read) => read,
        Err(back_to_form) => return Ok(back_to_form),
    };
    let actor = &user.session.actor;
    let policy_id = match state.store.policies().enrol(actor, &request).await {
        Ok(id) => id,
        Err(err) => return retry_enrol(&state, &user, family_id, form, err.into()).await,
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

// ---------------------------------------------------------------- lists and detail

#[derive(Deserialize, Default)]
struct ListFilter {
    #[serde(default)]
    year: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    page: String,
}

const PER_PAGE: u64 = 50;

#[derive(Template)]
#[template(path = "policies.html")]
struct ListPage {
    shell: Shell,
    filter: ListFilter,
    policies: Vec<PolicySummary>,
    village_names: HashMap<String, String>,
    total: u64,
    /// From 0.
    page: u64,
    pages: u64,
    error: Option<String>,
    prev_link: Option<String>,
    next_link: Option<String>,
    statuses: [PolicyStatus; 4],
}

impl ListPage {
    fn village(&self, code: &str) -> String {
        self.village_names.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<ListFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies").await?;
    let actor = &user.session.actor;
    let parsed = (|| -> Result<PolicyQuery, String> {
        Ok(PolicyQuery {
            year: match filter.year.trim() {
                "" => None,
                raw => Some(forms::number("年度", raw, 2000, 2100)?),
            },
            status: match filter.status.trim() {
                "" => None,
                raw => Some(PolicyStatus::parse(raw).ok_or("未知的保单状态")?),
            },
            region: forms::optional_region("区域", &filter.region)?,
            family_id: None,
            page: forms::page(&filter.page)?,
            per_page: PER_PAGE,
        })
    })();
    let (policies, total, error) = match parsed {
        Ok(query) => {
            let found = state.store.policies().search_policies(actor, &query).await?;
            (found.policies, found.total, None)
        }
        Err(message) => (Vec::new(), 0, Some(message)),
    };
    let codes: Vec<&str> = policies.iter().map(|p| p.village_code.as_str()).collect();
    let village_names = state.store.regions().region_names(&codes).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let link = |page: u64| {
        format!(
            "/policies?{}",
            crate::pages::query(&[
                ("year", &filter.year),
                ("status", &filter.status),
                ("region", &filter.region),
                ("page", &page.to_string())
            ])
        )
    };
    let shell = Shell::new(&state, &user.session, "保单", "/policies", vec![Crumb::here("保单")]).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = forms::page(&filter.page).unwrap_or(0);
    let mut response = render(&ListPage {
        shell,
        prev_link: (page > 0).then(|| link(page - 1)),
        next_link: (page + 1 < pages).then(|| link(page + 1)),
        page,
        filter,
        policies,
        village_names,
        total,
        pages,
        error,
        statuses: PolicyStatus::ALL,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    shell: Shell,
    policy: PolicyDetail,
    village_name: String,
    notice: Option<String>,
    error: Option<String>,
    owed: Fen,
    can_enrol: bool,
    can_underwrite: bool,
    methods: [(&'static str, &'static str); 3],
    today: String,
}

#[derive(Deserialize, Default)]
struct PolicyNotice {
    notice: Option<String>,
    error: Option<String>,
}

async fn policy_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let policy = state.store.policies().policy(actor, id).await?;
    let village_name = state.store.policies().village_label(&policy.summary.village_code).await?;
    let owed = Fen::new(policy.summary.family_part.get() - policy.summary.paid.get());
    let trail = vec![Crumb::link("保单", "/policies"), Crumb::here(format!("保单 {id}"))];
    let shell = Shell::new(state, &user.session, &format!("保单 {id}"), "/policies", trail).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let today = state.today();
    let mut response = render(&PolicyPage {
        shell,
        village_name,
        notice,
        error,
        owed,
        can_enrol: actor.can(Permission::Enrol),
        can_underwrite: actor.can(Permission::Underwrite),
        methods: PAYMENT_METHODS,
        today: format!("{:04}-{:02}-{:02}", today.year(), today.month(), today.day()),
        policy,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(notice): Query<PolicyNotice>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies").await?;
    let id = parse_id(&id, "保单")?;
    let message = notice.notice.as_deref().map(|n| match n {
        "created" => "保单已创建".to_owned(),
        "submitted" => "已提交保险公司承保".to_owned(),
        "underwritten" => "已确认承保".to_owned(),
        "cancelled" => "保单已撤销，资助资金已退回资金来源".to_owned(),
        "paid" => "缴费已登记".to_owned(),
        _ => String::new(),
    });
    policy_page(&state, &user, id, message.filter(|m| !m.is_empty()), notice.error).await
}

/// Runs a state change; on a problem the user can fix, shows the policy page with it.
async fn act(
    state: &AppState,
    user: &PageUser,
    id: i64,
    result: Result<(), guanai_store::StoreError>,
    notice: &str,
) -> Result<Response, WebError> {
    match result.map_err(WebError::from) {
        Ok(()) => Ok(Redirect::to(&format!("/policies/{id}?notice={notice}")).into_response()),
        Err(WebError::BadRequest(m) | WebError::Conflict(m) | WebError::Forbidden(m)) => {
            policy_page(state, user, id, None, Some(m)).await
        }
        Err(other) => Err(other),
    }
}

async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/policies/submit").await?;
    let id = parse_id(&id, "保单")?;
    let result = state.store.policies().submit_policy(&user.session.actor, id).await;
    act(&state, &user, id, result, "submitted").await
}

#[derive(Deserialize)]
struct UnderwriteForm {
    #[serde(default)]
    policy_no: String,
}

async fn underwrite(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<UnderwriteForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Underwrite, "/policies/underwrite").await?;
    let id = parse_id(&id, "保单")?;
    let result = state.store.policies().underwrite_policy(&user.session.actor, id, &form.policy_no).await;
    act(&state, &user, id, result, "underwritten").await
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id, "保单")?;
    let result = state.store.policies().cancel_policy(&user.session.actor, id, &form.reason).await;
    act(&state, &user, id, result, "cancelled").await
}

#[derive(Deserialize)]
struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    receipt_no: String,
    #[serde(default)]
    paid_on: String,
}

async fn payment(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<PaymentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/policies/payments").await?;
    let id = parse_id(&id, "保单")?;
    let parsed = forms::money("缴费金额", &form.amount)
        .and_then(|amount| Ok((amount, forms::date("缴费日期", &form.paid_on)?)));
    let (amount, paid_on) = match parsed {
        Ok(values) => values,
        Err(message) => return policy_page(&state, &user, id, None, Some(message)).await,
    };
    let result = state
        .store
        .policies()
        .record_payment(&user.session.actor, id, amount, &form.method, &form.receipt_no, paid_on)
        .await;
    act(&state, &user, id, result, "paid").await
}

// ---------------------------------------------------------------- certificate

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    certificate: Certificate,
    start: String,
    end: String,
}

/// The printable coverage certificate (A4, no navigation).
async fn certificate(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies/certificate").await?;
    let id = parse_id(&id, "保单")?;
    let certificate = state.store.policies().certificate(&user.session.actor, id).await?;
    if certificate.policy.status != PolicyStatus::Underwritten {
        return Err(WebError::BadRequest("保险公司确认承保后才能打印保险凭证".to_owned()));
    }
    let start = guanai_domain::products::prose_date(certificate.policy.start_date);
    let end = guanai_domain::products::prose_date(certificate.policy.end_date);
    render(&CertificatePage { certificate, start, end })
}

#[derive(Deserialize, Default)]
struct VerifyQuery {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    code: String,
    result: Option<PublicCertificate>,
    not_found: bool,
}

/// The public check of a certificate code: no login, masked data only.
async fn verify(
    State(state): State<AppState>,
    Query(query): Query<VerifyQuery>,
) -> Result<Response, WebError> {
    let code = query.code.trim().to_owned();
    let result =
        if code.is_empty() { None } else { state.store.policies().verify_certificate(&code).await? };
    let not_found = !code.is_empty() && result.is_none();
    let mut response = render(&VerifyPage { code, result, not_found })?;
    if not_found {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    Ok(response)
}
