//! Training: a session recorded by the county, agents signing in by its code on the day
//! (once), scores against the pass mark, the certificate, the untrained list.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::agents::{registered, user_id, DONGTANG, YUANTANG};
use crate::util::{Client, TestApp};

async fn session(app: &TestApp, client: &Client, held_on: &str) -> Value {
    let body = json!({"region": "360802", "topic": "服务专员业务培训", "place": "区计生协会议室",
        "trainer": "人寿吉州区支公司", "held_on": held_on, "pass_mark": "70"});
    let created = app.post_json(client, "/api/v1/trainings", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

#[tokio::test]
async fn an_agent_signs_in_once_with_the_code_and_gets_a_certificate_when_it_passes() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let me = user_id(&app, "demo.agent").await;
    let agent_id = registered(&app, &county, "刘敏", &format!("{DONGTANG},{YUANTANG}"), Some(me)).await;
    let made = session(&app, &county, "2026-12-01").await;
    let id = made["id"].as_i64().unwrap();
    let code = made["sign_in_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);

    let agent = app.login("demo.agent").await;
    // The agent does not see the code; a wrong one is refused.
    let seen = app.get(&agent, &format!("/api/v1/trainings/{id}")).await.json();
    assert_eq!(seen["sign_in_code"], Value::Null);
    // Nor its QR image; the county's staff who run it get the image of the sign-in page.
    let qr = format!("/training/{id}/qr.svg");
    assert_eq!(app.get(&agent, &qr).await.status, StatusCode::NOT_FOUND);
    let image = app.get(&county, &qr).await;
    assert_eq!(image.headers[axum::http::header::CONTENT_TYPE], "image/svg+xml");
    assert!(image.body.contains("<svg"), "{}", image.body);
    let page = app.get(&county, &format!("/training/{id}")).await;
    assert!(page.body.contains(&format!("/training/sign-in?code={code}")), "{}", page.body);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = app.post_json(&agent, "/api/v1/trainings/sign-in", json!({"code": wrong})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let first = app.post_json(&agent, "/api/v1/trainings/sign-in", json!({"code": code})).await.json();
    assert_eq!((first["training_id"].as_i64(), first["already"].clone()), (Some(id), json!(false)));
    // The phone page, with the code typed with spaces: signed in already, nothing changes.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let page = app.post_form(&agent, "/training/sign-in", &[("code", &spaced)]).await;
    assert!(page.body.contains("已签到过"), "{}", page.body);
    let detail = app.get(&county, &format!("/api/v1/trainings/{id}")).await.json();
    assert_eq!(detail["attendance"].as_array().unwrap().len(), 1);

    // Below the mark: no certificate; at it: one.
    let scores = format!("/api/v1/trainings/{id}/scores");
    let low =
        app.post_json(&county, &scores, json!({"scores": [{"agent_id": agent_id, "score": "69"}]})).await;
    assert_eq!(low.status, StatusCode::OK, "{}", low.body);
    let certificate = format!("/training/{id}/certificate?agent={agent_id}");
    assert_eq!(app.get(&county, &certificate).await.status, StatusCode::NOT_FOUND);
    app.post_json(&county, &scores, json!({"scores": [{"agent_id": agent_id, "score": "70"}]})).await;
    let printed = app.get(&county, &certificate).await;
    assert_eq!(printed.status, StatusCode::OK);
    assert!(
        printed.body.contains("刘敏") && printed.body.contains(&format!("PX20261201-{id:04}")),
        "{}",
        printed.body
    );
    // A score for someone who never signed in refuses all, and one out of range too.
    let stranger = registered(&app, &county, "王秀英", "360802100200", None).await;
    let both =
        json!({"scores": [{"agent_id": agent_id, "score": "10"}, {"agent_id": stranger, "score": "90"}]});
    let refused = app.post_json(&county, &scores, both).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("王秀英"));
    assert_eq!(app.get(&county, &certificate).await.status, StatusCode::OK, "the 10 was not saved either");
    let out =
        app.post_json(&county, &scores, json!({"scores": [{"agent_id": agent_id, "score": "101"}]})).await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST);
    // Untrained since 1 January: the stranger only, flagged as not new.
    let untrained = app.get(&county, "/training/untrained").await;
    assert!(untrained.body.contains("王秀英") && !untrained.body.contains(">刘敏<"), "{}", untrained.body);
}

#[tokio::test]
async fn sign_in_is_for_agents_on_the_day_of_a_session_of_their_area() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let me = user_id(&app, "demo.agent").await;
    registered(&app, &county, "刘敏", DONGTANG, Some(me)).await;
    let yesterday = session(&app, &county, "2026-11-30").await;
    let agent = app.login("demo.agent").await;
    let late =
        app.post_json(&agent, "/api/v1/trainings/sign-in", json!({"code": yesterday["sign_in_code"]})).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST, "{}", late.body);
    // A session of another county: the code does not work for this agent.
    let city = app.login("demo.city").await;
    let body = json!({"region": "360803", "topic": "青原区培训", "place": "x", "trainer": "x", "held_on": "2026-12-01"});
    let other = app.post_json(&city, "/api/v1/trainings", body).await.json();
    let foreign =
        app.post_json(&agent, "/api/v1/trainings/sign-in", json!({"code": other["sign_in_code"]})).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    // Staff do not sign in; the insurer's sub-branch records sessions of its county.
    let staff = app.post_json(&county, "/api/v1/trainings/sign-in", json!({"code": "123456"})).await;
    assert_eq!(staff.status, StatusCode::NOT_FOUND);
    let branch = app.login("demo.branch").await;
    session(&app, &branch, "2026-12-01").await;
    let elsewhere =
        json!({"region": "360803", "topic": "x", "place": "x", "trainer": "x", "held_on": "2026-12-01"});
    assert_eq!(app.post_json(&branch, "/api/v1/trainings", elsewhere).await.status, StatusCode::FORBIDDEN);
    // The phone page at 375 px is the same page: it exists for the agent.
    assert_eq!(app.get(&agent, "/training/sign-in?code=123456").await.status, StatusCode::OK);
}
