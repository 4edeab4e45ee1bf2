//! The claims exchange with the insurer's core system: the export of new reports with
//! their papers list (marked sent, exported again by day, audited), the insurer's file of
//! decisions and payments previewed then confirmed through the claim's own rules, a
//! second import changing nothing, a bad row named in Chinese with nothing written, and
//! another county's claims neither exported nor imported.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_domain::claims::{ClaimKind, ClaimStatus};
use guanai_import::claims_exchange::IMPORT_HEADERS;
use serde_json::Value;

use super::{get_file, sheet, xlsx_of};
use crate::claims::{all_papers, date, insured, new_claim, set_day};
use crate::util::{Client, TestApp, TestResponse};

pub(crate) fn file(rows: &[[&str; 10]]) -> Vec<u8> {
    let mut all = vec![IMPORT_HEADERS.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    all.extend(rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()));
    xlsx_of(&all)
}

pub(crate) async fn post_file(app: &TestApp, client: &Client, step: &str, bytes: &[u8]) -> TestResponse {
    let request = Request::post(format!("/api/v1/claims/exchange/import/{step}"))
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .header("x-csrf-token", client.csrf.as_str())
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes.to_vec()))
        .unwrap();
    app.send(request).await
}

async fn status(app: &TestApp, id: i64) -> ClaimStatus {
    app.store.claims().claim(&app.system(), id).await.unwrap().summary.status
}

/// Two claims of 吉州区 with all their papers, and one of 青原区; their ids.
async fn three_claims(app: &TestApp) -> (i64, i64, i64) {
    let (_, near, _) = insured(app, "360802100200", 7, &["吴一", "郑二"], 0, "P1").await;
    set_day(app, date(2026, 8, 20));
    let (_, far, _) = insured(app, "360803001003", 8, &["陈二"], 0, "P1").await;
    let system = app.system();
    let mut ids = Vec::new();
    for person in [near[0], near[1], far[0]] {
        let claim = new_claim(person, ClaimKind::AccidentOutpatient, date(2026, 10, 10), 1000);
        let id = app.store.claims().report_claim(&system, claim).await.unwrap().id;
        all_papers(app, id, ClaimKind::AccidentOutpatient).await;
        ids.push(id);
    }
    (ids[0], ids[1], ids[2])
}

fn ids_in(bytes: &[u8]) -> Vec<String> {
    let rows = sheet(bytes);
    assert_eq!(rows[0][0], "案件编号");
    assert!(rows[0].iter().any(|h| h == "缺少材料"), "{:?}", rows[0]);
    rows[1..].iter().map(|r| r[0].clone()).collect()
}

#[tokio::test]
async fn new_claims_go_out_once_and_the_insurers_decisions_and_payments_come_back_once() {
    let app = TestApp::demo_in_season(2026).await;
    let (paid, refused, far) = three_claims(&app).await;
    let branch = app.login("demo.branch").await;
    let export = get_file(&app, &branch, "/api/v1/claims/exchange/export").await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(ids_in(&export.bytes), vec![paid.to_string(), refused.to_string()], "not 青原区's {far}");
    // Each claim's papers list: every paper of the outpatient checklist received.
    let mut expected: Vec<&str> = guanai_domain::claims::PaperChecklist::default()
        .missing(ClaimKind::AccidentOutpatient, &[])
        .iter()
        .map(|p| p.label())
        .collect();
    expected.sort_unstable();
    for row in &sheet(&export.bytes)[1..] {
        let mut received: Vec<&str> = row[8].split('、').collect();
        received.sort_unstable();
        assert_eq!((received, row[9].as_str()), (expected.clone(), ""), "{row:?}");
    }
    let again = get_file(&app, &branch, "/api/v1/claims/exchange/export").await;
    assert!(ids_in(&again.bytes).is_empty(), "sent claims are not sent twice");
    let day = get_file(&app, &branch, "/api/v1/claims/exchange/export?again_on=2026-10-12").await;
    assert_eq!(ids_in(&day.bytes).len(), 2, "the day's export made again");
    let audited = app.audit_entries("demo.branch", "ok").await;
    assert!(audited.iter().filter(|e| e.action == "claim.export").count() >= 3, "{audited:?}");

    let (p, r) = (paid.to_string(), refused.to_string());
    let bytes = file(&[
        [&p, "核定", "赔付", "", "", "720", "", "", "", ""],
        [&p, "支付", "", "", "", "720", "2026-10-12", "吴一", "6222021234567890123", "PAY-0001"],
        [&r, "核定", "拒赔", "非意外事故", "经调查系疾病所致", "", "", "", "", ""],
    ]);
    let preview = post_file(&app, &branch, "preview", &bytes).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let shown: Value = preview.json();
    assert_eq!((shown["apply"].clone(), shown["refused"].clone()), (3.into(), 0.into()), "{shown}");
    assert_eq!(status(&app, paid).await, ClaimStatus::UnderReview, "a preview writes nothing");
    let done = post_file(&app, &branch, "confirm", &bytes).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!((done.json()["decided"].clone(), done.json()["paid"].clone()), (2.into(), 1.into()));
    assert_eq!(status(&app, paid).await, ClaimStatus::Paid);
    assert_eq!(status(&app, refused).await, ClaimStatus::Refused);
    // The same file again: every row recognised as applied.
    let second = post_file(&app, &branch, "confirm", &bytes).await.json();
    assert_eq!(
        (second["decided"].clone(), second["paid"].clone(), second["unchanged"].clone()),
        (0.into(), 0.into(), 3.into()),
        "{second}"
    );
    assert_eq!(status(&app, paid).await, ClaimStatus::Paid);
}

#[tokio::test]
async fn a_bad_row_is_named_in_chinese_and_another_countys_claim_is_not_imported() {
    let app = TestApp::demo_in_season(2026).await;
    let (near, _, far) = three_claims(&app).await;
    let branch = app.login("demo.branch").await;
    let (n, f) = (near.to_string(), far.to_string());
    let bytes = file(&[
        [&n, "核定", "赔付", "", "", "七百", "", "", "", ""],
        [&f, "核定", "赔付", "", "", "720", "", "", "", ""],
        [&n, "支付", "", "", "", "720", "2026-10-12", "吴一", "6222021234567890123", "PAY-0002"],
    ]);
    let preview = post_file(&app, &branch, "preview", &bytes).await.json();
    let messages: Vec<&str> =
        preview["rows"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap()).collect();
    assert_eq!(preview["refused"], 3, "{preview}");
    assert!(messages[0].starts_with("第3行") && messages[0].contains("金额（元）"), "{messages:?}");
    assert!(messages[1].starts_with("第4行") && messages[1].contains("不在本辖区"), "{messages:?}");
    assert!(messages[2].starts_with("第5行") && messages[2].contains("尚未核定赔付"), "{messages:?}");
    let done = post_file(&app, &branch, "confirm", &bytes).await.json();
    assert_eq!(done["decided"], 0, "{done}");
    assert_eq!(status(&app, near).await, ClaimStatus::UnderReview);
    assert_eq!(status(&app, far).await, ClaimStatus::UnderReview);
    // The agent, who does not decide claims, may neither export nor import.
    let agent = app.login("demo.agent").await;
    assert_ne!(get_file(&app, &agent, "/api/v1/claims/exchange/export").await.status, StatusCode::OK);
    assert_ne!(post_file(&app, &agent, "preview", &bytes).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_insurers_users_preview_and_confirm_a_file_on_the_page() {
    let app = TestApp::demo_in_season(2026).await;
    let (near, _, _) = three_claims(&app).await;
    let branch = app.login("demo.branch").await;
    let list = app.get(&branch, "/claims").await;
    assert!(list.body.contains("/claims/exchange"), "{}", list.body);
    let shown = app.get(&branch, "/claims/exchange").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let export = get_file(&app, &branch, "/claims/exchange/export.xlsx").await;
    assert_eq!(ids_in(&export.bytes)[0], near.to_string());
    let n = near.to_string();
    let bytes = file(&[[&n, "核定", "赔付", "", "", "720", "", "", "", ""]]);
    let boundary = "----guanai-claims-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"结果.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(format!("/claims/exchange/preview?csrf={}", branch.csrf))
        .header(header::COOKIE, format!("guanai_session={}", branch.cookie))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    let preview = app.send(request).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("将导入") && preview.body.contains("claims-confirm"), "{}", preview.body);
    assert_eq!(status(&app, near).await, ClaimStatus::UnderReview);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let done = app.post_form(&branch, "/claims/exchange/confirm", &[("file", hex.as_str())]).await;
    assert!(done.body.contains("核定 1 件"), "{}", done.body);
    assert_eq!(status(&app, near).await, ClaimStatus::Approved);
    let agent = app.login("demo.agent").await;
    assert_ne!(app.get(&agent, "/claims/exchange").await.status, StatusCode::OK);
}
