//! Searching, exporting and pruning the audit log.

use axum::http::StatusCode;

use crate::util::TestApp;

#[tokio::test]
async fn auditors_search_by_outcome_and_export_what_they_found() {
    let app = TestApp::demo().await;
    app.attempt_login("demo.county", "wrong-password-1").await;
    let county = app.login("demo.county").await;
    app.get(&county, "/audit").await; // refused: county staff do not read the log
    let auditor = app.login("demo.auditor").await;
    let page = app.get(&auditor, "/audit?outcome=denied").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("page.view") && page.body.contains("/audit"), "{}", page.body);
    assert!(page.body.contains("密码错误"));
    assert!(!page.body.contains("<td>user.create</td>"), "only refusals were asked for");

    let bad_date = app.get(&auditor, "/audit?from=2026-13-01").await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    assert!(bad_date.body.contains("不是有效日期"));
    let future = app.get(&auditor, "/audit?from=2999-01-01").await;
    assert!(future.body.contains("共 0 条"));

    let export = app.get(&auditor, "/audit/export?outcome=denied&actor=demo.county").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(export.body.starts_with('\u{feff}'), "BOM for spreadsheet programs");
    let lines: Vec<&str> = export.body.lines().collect();
    assert!(lines[0].contains("操作人"));
    assert_eq!(lines.len(), 3, "header, the failed login and the refused page: {lines:?}");
    assert!(lines[1..].iter().all(|l| l.contains("demo.county") && l.contains("denied")));
    let exported = app.audit_entries("demo.auditor", "ok").await;
    assert!(exported.iter().any(|e| e.action == "audit.export" && e.detail == "导出2条"));
}

#[tokio::test]
async fn a_county_level_auditor_sees_only_its_county_actors() {
    let app = TestApp::demo().await;
    let system = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    app.store
        .create_user(
            &system,
            guanai_store::users::NewUser {
                username: guanai_domain::Username::parse("jizhou.auditor").unwrap(),
                display_name: "吉州区审计".to_owned(),
                role: guanai_domain::Role::Auditor,
                region: guanai_domain::RegionCode::parse("360802").unwrap(),
                org_id: None,
                password: guanai_domain::Password::parse("auditor-2026x").unwrap(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    app.login("demo.county").await;
    app.login("demo.insurer").await;
    let auditor = app.login_with("jizhou.auditor", "auditor-2026x").await;
    let page = app.get(&auditor, "/audit?action=login").await;
    assert!(page.body.contains("demo.county"));
    assert!(!page.body.contains("demo.insurer"), "a city-level actor is outside a county auditor's scope");
}

#[tokio::test]
async fn retention_below_six_months_is_refused() {
    let app = TestApp::demo().await;
    let err = app.store.prune_audit(30).await.unwrap_err();
    assert!(err.to_string().contains("至少保存180天"));
    app.login("demo.city").await;
    assert_eq!(app.store.prune_audit(180).await.unwrap(), 0, "recent entries stay");
    assert!(!app.audit_entries("demo.city", "ok").await.is_empty());
}

/// Entries written at the same time go to the writer task together; every one must be
/// stored, in the order the callers handed them in. On the test's current-thread runtime
/// the tasks below run, and hand in their entries, in the order they were spawned, before
/// the writer wakes: more than one batch's worth is waiting for it.
#[tokio::test]
async fn entries_written_at_once_are_all_stored_in_order() {
    use guanai_store::audit::{AuditEvent, AuditQuery};
    let app = TestApp::demo().await;
    let actor = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    let mut tasks = Vec::new();
    for i in 0..600 {
        let store = app.store.clone();
        let actor = actor.clone();
        tasks.push(tokio::spawn(async move {
            store.audit(&actor, AuditEvent::ok("test.batch", "测试", i.to_string())).await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("each caller learns that its entry was written");
    }
    let query = AuditQuery { action: Some("test.batch".to_owned()), per_page: 1000, ..Default::default() };
    let mut entries = app.store.search_audit(&actor, &query).await.unwrap().entries;
    entries.sort_by_key(|e| e.id);
    let targets: Vec<String> = entries.iter().map(|e| e.target_id.clone()).collect();
    let expected: Vec<String> = (0..600).map(|i: i32| i.to_string()).collect();
    assert_eq!(targets, expected, "all 600 entries, in the order they were handed in");
}

/// An entry that cannot be written fails its caller: the action it records must not go
/// ahead unlogged.
#[tokio::test]
async fn an_entry_that_cannot_be_written_fails_its_caller() {
    use guanai_store::audit::AuditEvent;
    let app = TestApp::demo().await;
    let actor = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    app.store.audit(&actor, AuditEvent::ok("test.before", "测试", "1")).await.expect("written");
    app.store.clone().close().await.unwrap();
    let err = app.store.audit(&actor, AuditEvent::ok("test.after", "测试", "2")).await.unwrap_err();
    assert!(matches!(err, guanai_store::StoreError::Database(_)), "{err:?}");
}
