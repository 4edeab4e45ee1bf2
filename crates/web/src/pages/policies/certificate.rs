//! The printable coverage certificate, and the public check of its code.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guanai_domain::Permission;
use guanai_store::policies::{Certificate, PolicyStatus, PublicCertificate};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::TagColor;
use crate::pages::form::render_status;
use crate::pages::{render, require};
use crate::requests::ids::{PathId, Policy};
use crate::session::PageUser;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    certificate: Certificate,
    start: String,
    end: String,
}

/// The printable coverage certificate (A4, no navigation).
pub(super) async fn certificate(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<Policy>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/policies/certificate").await?;
    let certificate = state.store.policies().certificate(&user.session.actor, id).await?;
    if certificate.policy.status != PolicyStatus::Underwritten {
        return Err(WebError::BadRequest("保险公司确认承保后才能打印保险凭证".to_owned()));
    }
    let start = guanai_domain::products::prose_date(certificate.policy.start_date);
    let end = guanai_domain::products::prose_date(certificate.policy.end_date);
    render(&CertificatePage { certificate, start, end })
}

#[derive(Deserialize, Default)]
pub(super) struct VerifyQuery {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    code: String,
    result: Option<PublicCertificate>,
    not_found: bool,
}

/// The public check of a certificate code: no login, masked data only.
pub(super) async fn verify(
    State(state): State<AppState>,
    Query(query): Query<VerifyQuery>,
) -> Result<Response, WebError> {
    let code = query.code.trim().to_owned();
    let result =
        if code.is_empty() { None } else { state.store.policies().verify_certificate(&code).await? };
    let not_found = !code.is_empty() && result.is_none();
    let status = if not_found { StatusCode::NOT_FOUND } else { StatusCode::OK };
    render_status(&VerifyPage { code, result, not_found }, status)
}
