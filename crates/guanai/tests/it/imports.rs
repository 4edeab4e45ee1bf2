//! Import jobs and uploads: one claim per job (a stale one claimed again), the uploaded
//! file sealed and deleted after its retention, spreadsheets that would stop the server
//! refused on every upload path, and database failures answered as 500 without SQL.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_store::families::FamilyQuery;
use guanai_store::imports::JobKind;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, Statement};

use crate::util::{id_number, Client, TestApp, TestResponse};

/// Posts `bytes` as the `file` field of a multipart form, as a browser does.
pub async fn upload_to(app: &TestApp, client: &Client, path: &str, name: &str, bytes: &[u8]) -> TestResponse {
    let boundary = "guanai-upload-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(format!("{path}?csrf={}", client.csrf))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// A small roster of two households in 钓源村, with a phone number; and its ID numbers.
fn roster(seq: u32) -> (String, Vec<String>) {
    let ids =
        vec![id_number("19800101", seq), id_number("19810101", seq + 1), id_number("19700101", seq + 2)];
    let text = format!(
        "村（社区）,姓名,身份证号,与户主关系,联系电话\n钓源村,甲户主,{},户主,13912345678\n钓源村,甲配偶,{},配偶,\n钓源村,乙户主,{},户主,\n",
        ids[0], ids[1], ids[2]
    );
    (text, ids)
}

async fn families(app: &TestApp) -> u64 {
    app.store
        .families()
        .search_families(&app.system(), &FamilyQuery { per_page: 1, ..Default::default() })
        .await
        .unwrap()
        .total
}

async fn wait_until_ended(app: &TestApp, client: &Client, job: &str) -> String {
    for _ in 0..200 {
        let page = app.get(client, job).await;
        if page.body.contains("导入完成") || page.body.contains("导入中断") {
            return page.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import of {job} did not end");
}

async fn db(app: &TestApp) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(app._db.url.as_str()).await.unwrap()
}

/// Sets a job's status and last change as a stopped server (or time) would leave them.
async fn age_job(app: &TestApp, job: i64, status: &str, minutes_ago: i64) {
    let db = db(app).await;
    let at = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    let statement = Query::update()
        .table(Alias::new("import_jobs"))
        .value(Alias::new("status"), status)
        .value(Alias::new("updated_at"), at)
        .and_where(Expr::col(Alias::new("id")).eq(job))
        .to_owned();
    db.execute(db.get_database_backend().build(&statement)).await.unwrap();
}

fn job_id(location: &str) -> i64 {
    location.trim_start_matches("/imports/").parse().unwrap()
}

#[tokio::test]
async fn two_commits_of_one_job_at_once_write_it_once() {
    let app = TestApp::demo().await;
    let township = app.login("demo.township").await;
    let (text, _) = roster(301);
    let uploaded = upload_to(&app, &township, "/imports", "兴桥镇.csv", text.as_bytes()).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let job = uploaded.location().to_owned();
    let commit = format!("{job}/commit");
    let (a, b, c) = tokio::join!(
        app.post_form(&township, &commit, &[]),
        app.post_form(&township, &commit, &[]),
        app.post_form(&township, &commit, &[]),
    );
    for answer in [&a, &b, &c] {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }
    let page = wait_until_ended(&app, &township, &job).await;
    assert!(page.contains("导入完成"), "{page}");
    // Let any second run that started finish too, then count.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let runs = app.audit_entries("demo.township", "ok").await;
    assert_eq!(runs.iter().filter(|e| e.action == "import.commit").count(), 1, "exactly one commit ran");
    assert_eq!(families(&app).await, 2);
    // A finished job is not claimed again.
    let again = app.post_form(&township, &commit, &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let runs = app.audit_entries("demo.township", "ok").await;
    assert_eq!(
        runs.iter().filter(|e| e.action == "import.commit").count(),
        1,
        "a finished job is not run again"
    );
}

#[tokio::test]
async fn of_many_claims_at_once_exactly_one_wins() {
    let app = TestApp::demo().await;
    let system = app.system();
    let (text, _) = roster(311);
    let job = app
        .store
        .imports()
        .create_import_job(&system, JobKind::Roster, "r.csv", Some(text.as_bytes()))
        .await
        .unwrap();
    let claims = futures_claims(&app, job, 8).await;
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
    // Claimed and fresh: nobody else gets it; stale: it is claimed again, once.
    assert!(!app.store.imports().claim_import_job(&system, JobKind::Roster, job, false).await.unwrap());
    age_job(&app, job, "committing", 20).await;
    let claims = futures_claims(&app, job, 8).await;
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
}

async fn futures_claims(app: &TestApp, job: i64, n: usize) -> Vec<bool> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let store = app.store.clone();
        let system = app.system();
        tasks.push(tokio::spawn(async move {
            store.imports().claim_import_job(&system, JobKind::Roster, job, false).await.unwrap()
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_job_left_committing_by_a_stopped_server_is_started_again_from_its_page() {
    let app = TestApp::demo().await;
    let township = app.login("demo.township").await;
    let (text, _) = roster(321);
    let uploaded = upload_to(&app, &township, "/imports", "兴桥镇.csv", text.as_bytes()).await;
    let job = uploaded.location().to_owned();
    // A server stopped 5 minutes ago while writing it: not stale yet, nothing to press.
    age_job(&app, job_id(&job), "committing", 5).await;
    let page = app.get(&township, &job).await;
    assert!(!page.body.contains("重新开始导入"), "{}", page.body);
    let early = app.post_form(&township, &format!("{job}/commit"), &[]).await;
    assert_eq!(early.status, StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(families(&app).await, 0, "a job someone is writing is not started twice");
    // Twenty minutes without progress: the page offers to start it again.
    age_job(&app, job_id(&job), "committing", 20).await;
    let page = app.get(&township, &job).await;
    assert!(page.body.contains("data-testid=\"import-stale\""), "{}", page.body);
    assert!(page.body.contains("重新开始导入"));
    let restarted = app.post_form(&township, &format!("{job}/commit"), &[]).await;
    assert_eq!(restarted.status, StatusCode::SEE_OTHER);
    let page = wait_until_ended(&app, &township, &job).await;
    assert!(page.contains("导入完成"), "{page}");
    assert_eq!(families(&app).await, 2);
    // The same file again, as a new job, changes nothing.
    let second = upload_to(&app, &township, "/imports", "兴桥镇.csv", text.as_bytes()).await;
    let second = second.location().to_owned();
    app.post_form(&township, &format!("{second}/commit"), &[]).await;
    let page = wait_until_ended(&app, &township, &second).await;
    assert!(page.contains("新增0人"), "{page}");
    assert_eq!(families(&app).await, 2);
}

/// Every stored byte of the import jobs, and on SQLite of the database files.
async fn stored_bytes(app: &TestApp) -> Vec<Vec<u8>> {
    let db = db(app).await;
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(backend, "SELECT file_bytes, preview FROM import_jobs"))
        .await
        .unwrap();
    let mut out = Vec::new();
    for row in rows {
        out.push(row.try_get::<Vec<u8>>("", "file_bytes").unwrap());
        out.push(row.try_get::<Option<String>>("", "preview").unwrap().unwrap_or_default().into_bytes());
    }
    if app._db.url.starts_with("sqlite:") {
        for entry in std::fs::read_dir(app._db.dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                out.push(std::fs::read(path).unwrap());
            }
        }
    }
    out
}

#[tokio::test]
async fn an_uploaded_roster_is_stored_sealed() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let (text, ids) = roster(331);
    let uploaded = upload_to(&app, &county, "/imports", "r.csv", text.as_bytes()).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let page = app.get(&county, uploaded.location()).await;
    assert!(
        page.body.contains("<h2>新增</h2><p class=\"big\">3</p>"),
        "the sealed file is read: {}",
        page.body
    );
    let stored = stored_bytes(&app).await;
    assert!(stored.iter().any(|b| b.len() > text.len()), "the scan read the file");
    for secret in ids.iter().map(String::as_bytes).chain([b"13912345678".as_slice()]) {
        for bytes in &stored {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret), "a raw number is stored");
        }
    }
}

#[tokio::test]
async fn files_of_ended_imports_are_deleted_after_their_retention() {
    let app = TestApp::demo().await;
    let township = app.login("demo.township").await;
    let mut jobs = Vec::new();
    for seq in [341, 351, 361] {
        let (text, _) = roster(seq);
        let uploaded = upload_to(&app, &township, "/imports", "r.csv", text.as_bytes()).await;
        jobs.push(uploaded.location().to_owned());
    }
    // The first ended 8 days ago, the second yesterday; the third was never confirmed and
    // is 8 days old.
    app.post_form(&township, &format!("{}/commit", jobs[0]), &[]).await;
    wait_until_ended(&app, &township, &jobs[0]).await;
    app.post_form(&township, &format!("{}/commit", jobs[1]), &[]).await;
    wait_until_ended(&app, &township, &jobs[1]).await;
    age_job(&app, job_id(&jobs[0]), "done", 8 * 24 * 60).await;
    age_job(&app, job_id(&jobs[1]), "done", 24 * 60).await;
    age_job(&app, job_id(&jobs[2]), "previewed", 8 * 24 * 60).await;
    guanai::jobs::daily(&app.store, 180, 7).await;
    let system = app.system();
    let file = |job: &str| {
        let store = app.store.clone();
        let system = system.clone();
        let id = job_id(job);
        async move { store.imports().import_job(&system, JobKind::Roster, id).await.unwrap() }
    };
    let (old, bytes) = file(&jobs[0]).await;
    assert!(bytes.is_empty() && old.file_deleted_at.is_some(), "8 days after its end the file is gone");
    let (recent, bytes) = file(&jobs[1]).await;
    assert!(!bytes.is_empty() && recent.file_deleted_at.is_none(), "a day after its end it is kept");
    let (abandoned, bytes) = file(&jobs[2]).await;
    assert!(bytes.is_empty());
    assert_eq!(abandoned.status, guanai_store::imports::JobStatus::Cancelled);
    let page = app.get(&township, &jobs[0]).await;
    assert!(page.body.contains("data-testid=\"import-file-gone\""), "{}", page.body);
    let commit = app.post_form(&township, &format!("{}/commit", jobs[2]), &[]).await;
    assert_eq!(commit.status, StatusCode::SEE_OTHER);
    let system = app.system();
    assert!(
        !app.store
            .imports()
            .claim_import_job(&system, JobKind::Roster, job_id(&jobs[2]), false)
            .await
            .unwrap(),
        "a cancelled job is never claimed"
    );
    let (abandoned, _) =
        app.store.imports().import_job(&system, JobKind::Roster, job_id(&jobs[2])).await.unwrap();
    assert_eq!(abandoned.status, guanai_store::imports::JobStatus::Cancelled, "the abandoned job is not run");
    assert_eq!(families(&app).await, 4);
}

#[tokio::test]
async fn the_refused_rows_report_is_not_cached() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let text = format!(
        "村（社区）,姓名,身份证号,与户主关系\n钓源村,坏号,{}0,户主\n",
        &id_number("19800101", 371)[..16]
    );
    let uploaded = upload_to(&app, &county, "/imports", "r.csv", text.as_bytes()).await;
    let report = app.get(&county, &format!("{}/refused.xlsx", uploaded.location())).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.headers[header::CACHE_CONTROL], "no-store");
}

/// A spreadsheet with a cell in A1 and another in XFD1048576: a dense grid of it would
/// be 1.7·10¹⁰ cells.
fn sparse_xlsx() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "姓名").unwrap();
    sheet.write_string(0, 1, "身份证号").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    book.save_to_buffer().unwrap()
}

fn says_where_and_what_to_do(message: &str) {
    assert!(message.contains("XFD"), "names the cell: {message}");
    assert!(message.contains("新工作表"), "says how to fix it: {message}");
}

#[tokio::test]
async fn a_sparse_far_away_spreadsheet_is_refused_on_every_upload_path_and_the_server_keeps_serving() {
    let app = TestApp::demo().await;
    let bytes = sparse_xlsx();
    assert!(bytes.len() < 10_000);
    // The roster import page.
    let county = app.login("demo.county").await;
    let uploaded = upload_to(&app, &county, "/imports", "sparse.xlsx", &bytes).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let page = app.get(&county, uploaded.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    says_where_and_what_to_do(&page.body);
    // The insurer's returned file.
    let insurer = app.login("demo.insurer").await;
    let returned = upload_to(&app, &insurer, "/exchange/return", "sparse.xlsx", &bytes).await;
    assert_eq!(returned.status, StatusCode::BAD_REQUEST, "{}", returned.body);
    says_where_and_what_to_do(&returned.body);
    // The server keeps serving.
    let home = app.get(&county, "/imports").await;
    assert_eq!(home.status, StatusCode::OK);
    // The command line, both imports.
    let file = app._db.dir().join("sparse.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    for command in ["roster", "insurer"] {
        let err =
            crate::cli::guanai(&app._db, &["import", command, file.to_str().unwrap()]).await.unwrap_err();
        says_where_and_what_to_do(&format!("{err:#}"));
    }
}

/// Renames a table the import pages read, so the database answers with an error.
async fn break_the_database(app: &TestApp) {
    let db = db(app).await;
    db.execute_unprepared("ALTER TABLE persons RENAME TO persons_gone").await.unwrap();
}

fn no_sql(response: &TestResponse) {
    for leak in ["persons", "SQL", "database error", "no such", "does not exist"] {
        assert!(!response.body.contains(leak), "the answer shows “{leak}”: {}", response.body);
    }
}

#[tokio::test]
async fn database_errors_on_the_import_pages_are_500_and_show_no_sql() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let (text, _) = roster(381);
    let uploaded = upload_to(&app, &county, "/imports", "r.csv", text.as_bytes()).await;
    let job = uploaded.location().to_owned();
    break_the_database(&app).await;
    let mapped = app.post_form(&county, &format!("{job}/map"), &[("col_name", "1")]).await;
    assert_eq!(mapped.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", mapped.body);
    no_sql(&mapped);
    // The refused rows come from the job's stored plan: the registry is not asked.
    let report = app.get(&county, &format!("{job}/refused.xlsx")).await;
    assert_eq!(report.status, StatusCode::OK);
    let again = upload_to(&app, &county, "/imports", "r.csv", text.as_bytes()).await;
    assert_eq!(again.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", again.body);
    no_sql(&again);
    let commit = app.post_form(&county, &format!("{job}/commit"), &[]).await;
    assert_ne!(commit.status, StatusCode::BAD_REQUEST, "{}", commit.body);
    no_sql(&commit);
    if commit.status == StatusCode::SEE_OTHER {
        let page = wait_until_ended(&app, &county, &job).await;
        assert!(page.contains("系统内部错误"), "{page}");
        assert!(!page.contains("persons") && !page.contains("database error"), "{page}");
    }
}

/// A job uploaded before files were sealed holds its file in the clear: the migration
/// deletes it, and a job that had not ended asks for the file again.
#[tokio::test]
async fn the_migration_deletes_files_stored_in_the_clear() {
    let app = TestApp::demo().await;
    let (text, ids) = roster(391);
    let job = app
        .store
        .imports()
        .create_import_job(&app.system(), JobKind::Roster, "r.csv", Some(text.as_bytes()))
        .await
        .unwrap();
    // As the schema was before migration 000007, with the file in the clear.
    let db = db(&app).await;
    let backend = db.get_database_backend();
    let plain = Query::update()
        .table(Alias::new("import_jobs"))
        .value(Alias::new("file_bytes"), text.clone().into_bytes())
        .and_where(Expr::col(Alias::new("id")).eq(job))
        .to_owned();
    db.execute(backend.build(&plain)).await.unwrap();
    db.execute_unprepared("ALTER TABLE import_jobs DROP COLUMN file_deleted_at").await.unwrap();
    db.execute_unprepared("DELETE FROM seaql_migrations WHERE version LIKE '%000007%'").await.unwrap();
    app.store.migrate().await.unwrap();
    let (migrated, bytes) =
        app.store.imports().import_job(&app.system(), JobKind::Roster, job).await.unwrap();
    assert!(bytes.is_empty() && migrated.file_deleted_at.is_some());
    assert_eq!(migrated.status, guanai_store::imports::JobStatus::Failed);
    assert!(migrated.message.contains("请重新上传"), "{}", migrated.message);
    // No stored value holds it (on SQLite, pages freed by the deletion may hold it until
    // the file is vacuumed; `guanai backup` writes a vacuumed copy).
    let rows =
        db.query_all(Statement::from_string(backend, "SELECT file_bytes FROM import_jobs")).await.unwrap();
    for row in rows {
        let bytes: Vec<u8> = row.try_get("", "file_bytes").unwrap();
        assert!(!bytes.windows(ids[0].len()).any(|w| w == ids[0].as_bytes()), "the plain file is gone");
    }
}

/// Overwrites a job's stored file with bytes that cannot be opened: whatever reads the
/// file from now on fails.
async fn spoil_file(app: &TestApp, table_job: i64) {
    let db = db(app).await;
    let statement = Query::update()
        .table(Alias::new("import_jobs"))
        .value(Alias::new("file_bytes"), b"not a sealed file at all, not even close".to_vec())
        .and_where(Expr::col(Alias::new("id")).eq(table_job))
        .to_owned();
    db.execute(db.get_database_backend().build(&statement)).await.unwrap();
}

#[tokio::test]
async fn a_previewed_job_is_shown_and_reported_from_its_stored_plan_without_reading_its_file() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let (text, ids) = roster(401);
    let text = format!("{text}钓源村,无关系,{},邻居,\n", id_number("19900101", 404));
    let uploaded = upload_to(&app, &county, "/imports", "r.csv", text.as_bytes()).await;
    let job = uploaded.location().to_owned();
    spoil_file(&app, job_id(&job)).await;
    let page = app.get(&county, &job).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h2>新增</h2><p class=\"big\">3</p>"), "{}", page.body);
    assert!(page.body.contains("与户主关系“邻居”无法识别"), "{}", page.body);
    let report = crate::exchange::get_file(&app, &county, &format!("{job}/refused.xlsx")).await;
    assert_eq!(report.status, StatusCode::OK);
    let table = guanai_import::read_table(&report.bytes).unwrap();
    assert_eq!(table.rows.len(), 1, "the refused row");
    assert_eq!(table.rows[0].cells[1], "无关系");
    assert_eq!(table.rows[0].cells[2], id_number("19900101", 404), "the cells as in the file");
    // The stored rows keep the refused row's cells sealed, like the file.
    for bytes in stored_bytes(&app).await {
        for secret in ids.iter().chain([&id_number("19900101", 404)]) {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "a raw number is stored");
        }
    }
}

#[tokio::test]
async fn a_bad_stored_status_is_an_error_never_a_waiting_job() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let (text, _) = roster(411);
    let uploaded = upload_to(&app, &county, "/imports", "r.csv", text.as_bytes()).await;
    let job = uploaded.location().to_owned();
    age_job(&app, job_id(&job), "previewd", 0).await;
    let page = app.get(&county, &job).await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", page.body);
    assert!(!page.body.contains("确认导入"));
    let commit = app.post_form(&county, &format!("{job}/commit"), &[]).await;
    assert_eq!(commit.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(families(&app).await, 0);
}

#[tokio::test]
async fn the_command_line_import_is_a_job_on_the_web_list() {
    let app = TestApp::demo().await;
    let (text, _) = roster(421);
    let file = app._db.dir().join("命令行名单.csv");
    std::fs::write(&file, &text).unwrap();
    let dry = crate::cli::guanai(&app._db, &["import", "roster", file.to_str().unwrap(), "--dry-run"]).await;
    assert_eq!(dry.unwrap(), std::process::ExitCode::SUCCESS);
    let city = app.login("demo.city").await;
    let list = app.get(&city, "/imports").await;
    assert!(!list.body.contains("命令行名单.csv"), "a dry run makes no job: {}", list.body);
    let run = crate::cli::guanai(&app._db, &["import", "roster", file.to_str().unwrap()]).await;
    assert_eq!(run.unwrap(), std::process::ExitCode::SUCCESS);
    assert_eq!(families(&app).await, 2);
    let list = app.get(&city, "/imports").await;
    assert!(list.body.contains("命令行名单.csv"), "{}", list.body);
    let job =
        list.body.split("href=\"/imports/").find(|s| s.starts_with(|c: char| c.is_ascii_digit())).unwrap();
    let job: i64 = job.split('"').next().unwrap().parse().unwrap();
    let page = app.get(&city, &format!("/imports/{job}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("导入完成：新增3人"), "{}", page.body);
    assert!(page.body.contains("<h2>新增</h2><p class=\"big\">3</p>"), "the stored plan: {}", page.body);
    // Its file stayed with the command line: nothing to run again from the web.
    assert!(!page.body.contains("确认导入"));
    let (stored, bytes) = app.store.imports().import_job(&app.system(), JobKind::Roster, job).await.unwrap();
    assert!(bytes.is_empty() && stored.file_never_kept());
}
