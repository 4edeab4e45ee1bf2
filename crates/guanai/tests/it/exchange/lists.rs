//! List exports: the filtered rows, masked by role, and audited.

use axum::http::StatusCode;
use guanai_domain::families::Relationship;

use super::{get_file, other_county_village, sheet, submitted, JIZHOU_VILLAGE};
use crate::util::{id_number, TestApp};

#[tokio::test]
async fn list_exports_have_the_filtered_rows_masked_by_role_and_are_audited() {
    let app = TestApp::demo().await;
    let a = submitted(&app, JIZHOU_VILLAGE, vec![("导出甲", id_number("19790101", 41), Relationship::Head)])
        .await;
    let b = submitted(&app, JIZHOU_VILLAGE, vec![("导出乙", id_number("19790101", 43), Relationship::Head)])
        .await;
    let outside = other_county_village(&app).await;
    let c = submitted(&app, &outside, vec![("导出丙", id_number("19790101", 45), Relationship::Head)]).await;
    app.store
        .policies()
        .underwrite_policy(&app.system().acting_as(guanai_domain::Role::InsurerCity), a, "EXP-1")
        .await
        .unwrap();

    // Policies, as filtered on the list: 吉州区 staff see their two, one still submitted.
    let county = app.login("demo.county").await;
    let file = get_file(&app, &county, "/policies/export.xlsx?status=submitted&year=2026").await;
    assert_eq!(file.status, StatusCode::OK);
    let rows = sheet(&file.bytes);
    assert_eq!(rows[0][0], "系统保单编号");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], b.to_string());
    assert_eq!(rows[1][1], "导出乙");
    assert_eq!(rows[1][2], "吉州区");
    let all = sheet(&get_file(&app, &county, "/policies/export.xlsx").await.bytes);
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|r| r[15] == "EXP-1"));
    // The supervisor sees the city's three, names masked.
    let supervisor = app.login("demo.supervisor").await;
    let masked = sheet(&get_file(&app, &supervisor, "/policies/export.xlsx?year=2026").await.bytes);
    assert_eq!(masked.len(), 4);
    assert!(masked.iter().any(|r| r[0] == c.to_string() && r[1] == "导**"), "{masked:?}");
    let bad = get_file(&app, &county, "/policies/export.xlsx?status=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Families: full phone for staff, masked for the supervisor; the filters apply.
    let families = sheet(&get_file(&app, &county, "/families/export.xlsx?name=导出").await.bytes);
    assert_eq!(families.len(), 3, "{families:?}");
    assert!(families[1..].iter().all(|r| r[8] == "13812345678" && r[1].starts_with("导出")));
    let masked = sheet(&get_file(&app, &supervisor, "/families/export.xlsx?region=360802").await.bytes);
    assert_eq!(masked.len(), 3);
    assert!(masked[1..].iter().all(|r| r[8] == "138****5678" && r[1] == "导**"), "{masked:?}");

    // A ledger: every policy the source pays for within the scope.
    let system = app.system();
    let source = app
        .store
        .funding()
        .sources(&system, Some(2026))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name.starts_with("吉州区财政"))
        .expect("吉州区's budget");
    let ledger = sheet(&get_file(&app, &county, &format!("/funding/{}/export.xlsx", source.id)).await.bytes);
    assert_eq!(ledger[0][1], source.name);
    let lines: Vec<&Vec<String>> = ledger.iter().skip_while(|r| r[0] != "系统保单编号").skip(1).collect();
    assert_eq!(lines.len(), 2, "{ledger:?}");
    assert!(lines.iter().all(|r| r[5] == "5"));

    let actions: Vec<String> =
        app.audit_entries("demo.county", "ok").await.into_iter().map(|e| e.action).collect();
    for action in ["policy.export", "family.export", "funding.export"] {
        assert!(actions.iter().any(|a| a == action), "no {action} in {actions:?}");
    }
    let auditor = app.login("demo.auditor").await;
    assert_eq!(get_file(&app, &auditor, "/families/export.xlsx").await.status, StatusCode::NOT_FOUND);
}
