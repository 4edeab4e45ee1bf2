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
use guanai_import::{ColumnMap, Field, RowVerdict, Totals, Verdict};
use guanai_store::imports::{ImportJob, JobStatus, MAX_IMPORT_BYTES};
use guanai_store::{Actor, Store};
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::format::china_time;
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

async fn make_preview(store: &Store, actor: &Actor, bytes: &[u8], overrides: &[(Field, usize)]) -> Preview {
    let table = match guanai_import::read_table(bytes) {
        Ok(table) => table,
        Err(err) => return Preview { error: Some(err.to_string()), ..Default::default() },
    };
    let mut map = guanai_import::columns::recognise(&table.headers);
    for (field, column) in overrides {
        map.assign(*field, *column);
    }
    let mapped = map.fields.iter().map(|(f, c)| (f.label().to_owned(), *c)).collect();
    let missing: Vec<String> = map.missing().iter().map(|f| f.as_str().to_owned()).collect();
    let headers = table.headers.clone();
    if !missing.is_empty() {
        return Preview { headers, mapped, missing, ..Default::default() };
    }
    match guanai_import::roster::plan_table(store, actor, table, overrides).await {
        Ok(plan) => {
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
            Preview { headers, mapped, missing, error: None, totals: Some(plan.totals.clone()), rows }
        }
        Err(err) => Preview { headers, mapped, missing, error: Some(err.to_string()), ..Default::default() },
    }
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
    let jobs = state.store.import_jobs(&user.session.actor, KIND).await?;
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
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return list_page(
                    &state,
                    &user,
                    Some(format!("上传中断或文件超过{}MB，请重试", MAX_IMPORT_BYTES / 1024 / 1024)),
                )
                .await
            }
        };
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("roster").to_owned();
            match field.bytes().await {
                Ok(bytes) => file = Some((name, bytes.to_vec())),
                Err(_) => return list_page(&state, &user, Some("文件读取失败，请重试".to_owned())).await,
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return list_page(&state, &user, Some("请选择要导入的 .xlsx 或 .csv 文件".to_owned())).await;
    };
    let id = match state.store.create_import_job(actor, KIND, &name, bytes.clone()).await {
        Ok(id) => id,
        Err(err) => return list_page(&state, &user, Some(WebError::from(err).to_string())).await,
    };
    let preview = make_preview(&state.store, actor, &bytes, &[]).await;
    let json = serde_json::to_string(&preview).map_err(|e| WebError::Internal(e.to_string()))?;
    state.store.set_import_preview(actor, id, "", &json).await?;
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
        self.job.status == JobStatus::Committing
    }

    fn previewed(&self) -> bool {
        self.job.status == JobStatus::Previewed
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
    let (job, _) = state.store.import_job(&user.session.actor, parse_id(&id)?).await?;
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
    render(&JobPage { shell, job, preview, fields, percent })
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
    let (job, bytes) = state.store.import_job(actor, id).await?;
    if job.status != JobStatus::Previewed {
        return Err(WebError::BadRequest("该导入已开始或已完成，不能再修改列对应".to_owned()));
    }
    let overrides: Vec<(Field, usize)> = pairs
        .iter()
        .filter_map(|(key, value)| Some((Field::parse(key.strip_prefix("col_")?)?, value.parse().ok()?)))
        .collect();
    let preview = make_preview(&state.store, actor, &bytes, &overrides).await;
    let json = serde_json::to_string(&preview).map_err(|e| WebError::Internal(e.to_string()))?;
    state.store.set_import_preview(actor, id, &ColumnMap::encode_overrides(&overrides), &json).await?;
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// Starts writing in the background; the page shows the progress. Running it again after
/// an interruption completes what is missing (an import is idempotent).
async fn commit(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFamilies, "/imports").await?;
    let id = parse_id(&id)?;
    let actor = user.session.actor.clone();
    let (job, bytes) = state.store.import_job(&actor, id).await?;
    if job.status == JobStatus::Committing {
        return Ok(Redirect::to(&format!("/imports/{id}")).into_response());
    }
    let overrides = ColumnMap::decode_overrides(&job.overrides);
    let plan = guanai_import::plan_roster(&state.store, &actor, &bytes, &overrides)
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let total = plan.totals.households_new as i64;
    state.store.set_import_progress(id, JobStatus::Committing, 0, total, "").await?;
    let store = state.store.clone();
    tokio::spawn(async move {
        let progress_store = store.clone();
        let outcome = plan
            .commit(&store, &actor, |done, total| {
                let store = progress_store.clone();
                async move {
                    let _ = store
                        .set_import_progress(id, JobStatus::Committing, done as i64, total as i64, "")
                        .await;
                }
            })
            .await;
        let (status, message) = match outcome {
            Ok(t) => (
                JobStatus::Done,
                format!(
                    "导入完成：新增{}人，更新{}人，无变化{}人，有提示{}人，拒绝{}行",
                    t.created, t.updated, t.unchanged, t.warned, t.refused
                ),
            ),
            Err(err) => (
                JobStatus::Failed,
                format!("导入中断：{err}。已写入的家庭保持完整，可再次执行导入以补全其余部分"),
            ),
        };
        let _ = store
            .audit(
                &actor,
                guanai_store::audit::AuditEvent::ok("import.commit", "导入", id.to_string())
                    .with_detail(message.clone()),
            )
            .await;
        if let Err(err) = store.set_import_progress(id, status, total, total, &message).await {
            tracing::error!(%err, job = id, "could not record the end of an import");
        }
    });
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
    let (job, bytes) = state.store.import_job(actor, parse_id(&id)?).await?;
    let overrides = ColumnMap::decode_overrides(&job.overrides);
    let plan = guanai_import::plan_roster(&state.store, actor, &bytes, &overrides)
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
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
