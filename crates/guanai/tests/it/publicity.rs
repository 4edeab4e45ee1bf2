//! Publicity activities: recorded in scope with a code; enrolments carrying the code are
//! counted per activity and in the report, agreeing with a direct count; a wrong or
//! foreign code refuses the enrolment and writes nothing.

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_domain::PovertyStatus;
use serde_json::{json, Value};

use crate::agents::{DONGTANG, WENSHI};
use crate::util::{id_number, Client, FamilySpec, TestApp};

/// A family of one person in `village`; its id.
pub(crate) async fn new_family(app: &TestApp, village: &str, seq: u32) -> i64 {
    let spec = FamilySpec {
        village,
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![("宣传户主", id_number("19800101", seq), Relationship::Head)],
        consents: true,
    };
    app.family(spec).await.0
}

/// Enrols every member of `family` in the demo's P1 of 2026 through the API, with an
/// activity code when given; the policy's id (when created) and the status.
pub(crate) async fn enrol(
    app: &TestApp,
    client: &Client,
    family: i64,
    code: Option<&str>,
) -> (Option<i64>, StatusCode) {
    let members: Vec<i64> = app
        .store
        .families()
        .family(&app.system(), family)
        .await
        .unwrap()
        .members
        .iter()
        .map(|m| m.id)
        .collect();
    let package = app.package("P1", 2026).await.id;
    let mut body = json!({"family_id": family, "package_id": package, "member_ids": members});
    if let Some(code) = code {
        body["activity_code"] = json!(code);
    }
    let answer = app.post_json(client, "/api/v1/policies", body).await;
    let id = (answer.status == StatusCode::CREATED).then(|| answer.json()["id"].as_i64().unwrap());
    (id, answer.status)
}

pub(crate) async fn activity(app: &TestApp, client: &Client, kind: &str, region: &str) -> Value {
    let body = json!({"kind": kind, "region": region, "title": "进村入户宣传", "held_on": "2026-11-20",
        "organiser": "兴桥镇计生协", "people_reached": "120", "materials": "折页200份"});
    let created = app.post_json(client, "/api/v1/activities", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

#[tokio::test]
async fn an_activity_code_used_in_two_enrolments_is_counted_and_agrees_with_a_direct_count() {
    let app = TestApp::demo().await;
    let township = app.login("demo.township").await;
    let made = activity(&app, &township, "door_to_door", "360802100").await;
    let code = made["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("HD") && code.len() == 8, "{code}");
    let id = made["id"].as_i64().unwrap();
    // Two enrolments with the code (one typed loosely), one without.
    let loose = format!(" {} ", code.to_lowercase());
    let mut premiums = 0;
    let mut attributed = Vec::new();
    for (seq, typed) in [(21, Some(code.as_str())), (23, Some(loose.as_str())), (25, None)] {
        let family = new_family(&app, DONGTANG, seq).await;
        let (policy, status) = enrol(&app, &township, family, typed).await;
        assert_eq!(status, StatusCode::CREATED);
        if typed.is_some() {
            let shown = app.get(&township, &format!("/api/v1/policies/{}", policy.unwrap())).await.json();
            premiums += shown["summary"]["premium"].as_i64().unwrap();
            attributed.push(policy.unwrap());
        }
    }
    let shown = app.get(&township, &format!("/api/v1/activities/{id}")).await.json();
    assert_eq!(shown["enrolments"], 2);
    assert_eq!(shown["premium"], premiums, "the premium of exactly the two attributed policies");
    let report = app.get(&township, "/api/v1/activities/report?year=2026").await.json();
    assert_eq!((report["enrolments"].clone(), report["premium"].clone()), (json!(2), json!(premiums)));
    assert_eq!(report["rows"][0]["kind"], "door_to_door");
    assert_eq!(report["rows"][0]["region_code"], "360802");
    // A cancelled policy no longer counts.
    let cancel = format!("/api/v1/policies/{}/cancel", attributed[0]);
    assert_eq!(app.post_json(&township, &cancel, json!({"reason": "家庭放弃"})).await.status, StatusCode::OK);
    let shown = app.get(&township, &format!("/api/v1/activities/{id}")).await.json();
    assert_eq!(shown["enrolments"], 1);
    // The pages show the same.
    let page = app.get(&township, "/publicity/report?year=2026").await;
    assert!(page.body.contains("data-testid=\"report-enrolments\">1<"), "{}", page.body);
}

#[tokio::test]
async fn a_wrong_or_foreign_code_refuses_the_enrolment_and_writes_nothing() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let elsewhere = activity(&app, &county, "schools", &WENSHI[..9]).await;
    let family = new_family(&app, DONGTANG, 31).await;
    for (code, says) in [
        ("HD12", "格式不对"),
        ("HDZZZZZZ", "没有活动码"),
        (elsewhere["code"].as_str().unwrap(), "不含这户家庭"),
    ] {
        let (policy, status) = enrol(&app, &county, family, Some(code)).await;
        assert_eq!((policy, status), (None, StatusCode::BAD_REQUEST), "{code}");
        let page = app
            .post_form(
                &county,
                &format!("/families/{family}/enrol"),
                &[
                    ("package_id", &app.package("P1", 2026).await.id.to_string()),
                    ("shares", "1"),
                    ("activity_code", code),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{code}");
        assert!(page.body.contains(says), "{code}: {}", page.body);
    }
    let policies = app.get(&county, &format!("/api/v1/policies?family_id={family}")).await.json();
    assert_eq!(policies["total"], 0, "nothing written");
    // Recording an activity needs the scope and a day not in the future.
    let body = json!({"kind": "news", "region": "360803", "title": "x", "held_on": "2026-11-01", "organiser": "x", "people_reached": "1"});
    assert_eq!(app.post_json(&county, "/api/v1/activities", body).await.status, StatusCode::FORBIDDEN);
    let body = json!({"kind": "news", "region": "360802", "title": "x", "held_on": "2026-12-25", "organiser": "x", "people_reached": "1"});
    assert_eq!(app.post_json(&county, "/api/v1/activities", body).await.status, StatusCode::BAD_REQUEST);
    let body = json!({"kind": "parade", "region": "360802", "title": "x", "held_on": "2026-11-01", "organiser": "x", "people_reached": "1"});
    let refused = app.post_json(&county, "/api/v1/activities", body).await;
    assert_eq!(refused.json()["error"]["message"], "请选择活动类型");
}
