//! The home page: what the user's role works on, within the user's region.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guanai_domain::{Permission, Role};
use guanai_store::audit::{AuditEntry, AuditQuery};
use guanai_store::regions::Region;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::china_time;
use crate::pages::{render, Shell};
use crate::session::PageUser;
use crate::state::AppState;

/// A panel of the home page; `items` empty shows `empty_text`.
struct Panel {
    title: &'static str,
    empty_text: &'static str,
    items: Vec<PanelItem>,
}

struct PanelItem {
    label: String,
    href: Option<String>,
    note: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    region: Region,
    notice: Option<&'static str>,
    panels: Vec<Panel>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    password_changed: Option<String>,
}

fn empty(title: &'static str, empty_text: &'static str) -> Panel {
    Panel { title, empty_text, items: Vec::new() }
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

pub async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let region = state.store.region(actor, actor.scope()).await?;
    let mut panels = match actor.role() {
        Role::VillageAgent => vec![empty("我的待办", "暂无待办事项")],
        Role::InsurerCity | Role::InsurerCounty => {
            vec![empty("待承保", "暂无待承保的保单"), empty("待处理理赔", "暂无待处理的理赔案件")]
        }
        Role::Supervisor => vec![empty("督导调研", "暂无督导记录")],
        Role::Auditor => vec![],
        Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff => {
            vec![empty("参保进度", "本年度尚无参保数据"), empty("续保提醒", "暂无到期保单")]
        }
    };
    let children = state.store.region_children(actor, actor.scope()).await?;
    let child_title =
        if actor.role() == Role::VillageAgent { "我负责的村（社区）" } else { "下级区划" };
    panels.push(Panel {
        title: child_title,
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
        let recent =
            state.store.search_audit(actor, &AuditQuery { per_page: 5, ..Default::default() }).await?;
        panels.push(Panel {
            title: "最近操作记录",
            empty_text: "暂无记录",
            items: audit_items(recent.entries),
        });
    }
    let shell = Shell::new(&state, &user.session, "首页", "/", vec![]).await?;
    let notice = query.password_changed.is_some().then_some("密码已修改");
    render(&HomePage { shell, region, notice, panels })
}
