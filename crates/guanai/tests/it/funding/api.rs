//! The funding API: sources, ledgers, packages and gifts.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_domain::Fen;
use guanai_store::policies::Channel;

use super::{create_source, family, package, policies_of, source_named, system};
use crate::util::{Client, TestApp, TestResponse};

async fn api_get(app: &TestApp, client: &Client, path: &str) -> TestResponse {
    app.get(client, path).await
}

async fn api_post(app: &TestApp, client: &Client, path: &str, body: serde_json::Value) -> TestResponse {
    let request = Request::post(path)
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", &client.csrf)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_api_reads_sources_ledgers_packages_and_gifts() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let list = api_get(&app, &county, "/api/v1/funding/sources?year=2026").await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<String> =
        list.json().as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"吉州区财政计生保险补助（2026）".to_owned()));
    assert!(!names.contains(&"青原区财政计生保险补助（2026）".to_owned()));
    let care = source_named(&app, "吉安市生育关怀基金（2026）").await;
    let ledger = api_get(&app, &county, &format!("/api/v1/funding/sources/{}", care.id)).await.json();
    assert_eq!(ledger["source"]["pledged"], 80_000_000);
    assert_eq!(ledger["rules"].as_array().unwrap().len(), 4);
    assert_eq!(ledger["rules"][0]["amount"]["kind"], "all");
    let qingyuan = source_named(&app, "青原区财政计生保险补助（2026）").await;
    let denied = api_get(&app, &county, &format!("/api/v1/funding/sources/{}", qingyuan.id)).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    assert_eq!(denied.json()["error"]["code"], "not_found");
    let packages = api_get(&app, &county, "/api/v1/packages?year=2026").await.json();
    let codes: Vec<&str> = packages.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["P1", "P1N1", "P1N2"]);
    assert_eq!(packages[0]["base"]["terms"]["premium"], 10_000);
    let bad = api_get(&app, &county, "/api/v1/packages?year=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "bad_request");

    // Gifting: a preview, a refusal that changes nothing, then the gift.
    let a = family(&app, 7, "冯七", true).await;
    let b = family(&app, 8, "陈八", false).await;
    let small = create_source(&app, &county, "接口小额捐助", "360802", "50").await;
    let package = package(&app, "P1").await;
    let body = |source: i64| serde_json::json!({"source_id": source, "package_id": package.id, "family_ids": [a, b]});
    let preview = api_post(&app, &county, "/api/v1/gifting/preview", body(small)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let preview = preview.json();
    assert_eq!((preview["selected"].as_u64(), preview["eligible"].as_u64()), (Some(2), Some(1)));
    assert_eq!(preview["skipped"][0]["family_id"], b);
    assert_eq!((preview["total"].as_i64(), preview["coverable"].as_u64()), (Some(10_000), Some(0)));
    let refused = api_post(&app, &county, "/api/v1/gifting", body(small)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("本次未做任何更改"));
    assert!(policies_of(&app, a).await.is_empty());

    let enough = create_source(&app, &county, "接口送保资金", "360802", "500").await;
    let created = api_post(&app, &county, "/api/v1/gifting", body(enough)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json(), serde_json::json!({"created": 1, "total": 10_000}));
    assert_eq!(policies_of(&app, a).await[0].channel, Channel::Gifted);
    assert_eq!(
        app.store.funding().ledger(&system(), enough).await.unwrap().source.allocated,
        Fen::from_yuan(100)
    );

    // Without the CSRF header a gift is refused; an agent may not gift at all.
    let request = Request::post("/api/v1/gifting")
        .header(header::COOKIE, format!("guanai_session={}", county.cookie))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body(enough).to_string()))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
    let agent = app.login("demo.agent").await;
    assert_eq!(
        api_post(&app, &agent, "/api/v1/gifting/preview", body(enough)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api_get(&app, &agent, "/api/v1/funding/sources").await.status, StatusCode::NOT_FOUND);
}
