//! The claims exchange for the insurer's users (理赔交换): the export of new reports, and
//! the insurer's file of decisions and payments, previewed, then confirmed. The preview
//! page carries the file back (hex in a hidden field; the file is at most a few hundred
//! rows of text), and confirming plans it again against the database as it is then.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use axum::Form;
use guanai_domain::Permission;
use guanai_import::claims_exchange::{self, ClaimsPlan, RowVerdict, MAX_BYTES};
use guanai_import::ImportError;
use serde::Deserialize;

use crate::download::xlsx;
use crate::error::WebError;
use crate::pages::form::render_form;
use crate::pages::upload::read_upload;
use crate::pages::{require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

/// The body a confirmation may carry (the file, hex-encoded, and the token).
pub(super) const CONFIRM_BODY_LIMIT: usize = 2 * MAX_BYTES + 64 * 1024;

#[derive(Template)]
#[template(path = "claims_exchange.html")]
struct ExchangePage {
    shell: Shell,
    /// (row, verdict label, message) of a previewed file.
    rows: Vec<(usize, &'static str, String)>,
    /// The previewed file, hex-encoded, when it has rows to apply.
    file: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct ExportForm {
    again_on: Option<chrono::NaiveDate>,
}

#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    file: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()).collect()
}

async fn page(
    state: &AppState,
    user: &PageUser,
    plan: Option<(&ClaimsPlan, Vec<u8>)>,
    done: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("理赔", "/claims"), Crumb::here("理赔交换")];
    let shell = Shell::new(state, &user.session, "理赔交换", "/claims", trail).await?;
    let (rows, file) = match plan {
        Some((plan, bytes)) => {
            let rows = plan
                .rows
                .iter()
                .map(|r| {
                    let label = match r.verdict {
                        RowVerdict::Apply => "将导入",
                        RowVerdict::Unchanged => "无变化",
                        RowVerdict::Refused => "不能导入",
                    };
                    (r.line, label, r.message.clone())
                })
                .collect();
            let any = plan.rows.iter().any(|r| r.verdict == RowVerdict::Apply);
            (rows, any.then(|| hex(&bytes)))
        }
        None => (Vec::new(), None),
    };
    let failed = error.is_some();
    render_form(&ExchangePage { shell, rows, file, done, error }, failed)
}

fn readable(err: ImportError) -> Result<String, WebError> {
    match err {
        ImportError::Store(err) => Err(err.into()),
        other => Ok(other.to_string()),
    }
}

pub(super) async fn show(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/exchange").await?;
    page(&state, &user, None, None, None).await
}

pub(super) async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(form): Query<ExportForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/exchange").await?;
    let rows = state.store.claims().export_to_insurer(&user.session.actor, form.again_on).await?;
    let bytes = claims_exchange::claims_xlsx(&rows)?;
    let day = form.again_on.unwrap_or_else(|| state.today());
    Ok(xlsx(&format!("理赔报案-{day}.xlsx"), &format!("claims-{day}.xlsx"), bytes))
}

pub(super) async fn preview(
    State(state): State<AppState>,
    user: PageUser,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/exchange").await?;
    let upload =
        match read_upload(&mut multipart, MAX_BYTES, "理赔结果", "请选择保险公司的理赔结果 .xlsx 文件").await
        {
            Ok(upload) => upload,
            Err(message) => return page(&state, &user, None, None, Some(message)).await,
        };
    let bytes = upload.bytes;
    match claims_exchange::plan_claims(&state.store, &user.session.actor, bytes.clone()).await {
        Ok(plan) => page(&state, &user, Some((&plan, bytes)), None, None).await,
        Err(err) => page(&state, &user, None, None, Some(readable(err)?)).await,
    }
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::DecideClaims, "/claims/exchange").await?;
    let Some(bytes) = unhex(&form.file) else {
        return page(&state, &user, None, None, Some("文件已失效，请重新上传".to_owned())).await;
    };
    let actor = &user.session.actor;
    let result = match claims_exchange::plan_claims(&state.store, actor, bytes).await {
        Ok(plan) => plan.commit(&state.store, actor).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(o) => {
            let done = format!(
                "导入完成：核定 {} 件，赔付 {} 件，无变化 {} 行，未导入 {} 行",
                o.decided, o.paid, o.unchanged, o.refused
            );
            page(&state, &user, None, Some(done), None).await
        }
        Err(err) => page(&state, &user, None, None, Some(readable(err)?)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_goes_through_hex_and_back() {
        let bytes = vec![0u8, 1, 0xab, 0xff];
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex("abc"), None);
    }
}
