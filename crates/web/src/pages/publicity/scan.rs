//! An activity's QR code and what scanning it does. The image (`/publicity/{id}/qr.svg`)
//! holds the address `/hd/{code}`; opened on a phone by a user who enrols families, that
//! page remembers the code in a cookie for the next hours, and the enrolment form starts
//! with it filled in, so an agent at a door-to-door activity scans once and every family
//! enrolled there counts for the activity. The field stays editable.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use guanai_domain::publicity::ActivityCode;
use guanai_domain::Permission;

use crate::error::WebError;
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{Activity as ActivityId, PathId};
use crate::session::{cookie, set_cookie, PageUser, RequestContext};
use crate::state::AppState;

/// The cookie holding the activity code scanned last.
const ACTIVITY_COOKIE: &str = "guanai_activity";

/// How long a scanned code is offered: a working day in the field.
const REMEMBER_SECONDS: i64 = 12 * 3600;

/// The scanned activity code the request carries, if it still reads as a code.
pub fn remembered_activity_code(headers: &HeaderMap) -> Option<String> {
    cookie(headers, ACTIVITY_COOKIE).and_then(|raw| ActivityCode::parse(&raw).ok()).map(|c| c.to_string())
}

/// The address an activity's QR image holds.
pub(super) fn scan_link(state: &AppState, headers: &HeaderMap, code: &str) -> String {
    crate::pages::qr::link(state, headers, &format!("/hd/{code}"))
}

/// The QR image of an activity in the user's scope.
pub(super) async fn qr_image(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<ActivityId>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity").await?;
    let activity = state.store.publicity().activity(&user.session.actor, id.id).await?;
    crate::pages::qr::image(&scan_link(&state, &headers, &activity.code))
}

#[derive(Template)]
#[template(path = "publicity_scan.html")]
struct ScanPage {
    shell: Shell,
    code: String,
    title: Option<String>,
    error: Option<String>,
}

/// A scanned code: remembered for the enrolments that follow when the activity may be
/// used by this user; otherwise the reason, and nothing remembered.
pub(super) async fn remember(
    State(state): State<AppState>,
    user: PageUser,
    context: RequestContext,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::Enrol, "/hd").await?;
    let checked: Result<(ActivityCode, String), String> = match ActivityCode::parse(&raw) {
        Err(err) => Err(err.to_string()),
        Ok(code) => match state.store.publicity().activity_for_scan(&user.session.actor, &code).await {
            Ok((_, title)) => Ok((code, title)),
            Err(err) => match WebError::from(err) {
                WebError::NotFound(m) | WebError::BadRequest(m) | WebError::Forbidden(m) => Err(m),
                other => return Err(other),
            },
        },
    };
    let shell =
        Shell::new(&state, &user.session, "宣传活动码", "/families", vec![Crumb::here("宣传活动码")]).await?;
    match checked {
        Ok((code, title)) => {
            let page = ScanPage { shell, code: code.to_string(), title: Some(title), error: None };
            let mut response = render(&page)?;
            let value = set_cookie(ACTIVITY_COOKIE, code.as_str(), context.secure, Some(REMEMBER_SECONDS));
            response.headers_mut().append(
                header::SET_COOKIE,
                value.parse().map_err(|_| WebError::Internal("cookie header".to_owned()))?,
            );
            Ok(response)
        }
        Err(message) => {
            let page =
                ScanPage { shell, code: raw.chars().take(12).collect(), title: None, error: Some(message) };
            let mut response = render(&page)?;
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}
