//! The insurer's returned file as an import job: shown and reported from its stored plan,
//! confirmed once however many confirmations come at once, and planned again when the
//! database changed between the preview and the confirmation.

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_domain::policies::PolicyNo;
use guanai_domain::{RegionCode, Role};
use guanai_store::policies::PolicyStatus;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::ConnectionTrait;

use super::{get_file, job_path, sheet, submitted, total, upload, JIZHOU_VILLAGE};
use crate::util::{id_number, TestApp};

/// A returned file underwriting `policies` with their numbers, plus a row for no policy.
fn returned(policies: &[(i64, &str)]) -> Vec<u8> {
    let mut text = "系统保单编号,承保结果,保单号,拒保原因\n".to_owned();
    for (id, no) in policies {
        text.push_str(&format!("{id},承保,{no},\n"));
    }
    text.push_str("999999,承保,PJX-999,\n");
    text.into_bytes()
}

async fn status(app: &TestApp, id: i64) -> PolicyStatus {
    app.store.policies().policy(&app.system(), id).await.unwrap().summary.status
}

fn job_id(path: &str) -> i64 {
    path.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_return_job_is_shown_reported_and_confirmed_once_without_its_file_however_many_confirm() {
    let app = TestApp::demo().await;
    let a = submitted(&app, JIZHOU_VILLAGE, vec![("回传甲", id_number("19800101", 41), Relationship::Head)])
        .await;
    let b = submitted(&app, JIZHOU_VILLAGE, vec![("回传乙", id_number("19800101", 43), Relationship::Head)])
        .await;
    let branch = app.login("demo.branch").await;
    let preview = upload(&app, &branch, "回传.csv", &returned(&[(a, "PJX-1"), (b, "PJX-2")])).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let job = job_path(&preview.body);
    // The file is spoilt: the page, the report and the confirmation use the stored plan.
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let spoil = Query::update()
        .table(Alias::new("import_jobs"))
        .value(Alias::new("file_bytes"), b"spoilt".to_vec())
        .and_where(Expr::col(Alias::new("id")).eq(job_id(&job)))
        .to_owned();
    db.execute(db.get_database_backend().build(&spoil)).await.unwrap();
    let page = app.get(&branch, &job).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(total(&page.body, "total-underwrite"), 2);
    assert!(page.body.contains("找不到系统保单编号为 999999 的保单"));
    let report = get_file(&app, &branch, &format!("{job}/refused.xlsx")).await;
    assert_eq!(report.status, StatusCode::OK);
    let report = sheet(&report.bytes);
    assert_eq!(report.len(), 2, "{report:?}");
    assert_eq!(report[1][0], "999999");

    let confirm = format!("{job}/confirm");
    let (x, y, z) = tokio::join!(
        app.post_form(&branch, &confirm, &[]),
        app.post_form(&branch, &confirm, &[]),
        app.post_form(&branch, &confirm, &[]),
    );
    let answers = [&x, &y, &z];
    for answer in answers {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }
    let written: Vec<_> = answers.iter().filter(|a| a.location().starts_with("/exchange?")).collect();
    assert_eq!(written.len(), 1, "one confirmation writes");
    assert_eq!(written[0].location(), "/exchange?underwritten=2&refused=0&unchanged=0");
    let imports = app.audit_entries("demo.branch", "ok").await;
    assert_eq!(imports.iter().filter(|e| e.action == "policy.import_return").count(), 1);
    assert_eq!(imports.iter().filter(|e| e.action == "policy.underwrite_batch").count(), 1);
    assert_eq!(status(&app, a).await, PolicyStatus::Underwritten);
    let page = app.get(&branch, &job).await;
    assert!(page.body.contains("已完成"), "{}", page.body);
    assert!(!page.body.contains("data-testid=\"return-confirm\""));
}

#[tokio::test]
async fn a_database_changed_since_the_preview_shows_the_new_preview_and_writes_nothing() {
    let app = TestApp::demo().await;
    let a = submitted(&app, JIZHOU_VILLAGE, vec![("变化甲", id_number("19800101", 51), Relationship::Head)])
        .await;
    let b = submitted(&app, JIZHOU_VILLAGE, vec![("变化乙", id_number("19800101", 53), Relationship::Head)])
        .await;
    let branch = app.login("demo.branch").await;
    let preview = upload(&app, &branch, "回传.csv", &returned(&[(a, "PJY-1"), (b, "PJY-2")])).await;
    assert_eq!(total(&preview.body, "total-underwrite"), 2);
    let job = job_path(&preview.body);
    // Meanwhile another user underwrites A with the same number, and B with another.
    let insurer =
        guanai_store::Actor::system(RegionCode::parse("3608").unwrap()).acting_as(Role::InsurerCity);
    app.store
        .policies()
        .underwrite_many(
            &insurer,
            &[(a, PolicyNo::parse("PJY-1").unwrap()), (b, PolicyNo::parse("PJY-OTHER").unwrap())],
        )
        .await
        .unwrap();
    let before = app.audit_entries("demo.branch", "ok").await.len();
    let changed = app.post_form(&branch, &format!("{job}/confirm"), &[]).await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "{}", changed.body);
    assert!(changed.body.contains("情况已有变化"), "{}", changed.body);
    assert_eq!(total(&changed.body, "total-underwrite"), 0, "the new preview");
    assert_eq!(total(&changed.body, "total-unchanged"), 1, "A, done the same way");
    assert!(changed.body.contains("与文件中的 PJY-2 不同"), "B, done another way: {}", changed.body);
    assert!(changed.body.contains("第3行"), "the file's own lines: {}", changed.body);
    let after = app.audit_entries("demo.branch", "ok").await;
    assert!(!after.iter().any(|e| e.action == "policy.import_return"), "nothing was written");
    assert!(after.len() <= before + 1, "a claim at most");
    let policy = app.store.policies().policy(&app.system(), b).await.unwrap();
    assert_eq!(policy.summary.policy_no.as_deref(), Some("PJY-OTHER"));
    // The job's page keeps the new preview, with nothing left to confirm.
    let page = app.get(&branch, &job).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("情况已有变化"));
    assert!(page.body.contains("没有需要写入的结果"));
}
