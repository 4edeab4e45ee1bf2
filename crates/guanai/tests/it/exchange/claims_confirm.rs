//! Confirming the insurer's claims file is all or nothing: a row the claim's rules refuse
//! at confirmation (the 50th of a file, or a decision the shared limit no longer allows
//! after the rows before it) leaves nothing of the file written and is named in Chinese;
//! the corrected file writes every row once, the family's shared medical limit spent row
//! after row inside the one transaction; the same file again changes nothing.

use axum::http::StatusCode;
use guanai_domain::claims::{ClaimKind, ClaimStatus};
use guanai_domain::Fen;

use super::claims::{file, post_file};
use crate::claims::{all_papers, date, insured, new_claim, set_day};
use crate::util::TestApp;

async fn statuses(app: &TestApp, ids: &[i64]) -> Vec<ClaimStatus> {
    let mut out = Vec::new();
    for id in ids {
        out.push(app.store.claims().claim(&app.system(), *id).await.unwrap().summary.status);
    }
    out
}

/// How many audit entries of `action` the insurer's county user has.
async fn audited(app: &TestApp, action: &str) -> usize {
    app.audit_entries("demo.branch", "ok").await.iter().filter(|e| e.action == action).count()
}

/// `count` outpatient claims of 1,000 元 in 吉州区 with all their papers (four insured a
/// family); their ids and the insured persons' names.
async fn claims(app: &TestApp, count: usize) -> Vec<(i64, String)> {
    let system = app.system();
    let mut out = Vec::new();
    for family in 0..count.div_ceil(4) {
        set_day(app, date(2026, 8, 20));
        let names: Vec<String> = (0..4).map(|i| format!("批{}", family * 4 + i)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (_, people, _) = insured(app, "360802100200", 40 + family as u32, &names, 0, "P1").await;
        for (person, name) in people.into_iter().zip(names) {
            if out.len() == count {
                break;
            }
            let claim = new_claim(person, ClaimKind::AccidentOutpatient, date(2026, 10, 10), 1000);
            let id = system_report(app, &system, claim).await;
            all_papers(app, id, ClaimKind::AccidentOutpatient).await;
            out.push((id, name.to_owned()));
        }
    }
    out
}

async fn system_report(
    app: &TestApp,
    system: &guanai_store::Actor,
    claim: guanai_store::claims::NewClaim,
) -> i64 {
    app.store.claims().report_claim(system, claim).await.unwrap().id
}

#[tokio::test]
async fn a_file_whose_50th_row_fails_writes_nothing_and_once_corrected_writes_everything_once() {
    let app = TestApp::demo_in_season(2026).await;
    let claims = claims(&app, 25).await;
    let ids: Vec<i64> = claims.iter().map(|(id, _)| *id).collect();
    let branch = app.login("demo.branch").await;
    // Each claim decided (720 元, as the rules propose) and paid: 50 rows, the last one
    // paid on a day still to come, which only the payment's own rule knows.
    let rows = |last_paid_on: &'static str| -> Vec<[String; 10]> {
        let mut rows = Vec::new();
        for (index, (id, name)) in claims.iter().enumerate() {
            let paid_on = if index + 1 == claims.len() { last_paid_on } else { "2026-10-12" };
            let id = id.to_string();
            let reference = format!("PAY-{id}");
            rows.push([id.as_str(), "核定", "赔付", "", "", "720", "", "", "", ""].map(str::to_owned));
            rows.push(
                [
                    id.as_str(),
                    "支付",
                    "",
                    "",
                    "",
                    "720",
                    paid_on,
                    name.as_str(),
                    "6222021234567890123",
                    reference.as_str(),
                ]
                .map(str::to_owned),
            );
        }
        rows
    };
    let as_file = |rows: &[[String; 10]]| {
        let cells: Vec<[&str; 10]> = rows.iter().map(|r| r.each_ref().map(String::as_str)).collect();
        file(&cells)
    };
    let bad = as_file(&rows("2026-10-13"));
    let preview = post_file(&app, &branch, "preview", &bad).await.json();
    assert_eq!((preview["apply"].clone(), preview["refused"].clone()), (50.into(), 0.into()), "{preview}");

    let refused = post_file(&app, &branch, "confirm", &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    // The file's line 52: a title line and the header, then the 50th row.
    let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("第52行：支付日期须在核定日期和今天之间") && message.contains("整个文件均未导入"),
        "{message}"
    );
    assert!(statuses(&app, &ids).await.iter().all(|s| *s == ClaimStatus::UnderReview), "nothing decided");
    for action in ["claim.decide", "claim.pay", "claim.import"] {
        assert_eq!(audited(&app, action).await, 0, "no {action} written");
    }

    let good = as_file(&rows("2026-10-12"));
    let done = post_file(&app, &branch, "confirm", &good).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done = done.json();
    assert_eq!((done["decided"].clone(), done["paid"].clone()), (25.into(), 25.into()), "{done}");
    assert!(statuses(&app, &ids).await.iter().all(|s| *s == ClaimStatus::Paid), "every claim paid");
    assert_eq!((audited(&app, "claim.decide").await, audited(&app, "claim.pay").await), (25, 25));
    // The same file again: nothing to do, nothing written.
    let again = post_file(&app, &branch, "confirm", &good).await.json();
    assert_eq!(
        (again["decided"].clone(), again["paid"].clone(), again["unchanged"].clone()),
        (0.into(), 0.into(), 50.into()),
        "{again}"
    );
    assert_eq!((audited(&app, "claim.decide").await, audited(&app, "claim.pay").await), (25, 25));
}

#[tokio::test]
async fn a_file_spends_the_familys_shared_limit_row_after_row_in_one_transaction() {
    let app = TestApp::demo_in_season(2026).await;
    let (_, people, _) = insured(&app, "360802100200", 60, &["冯一", "冯二"], 0, "P1").await;
    let system = app.system();
    // Two inpatient claims of 10,000 元: alone, each would be paid (10,000 − 100) × 80 %;
    // together they pass the family's 12,000 元 limit.
    let mut ids = Vec::new();
    for person in &people {
        let claim = new_claim(*person, ClaimKind::AccidentInpatient, date(2026, 10, 10), 10_000);
        let id = system_report(&app, &system, claim).await;
        all_papers(&app, id, ClaimKind::AccidentInpatient).await;
        ids.push(id);
    }
    for id in &ids {
        let proposal = app.store.claims().claim(&system, *id).await.unwrap().proposal.unwrap();
        assert_eq!(proposal.amount, Fen::from_yuan(7_920), "alone, each gets the full share");
    }
    let branch = app.login("demo.branch").await;
    let (a, b) = (ids[0].to_string(), ids[1].to_string());
    let both_full = file(&[
        [&a, "核定", "赔付", "", "", "7920", "", "", "", ""],
        [&b, "核定", "赔付", "", "", "7920", "", "", "", ""],
    ]);
    let refused = post_file(&app, &branch, "confirm", &both_full).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("第4行：核定金额与按条款计算的4,080.00 元不同"), "{message}");
    assert_eq!(statuses(&app, &ids).await, vec![ClaimStatus::UnderReview; 2], "the first row undone too");
    let proposal = app.store.claims().claim(&system, ids[1]).await.unwrap().proposal.unwrap();
    assert_eq!(proposal.amount, Fen::from_yuan(7_920), "nothing of the limit was kept");

    let what_is_left = file(&[
        [&a, "核定", "赔付", "", "", "7920", "", "", "", ""],
        [&b, "核定", "部分赔付", "", "", "4080", "", "", "", ""],
    ]);
    let done = post_file(&app, &branch, "confirm", &what_is_left).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let approved: Vec<Option<Fen>> = {
        let mut out = Vec::new();
        for id in &ids {
            out.push(app.store.claims().claim(&system, *id).await.unwrap().summary.approved);
        }
        out
    };
    assert_eq!(approved, vec![Some(Fen::from_yuan(7_920)), Some(Fen::from_yuan(4_080))]);
    assert_eq!(statuses(&app, &ids).await, vec![ClaimStatus::Approved, ClaimStatus::PartlyApproved]);
}
