//! Server-rendered pages. Each page is a struct with a `shell` (header, navigation,
//! breadcrumb) and its own fields, rendered by the askama template of the same name.

pub mod account;
pub mod agents;
pub mod audit;
pub mod claims;
pub mod exchange;
pub mod families;
pub mod form;
pub mod funding;
pub mod gifting;
pub mod home;
pub mod imports;
pub mod login;
pub mod ops;
pub mod orgs;
pub mod policies;
pub mod products;
pub mod publicity;
pub mod qr;
pub mod regions;
pub mod renewals;
pub mod reports;
pub mod student_aid;
pub mod supervision;
pub mod training;
pub mod upload;
pub mod users;

/// The home page's panel of the user's open supervision actions (re-exported here, so the
/// home page and the supervision pages do not import each other).
pub(crate) use supervision::panels as supervision_panels;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use guanai_domain::Permission;
use guanai_store::sessions::Session;

use crate::error::WebError;
use crate::state::AppState;

/// Every page, feature by feature: each feature lists its own routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(login::routes())
        .merge(account::routes())
        .merge(regions::routes())
        .merge(orgs::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(families::routes())
        .merge(policies::routes())
        .merge(funding::routes())
        .merge(products::routes())
        .merge(gifting::routes())
        .merge(imports::routes())
        .merge(exchange::routes())
        .merge(claims::routes())
        .merge(agents::routes())
        .merge(training::routes())
        .merge(publicity::routes())
        .merge(supervision::routes())
        .merge(student_aid::routes())
        .merge(reports::routes())
        .merge(renewals::routes())
}

/// One entry of the left-hand navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// One step of the breadcrumb; the last has no link.
pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

impl Crumb {
    pub fn link(label: impl Into<String>, href: impl Into<String>) -> Self {
        Crumb { label: label.into(), href: Some(href.into()) }
    }

    pub fn here(label: impl Into<String>) -> Self {
        Crumb { label: label.into(), href: None }
    }
}

/// What every logged-in page shows around its content.
pub struct Shell {
    pub title: String,
    pub user_name: String,
    pub role_label: &'static str,
    pub region_name: String,
    pub nav: Vec<NavItem>,
    pub breadcrumb: Vec<Crumb>,
    pub csrf: String,
}

/// The navigation, feature by feature; each entry shows only to roles that may use it.
const NAV: [(&str, &str, Option<Permission>); 18] = [
    ("/", "首页", None),
    ("/families", "家庭档案", Some(Permission::ViewFamilies)),
    ("/imports", "名单导入", Some(Permission::ManageFamilies)),
    ("/policies", "保单", Some(Permission::ViewFamilies)),
    ("/renewals", "续保", Some(Permission::ViewFamilies)),
    ("/gifting", "送保", Some(Permission::Gift)),
    ("/exchange", "承保交换", Some(Permission::ViewFamilies)),
    ("/claims", "理赔", Some(Permission::ViewClaims)),
    ("/claims/measures", "理赔指标", Some(Permission::ViewClaims)),
    ("/funding", "资金来源", Some(Permission::ViewFunding)),
    ("/products", "险种与方案", Some(Permission::ViewFamilies)),
    ("/reports", "统计报表", Some(Permission::ViewReports)),
    ("/regions", "行政区划", Some(Permission::ViewRegions)),
    ("/orgs", "机构", Some(Permission::ViewOrgs)),
    ("/users", "用户管理", Some(Permission::ViewUsers)),
    ("/audit", "审计日志", Some(Permission::ViewAudit)),
    ("/settings/calendar", "工作日历", Some(Permission::EditWorkCalendar)),
    ("/account/password", "修改密码", None),
];

impl Shell {
    pub async fn new(
        state: &AppState,
        session: &Session,
        title: &str,
        active: &str,
        trail: Vec<Crumb>,
    ) -> Result<Self, WebError> {
        let actor = &session.actor;
        let scope = actor.scope().as_str();
        let region_name = state
            .store
            .regions()
            .region_names(&[scope])
            .await?
            .remove(scope)
            .unwrap_or_else(|| scope.to_owned());
        let nav = NAV
            .iter()
            .chain(agents::ASSOCIATION_NAV.iter())
            .filter(|(_, _, needs)| needs.is_none_or(|p| actor.can(p)))
            .map(|(href, label, _)| NavItem { href, label, active: *href == active })
            .collect();
        let mut breadcrumb = vec![Crumb::link("首页", "/")];
        breadcrumb.extend(trail);
        Ok(Shell {
            title: title.to_owned(),
            user_name: actor.display_name().to_owned(),
            role_label: actor.role().label(),
            region_name,
            nav,
            breadcrumb,
            csrf: session.csrf_token.clone(),
        })
    }
}

/// Renders a page template into a response.
pub fn render(page: &impl Template) -> Result<Response, WebError> {
    Ok(Html(page.render()?).into_response())
}

/// Lets the request through if the role may use the page; otherwise answers "not found"
/// and writes the attempt to the audit log.
pub async fn require(
    state: &AppState,
    session: &Session,
    permission: Permission,
    page: &str,
) -> Result<(), WebError> {
    if session.actor.can(permission) {
        Ok(())
    } else {
        Err(state.store.deny(&session.actor, "page.view", "页面", page).await.into())
    }
}

/// A query string from pairs, encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub async fn not_found() -> WebError {
    WebError::NotFound("您要找的页面不存在，请从左侧菜单进入".to_owned())
}
