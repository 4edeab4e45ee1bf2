//! The claims' panels of the home page: the clocks of the open claims in the user's
//! region (due soon and breached, linked to their lists) with the most urgent first; for
//! the agent, the claims waiting for papers the insurer asked for.

use guanai_domain::{Permission, Role};
use guanai_store::claims::{ClaimFilter, ClaimQuery};
use guanai_store::Actor;

use crate::error::WebError;
use crate::pages::home::{Figure, Panel, PanelItem};
use crate::state::AppState;

pub(crate) async fn home_panels(state: &AppState, actor: &Actor) -> Result<Vec<Panel>, WebError> {
    if !actor.can(Permission::ViewClaims) {
        return Ok(Vec::new());
    }
    let claims = state.store.claims();
    let counts = claims.clock_counts(actor).await?;
    let figure = |key, label, value, filter: &str| Figure {
        key,
        label,
        value,
        unit: "件",
        href: Some(format!("/claims?filter={filter}")),
    };
    let urgent = ClaimQuery { filter: ClaimFilter::Open, page: 0, per_page: 5, ..Default::default() };
    let items = claims
        .claims(actor, &urgent)
        .await?
        .claims
        .into_iter()
        .filter_map(|c| {
            let clock = c.clock?;
            Some(PanelItem {
                label: format!("{} {} {}", c.person_name, c.kind.label(), c.status.label()),
                href: Some(format!("/claims/{}", c.id)),
                note: format!("{}截止 {} {}", clock.deadline.label(), clock.due, clock.words),
            })
        })
        .collect();
    let mut panels = Vec::new();
    let association = actor.can(Permission::ReportClaims) && !actor.role().is_insurer();
    if actor.role() == Role::VillageAgent || (association && counts.papers_pending > 0) {
        let pending =
            ClaimQuery { filter: ClaimFilter::PapersPending, page: 0, per_page: 10, ..Default::default() };
        let items = claims
            .claims(actor, &pending)
            .await?
            .claims
            .into_iter()
            .map(|c| PanelItem {
                label: format!("{} {}", c.person_name, c.kind.label()),
                href: Some(format!("/claims/{}", c.id)),
                note: "保险公司要求补充材料".to_owned(),
            })
            .collect();
        panels.push(Panel {
            title: "待补理赔材料".to_owned(),
            figures: Vec::new(),
            empty_text: "没有待补材料的理赔",
            items,
        });
    }
    panels.push(Panel {
        title: "理赔时限".to_owned(),
        figures: vec![
            figure("home-claims-open", "办理中", counts.open, "open"),
            figure("home-claims-due-soon", "即将到期", counts.due_soon, "due_soon"),
            figure("home-claims-breached", "已超期", counts.breached, "breached"),
        ],
        empty_text: "没有办理中的理赔",
        items,
    });
    Ok(panels)
}
