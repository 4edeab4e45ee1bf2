//! Files from the file store as HTTP answers, the same for pages and the API: the stored
//! type (a JPEG, re-encoded on upload, or a claim paper's PDF, shown `inline` under its
//! name), `private` caching (a browser may keep a file it showed its own user, no shared
//! cache may), never sniffed. And the `Content-Disposition` every download names its file
//! with.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use guanai_domain::files::PDF_TYPE;
use guanai_store::files::Image;

pub fn image_response(image: Image) -> Response {
    let disposition =
        (image.content_type == PDF_TYPE).then(|| disposition("inline", &image.file.name, "paper.pdf"));
    let mut response = image.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(image.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(value) = disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `inline` or `attachment` with both names: `filename` (ASCII, quotes and controls
/// dropped) and `filename*` in UTF-8, percent-encoded as RFC 5987 says.
pub(crate) fn disposition(kind: &str, file_name: &str, ascii_name: &str) -> String {
    let plain: String = ascii_name
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| !"\"\\".contains(*c))
        .collect();
    format!("{kind}; filename=\"{plain}\"; filename*=UTF-8''{}", rfc5987(file_name))
}

/// Every byte but RFC 5987's `attr-char`s as `%XX`.
fn rfc5987(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
