//! QR codes the pages print (an activity's code, a training session's sign-in): an SVG
//! image of an address on this server, as the browser reached it, so a code printed on
//! the network it was printed from opens there on a phone.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use qrcode::render::svg;
use qrcode::QrCode;

use crate::error::WebError;
use crate::state::AppState;

/// `path_and_query` on this server: absolute with the `Host` the browser sent (when it reads
/// as a host name), else as it is.
pub fn link(state: &AppState, headers: &HeaderMap, path_and_query: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)));
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    match host {
        Some(host) => format!("{scheme}://{host}{path_and_query}"),
        None => path_and_query.to_owned(),
    }
}

/// The QR image of `link`: SVG, to print at any size; kept an hour by the user's browser.
pub fn image(link: &str) -> Result<Response, WebError> {
    let code = QrCode::new(link.as_bytes()).map_err(|e| WebError::Internal(format!("QR code: {e}")))?;
    let image = code.render::<svg::Color>().min_dimensions(240, 240).quiet_zone(true).build();
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600")),
    ];
    Ok((headers, image).into_response())
}
