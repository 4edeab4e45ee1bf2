//! Claim papers as files, the agent told of missing papers through the outbox, and the
//! measures and satisfaction per county: a phone photo of a paper loses its EXIF and marks
//! the paper received; a PDF is kept and served inline; a text file or a zip is refused in
//! Chinese naming the allowed types and leaves nothing; no paper is listed or served
//! outside the claim's scope (each attempt and each view audited); the insurer's request
//! for missing papers writes one message to the family's agent, never a second for the
//! same request; the measures and satisfaction agree with a direct count. On every engine.

use axum::http::{header, StatusCode};
use guanai::outbox::{send_due, LogSender};
use guanai_domain::claims::{BankAccount, ClaimKind, ClaimStatus, RefusalReason};
use guanai_domain::users::{Password, Role, Username};
use guanai_domain::{Fen, RegionCode};
use guanai_store::claims::{ClaimQuery, Decision, NewPayment};
use guanai_store::outbox::OutboxSettings;
use guanai_store::users::NewUser;
use serde_json::{json, Value};

use crate::claims::{all_papers, approve, date, insured, new_claim, set_day};
use crate::photos::{blobs, contains, get_bytes, phone_jpeg, upload_form, SECRET};
use crate::util::{Client, TestApp, TestResponse};

/// 洋塘村 of 兴桥镇 (吉州区), the demo agent's village.
const VILLAGE: &str = "360802100200";

/// A small PDF: its signature, one empty object, the end marker.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

/// An outpatient claim of a family insured in the demo agent's village; the app's clock
/// on 2026-10-12. Returns the claim.
async fn outpatient_claim(app: &TestApp, seq: u32) -> i64 {
    let (_, ids, _) = insured(app, VILLAGE, seq, &["吴一", "郑二"], 0, "P1").await;
    let claim = new_claim(ids[1], ClaimKind::AccidentOutpatient, date(2026, 10, 11), 1_000);
    app.store.claims().report_claim(&app.system(), claim).await.unwrap().id
}

/// Posts a paper's files to the API (`api`) or the page.
async fn send_paper(
    app: &TestApp,
    client: &Client,
    claim: i64,
    paper: &str,
    files: &[(&str, &[u8])],
    api: bool,
) -> TestResponse {
    let path =
        if api { format!("/api/v1/claims/{claim}/papers") } else { format!("/claims/{claim}/papers/files") };
    upload_form(app, client, &path, &[("paper", paper)], files, api).await
}

async fn received(app: &TestApp, claim: i64) -> Vec<String> {
    let detail = app.store.claims().claim(&app.system(), claim).await.unwrap();
    detail.papers.iter().map(|p| p.paper.code().to_owned()).collect()
}

/// A user of `role` in `region`, logged in.
async fn user_in(app: &TestApp, login: &str, role: Role, region: &str) -> Client {
    let new = NewUser {
        username: Username::parse(login).unwrap(),
        display_name: format!("用户 {login}"),
        role,
        region: RegionCode::parse(region).unwrap(),
        org_id: None,
        password: Password::parse("Claim-papers-2026").unwrap(),
        must_change_password: false,
    };
    app.store.users().create_user(&app.system(), new).await.unwrap();
    app.login_with(login, "Claim-papers-2026").await
}

#[tokio::test]
async fn a_papers_photo_loses_its_exif_a_pdf_is_kept_and_other_files_are_refused() {
    let app = TestApp::demo_in_season(2026).await;
    let claim = outpatient_claim(&app, 21).await;
    let agent = app.login("demo.agent").await;
    let original = phone_jpeg();
    assert!(contains(&original, SECRET));
    let before = blobs(&app._db.files_dir()).len();

    // The ID card photographed on the phone, through the API.
    let sent = send_paper(&app, &agent, claim, "id_card", &[("身份证.jpg", &original)], true).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let answer = sent.json();
    assert_eq!(answer["files"][0]["paper"], "id_card");
    assert_eq!(answer["files"][0]["content_type"], "image/jpeg");
    let photo = answer["files"][0]["id"].as_i64().unwrap();
    assert!(answer["claim"]["papers"].as_array().unwrap().iter().any(|p| p["paper"] == "id_card"));
    assert_eq!(received(&app, claim).await, vec!["id_card"]);
    let (status, headers, served) = get_bytes(&app, &agent, &format!("/api/v1/claims/papers/{photo}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert!(served.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(!contains(&served, b"Exif\0\0") && !contains(&served, SECRET), "no EXIF, no GPS");
    let (status, _, thumb) = get_bytes(&app, &agent, &format!("/claims/papers/{photo}?size=thumb")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!contains(&thumb, b"Exif\0\0"));

    // The invoices as a PDF, through the page: kept as it came, sealed, no thumbnail.
    let page = send_paper(&app, &agent, claim, "invoices", &[("发票.pdf", PDF)], false).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(received(&app, claim).await.len(), 2);
    let listed = app.get(&agent, &format!("/api/v1/claims/{claim}/papers")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let pdf = listed.json().as_array().unwrap().iter().find(|f| f["paper"] == "invoices").unwrap().clone();
    assert_eq!(
        (pdf["content_type"].as_str(), pdf["name"].as_str()),
        (Some("application/pdf"), Some("发票.pdf"))
    );
    let pdf_id = pdf["id"].as_i64().unwrap();
    let (status, headers, served) = get_bytes(&app, &agent, &format!("/claims/papers/{pdf_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("inline;"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(served, PDF);
    let (status, _, _) = get_bytes(&app, &agent, &format!("/api/v1/claims/papers/{pdf_id}?size=thumb")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a PDF has no thumbnail");
    let on_disk = blobs(&app._db.files_dir());
    assert_eq!(on_disk.len(), before + 3, "photo, its thumbnail, the PDF");
    assert!(on_disk.iter().all(|b| !b.starts_with(b"%PDF") && !b.starts_with(&[0xFF, 0xD8])), "sealed");

    // The page shows the photo's thumbnail, the PDF as a label, and the phone's upload form.
    let shown = app.get(&agent, &format!("/claims/{claim}")).await;
    assert!(shown.body.contains(&format!("/claims/papers/{photo}?size=thumb")), "{}", shown.body);
    assert!(shown.body.contains("data-testid=\"paper-pdf\"") && shown.body.contains("发票.pdf"));
    assert!(shown.body.contains("accept=\"image/*,application/pdf\"") && shown.body.contains("capture"));

    // A text file or a zip: refused in Chinese naming the allowed types; nothing kept, the
    // paper not marked.
    let zip: &[u8] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00bank.jpg";
    let text = "姓名,银行卡号\n张三,6222021234567890123\n".as_bytes();
    for (name, bytes) in [("银行卡.txt", text), ("银行卡.zip", zip)] {
        for api in [true, false] {
            let refused = send_paper(&app, &agent, claim, "bank_card", &[(name, bytes)], api).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name}: {}", refused.body);
            let message = if api {
                refused.json()["error"]["message"].as_str().unwrap().to_owned()
            } else {
                refused.body
            };
            for part in [name, "JPG", "PNG", "WebP", "PDF", "均未保存"] {
                assert!(message.contains(part), "{part} in {message}");
            }
        }
    }
    // Together with a good photo: still refused as a whole.
    let mixed =
        send_paper(&app, &agent, claim, "bank_card", &[("好.jpg", &original), ("银行卡.txt", text)], true)
            .await;
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST, "{}", mixed.body);
    assert_eq!(blobs(&app._db.files_dir()).len(), before + 3, "no blob left behind");
    assert_eq!(received(&app, claim).await.len(), 2, "the bank card is not marked received");
    // Nothing chosen, or no paper named: what to do.
    let empty = send_paper(&app, &agent, claim, "bank_card", &[], true).await;
    assert!(empty.json()["error"]["message"].as_str().unwrap().contains("请选择"), "{}", empty.body);
    let unnamed = upload_form(
        &app,
        &agent,
        &format!("/api/v1/claims/{claim}/papers"),
        &[],
        &[("a.jpg", &original)],
        true,
    )
    .await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    assert!(unnamed.body.contains("哪一项材料"), "{}", unnamed.body);
    // Ticking papers as JSON still works, and answers the claim.
    let ticked = app
        .post_json(&agent, &format!("/api/v1/claims/{claim}/papers"), json!({"papers": ["bank_card"]}))
        .await;
    assert_eq!(ticked.status, StatusCode::OK, "{}", ticked.body);
    assert_eq!(ticked.json()["files"], json!([]));
    assert_eq!(received(&app, claim).await.len(), 3);
}

#[tokio::test]
async fn papers_are_not_listed_or_served_outside_the_claims_scope_and_every_view_is_audited() {
    let app = TestApp::demo_in_season(2026).await;
    let claim = outpatient_claim(&app, 22).await;
    let agent = app.login("demo.agent").await;
    let sent = send_paper(&app, &agent, claim, "id_card", &[("身份证.jpg", &phone_jpeg())], true).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let file = sent.json()["files"][0]["id"].as_i64().unwrap();
    let paths = [
        format!("/api/v1/claims/papers/{file}"),
        format!("/api/v1/claims/papers/{file}?size=thumb"),
        format!("/claims/papers/{file}"),
        format!("/api/v1/claims/{claim}/papers"),
    ];
    // An agent of another township (文石村, 樟山镇) and a county user of 青原区.
    let strangers = [
        ("wenshi.agent", Role::VillageAgent, "360802101200"),
        ("qingyuan.staff", Role::CountyStaff, "360803"),
    ];
    for (login, role, region) in strangers {
        let client = user_in(&app, login, role, region).await;
        for path in &paths {
            let (status, _, body) = get_bytes(&app, &client, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{login} {path}");
            assert!(!body.starts_with(&[0xFF, 0xD8]));
        }
        let page = app.get(&client, &format!("/claims/{claim}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let denied = app.audit_entries(login, "denied").await;
        let guesses =
            denied.iter().filter(|e| e.action == "file.view" && e.target_id == file.to_string()).count();
        assert_eq!(guesses, 3, "{login}: each attempt on the file is logged");
        assert!(
            denied.iter().any(|e| e.action == "claim.view" && e.target_id == claim.to_string()),
            "{login}: the list's attempt too"
        );
        assert!(app.audit_entries(login, "ok").await.iter().all(|e| e.action != "file.view"));
    }
    // The association and the insurer of the county see them; each view is audited.
    for login in ["demo.county", "demo.branch", "demo.agent"] {
        let client = if login == "demo.agent" { agent.clone() } else { app.login(login).await };
        let (seen, listed) = views(&app, login).await;
        let list = app.get(&client, &format!("/api/v1/claims/{claim}/papers")).await;
        assert_eq!(list.status, StatusCode::OK, "{login}: {}", list.body);
        assert_eq!(list.json().as_array().unwrap().len(), 1);
        for path in [&paths[0], &paths[1], &paths[2]] {
            let (status, _, _) = get_bytes(&app, &client, path).await;
            assert_eq!(status, StatusCode::OK, "{login} {path}");
        }
        assert_eq!(
            views(&app, login).await,
            (seen + 3, listed + 1),
            "{login}: three views and one list, audited"
        );
    }
    let thumb_views: Vec<_> = app
        .audit_entries("demo.branch", "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "file.view" && e.target_id == file.to_string())
        .collect();
    assert!(
        thumb_views.iter().any(|e| e.detail == "缩略图") && thumb_views.iter().any(|e| e.detail == "原图")
    );
}

#[tokio::test]
async fn asking_for_missing_papers_tells_the_familys_agent_once_through_the_outbox() {
    let app = TestApp::demo_in_season(2026).await;
    let claim = outpatient_claim(&app, 23).await;
    let county = app.login("demo.county").await;
    let me = crate::agents::user_id(&app, "demo.agent").await;
    crate::agents::registered(&app, &county, "刘敏", VILLAGE, Some(me)).await;
    // An agent of the next village (东塘村) is not told.
    crate::agents::registered(&app, &county, "钟桂兰", crate::agents::DONGTANG, None).await;
    let agent = app.login("demo.agent").await;
    let sent = send_paper(&app, &agent, claim, "id_card", &[("身份证.jpg", &phone_jpeg())], true).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let outbox = || claim_messages(&app, &county);
    assert!(outbox().await.is_empty());

    let branch = app.login("demo.branch").await;
    let asked = app.post_json(&branch, &format!("/api/v1/claims/{claim}/missing-papers"), json!({})).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.json()["papers"], json!(["bank_card", "medical_records", "invoices", "prescriptions"]));
    let told = outbox().await;
    assert_eq!(told.len(), 1, "{told:?}");
    let message = &told[0];
    let body = message["body"].as_str().unwrap();
    assert!(body.starts_with("【关爱保险】刘敏您好：吴一户的理赔案件"), "the agent, the head by SMS: {body}");
    for paper in ["领款人银行卡", "病历", "医疗费用发票", "处方"] {
        assert!(body.contains(paper), "{paper} in {body}");
    }
    assert!(!body.contains("身份证"), "what arrived is not asked for: {body}");
    assert_eq!(message["recipient"], "139****1234", "the agent's phone, masked");
    assert_eq!(message["state"], "queued");

    // The same request again writes nothing; nor does the page's button.
    let again = app.post_json(&branch, &format!("/api/v1/claims/{claim}/missing-papers"), json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let page = app.post_form(&branch, &format!("/claims/{claim}/missing-papers"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(outbox().await.len(), 1, "never twice for the same request");

    // The family opting out of messages does not stop the agent's; the sender loop sends it.
    let family = app.store.claims().claim(&app.system(), claim).await.unwrap().summary.family_id;
    app.store.outbox().opt_out(&app.system(), family).await.unwrap();
    let report =
        send_due(&app.store, &LogSender { print: false }, &OutboxSettings::default(), "t").await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(outbox().await[0]["state"], "sent");

    // Papers arrive; the insurer asks again for what is still missing: one new message.
    let ticked = json!({"papers": ["bank_card", "invoices"]});
    app.post_json(&agent, &format!("/api/v1/claims/{claim}/papers"), ticked).await;
    let asked = app.post_json(&branch, &format!("/api/v1/claims/{claim}/missing-papers"), json!({})).await;
    assert_eq!(asked.json()["papers"], json!(["medical_records", "prescriptions"]));
    let told = outbox().await;
    assert_eq!(told.len(), 2);
    assert!(!told[0]["body"].as_str().unwrap().contains("银行卡"), "{}", told[0]["body"]);
}

/// The audited views and lists of files by `login`.
async fn views(app: &TestApp, login: &str) -> (usize, usize) {
    let entries = app.audit_entries(login, "ok").await;
    let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
    (count("file.view"), count("file.list"))
}

/// The outbox's messages about claims, newest first, as `client` sees them.
async fn claim_messages(app: &TestApp, client: &Client) -> Vec<Value> {
    let state = app.get(client, "/api/v1/outbox").await;
    assert_eq!(state.status, StatusCode::OK, "{}", state.body);
    let messages: Vec<Value> = state.json()["messages"].as_array().unwrap().clone();
    messages.into_iter().filter(|m| m["body"].as_str().unwrap().contains("理赔案件")).collect()
}

/// Pays an approved claim in full on `day`.
async fn pay(app: &TestApp, claim: i64, day: chrono::NaiveDate) {
    let insurer = app.system().acting_as(Role::InsurerCity);
    let approved = app.store.claims().claim(&app.system(), claim).await.unwrap().summary.approved.unwrap();
    let payment = NewPayment {
        beneficiary: "领款人".into(),
        account: BankAccount::parse("6222021234567890123").unwrap(),
        amount: approved,
        paid_on: day,
        reference: format!("ZF-{claim}"),
    };
    app.store.claims().pay(&insurer, claim, payment).await.unwrap();
}

#[tokio::test]
async fn satisfaction_and_measures_per_county_agree_with_a_direct_count() {
    let app = TestApp::demo_in_season(2026).await;
    let system = app.system();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    let agent = system.clone().acting_as(Role::VillageAgent);
    // 吉州区: two paid (rated 5 and 3), one refused; 青原区 (新生社区): one reported.
    let (_, jz, _) = insured(&app, VILLAGE, 24, &["孔一", "曹二", "严三"], 0, "P1").await;
    set_day(&app, date(2026, 8, 20));
    let (_, qy, _) = insured(&app, "360803001003", 25, &["华一"], 0, "P1").await;
    let report = |person, day, yuan| {
        let (store, system) = (app.store.clone(), system.clone());
        async move {
            let claim = new_claim(person, ClaimKind::AccidentOutpatient, day, yuan);
            store.claims().report_claim(&system, claim).await.unwrap().id
        }
    };
    let first = report(jz[0], date(2026, 10, 1), 1_000).await;
    let second = report(jz[1], date(2026, 10, 2), 500).await;
    let refused = report(jz[2], date(2026, 10, 3), 300).await;
    let open = report(qy[0], date(2026, 10, 4), 800).await;
    for claim in [first, second] {
        all_papers(&app, claim, ClaimKind::AccidentOutpatient).await;
        app.store.claims().decide(&insurer, claim, approve()).await.unwrap();
    }
    let refusal = Decision {
        status: ClaimStatus::Refused,
        reason: "非意外".into(),
        refusal_reasons: vec![RefusalReason::NotAccident],
        ..approve()
    };
    app.store.claims().decide(&insurer, refused, refusal).await.unwrap();
    set_day(&app, date(2026, 10, 14));
    pay(&app, first, date(2026, 10, 14)).await;
    set_day(&app, date(2026, 10, 20));
    pay(&app, second, date(2026, 10, 19)).await;
    app.store.claims().record_satisfaction(&agent, first, 5, "很及时").await.unwrap();
    app.store.claims().record_satisfaction(&agent, second, 3, "").await.unwrap();
    // Only once, and only 1 to 5.
    assert!(app.store.claims().record_satisfaction(&agent, first, 4, "").await.is_err());
    let _ = open;

    // The direct count: every claim of the city, read one by one.
    let all = app
        .store
        .claims()
        .claims(&system, &ClaimQuery { per_page: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    let mut direct: std::collections::BTreeMap<String, (u64, u64, u64, i64, Vec<u64>)> = Default::default();
    for summary in &all.claims {
        let claim = app.store.claims().claim(&system, summary.id).await.unwrap();
        let line = direct.entry(summary.village_code[..6].to_owned()).or_default();
        line.0 += 1;
        if let Some(score) = claim.satisfaction {
            line.1 += 1;
            line.2 += score as u64;
        }
        if let (Some(paid), Some(on)) = (summary.paid, claim.paid_on) {
            line.3 += paid.get();
            line.4.push((on - summary.reported_on).num_days() as u64);
        }
    }

    let city = app.login("demo.city").await;
    let measures = app.get(&city, "/api/v1/claims/measures?year=2026").await;
    assert_eq!(measures.status, StatusCode::OK, "{}", measures.body);
    let measures = measures.json();
    let coverage = app.get(&city, "/api/v1/reports/coverage?year=2026").await.json();
    let row = |code: &str| {
        measures["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["county"] == code)
            .unwrap_or_else(|| panic!("{code}"))
            .clone()
    };
    for (county, (reported, rated, score_sum, paid, mut days)) in direct {
        let r = row(&county);
        assert_eq!(r["reported"], reported, "{county}");
        assert_eq!(r["satisfaction_count"], rated, "{county}");
        assert_eq!(r["satisfaction_sum"], score_sum, "{county}");
        let average = (rated > 0).then(|| score_sum as f64 / rated as f64);
        assert_eq!(r["satisfaction_average"].as_f64(), average, "{county}");
        assert_eq!(r["amount_paid"], paid, "{county}");
        days.sort_unstable();
        assert_eq!(r["days_to_payment"], json!(days), "{county}");
        assert_eq!(r["days_to_payment_sum"], days.iter().sum::<u64>(), "{county}");
        // The same premium and insured persons as the coverage report.
        let cov = coverage["rows"].as_array().unwrap().iter().find(|c| c["key"] == county).unwrap();
        assert_eq!(r["premium"], cov["premium"], "{county}");
        assert_eq!(r["insured_persons"], cov["insured_persons"], "{county}");
    }
    // The scenario itself: 吉州区 two paid (720 + 320 元), one refused, rated 5 and 3.
    let jizhou = row("360802");
    assert_eq!((jizhou["paid"].as_u64(), jizhou["refused"].as_u64()), (Some(2), Some(1)));
    assert_eq!(jizhou["amount_paid"], Fen::from_yuan(720 + 320).get());
    assert_eq!(jizhou["satisfaction_scores"], json!([0, 0, 1, 0, 1]));
    assert_eq!(jizhou["satisfaction_average"].as_f64(), Some(4.0));
    assert_eq!(jizhou["days_to_payment"], json!([2, 7]), "reported on 12 October");
    assert_eq!(jizhou["fast_lane"], 3, "all three small outpatient claims");
    assert!(jizhou["sub_branch"].as_str().is_some_and(|b| !b.is_empty()), "{jizhou}");
    let qingyuan = row("360803");
    assert_eq!((qingyuan["reported"].as_u64(), qingyuan["paid"].as_u64()), (Some(1), Some(0)));
    assert_eq!(qingyuan["satisfaction_average"], Value::Null);
    assert_eq!(measures["total"]["reported"], 4);
    assert_eq!(measures["total"]["satisfaction_count"], 2);

    // The county's insurer sub-branch sees its own county only; the page shows both tables.
    let branch = app.login("demo.branch").await;
    let own = app.get(&branch, "/api/v1/claims/measures?year=2026").await.json();
    let counties: Vec<&str> =
        own["rows"].as_array().unwrap().iter().map(|r| r["county"].as_str().unwrap()).collect();
    assert_eq!(counties, vec!["360802"]);
    for client in [&branch, &app.login("demo.county").await] {
        let page = app.get(client, "/claims/measures?year=2026").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("data-testid=\"claim-measures\"")
                && page.body.contains("data-testid=\"satisfaction\"")
        );
        assert!(page.body.contains("4.0"), "the average score: {}", page.body);
    }
    let bad = app.get(&branch, "/api/v1/claims/measures?year=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
