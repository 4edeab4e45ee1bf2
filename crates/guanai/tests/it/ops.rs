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
