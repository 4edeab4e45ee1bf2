//! The command line: exporting the list and importing the insurer's file.

use guanai_domain::families::Relationship;
use guanai_store::policies::PolicyStatus;

use super::{column, sheet, submitted, xlsx_of, HEADERS, JIZHOU_VILLAGE};
use crate::util::{id_number, TestApp};

async fn cli(app: &TestApp, args: &[&str]) -> std::process::ExitCode {
    use clap::Parser;
    let dir = app._db.dir().to_str().unwrap().to_owned();
    let mut argv = vec![
        "guanai",
        "--database-url",
        app._db.url.as_str(),
        "--encryption-key",
        app._db.key_hex.as_str(),
        "--data-dir",
        dir.as_str(),
    ];
    argv.extend_from_slice(args);
    guanai::cli::run(guanai::cli::Cli::try_parse_from(argv).unwrap()).await.unwrap()
}

#[tokio::test]
async fn the_command_line_exports_the_list_and_imports_the_insurers_file() {
    let app = TestApp::demo().await;
    let a = submitted(&app, JIZHOU_VILLAGE, vec![("命令甲", id_number("19810101", 31), Relationship::Head)])
        .await;
    let b = submitted(&app, JIZHOU_VILLAGE, vec![("命令乙", id_number("19810101", 33), Relationship::Head)])
        .await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.xlsx");
    let code = cli(
        &app,
        &["export", "underwriting", list.to_str().unwrap(), "--region", "360802", "--year", "2026"],
    )
    .await;
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let mut rows = sheet(&std::fs::read(&list).unwrap());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][column("身份证号")].len(), 18, "the system operator exports in full");
    for row in rows.iter_mut().skip(1) {
        let id: i64 = row[column("系统保单编号")].parse().unwrap();
        if id == a {
            row[column("承保结果")] = "承保".to_owned();
            row[column("保单号")] = "CLI-0001".to_owned();
        } else {
            row[column("承保结果")] = "拒保".to_owned();
            row[column("拒保原因")] = "资料不全".to_owned();
        }
    }
    rows.push(vec!["abc".to_owned(), String::new(), String::new()]);
    rows[3].resize(HEADERS.len(), String::new());
    rows[3][column("承保结果")] = "承保".to_owned();
    let returned = dir.path().join("returned.xlsx");
    std::fs::write(&returned, xlsx_of(&rows)).unwrap();
    let report = dir.path().join("report.xlsx");
    let refused = std::process::ExitCode::from(guanai::import::EXIT_REFUSED);
    let args =
        ["import", "insurer", returned.to_str().unwrap(), "--dry-run", "--report", report.to_str().unwrap()];
    assert_eq!(cli(&app, &args).await, refused);
    assert!(sheet(&std::fs::read(&report).unwrap())[1][5].contains("不是有效的编号"));
    assert_eq!(
        app.store.policies().policy(&app.system(), a).await.unwrap().summary.status,
        PolicyStatus::Submitted
    );
    assert_eq!(cli(&app, &["import", "insurer", returned.to_str().unwrap()]).await, refused);
    assert_eq!(
        app.store.policies().policy(&app.system(), a).await.unwrap().summary.policy_no.as_deref(),
        Some("CLI-0001")
    );
    let pb = app.store.policies().policy(&app.system(), b).await.unwrap();
    assert_eq!(pb.cancel_reason.as_deref(), Some("保险公司拒保：资料不全"));
    let entries = app.audit_entries("system", "ok").await;
    assert!(entries.iter().any(|e| e.action == "policy.underwrite_batch"));
    // Again: nothing left to do. The run is a job of its own (its upload is logged), and
    // nothing else is written.
    let besides_uploads = |entries: Vec<guanai_store::audit::AuditEntry>| {
        entries.into_iter().filter(|e| e.action != "import.upload").count()
    };
    let before = besides_uploads(app.audit_entries("system", "ok").await);
    assert_eq!(cli(&app, &["import", "insurer", returned.to_str().unwrap()]).await, refused);
    let after = besides_uploads(app.audit_entries("system", "ok").await);
    assert_eq!(after, before, "a second run writes nothing, not even an audit entry");
}
