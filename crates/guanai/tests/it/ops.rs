//! Health, metrics, static assets and the unknown page.

use axum::http::StatusCode;

use crate::util::TestApp;

#[tokio::test]
async fn health_and_metrics_answer_without_login() {
    let app = TestApp::demo().await;
    let health = app.get_anonymous("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (StatusCode::OK, "ok"));
    let client = app.login("demo.city").await;
    app.get(&client, "/users").await;
    app.get(&client, "/users").await;
    let metrics = app.get_anonymous("/metrics").await;
    assert!(
        metrics.body.contains("guanai_http_requests_total{method=\"GET\",route=\"/users\",status=\"200\"} 2"),
        "{}",
        metrics.body
    );
    assert!(metrics
        .body
        .contains("guanai_http_request_duration_seconds_count{method=\"POST\",route=\"/login\"}"));
}

#[tokio::test]
async fn assets_are_served_from_the_binary() {
    let app = TestApp::demo().await;
    let css = app.get_anonymous("/assets/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.body.contains("Noto Sans CJK SC"));
    assert!(css.body.contains("@media (max-width: 768px)"));
}

#[tokio::test]
async fn an_unknown_page_reads_as_not_found_in_chinese() {
    let app = TestApp::demo().await;
    let client = app.login("demo.city").await;
    let page = app.get(&client, "/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("您要找的页面不存在"));
    let anonymous = app.get_anonymous("/users").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/login?next=%2Fusers");
}

/// The OpenAPI document is kept in `crates/web/openapi.json`; a change to the API shows
/// there in review. Run with `GUANAI_UPDATE_SNAPSHOTS=1` to accept a change.
#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = TestApp::demo().await;
    let client = app.login("demo.city").await;
    let served = app.get(&client, "/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let document: serde_json::Value = served.json();
    let pretty = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/openapi.json");
    if std::env::var("GUANAI_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &pretty).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == pretty,
        "the API changed: review and run with GUANAI_UPDATE_SNAPSHOTS=1 to update {}",
        path.display()
    );
}

/// The bench drops each database it made on a server once measured: the database is gone,
/// even with a session still connected to it, and dropping it again is no error. (On
/// SQLite the bench removes its folder; there is no server to ask.)
#[tokio::test]
async fn a_benchmarks_database_on_a_server_is_dropped_when_done() {
    let base = std::env::var("GUANAI_TEST_DATABASE_URL").unwrap_or_default();
    if base.trim().is_empty() {
        return;
    }
    let name = format!("guanai_drop_{:016x}", rand::random::<u64>());
    let url = guanai_store::create_database(&base, &name).await.unwrap();
    let connected = sea_orm::Database::connect(&url).await.unwrap();
    guanai_store::drop_database(&base, &name).await.unwrap();
    assert!(sea_orm::Database::connect(&url).await.is_err(), "{name} is gone");
    guanai_store::drop_database(&base, &name).await.expect("a database already gone: nothing to do");
    assert!(guanai_store::drop_database(&base, "x; DROP TABLE y").await.is_err(), "only plain names");
    drop(connected);
}
