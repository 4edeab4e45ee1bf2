//! Exact look-ups made at once are counted together (group commit) and still exactly: each
//! user gets the configured limit and no more, and another user's count is their own.

use axum::http::StatusCode;
use futures_util::future::join_all;
use guanai_domain::families::Relationship;
use guanai_domain::PovertyStatus;
use guanai_web::AppState;

use crate::util::{id_number, test_config, FamilySpec, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn look_ups_at_once_are_counted_exactly_against_each_users_limit() {
    let mut app = TestApp::demo().await;
    // The limit configured on the serving store, not the default of 30.
    let limited = app.store.clone().with_lookup_limit(12);
    app.router = guanai_web::router(AppState::new(limited, test_config()));
    let head = id_number("19790101", 778);
    app.family(FamilySpec {
        village: "360802100200",
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![("查一", head.clone(), Relationship::Head)],
        consents: true,
    })
    .await;
    let (county, township) = (app.login("demo.county").await, app.login("demo.township").await);
    let body = serde_json::json!({ "id_number": head });
    let county_asks = (0..20).map(|_| app.post_json(&county, "/api/v1/coverage", body.clone()));
    let township_asks = (0..5).map(|_| app.post_json(&township, "/api/v1/coverage", body.clone()));
    let (county_answers, township_answers) = tokio::join!(join_all(county_asks), join_all(township_asks));
    let count =
        |answers: &[crate::util::TestResponse], status| answers.iter().filter(|a| a.status == status).count();
    assert_eq!(count(&county_answers, StatusCode::OK), 12, "the limit, exactly");
    assert_eq!(count(&county_answers, StatusCode::TOO_MANY_REQUESTS), 8);
    assert_eq!(count(&township_answers, StatusCode::OK), 5, "another user's count is their own");
    // Once spent, the count stays spent.
    let again = app.post_json(&county, "/api/v1/coverage", body.clone()).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{}", again.body);
    let looked = app.audit_entries("demo.county", "ok").await;
    assert_eq!(looked.iter().filter(|e| e.action == "coverage.lookup").count(), 12, "each look-up audited");
    let denied = app.audit_entries("demo.county", "denied").await;
    assert_eq!(denied.iter().filter(|e| e.action == "family.lookup").count(), 9, "each refusal audited");
}
