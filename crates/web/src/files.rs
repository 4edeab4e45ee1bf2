//! Images from the file store as HTTP answers, the same for pages and the API: the stored
//! type (always JPEG, re-encoded on upload), `private` caching (a browser may keep a photo
//! it showed its own user, no shared cache may), never sniffed.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use guanai_store::files::Image;

pub fn image_response(image: Image) -> Response {
    let mut response = image.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(image.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
