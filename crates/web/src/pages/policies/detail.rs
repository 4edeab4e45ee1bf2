//! One policy's page: its members, premium, funding, payments, and the forms to act on it.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Datelike;
use guanai_domain::{Fen, Permission};
use guanai_store::policies::{PolicyDetail, PAYMENT_METHODS};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::TagColor;
use crate::pages::form::render_form;
use crate::pages::{require, Crumb, Shell};
use crate::requests::ids::{PathId, Policy};
use crate::session::PageUser;
use crate::state::AppState;

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
pub(super) struct PolicyNotice {
    notice: Option<String>,
    error: Option<String>,
}

/// The policy's page, with a notice or with what went wrong (then answering 400).
pub(super) async fn policy_page(
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
    let failed = error.is_some();
    let today = state.today();
    let page = PolicyPage {
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
    };
    render_form(&page, failed)
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
    Query(notice): Query<PolicyNotice>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies").await?;
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
