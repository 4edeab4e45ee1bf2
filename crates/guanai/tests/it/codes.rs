//! A stored code no version of Guanai writes is an internal error wherever it is read,
//! never a silent default ("草稿", "无" …): the page answers 500 and shows no detail.

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_domain::PovertyStatus;
use guanai_store::StoreError;
use sea_orm::ConnectionTrait;

use crate::util::{id_number, FamilySpec, TestApp, TestResponse};

async fn family_with_policy(app: &TestApp) -> (i64, i64) {
    let (family, member_ids) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "general",
            poverty: PovertyStatus::None,
            members: vec![
                ("周建华", id_number("19800305", 71), Relationship::Head),
                ("吴秀兰", id_number("19820611", 72), Relationship::Spouse),
            ],
            consents: true,
        })
        .await;
    (family, app.enrol(family, member_ids, "P1", 2026).await)
}

async fn corrupt(app: &TestApp, sql: &str) {
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    db.execute_unprepared(sql).await.unwrap();
}

fn internal_error(response: &TestResponse, code: &str) {
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", response.body);
    assert!(response.body.contains("系统内部错误"), "{}", response.body);
    assert!(!response.body.contains(code) && !response.body.contains("unknown code"), "{}", response.body);
}

#[tokio::test]
async fn a_policy_with_an_unknown_status_is_an_error_not_a_draft() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, policy) = family_with_policy(&app).await;
    let county = app.login("demo.county").await;
    assert_eq!(app.get(&county, &format!("/policies/{policy}")).await.status, StatusCode::OK);

    corrupt(&app, &format!("UPDATE policies SET status = 'bogus' WHERE id = {policy}")).await;
    let err = app.store.policies().policy(&app.system(), policy).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(m) if m == "unknown code 'bogus' in policies.status"),
        "{err:?}"
    );
    internal_error(&app.get(&county, &format!("/policies/{policy}")).await, "bogus");
    internal_error(&app.get(&county, "/policies?year=2026").await, "bogus");
    internal_error(&app.get(&county, &format!("/families/{family}")).await, "bogus");
}

#[tokio::test]
async fn a_policy_with_an_unknown_channel_is_an_error() {
    let app = TestApp::demo_in_season(2026).await;
    let (_, policy) = family_with_policy(&app).await;
    corrupt(&app, &format!("UPDATE policies SET channel = 'phone' WHERE id = {policy}")).await;
    let err = app.store.policies().policy(&app.system(), policy).await.unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt(m) if m.contains("'phone' in policies.channel")), "{err:?}");
}

#[tokio::test]
async fn a_family_with_an_unknown_poverty_status_is_an_error_not_none() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, _) = family_with_policy(&app).await;
    let county = app.login("demo.county").await;
    assert_eq!(app.get(&county, &format!("/families/{family}")).await.status, StatusCode::OK);

    corrupt(&app, &format!("UPDATE families SET poverty = 'bogus' WHERE id = {family}")).await;
    internal_error(&app.get(&county, &format!("/families/{family}")).await, "bogus");
    internal_error(&app.get(&county, "/families?q=").await, "bogus");
}

#[tokio::test]
async fn a_member_with_an_unknown_relationship_is_an_error_not_other() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, _) = family_with_policy(&app).await;
    corrupt(&app, &format!("UPDATE persons SET relationship = 'cousin' WHERE family_id = {family}")).await;
    let err = app.store.families().family(&app.system(), family).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(m) if m.contains("'cousin' in persons.relationship")),
        "{err:?}"
    );
}
