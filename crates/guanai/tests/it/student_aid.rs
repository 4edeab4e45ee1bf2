//! Student aid (金秋助学): county review, city approval paid from a named source whose
//! ledger takes the grant, payment; the order of the steps; never beyond the budget, also
//! under concurrent approvals.

use axum::http::StatusCode;
use guanai_domain::{Fen, RegionCode};
use guanai_store::student_aid::{NewApplication, Review};
use guanai_store::Actor;
use serde_json::json;

use crate::agents::DONGTANG;
use crate::util::TestApp;

async fn source(app: &TestApp, pledged: &str) -> i64 {
    let city = app.login("demo.city").await;
    crate::funding::create_source(app, &city, "金秋助学专项", "3608", pledged).await
}

fn county() -> Actor {
    Actor::system(RegionCode::parse("360802").unwrap())
}

async fn application(app: &TestApp, family: i64, yuan: i64) -> i64 {
    let new = NewApplication {
        family_id: family,
        student_name: "欧阳晓".to_owned(),
        school: "吉安市第一中学".to_owned(),
        admission_year: 2026,
        amount: Fen::from_yuan(yuan),
        note: String::new(),
    };
    app.store.student_aid().apply(&app.system(), new).await.unwrap()
}

#[tokio::test]
async fn an_application_goes_from_county_review_to_city_approval_to_payment_and_the_ledger_shows_it() {
    let app = TestApp::demo().await;
    let source = source(&app, "50000").await;
    let family = crate::publicity::new_family(&app, DONGTANG, 41).await;
    let township = app.login("demo.township").await;
    let body = json!({"family_id": family.to_string(), "student_name": "欧阳晓", "school": "吉安市第一中学",
        "admission_year": "2026", "amount": "2,000", "note": "录取通知书已核"});
    let created = app.post_json(&township, "/api/v1/student-aid", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let review = format!("/api/v1/student-aid/{id}/review");

    // The city cannot approve before the county; the township cannot review at all.
    let city = app.login("demo.city").await;
    let early = app
        .post_json(&city, &review, json!({"decision": "city_approve", "source_id": source.to_string()}))
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert_eq!(
        app.post_json(&township, &review, json!({"decision": "county_approve"})).await.status,
        StatusCode::NOT_FOUND
    );
    let county = app.login("demo.county").await;
    let for_city = app
        .post_json(&county, &review, json!({"decision": "city_approve", "source_id": source.to_string()}))
        .await;
    assert_eq!(for_city.status, StatusCode::FORBIDDEN);

    let reviewed = app.post_json(&county, &review, json!({"decision": "county_approve"})).await;
    assert_eq!(reviewed.json()["status"], "county_approved");
    let approved = app
        .post_json(&city, &review, json!({"decision": "city_approve", "source_id": source.to_string()}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let ledger = app.get(&city, &format!("/api/v1/funding/sources/{source}")).await.json();
    assert_eq!(ledger["source"]["allocated"], 200_000, "the grant is taken from the source's budget");
    assert_eq!(ledger["source"]["remaining"], 4_800_000);
    let paid = app.post_json(&city, &review, json!({"decision": "pay", "paid_on": "2026-11-28"})).await;
    assert_eq!(paid.json()["status"], "paid");
    assert_eq!(paid.json()["paid_on"], "2026-11-28");
    // Paid once.
    assert_eq!(app.post_json(&city, &review, json!({"decision": "pay"})).await.status, StatusCode::CONFLICT);
    // The source's ledger lists the grant, paid; its page too.
    let ledger = app.get(&city, &format!("/api/v1/funding/sources/{source}")).await.json();
    let grants = ledger["aid_grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{ledger}");
    assert_eq!(
        (grants[0]["application_id"].as_i64(), grants[0]["status"].as_str(), grants[0]["amount"].as_i64()),
        (Some(id), Some("paid"), Some(200_000))
    );
    let page = app.get(&city, &format!("/funding/{source}")).await;
    assert!(
        page.body.contains("data-testid=\"aid-grants\"") && page.body.contains(&format!("/student-aid/{id}"))
    );
    let figures = app.get(&city, "/api/v1/student-aid/figures?year=2026").await.json();
    assert_eq!(figures[0]["county_code"], "360802");
    assert_eq!((figures[0]["paid"].clone(), figures[0]["amount_paid"].clone()), (json!(1), json!(200_000)));
    // The page shows the state and the source.
    let page = app.get(&county, &format!("/student-aid/{id}")).await;
    assert!(page.body.contains("已发放") && page.body.contains("金秋助学专项"), "{}", page.body);
    // Another county sees nothing of it.
    let other = app
        .store
        .student_aid()
        .applications(&Actor::system(RegionCode::parse("360803").unwrap()), None, None)
        .await;
    assert!(other.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_city_approvals_never_grant_beyond_the_sources_budget() {
    let app = TestApp::demo().await;
    // Room for two grants of 2,000 and a bit.
    let source = source(&app, "5000").await;
    let family = crate::publicity::new_family(&app, DONGTANG, 43).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let id = application(&app, family, 2_000).await;
        app.store.student_aid().review(&county(), id, Review::CountyApprove).await.unwrap();
        ids.push(id);
    }
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| {
            let store = app.store.clone();
            let city = app.system();
            tokio::spawn(async move {
                store.student_aid().review(&city, id, Review::CityApprove { source_id: source }).await
            })
        })
        .collect();
    let mut approved = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => approved += 1,
            Err(guanai_store::StoreError::Conflict(message)) => {
                assert!(message.contains("预算不足"), "{message}")
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(approved, 2);
    let ledger = app.store.funding().ledger(&app.system(), source).await.unwrap();
    assert_eq!(ledger.source.allocated, Fen::from_yuan(4_000));
    let waiting = app
        .store
        .student_aid()
        .applications(&app.system(), None, Some(guanai_domain::student_aid::AidStatus::CountyApproved))
        .await;
    assert_eq!(waiting.unwrap().len(), 4, "a refused approval leaves the application as it was");
}
