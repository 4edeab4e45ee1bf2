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

#[tokio::test]
async fn the_city_keeps_the_kinds_a_stopped_kind_takes_no_new_activity_and_old_ones_keep_it() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let county = app.login("demo.county").await;
    // Only the city sets kinds; a county's staff may read them.
    let refused = app.post_json(&county, "/api/v1/activity-kinds", json!({"label": "进社区"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let added = app.post_json(&city, "/api/v1/activity-kinds", json!({"label": " 进社区 "})).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let code = added.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(added.json()["label"], "进社区");
    let twice = app.post_json(&city, "/api/v1/activity-kinds", json!({"label": "进社区"})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let short = app.post_json(&city, "/api/v1/activity-kinds", json!({"label": "社"})).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.body);
    let kinds = app.get(&county, "/api/v1/activity-kinds").await.json();
    assert_eq!(kinds.as_array().unwrap().len(), 9, "the eight of the speech and the new one");
    // An activity of the new kind; then the kind is renamed and stopped.
    let made = activity(&app, &county, &code, "360802").await;
    assert_eq!(made["kind_label"], "进社区");
    let path = format!("/api/v1/activity-kinds/{code}");
    let stopped = app.post_json(&city, &path, json!({"label": "进社区服务站", "active": false})).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    let body = json!({"kind": code, "region": "360802", "title": "x", "held_on": "2026-11-01",
        "organiser": "x", "people_reached": "1"});
    let refused = app.post_json(&county, "/api/v1/activities", body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("已停用"), "{}", refused.body);
    let old = app.get(&county, &format!("/api/v1/activities/{}", made["id"])).await.json();
    assert_eq!(
        (old["kind"].as_str(), old["kind_label"].as_str()),
        (Some(code.as_str()), Some("进社区服务站"))
    );
    let report = app.get(&county, "/api/v1/activities/report?year=2026").await.json();
    let row = report["rows"].as_array().unwrap().iter().find(|r| r["kind"] == code.as_str()).unwrap().clone();
    assert_eq!((row["kind_label"].clone(), row["activities"].clone()), (json!("进社区服务站"), json!(1)));
    // Renaming to another kind's name is refused.
    let clash = app.post_json(&city, &path, json!({"label": "进学校"})).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    // The page lists it stopped, with its activity; the new-activity form no longer offers it.
    let page = app.get(&city, "/publicity/kinds").await;
    assert!(page.body.contains("进社区服务站") && page.body.contains("已停用"), "{}", page.body);
    let form = app.get(&county, "/publicity/new").await;
    assert!(!form.body.contains(&format!("value=\"{code}\"")), "{}", form.body);
    assert!(form.body.contains("value=\"door_to_door\""), "{}", form.body);
    // Changes are audited.
    let audited = app.audit_entries("demo.city", "ok").await;
    assert!(audited.iter().any(|e| e.action == "activity_kind.update" && e.target_id == code));
    assert!(audited.iter().any(|e| e.action == "activity_kind.add" && e.target_id == code));
}

#[tokio::test]
async fn a_scanned_activity_code_fills_the_enrolment_form_and_a_foreign_one_is_refused() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let made = activity(&app, &county, "door_to_door", "360802").await;
    let code = made["code"].as_str().unwrap().to_owned();
    // The activity page shows its QR image, an SVG holding the scan address.
    let page = app.get(&county, &format!("/publicity/{}", made["id"])).await;
    assert!(page.body.contains(&format!("/hd/{code}")), "{}", page.body);
    let qr = app.get(&county, &format!("/publicity/{}/qr.svg", made["id"])).await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.headers[axum::http::header::CONTENT_TYPE], "image/svg+xml");
    assert!(qr.body.contains("<svg") && qr.body.contains("<path"), "{}", qr.body);
    // The township's agent scans it: the code is remembered in a cookie …
    let agent = app.login("demo.agent").await;
    let scanned = app.get(&agent, &format!("/hd/{}", code.to_lowercase())).await;
    assert_eq!(scanned.status, StatusCode::OK, "{}", scanned.body);
    assert!(scanned.body.contains("已记住活动码"), "{}", scanned.body);
    let set = scanned.headers[axum::http::header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.starts_with(&format!("guanai_activity={code}")) && set.contains("HttpOnly"), "{set}");
    // … and the enrolment form of a family starts with it.
    let family = new_family(&app, DONGTANG, 41).await;
    let request = axum::http::Request::get(format!("/families/{family}/enrol")).header(
        axum::http::header::COOKIE,
        format!("guanai_session={}; guanai_activity={code}", agent.cookie),
    );
    let form = app.send(request.body(axum::body::Body::empty()).unwrap()).await;
    assert!(form.body.contains(&format!("name=\"activity_code\" value=\"{code}\"")), "{}", form.body);
    let plain = app.get(&agent, &format!("/families/{family}/enrol")).await;
    assert!(plain.body.contains("name=\"activity_code\" value=\"\""), "{}", plain.body);
    // Another township's activity is not for this agent: refused, nothing remembered.
    let elsewhere = activity(&app, &county, "news", &WENSHI[..9]).await;
    let foreign = app.get(&agent, &format!("/hd/{}", elsewhere["code"].as_str().unwrap())).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.body);
    assert!(foreign.body.contains("不在您的服务区域"), "{}", foreign.body);
    assert!(foreign.headers.get(axum::http::header::SET_COOKIE).is_none());
    let garbled = app.get(&agent, "/hd/HD0O").await;
    assert!(garbled.body.contains("格式不对"), "{}", garbled.body);
}
