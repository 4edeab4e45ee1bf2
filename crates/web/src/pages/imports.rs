//! Roster import on the web: upload, map the columns the file did not name clearly,
//! preview every row's verdict, then commit in the background with progress. The file and
//! the job's state are kept in the database, so the page survives a reload and any server
//! instance can show it; a large file never holds a request open while it is written.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use guanai_domain::Permission;
use guanai_import::{ColumnMap, Field, ImportError, RowVerdict, Totals, Verdict};
use guanai_store::imports::{ImportJob, JobStatus, MAX_IMPORT_BYTES, STALE_AFTER_MINUTES};
use guanai_store::StoreError;
use guanai_store::{Actor, Store};
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::format::china_time;
use crate::pages::upload::{read_upload, Upload};
use crate::pages::{render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

const KIND: &str = "roster";
/// Rows listed on the preview page per verdict (all are in the downloadable report).
const SHOWN_ROWS: usize = 200;

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

/// What the preview page shows, kept with the job as JSON.
#[derive(Serialize, Deserialize, Default)]
struct Preview {
    headers: Vec<String>,
    /// (field label, column index) recognised or chosen.
    mapped: Vec<(String, usize)>,
    /// Required fields still without a column.
    missing: Vec<String>,
    /// Why the file cannot be read at all.
    error: Option<String>,
    totals: Option<Totals>,
    /// Refused and warned rows first, then the others, up to SHOWN_ROWS.
    rows: Vec<RowVerdict>,
}

/// The preview of a file: what is wrong with the file goes into the preview for the user
/// to fix; a database failure is an error of the page.
async fn make_preview(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
    overrides: &[(Field, usize)],
) -> Result<Preview, WebError> {
    let unreadable = |err: ImportError| -> Result<Preview, WebError> {
        match err {
            ImportError::Store(err) => Err(err.into()),
            other => Ok(Preview { error: Some(other.to_string()), ..Default::default() }),
        }
    };
    let headers = match guanai_import::read_header(bytes.to_vec()).await {
        Ok(headers) => headers,
        Err(err) => return unreadable(err),
    };
    let mut map = guanai_import::columns::recognise(&headers);
    for (field, column) in overrides {
        map.assign(*field, *column);
    }
    let mapped = map.fields.iter().map(|(f, c)| (f.label().to_owned(), *c)).collect();
    let missing: Vec<String> = map.missing().iter().map(|f| f.as_str().to_owned()).collect();
    if !missing.is_empty() {
        return Ok(Preview { headers, mapped, missing, ..Default::default() });
    }
    let plan = match guanai_import::plan_roster(store, actor, bytes, overrides).await {
        Ok(plan) => plan,
        Err(err) => {
            return unreadable(err).map(|p| Preview {
                headers,
                mapped,
                missing,
                error: p.error,
                ..Default::default()
            })
        }
    };
    let mut rows: Vec<RowVerdict> = plan
        .verdicts
        .iter()
        .filter(|v| matches!(v.verdict, Verdict::Refused | Verdict::Warned))
        .take(SHOWN_ROWS)
        .cloned()
        .collect();
    let room = SHOWN_ROWS.saturating_sub(rows.len()).min(50);
    rows.extend(
        plan.verdicts
            .iter()
            .filter(|v| !matches!(v.verdict, Verdict::Refused | Verdict::Warned))
            .take(room)
            .cloned(),
    );
    Ok(Preview { headers, mapped, missing, error: None, totals: Some(plan.totals.clone()), rows })
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
    let jobs = state.store.imports().import_jobs(&user.session.actor, KIND).await?;
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
    Ok(xlsx("计生家庭参保花名册模板.xlsx", bytes))
}

fn xlsx(file_name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"roster.xlsx\"; filename*=UTF-8''{}",
        crate::session::encode(file_name)
    );
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
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
    let id = match state.store.imports().create_import_job(actor, KIND, &name, bytes.clone()).await {
        Ok(id) => id,
        Err(err @ StoreError::Database(_)) => return Err(err.into()),
        Err(err) => return list_page(&state, &user, Some(WebError::from(err).to_string())).await,
    };
    let preview = make_preview(&state.store, actor, &bytes, &[]).await?;
    let json = serde_json::to_string(&preview).map_err(|e| WebError::Internal(e.to_string()))?;
    state.store.imports().set_import_preview(actor, id, "", &json).await?;
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    shell: Shell,
    job: ImportJob,
    preview: Preview,
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

fn parse_id(raw: &str) -> Result<i64, WebError> {
    raw.parse().map_err(|_| WebError::NotFound(format!("找不到导入任务“{raw}”")))
}

/// The job: its preview with the column choices, or the progress of its commit.
async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let job = state.store.imports().import_job_info(&user.session.actor, parse_id(&id)?).await?;
    let preview: Preview =
        job.preview.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
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
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let id = parse_id(&id)?;
    let actor = &user.session.actor;
    let (job, bytes) = state.store.imports().import_job(actor, id).await?;
    if job.status != JobStatus::Previewed || job.file_deleted_at.is_some() {
        return Err(WebError::BadRequest("该导入已开始、已结束或文件已删除，不能再修改列对应".to_owned()));
    }
    let overrides: Vec<(Field, usize)> = pairs
        .iter()
        .filter_map(|(key, value)| Some((Field::parse(key.strip_prefix("col_")?)?, value.parse().ok()?)))
        .collect();
    let preview = make_preview(&state.store, actor, &bytes, &overrides).await?;
    let json = serde_json::to_string(&preview).map_err(|e| WebError::Internal(e.to_string()))?;
    state
        .store
        .imports()
        .set_import_preview(actor, id, &ColumnMap::encode_overrides(&overrides), &json)
        .await?;
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// Claims the job and writes it in the background; the page shows the progress. Of two
/// requests at once only one claims it; a job left committing by a stopped server is
/// claimed again once stale. Running it again after an interruption completes what is
/// missing (an import is idempotent).
async fn commit(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let id = parse_id(&id)?;
    let actor = user.session.actor.clone();
    if !state.store.imports().claim_import_job(&actor, id).await? {
        return Ok(Redirect::to(&format!("/imports/{id}")).into_response());
    }
    let (job, bytes) = state.store.imports().import_job(&actor, id).await?;
    let overrides = ColumnMap::decode_overrides(&job.overrides);
    tokio::spawn(run_job(state.store.clone(), actor, id, bytes, overrides));
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// A claimed job: planned again from its file, then written batch by batch, beating
/// every minute so that it is not taken for stale; its end is recorded with the job.
async fn run_job(store: Store, actor: Actor, id: i64, bytes: Vec<u8>, overrides: Vec<(Field, usize)>) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let total = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let work = async {
        let plan = guanai_import::plan_roster(&store, &actor, bytes, &overrides).await?;
        let households = plan.totals.households_new as i64;
        total.store(households, std::sync::atomic::Ordering::Relaxed);
        store.imports().set_import_progress(id, JobStatus::Committing, 0, households, "").await?;
        plan.commit(&store, &actor, |written, all| {
            let store = store.clone();
            let done = done.clone();
            async move {
                done.store(written as i64, std::sync::atomic::Ordering::Relaxed);
                if let Err(err) = store
                    .imports()
                    .set_import_progress(id, JobStatus::Committing, written as i64, all as i64, "")
                    .await
                {
                    tracing::warn!(%err, job = id, "could not record an import's progress");
                }
            }
        })
        .await
    };
    let heartbeat = async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(err) = store.imports().touch_import_job(id).await {
                tracing::warn!(%err, job = id, "could not record that an import is alive");
            }
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = heartbeat => unreachable!("the heartbeat never ends"),
    };
    let (done, total) =
        (done.load(std::sync::atomic::Ordering::Relaxed), total.load(std::sync::atomic::Ordering::Relaxed));
    let (status, message, done) = match outcome {
        Ok(t) => (
            JobStatus::Done,
            format!(
                "导入完成：新增{}人，更新{}人，无变化{}人，有提示{}人，拒绝{}行",
                t.created, t.updated, t.unchanged, t.warned, t.refused
            ),
            total,
        ),
        Err(ImportError::Store(StoreError::Database(err))) => {
            tracing::error!(%err, job = id, "an import failed on the database");
            (
                JobStatus::Failed,
                "导入中断：系统内部错误（详情已记入日志）。已写入的家庭保持完整，可稍后再次执行导入以补全其余部分".to_owned(),
                done,
            )
        }
        Err(err) => (
            JobStatus::Failed,
            format!("导入中断：{err}。已写入的家庭保持完整，可再次执行导入以补全其余部分"),
            done,
        ),
    };
    let _ = store
        .audit(
            &actor,
            guanai_store::audit::AuditEvent::ok("import.commit", "导入", id.to_string())
                .with_detail(message.clone()),
        )
        .await;
    if let Err(err) = store.imports().set_import_progress(id, status, done, total, &message).await {
        tracing::error!(%err, job = id, "could not record the end of an import");
    }
}

/// Gives up a previewed job: nothing is written; the file goes with the retention.
async fn cancel(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let id = parse_id(&id)?;
    if !state.store.imports().cancel_import_job(&user.session.actor, id).await? {
        return Err(WebError::BadRequest("该导入已开始或已结束，不能取消".to_owned()));
    }
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// The refused rows with their reasons, as .xlsx, ready to correct and import again.
async fn refused_report(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let actor = &user.session.actor;
    let (job, bytes) = state.store.imports().import_job(actor, parse_id(&id)?).await?;
    if job.file_deleted_at.is_some() {
        return Err(WebError::NotFound("该导入的文件已按保留期限删除，无法再生成未导入的行".to_owned()));
    }
    let overrides = ColumnMap::decode_overrides(&job.overrides);
    let plan = guanai_import::plan_roster(&state.store, actor, bytes, &overrides).await?;
    let report =
        guanai_import::report::refused_rows_xlsx(&plan).map_err(|e| WebError::Internal(e.to_string()))?;
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
        report,
    ))
}
