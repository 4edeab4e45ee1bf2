//! Gifted policies in bulk (送保): choose a funding source, a package and the families
//! (by region, category and poverty status, or by their ids), see the preview, then
//! confirm. The confirmation is all or nothing: the store creates every policy of the
//! preview or none.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::families::FamilyCategory;
use guanai_domain::{Fen, Permission, PovertyStatus, RegionCode};
use guanai_store::funding::Source;
use guanai_store::policies::{GiftPreview, GiftRequest, GiftSelection};
use guanai_store::products::Package;
use guanai_store::sessions::Session;
use guanai_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::pages::form::{form_error, render_form, render_status};
use crate::pages::funding::{category_name, year_choices, POVERTY_CHOICES};
use crate::pages::{require, Crumb, Shell};
use crate::requests::forms::year_or_current;
use crate::requests::gifting::{family_ids, selection};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/gifting", get(form).post(confirm)).route("/gifting/preview", post(preview))
}

/// Skipped families the preview lists.
const SKIPPED_SHOWN: usize = 200;

/// The values of the gift form; the preview's confirmation posts them again unchanged.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct GiftForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    source_id: String,
    #[serde(default)]
    package_id: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    poverty: String,
    #[serde(default)]
    family_ids: String,
    /// What the confirmed preview showed: the families and the total in fen. When the
    /// selection no longer gives the same, the gift is not made and the preview shown again.
    #[serde(default, skip_serializing)]
    expect_count: String,
    #[serde(default, skip_serializing)]
    expect_total: String,
}

impl GiftForm {
    fn request(&self, scope: &RegionCode) -> Result<GiftRequest, String> {
        let source_id = self.source_id.trim().parse().map_err(|_| "请选择资金来源".to_owned())?;
        let package_id = self.package_id.trim().parse().map_err(|_| "请选择保障方案".to_owned())?;
        let listed = family_ids(&self.family_ids)?;
        let selection = selection(scope, &self.region, &self.category, &self.poverty, listed)?;
        Ok(GiftRequest { source_id, package_id, selection })
    }

    /// Writes the listed family ids one way (`1, 2, 3`), so the confirmation re-posts
    /// exactly what was read whatever separators were typed.
    fn normalise(&mut self) {
        if let Ok(ids) = family_ids(&self.family_ids) {
            self.family_ids = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        }
    }

    /// The form's values as a query string, to open the form again with them.
    fn query(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// The selection in words.
fn describe(selection: &GiftSelection, region_name: &str) -> String {
    match selection {
        GiftSelection::Families(ids) => format!("指定的 {} 户家庭", ids.len()),
        GiftSelection::Filter { category, poverty, .. } => {
            let mut text = format!("{region_name}的家庭");
            if let Some(category) = category {
                text.push_str(&format!("，家庭类型为{}", category_name(category)));
            }
            if let Some(poverty) = poverty {
                text.push_str(&format!("，{}", poverty.label()));
            }
            text
        }
    }
}

// ---- the form ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "gifting.html")]
struct GiftFormPage {
    shell: Shell,
    form: GiftForm,
    year: i32,
    years: Vec<i32>,
    sources: Vec<Source>,
    packages: Vec<Package>,
    categories: &'static [(&'static str, &'static str)],
    poverty_choices: [PovertyStatus; 3],
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    session: &Session,
    mut form: GiftForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let year = year_or_current(&form.year, state.today()).map_err(WebError::BadRequest)?;
    form.year = year.to_string();
    let sources = state.store.funding().spendable_sources(&session.actor, Some(year)).await?;
    let packages = state.store.products().packages_on_sale(Some(year)).await?;
    let shell = Shell::new(state, session, "送保", "/gifting", vec![Crumb::here("送保")]).await?;
    let failed = error.is_some();
    let page = GiftFormPage {
        shell,
        form,
        year,
        years: year_choices(state.today()),
        sources,
        packages,
        categories: &FamilyCategory::DEFAULTS,
        poverty_choices: POVERTY_CHOICES,
        error,
    };
    render_form(&page, failed)
}

/// The gift form; its values may come in the query (to change a previewed selection).
pub async fn form(
    State(state): State<AppState>,
    user: PageUser,
    Query(mut form): Query<GiftForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Gift, "/gifting").await?;
    if form.region.trim().is_empty() && form.family_ids.trim().is_empty() {
        form.region = user.session.actor.scope().to_string();
    }
    form_page(&state, &user.session, form, None).await
}

// ---- the preview and the confirmation --------------------------------------------------

#[derive(Template)]
#[template(path = "gifting_preview.html")]
struct PreviewPage {
    shell: Shell,
    form: GiftForm,
    preview: GiftPreview,
    selection: String,
    /// Every eligible family is covered by what the source has left.
    enough: bool,
    /// What the budget lacks for all of them.
    shortfall: Fen,
    change_link: String,
    error: Option<String>,
}

impl PreviewPage {
    fn skipped_shown(&self) -> &[guanai_store::policies::GiftSkip] {
        &self.preview.skipped[..self.preview.skipped.len().min(SKIPPED_SHOWN)]
    }
}

async fn preview_page(
    state: &AppState,
    session: &Session,
    form: GiftForm,
    request: &GiftRequest,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let actor = &session.actor;
    let preview = match state.store.policies().gift_preview(actor, request).await {
        Ok(preview) => preview,
        Err(err) => {
            let message = form_error(err)?;
            let message = match error {
                Some((_, first)) => format!("{first}（{message}）"),
                None => message,
            };
            return form_page(state, session, form, Some(message)).await;
        }
    };
    let region_name = match &request.selection {
        GiftSelection::Filter { region, .. } => state
            .store
            .regions()
            .region_names(&[region.as_str()])
            .await?
            .remove(region.as_str())
            .unwrap_or_else(|| region.to_string()),
        GiftSelection::Families(_) => String::new(),
    };
    let shortfall =
        preview.total.checked_sub(preview.budget_left).filter(|f| !f.is_negative()).unwrap_or(Fen::ZERO);
    let trail = vec![Crumb::link("送保", format!("/gifting?{}", form.query())), Crumb::here("核对送保")];
    let shell = Shell::new(state, session, "核对送保", "/gifting", trail).await?;
    let status = error.as_ref().map(|(status, _)| *status).unwrap_or(StatusCode::OK);
    let page = PreviewPage {
        shell,
        selection: describe(&request.selection, &region_name),
        enough: preview.eligible > 0 && preview.coverable >= preview.eligible,
        shortfall,
        change_link: format!("/gifting?{}", form.query()),
        error: error.map(|(_, message)| message),
        preview,
        form,
    };
    render_status(&page, status)
}

/// Shows which families the gift would insure, which are skipped and why, what it costs
/// and whether the source can pay for all of them.
pub async fn preview(
    State(state): State<AppState>,
    user: PageUser,
    Form(mut form): Form<GiftForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Gift, "/gifting").await?;
    form.normalise();
    let request = match form.request(user.session.actor.scope()) {
        Ok(request) => request,
        Err(message) => return form_page(&state, &user.session, form, Some(message)).await,
    };
    preview_page(&state, &user.session, form, &request, None).await
}

/// Creates every gifted policy of the previewed selection, or none; then the source's
/// ledger shows them.
pub async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    Form(mut form): Form<GiftForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Gift, "/gifting").await?;
    form.normalise();
    let actor = &user.session.actor;
    let request = match form.request(actor.scope()) {
        Ok(request) => request,
        Err(message) => return form_page(&state, &user.session, form, Some(message)).await,
    };
    if !form.expect_count.is_empty() || !form.expect_total.is_empty() {
        let now = match state.store.policies().gift_preview(actor, &request).await {
            Ok(now) => now,
            Err(err) => return form_page(&state, &user.session, form, Some(form_error(err)?)).await,
        };
        if now.eligible.to_string() != form.expect_count.trim()
            || now.total.get().to_string() != form.expect_total.trim()
        {
            let message = "核对后情况有变化（家庭或保费与您确认时不同），本次未做任何更改；请重新核对下面的结果后再确认".to_owned();
            return preview_page(
                &state,
                &user.session,
                form,
                &request,
                Some((StatusCode::CONFLICT, message)),
            )
            .await;
        }
    }
    match state.store.policies().gift(actor, &request).await {
        Ok(outcome) => {
            Ok(Redirect::to(&format!("/funding/{}?gifted={}", request.source_id, outcome.created))
                .into_response())
        }
        Err(err) => {
            let status = if matches!(err, StoreError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            let message = form_error(err)?;
            preview_page(&state, &user.session, form, &request, Some((status, message))).await
        }
    }
}
