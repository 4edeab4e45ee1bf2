//! The family list (its filters are `requests::families`, shared with the API and the data
//! exchange), and the
//! exact look-up by ID or phone number: a POST, so the number is in no URL or access log;
//! the store audits and limits it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Form;
use guanai_domain::families::{FamilyCategory, PovertyStatus};
use guanai_domain::Permission;
use guanai_store::families::FamilyPage;
use guanai_store::StoreError;

use crate::error::WebError;
use crate::pages::form::render_form;
use crate::pages::{require, Crumb, Shell};
use crate::requests::families::{FamilyFilter, LookupForm};
use crate::session::PageUser;
use crate::state::AppState;

const PER_PAGE: u64 = 50;

/// One line of the list, as shown.
struct ListRow {
    id: i64,
    code: String,
    head: String,
    village: String,
    category: String,
    poverty: &'static str,
    members: u64,
    phone: String,
}

#[derive(Template)]
#[template(path = "families.html")]
struct FamiliesPage {
    shell: Shell,
    filter: FamilyFilter,
    error: Option<String>,
    rows: Vec<ListRow>,
    total: u64,
    page: u64,
    pages: u64,
    prev_link: Option<String>,
    next_link: Option<String>,
    /// The list answers an exact look-up.
    looked_up: bool,
    lookup_note: String,
    can_create: bool,
    categories: [(&'static str, &'static str); 6],
    statuses: [PovertyStatus; 4],
}

/// A filter or look-up the user can fix is shown above the list; the rest are errors.
pub(crate) fn filter_error(err: StoreError) -> Result<String, WebError> {
    match err {
        StoreError::Invalid(m) => Ok(m),
        other => Err(other.into()),
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<FamilyFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/families").await?;
    let actor = &user.session.actor;
    let found = match filter.to_query(actor, PER_PAGE) {
        Ok(query) => match state.store.families().search_families(actor, &query).await {
            Ok(page) => Ok(page),
            Err(err) => Err(filter_error(err)?),
        },
        Err(message) => Err(message),
    };
    list_page(&state, &user, filter, found, false).await
}

/// The list of the families with this ID or phone number (`POST /families/lookup`).
pub(super) async fn lookup(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<LookupForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/families").await?;
    let actor = &user.session.actor;
    let found = match form.to_lookup() {
        Ok(lookup) => match state.store.families().lookup_families(actor, &lookup).await {
            Ok(page) => Ok(page),
            Err(err) => Err(filter_error(err)?),
        },
        Err(message) => Err(message),
    };
    let mut response = list_page(&state, &user, FamilyFilter::default(), found, true).await?;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list_page(
    state: &AppState,
    user: &PageUser,
    filter: FamilyFilter,
    found: Result<FamilyPage, String>,
    looked_up: bool,
) -> Result<Response, WebError> {
    let actor = &user.session.actor;
    let (found, error) = match found {
        Ok(found) => (Some(found), None),
        Err(message) => (None, Some(message)),
    };
    let (families, total) = found.map(|f| (f.families, f.total)).unwrap_or_default();
    let codes: Vec<&str> = families.iter().map(|f| f.village_code.as_str()).collect();
    let names = state.store.regions().region_names(&codes).await?;
    let rows = families
        .iter()
        .map(|f| ListRow {
            id: f.id,
            code: f.code.clone(),
            head: f.head_name.to_string(),
            village: names.get(&f.village_code).cloned().unwrap_or_else(|| f.village_code.clone()),
            category: f.category_name.clone(),
            poverty: f.poverty.label(),
            members: f.members,
            phone: f.phone_masked.clone().unwrap_or_default(),
        })
        .collect();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = filter.page();
    let shell =
        Shell::new(state, &user.session, "家庭档案", "/families", vec![Crumb::here("家庭档案")]).await?;
    let failed = error.is_some();
    let response = render_form(
        &FamiliesPage {
            shell,
            prev_link: (!looked_up && page > 0)
                .then(|| format!("/families?{}", filter.query_string(page - 1))),
            next_link: (!looked_up && page + 1 < pages)
                .then(|| format!("/families?{}", filter.query_string(page + 1))),
            filter,
            error,
            rows,
            total,
            page,
            pages,
            looked_up,
            lookup_note: format!(
                "按身份证号或手机号精确查找会记入审计日志，每人每{}分钟最多{}次。",
                guanai_store::lookups::LOOKUP_WINDOW_SECS / 60,
                guanai_store::lookups::LOOKUP_LIMIT
            ),
            can_create: actor.can(Permission::ManageFamilies),
            categories: FamilyCategory::DEFAULTS,
            statuses: PovertyStatus::ALL,
        },
        failed,
    )?;
    Ok(response)
}
