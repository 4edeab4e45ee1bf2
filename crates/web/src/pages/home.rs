//! The home page: what the user's role works on, within the user's region.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use guanai_domain::{Permission, Role};
use guanai_store::audit::{AuditEntry, AuditQuery};
use guanai_store::policies::PolicyStatus;
use guanai_store::regions::Region;
use guanai_store::Actor;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::china_time;
use crate::pages::{render, Shell};
use crate::requests::forms::this_year;
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(show))
}

/// A panel of the home page: figures, or a list (`items`, `empty_text` when empty).
/// Features add their own panels (to-do lists first for the roles that work them) from
/// their page module, with one line in `show`.
pub(crate) struct Panel {
    pub title: String,
    pub figures: Vec<Figure>,
    pub empty_text: &'static str,
    pub items: Vec<PanelItem>,
}

pub(crate) struct PanelItem {
    pub label: String,
    pub href: Option<String>,
    pub note: String,
}

/// One real figure of the user's region, with the list it counts when there is one.
pub(crate) struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub value: u64,
    pub unit: &'static str,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    region: Region,
    notice: Option<&'static str>,
    panels: Vec<Panel>,
    /// The figures and charts of the user's scope (`pages::reports::dashboard`).
    dashboard: Option<crate::pages::reports::dashboard::Dashboard>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    password_changed: Option<String>,
}

fn audit_items(entries: Vec<AuditEntry>) -> Vec<PanelItem> {
    entries
        .into_iter()
        .map(|e| PanelItem {
            label: format!("{} {} {}", e.actor_label(), e.action_label(), e.target_id),
            href: None,
            note: china_time(&e.at),
        })
        .collect()
}

/// This year's policies of the user's region: counts by status and who is insured; for
/// the insurer, what waits for underwriting first. Two queries on the policies' index.
async fn enrolment_panel(state: &AppState, actor: &Actor) -> Result<Panel, WebError> {
    let year = this_year(state.today());
    let (counts, insured) = tokio::try_join!(
        state.store.policies().policy_counts(actor, year),
        state.store.policies().insured_counts(actor, year)
    )?;
    let list = |status: PolicyStatus| Some(format!("/policies?year={year}&status={}", status.code()));
    let figure = |key, label, value, unit, href| Figure { key, label, value, unit, href };
    let by_status = [
        figure(
            "home-submitted",
            PolicyStatus::Submitted.label(),
            counts.submitted,
            "份",
            list(PolicyStatus::Submitted),
        ),
        figure(
            "home-underwritten",
            PolicyStatus::Underwritten.label(),
            counts.underwritten,
            "份",
            list(PolicyStatus::Underwritten),
        ),
        figure("home-draft", "草稿（未提交）", counts.draft, "份", list(PolicyStatus::Draft)),
        figure(
            "home-cancelled",
            PolicyStatus::Cancelled.label(),
            counts.cancelled,
            "份",
            list(PolicyStatus::Cancelled),
        ),
    ];
    let who = [
        figure("home-households", "已承保家庭", insured.households, "户", None),
        figure("home-persons", "被保险人", insured.persons, "人", None),
    ];
    let figures: Vec<Figure> = if actor.role().is_insurer() {
        // The insurer neither drafts nor cancels before underwriting: what waits, what is done.
        by_status.into_iter().take(2).chain(who).collect()
    } else {
        by_status.into_iter().chain(who).collect()
    };
    let title = if actor.role().is_insurer() { "承保情况" } else { "参保进度" };
    Ok(Panel { title: format!("{year}年度{title}"), figures, empty_text: "", items: Vec::new() })
}

pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let region = state.store.regions().region(actor, actor.scope()).await?;
    // Only panels with real figures: none for what the platform does not do yet.
    let mut panels = Vec::new();
    panels.extend(super::supervision_panels(&state, actor).await?);
    panels.extend(crate::pages::renewals::home_panels(&state, actor).await?);
    if actor.can(Permission::ViewFamilies) {
        panels.push(enrolment_panel(&state, actor).await?);
    }
    panels.extend(crate::pages::claims::home_panels(&state, actor).await?);
    let children = state.store.regions().region_children(actor, actor.scope()).await?;
    let child_title =
        if actor.role() == Role::VillageAgent { "我负责的村（社区）" } else { "下级区划" };
    panels.push(Panel {
        title: child_title.to_owned(),
        figures: Vec::new(),
        empty_text: "没有下级区划",
        items: children
            .into_iter()
            .map(|r| PanelItem {
                href: Some(format!("/regions/{}", r.code)),
                note: if r.children > 0 { format!("下辖{}个", r.children) } else { String::new() },
                label: r.name,
            })
            .collect(),
    });
    if actor.can(Permission::ViewAudit) {
        // The five newest, without counting the whole log as the audit page does.
        let recent =
            state.store.audit_log().audit_entries_before(actor, &AuditQuery::default(), None, 5).await?;
        panels.push(Panel {
            title: "最近操作记录".to_owned(),
            figures: Vec::new(),
            empty_text: "暂无记录",
            items: audit_items(recent),
        });
    }
    let dashboard = crate::pages::reports::dashboard::dashboard(&state, actor).await?;
    let shell = Shell::new(&state, &user.session, "首页", "/", vec![]).await?;
    let notice = query.password_changed.is_some().then_some("密码已修改");
    render(&HomePage { shell, region, notice, panels, dashboard })
}
