//! Roster import on the web: upload, map the columns the file did not name clearly,
//! preview every row's verdict, then commit in the background with progress. The file and
//! the job's state are kept in the database, so the page survives a reload and any server
//! instance can show it; a large file never holds a request open while it is written.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::Permission;
use guanai_import::jobs::roster::{self, RosterSummary};
use guanai_import::jobs::{self as import_jobs, ImportJob, JobKind, JobStatus};
use guanai_import::{ColumnMap, Field, ImportError, RowVerdict};
use guanai_store::imports::{MAX_IMPORT_BYTES, STALE_AFTER_MINUTES};
use guanai_store::StoreError;

use crate::download::xlsx;
use crate::error::WebError;
use crate::format::china_time;
use crate::pages::upload::{read_upload, Upload};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::ids::{self, PathId};
use crate::session::PageUser;
use crate::state::AppState;

/// Rows listed on the preview page (every refused one is in the downloadable report).
const SHOWN_ROWS: u64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports", get(list).post(upload).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)))
        .route("/imports/template.xlsx", get(template))
        .route("/imports/{id}", get(show))
        .route("/imports/{id}/map", post(map_columns))
        .route("/imports/{id}/commit", post(commit))
        .route("/imports/{id}/cancel", post(cancel))
        .route("/imports/{id}/refused.xlsx", get(refused_report))
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ListPage {
    shell: Shell,
    jobs: Vec<ImportJob>,
    error: Option<String>,
    max_mb: usize,
}

impl ListPage {
    fn when(&self, job: &ImportJob) -> String {
        china_time(&job.created_at)
    }
}

async fn list_page(state: &AppState, user: &PageUser, error: Option<String>) -> Result<Response, WebError> {
    let jobs = state.store.imports().import_jobs(&user.session.actor, JobKind::Roster).await?;
    let shell =
        Shell::new(state, &user.session, "名单导入", "/imports", vec![Crumb::here("名单导入")]).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut response = render(&ListPage { shell, jobs, error, max_mb: MAX_IMPORT_BYTES / 1024 / 1024 })?;
    *response.status_mut() = status;
    Ok(response)
}

/// The upload form, the template and the recent imports of the user's region.
async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    list_page(&state, &user, None).await
}

/// The roster template with its instructions.
async fn template(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let bytes =
        guanai_import::report::roster_template_xlsx().map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(xlsx("计生家庭参保花名册模板.xlsx", "roster-template.xlsx", bytes))
}

/// Takes the uploaded file, previews it, and shows the preview.
async fn upload(
    State(state): State<AppState>,
    user: PageUser,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let actor = &user.session.actor;
    let upload =
        read_upload(&mut multipart, MAX_IMPORT_BYTES, "roster", "请选择要导入的 .xlsx 或 .csv 文件").await;
    let Upload { name, bytes } = match upload {
        Ok(upload) => upload,
        Err(message) => return list_page(&state, &user, Some(message)).await,
    };
    let id = match roster::upload(&state.store, actor, &name, bytes, true, &[]).await {
        Ok(uploaded) => uploaded.id,
        Err(ImportError::Store(err @ StoreError::Database(_))) => return Err(err.into()),
        Err(ImportError::Store(err)) => {
            return list_page(&state, &user, Some(WebError::from(err).to_string())).await
        }
        Err(err) => return Err(err.into()),
    };
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    shell: Shell,
    job: ImportJob,
    preview: RosterSummary,
    rows: Vec<RowVerdict>,
    fields: Vec<(&'static str, &'static str, Option<usize>)>,
    percent: i64,
    /// Committing without progress for too long: it may be started again.
    stale: bool,
    /// The file was deleted (the job ended and its retention passed).
    file_gone: bool,
    stale_minutes: i64,
}

impl JobPage {
    fn verdict_label(&self, row: &RowVerdict) -> &'static str {
        row.verdict.label()
    }

    fn verdict_color(&self, row: &RowVerdict) -> &'static str {
        row.verdict.color()
    }

    fn status_label(&self) -> &'static str {
        self.job.status.label()
    }

    fn running(&self) -> bool {
        self.job.status == JobStatus::Committing && !self.stale
    }

    fn previewed(&self) -> bool {
        self.job.status == JobStatus::Previewed && !self.file_gone
    }

    /// Failed half way, with its file still there: it can be run again.
    fn retry(&self) -> bool {
        self.job.status == JobStatus::Failed && !self.file_gone
    }

    fn is_chosen(&self, chosen: &Option<usize>, column: &usize) -> bool {
        *chosen == Some(*column)
    }
}

/// The job: its preview with the column choices, or the progress of its commit.
async fn show(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ImportJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let view = roster::view(&state.store, &user.session.actor, id, SHOWN_ROWS).await?;
    let (job, rows) = (view.job, view.rows);
    let preview = view.summary.unwrap_or_default();
    let chosen = ColumnMap::decode_overrides(&job.overrides);
    let mut map = guanai_import::columns::recognise(&preview.headers);
    for (field, column) in &chosen {
        map.assign(*field, *column);
    }
    let fields = Field::ALL.iter().map(|f| (f.as_str(), f.label(), map.get(*f))).collect();
    let percent = if job.total > 0 { job.done * 100 / job.total } else { 0 };
    let trail = vec![Crumb::link("名单导入", "/imports"), Crumb::here(job.file_name.clone())];
    let shell = Shell::new(&state, &user.session, "导入预检", "/imports", trail).await?;
    let (stale, file_gone) = (job.is_stale(), job.file_deleted_at.is_some());
    render(&JobPage {
        shell,
        job,
        preview,
        rows,
        fields,
        percent,
        stale,
        file_gone,
        stale_minutes: STALE_AFTER_MINUTES,
    })
}

/// The user's column choices: re-plans with them.
async fn map_columns(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ImportJob>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let overrides: Vec<(Field, usize)> = pairs
        .iter()
        .filter_map(|(key, value)| Some((Field::parse(key.strip_prefix("col_")?)?, value.parse().ok()?)))
        .collect();
    roster::remap(&state.store, &user.session.actor, id, &overrides).await?;
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// Claims the job and writes it in the background; the page shows the progress. Of two
/// requests at once only one claims it; a job left committing by a stopped server is
/// claimed again once stale. Running it again after an interruption completes what is
/// missing (an import is idempotent).
async fn commit(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ImportJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let actor = user.session.actor.clone();
    if import_jobs::claim(&state.store, &actor, JobKind::Roster, id, false).await? {
        let store = state.store.clone();
        // The job records its own end (and a failure's reason) for its page.
        tokio::spawn(async move {
            let batch = guanai_import::roster::COMMIT_BATCH;
            let _ = roster::run(&store, &actor, id, None, batch, |_, _| {}).await;
        });
    }
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// Gives up a previewed job: nothing is written; the file goes with the retention.
async fn cancel(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ImportJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    if !import_jobs::cancel(&state.store, &user.session.actor, JobKind::Roster, id).await? {
        return Err(WebError::BadRequest("该导入已开始或已结束，不能取消".to_owned()));
    }
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// The refused rows with their reasons, as .xlsx, ready to correct and import again: made
/// from the job's stored plan, never from the file.
async fn refused_report(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<ids::ImportJob>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let actor = &user.session.actor;
    let (job, report) = roster::refused_report(&state.store, actor, id).await?;
    let Some(report) = report else {
        return Err(WebError::NotFound("该导入的文件已按保留期限删除，无法再生成未导入的行".to_owned()));
    };
    state
        .store
        .audit(
            actor,
            guanai_store::audit::AuditEvent::ok("import.report", "导入", job.id.to_string())
                .with_detail("下载未导入的行"),
        )
        .await?;
    Ok(xlsx(
        &format!("未导入的行-{}.xlsx", job.file_name.trim_end_matches(".xlsx").trim_end_matches(".csv")),
        "refused-rows.xlsx",
        report,
    ))
}
