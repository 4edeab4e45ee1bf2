//! A page holding a form, rendered again with what went wrong: the one place that decides
//! which refusals a form shows (bad input, a conflict, a rule the user can act on) and the
//! status it answers with.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::render;
use crate::error::WebError;

/// The message a form shows again for a refusal the user can act on; anything else (a
/// database failure, "not found") stays an error page.
pub fn form_error(err: impl Into<WebError>) -> Result<String, WebError> {
    match err.into() {
        WebError::BadRequest(m) | WebError::Conflict(m) | WebError::Forbidden(m) => Ok(m),
        other => Err(other),
    }
}

/// Renders a form's page: 200, or 400 when it is shown again with an error.
pub fn render_form(page: &impl Template, failed: bool) -> Result<Response, WebError> {
    render_status(page, if failed { StatusCode::BAD_REQUEST } else { StatusCode::OK })
}

/// Renders a page with the given status.
pub fn render_status(page: &impl Template, status: StatusCode) -> Result<Response, WebError> {
    Ok(with_status(render(page)?, status))
}

/// A response with another status.
pub fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_shows_what_the_user_can_fix_and_nothing_else() {
        for err in [
            WebError::BadRequest("a".into()),
            WebError::Conflict("a".into()),
            WebError::Forbidden("a".into()),
        ] {
            assert_eq!(form_error(err).unwrap(), "a");
        }
        assert!(matches!(form_error(WebError::NotFound("x".into())), Err(WebError::NotFound(_))));
        assert!(matches!(form_error(WebError::Internal("x".into())), Err(WebError::Internal(_))));
    }
}
