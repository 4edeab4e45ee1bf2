//! One claim's page: its facts, papers (with their photos and PDFs), clocks and what the
//! rules propose, and the forms of the step each side takes next (papers for the agent,
//! photographed on a phone or ticked; missing papers, decision, advance and payment for the
//! insurer; satisfaction after payment). A refusal the user can act on shows the page
//! again with it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::claims::{Paper, RefusalReason};
use guanai_domain::files::MAX_FILES_PER_UPLOAD;
use guanai_domain::{Fen, Permission};
use guanai_store::claims::{ClaimDetail, PaperFile};
use guanai_store::StoreError;
use serde::Deserialize;

use crate::error::WebError;
use crate::files::image_response;
use crate::format::TagColor;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::requests::claims::{papers_ticked, AdvanceForm, DecisionForm, PaymentForm, SatisfactionForm};
use crate::requests::ids::{Claim, PaperFile as PaperFileId, PathId};
use crate::requests::uploads::{read_paper_files, ImageQuery};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "claims_detail.html")]
struct ClaimPage {
    shell: Shell,
    claim: ClaimDetail,
    village_name: String,
    notice: Option<&'static str>,
    error: Option<String>,
    can_report: bool,
    can_decide: bool,
    /// Papers of the checklist not yet received.
    to_add: Vec<Paper>,
    /// The files of the papers, oldest first.
    files: Vec<PaperFile>,
    max_files: usize,
    reasons: [RefusalReason; 6],
    /// What is left to pay after any advance.
    rest: Fen,
    today: String,
}

impl ClaimPage {
    fn status_is(&self, code: &str) -> bool {
        self.claim.summary.status.code() == code
    }

    /// The files showing `paper`.
    fn files_of(&self, paper: &Paper) -> Vec<&PaperFile> {
        self.files.iter().filter(|f| f.paper == *paper).collect()
    }
}

#[derive(Deserialize, Default)]
pub(super) struct ClaimNotice {
    notice: Option<String>,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "reported" => "已报案。请拍照并登记理赔材料",
        "duplicate" => "该事故已经报过案，这是原案件，未重复报案",
        "papers" => "材料已登记",
        "uploaded" => "材料已上传并登记为已收到",
        "requested" => "已一次性告知缺少的材料",
        "decided" => "已核定",
        "advance" => "已先予支付",
        "paid" => "赔付已登记",
        "rated" => "满意度已登记，案件已结案",
        _ => return None,
    })
}

async fn claim_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let claim = state.store.claims().claim(actor, id).await?;
    let files = state.store.claims().paper_files(actor, id).await?;
    let village_name = state.store.policies().village_label(&claim.summary.village_code).await?;
    let have: Vec<Paper> = claim.papers.iter().map(|p| p.paper).collect();
    let to_add = claim.required_papers.iter().copied().filter(|p| !have.contains(p)).collect();
    let rest = Fen::new(claim.summary.approved.map_or(0, Fen::get) - claim.advance.get());
    let trail = vec![Crumb::link("理赔", "/claims"), Crumb::here(format!("案件 {id}"))];
    let shell = Shell::new(state, &user.session, &format!("理赔案件 {id}"), "/claims", trail).await?;
    let failed = error.is_some();
    let page = ClaimPage {
        shell,
        village_name,
        notice,
        error,
        can_report: actor.can(Permission::ReportClaims),
        can_decide: actor.can(Permission::DecideClaims),
        to_add,
        files,
        max_files: MAX_FILES_PER_UPLOAD,
        reasons: RefusalReason::ALL,
        rest,
        today: state.today().format("%Y-%m-%d").to_string(),
        claim,
    };
    render_form(&page, failed)
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    Query(notice): Query<ClaimNotice>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewClaims, "/claims").await?;
    claim_page(&state, &user, id, notice.notice.as_deref().and_then(notice_text), None).await
}

/// After a change: the claim's page with `notice`, or with what the user can fix.
async fn act(
    state: &AppState,
    user: &PageUser,
    id: i64,
    result: Result<(), StoreError>,
    notice: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/claims/{id}?notice={notice}")).into_response()),
        Err(err) => claim_page(state, user, id, None, Some(form_error(err)?)).await,
    }
}

/// A form that did not parse: the page with the message.
async fn refuse(state: &AppState, user: &PageUser, id: i64, message: String) -> Result<Response, WebError> {
    claim_page(state, user, id, None, Some(message)).await
}

pub(super) async fn papers(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ReportClaims, "/claims/papers").await?;
    let result = state.store.claims().add_papers(&user.session.actor, id, &papers_ticked(&form)).await;
    act(&state, &user, id, result, "papers").await
}

/// A paper's photos or PDFs, from the phone's camera or its files (multipart; the CSRF
/// token in the query, as every upload form sends it).
pub(super) async fn upload_papers(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ReportClaims, "/claims/papers").await?;
    let (paper, uploads) = match read_paper_files(&state.store, &mut multipart).await {
        Ok(read) => read,
        Err(message) => return refuse(&state, &user, id, message).await,
    };
    let result = state.store.claims().add_paper_files(&user.session.actor, id, paper, uploads).await;
    act(&state, &user, id, result.map(|_| ()), "uploaded").await
}

/// A paper's file: a photo (`?size=thumb`: its thumbnail) or a PDF, shown inline.
pub(super) async fn paper_file(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<PaperFileId>,
    Query(query): Query<ImageQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewClaims, "/claims").await?;
    let variant = query.parse().map_err(WebError::BadRequest)?;
    Ok(image_response(state.store.claims().paper_file(&user.session.actor, id.id, variant).await?))
}

pub(super) async fn request_papers(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/missing-papers").await?;
    let result = state.store.claims().request_missing_papers(&user.session.actor, id).await.map(|_| ());
    act(&state, &user, id, result, "requested").await
}

pub(super) async fn decide(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/decision").await?;
    match form.to_body().and_then(|b| b.to_decision()) {
        Ok(decision) => {
            let result = state.store.claims().decide(&user.session.actor, id, decision).await;
            act(&state, &user, id, result, "decided").await
        }
        Err(message) => refuse(&state, &user, id, message).await,
    }
}

pub(super) async fn advance(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    Form(form): Form<AdvanceForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/advance").await?;
    match form.to_body() {
        Ok(body) => {
            let amount = Fen::new(body.amount_fen);
            let result =
                state.store.claims().pay_advance(&user.session.actor, id, amount, body.paid_on).await;
            act(&state, &user, id, result, "advance").await
        }
        Err(message) => refuse(&state, &user, id, message).await,
    }
}

pub(super) async fn pay(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    Form(form): Form<PaymentForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/payment").await?;
    match form.to_body().and_then(|b| b.to_payment()) {
        Ok(payment) => {
            let result = state.store.claims().pay(&user.session.actor, id, payment).await;
            act(&state, &user, id, result, "paid").await
        }
        Err(message) => refuse(&state, &user, id, message).await,
    }
}

pub(super) async fn satisfaction(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Claim>,
    Form(form): Form<SatisfactionForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ReportClaims, "/claims/satisfaction").await?;
    match form.to_body() {
        Ok(body) => {
            let actor = &user.session.actor;
            let result = state.store.claims().record_satisfaction(actor, id, body.score, &body.comment).await;
            act(&state, &user, id, result, "rated").await
        }
        Err(message) => refuse(&state, &user, id, message).await,
    }
}
