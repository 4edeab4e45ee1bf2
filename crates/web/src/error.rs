use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use guanai_store::StoreError;
use serde::Serialize;

/// An error a page handler returns; rendered as a Chinese error page.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many requests of one kind: `429`, with what to do.
    #[error("{0}")]
    TooMany(String),
    #[error("页面已过期或请求来源无法确认，请刷新页面后重试")]
    Csrf,
    #[error("请先登录")]
    Unauthenticated,
    #[error("系统内部错误，请稍后重试；如果一直出现，请联系管理员")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            WebError::NotFound(_) => "not_found",
            WebError::BadRequest(_) => "bad_request",
            WebError::Forbidden(_) => "forbidden",
            WebError::Conflict(_) => "conflict",
            WebError::TooMany(_) => "too_many_requests",
            WebError::Csrf => "csrf",
            WebError::Unauthenticated => "unauthenticated",
            WebError::Internal(_) => "internal",
        }
    }

    fn log(&self) {
        if let WebError::Internal(detail) = self {
            tracing::error!(%detail, "request failed");
        }
    }
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(m) => WebError::NotFound(m),
            StoreError::Invalid(m) => WebError::BadRequest(m),
            StoreError::Conflict(m) => WebError::Conflict(m),
            StoreError::Forbidden(m) => WebError::Forbidden(m),
            StoreError::Limited(m) => WebError::TooMany(m),
            StoreError::Database(e) => WebError::Internal(e.to_string()),
            StoreError::Corrupt(detail) => WebError::Internal(detail),
            StoreError::Blob(detail) => WebError::Internal(detail),
        }
    }
}

/// What is wrong with a file is the user's to fix (400); a database failure is ours (500,
/// the detail in the log only).
impl From<guanai_import::ImportError> for WebError {
    fn from(err: guanai_import::ImportError) -> Self {
        match err {
            guanai_import::ImportError::Store(err) => err.into(),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(err: askama::Error) -> Self {
        WebError::Internal(format!("template: {err}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let title = match status {
            StatusCode::NOT_FOUND => "找不到页面",
            StatusCode::FORBIDDEN => "无法执行",
            StatusCode::CONFLICT => "数据冲突",
            StatusCode::BAD_REQUEST => "输入有误",
            StatusCode::TOO_MANY_REQUESTS => "请求过于频繁",
            _ => "出错了",
        };
        let page = ErrorPage { status: status.as_u16(), title, message: self.to_string() };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.to_string()).into_response(),
        }
    }
}

/// An error an API handler returns: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

/// Every error the API answers (its schema in the OpenAPI document).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody<'a> {
    error: ApiErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ApiErrorDetail<'a> {
    /// `not_found`, `bad_request`, `forbidden`, `conflict`, `too_many_requests`, `csrf`,
    /// `unauthenticated` or `internal`.
    code: &'a str,
    /// What went wrong, in Chinese, to show to the user as it is.
    message: String,
}

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let body =
            ApiErrorBody { error: ApiErrorDetail { code: self.0.code(), message: self.0.to_string() } };
        (self.0.status(), axum::Json(body)).into_response()
    }
}
