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

/// A look-up reads before it takes its turn; one that finds nobody, or someone outside the
/// user's scope, costs a turn all the same, or guessing numbers would be free. Past the
/// limit, the first refusal comes from the database's count; the instance then refuses the
/// user before reading.
#[tokio::test]
async fn look_ups_that_find_nobody_or_someone_elses_person_cost_a_turn() {
    let mut app = TestApp::demo().await;
    let limited = app.store.clone().with_lookup_limit(3);
    app.router = guanai_web::router(AppState::new(limited, test_config()));
    let (own, elsewhere) = (id_number("19790101", 611), id_number("19790101", 622));
    for (village, name, id) in [("360802100200", "查二", &own), ("360802101200", "查三", &elsewhere)] {
        app.family(FamilySpec {
            village,
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![(name, id.clone(), Relationship::Head)],
            consents: true,
        })
        .await;
    }
    let township = app.login("demo.township").await;
    let ask = |id: &str| app.post_json(&township, "/api/v1/coverage", serde_json::json!({ "id_number": id }));
    assert_eq!(ask(&id_number("19800101", 633)).await.status, StatusCode::NOT_FOUND, "nobody has it");
    assert_eq!(ask(&elsewhere).await.status, StatusCode::NOT_FOUND, "outside 兴桥镇: as if unknown");
    assert_eq!(ask(&id_number("19800101", 644)).await.status, StatusCode::NOT_FOUND);
    // The first refusal has read: what it tried is audited with the refusal when it was
    // itself a denial (someone outside the scope).
    let refused = ask(&elsewhere).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "three turns spent: {}", refused.body);
    assert!(refused.body.contains("查找过于频繁"), "{}", refused.body);
    // From then on this instance refuses the user before reading: nothing is tried.
    let again = ask(&own).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{}", again.body);
    assert!(!again.body.contains("查二"), "nothing found is answered past the limit");
    let denied = app.audit_entries("demo.township", "denied").await;
    let count = |action: &str| denied.iter().filter(|e| e.action == action).count();
    assert_eq!(
        count("coverage.lookup"),
        2,
        "both tries outside the scope, none by the refusal before reading"
    );
    assert_eq!(count("family.lookup"), 2, "each refusal");
    assert!(app.audit_entries("demo.township", "ok").await.iter().all(|e| e.action != "coverage.lookup"));
}
