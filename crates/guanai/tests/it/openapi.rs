//! The generated OpenAPI document against the API's real answers: every operation is
//! called on the demo city as a user allowed to, its status must be one the document lists
//! and its JSON body must fit that status's schema (objects may carry no field the schema
//! does not name); a few refusals per family are checked against the error schema; and an
//! operation of the document that no call reached fails the test.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::util::{Client, TestApp, TestResponse};

/// The document, and which operations (method, path template) answered with success.
struct Checker {
    document: Value,
    exercised: BTreeSet<(String, String)>,
}

impl Checker {
    /// Checks `response` of `method template` against the document; returns its body.
    fn check(&mut self, method: &str, template: &str, response: &TestResponse) -> Value {
        let path = format!("/api/v1{template}");
        let operation = &self.document["paths"][&path][method];
        assert!(operation.is_object(), "{method} {path} is not in the document");
        let status = response.status.as_u16().to_string();
        let schema = &operation["responses"][&status]["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} answered {status}, which the document does not list: {}",
            response.body
        );
        let body: Value = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON ({e}): {}", response.body));
        let root = json!({ "allOf": [schema], "components": self.document["components"] });
        let validator = jsonschema::validator_for(&root).expect("a valid schema");
        let errors: Vec<String> =
            validator.iter_errors(&body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{method} {path} {status} does not fit its schema: {errors:#?}\n{body:#}");
        if response.status.is_success() {
            self.exercised.insert((method.to_owned(), path));
        }
        body
    }

    /// As [`Checker::check`], for a call that must succeed.
    fn ok(&mut self, method: &str, template: &str, response: &TestResponse) -> Value {
        assert!(response.status.is_success(), "{method} {template}: {} {}", response.status, response.body);
        self.check(method, template, response)
    }

    /// A success answered with a file of `content_type` (an image), which the document must
    /// list for that status.
    fn file(&mut self, method: &str, template: &str, response: &TestResponse, content_type: &str) {
        let path = format!("/api/v1{template}");
        assert!(response.status.is_success(), "{method} {path}: {} {}", response.status, response.body);
        let status = response.status.as_u16().to_string();
        let listed = &self.document["paths"][&path][method]["responses"][&status]["content"][content_type];
        assert!(
            listed.is_object(),
            "{method} {path} answered {status} {content_type}, which the document does not list"
        );
        assert_eq!(response.headers[axum::http::header::CONTENT_TYPE], content_type);
        self.exercised.insert((method.to_owned(), path));
    }

    /// Every operation of the document.
    fn operations(&self) -> BTreeSet<(String, String)> {
        let paths = self.document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object().expect("path item").keys().map(move |m| (m.clone(), path.clone()))
            })
            .collect()
    }
}

/// The document with every object schema closed: a field a response carries must be named
/// by its schema. A flattened struct is an `allOf` of its parts, so a part named by an
/// `allOf` stays open and the `allOf` is closed instead (`unevaluatedProperties` sees the
/// fields of every part).
fn closed(mut document: Value) -> Value {
    fn parts_of_all_of(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for part in map.get("allOf").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(name) = part["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
                        found.insert(name.to_owned());
                    }
                }
                map.values().for_each(|v| parts_of_all_of(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| parts_of_all_of(v, found)),
            _ => {}
        }
    }
    fn close(value: &mut Value, parts: &BTreeSet<String>, name: Option<&str>) {
        if let Value::Object(map) = value {
            let is_part = name.is_some_and(|n| parts.contains(n));
            if (map.contains_key("properties") && !is_part) || map.contains_key("allOf") {
                map.insert("unevaluatedProperties".to_owned(), json!(false));
            }
            for (key, inner) in map.iter_mut() {
                if key != "allOf" {
                    close(inner, parts, None);
                }
            }
        } else if let Value::Array(items) = value {
            items.iter_mut().for_each(|v| close(v, parts, None));
        }
    }
    let mut parts = BTreeSet::new();
    parts_of_all_of(&document, &mut parts);
    for (name, schema) in document["components"]["schemas"].as_object_mut().expect("schemas") {
        close(schema, &parts, Some(name));
    }
    document
}

async fn post(app: &TestApp, client: &Client, path: &str, body: Value) -> TestResponse {
    app.post_json(client, &format!("/api/v1{path}"), body).await
}

async fn get(app: &TestApp, client: &Client, path: &str) -> TestResponse {
    app.get(client, &format!("/api/v1{path}")).await
}

#[tokio::test]
async fn every_operation_answers_as_the_document_says() {
    let app = TestApp::demo().await;
    let served = app.get_anonymous("/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let mut api = Checker { document: closed(served.json()), exercised: BTreeSet::new() };
    api.check("get", "/openapi.json", &served);
    let county = app.login("demo.county").await;
    let branch = app.login("demo.branch").await;

    // Users and regions.
    let me = api.ok("get", "/me", &get(&app, &county, "/me").await);
    assert_eq!(me["region_code"], "360802");
    let region = api.ok("get", "/regions/{code}", &get(&app, &county, "/regions/360802100").await);
    let village = region["children_list"][0]["code"].as_str().expect("a village").to_owned();
    api.ok("get", "/users", &get(&app, &county, "/users").await);
    let new_user = json!({"username": "api.agent", "display_name": "接口专员", "role": "village_agent",
        "region_code": "360802100", "password": "Api-agent-2026"});
    let created = api.ok("post", "/users", &post(&app, &county, "/users", new_user).await);
    let user_id = created["id"].as_i64().expect("the new user's id");
    api.ok("get", "/users/{id}", &get(&app, &county, &format!("/users/{user_id}")).await);

    // Families.
    let head_id = crate::util::id_number("19800101", 771);
    let family = json!({"village_code": village, "category": "only_child", "poverty": "none",
        "head_name": "接口户主", "head_id_number": head_id, "phone": "13912345678", "consents": true});
    let created = api.ok("post", "/families", &post(&app, &county, "/families", family).await);
    let family_id = created["id"].as_i64().expect("the family's id");
    let member = json!({"name": "接口孩子", "id_number": crate::util::id_number("20050601", 772),
        "relationship": "child"});
    let path = format!("/families/{family_id}/members");
    api.ok("post", "/families/{id}/members", &post(&app, &county, &path, member).await);
    let list = get(&app, &county, &format!("/families?region={village}&poverty=none&page=0")).await;
    api.ok("get", "/families", &list);
    let lookup = post(&app, &county, "/families/lookup", json!({"id_number": head_id})).await;
    assert_eq!(api.ok("post", "/families/lookup", &lookup)["total"], 1);
    let detail =
        api.ok("get", "/families/{id}", &get(&app, &county, &format!("/families/{family_id}")).await);
    let members: Vec<i64> =
        detail["members"].as_array().expect("members").iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(members.len(), 2);

    // Packages, quotes, policies, underwriting, the certificate check, coverage.
    let packages = api.ok("get", "/packages", &get(&app, &county, "/packages?year=2026").await);
    let package_id = packages[0]["id"].as_i64().expect("a package");
    let enrol = json!({"family_id": family_id, "package_id": package_id, "member_ids": members});
    api.ok("post", "/quotes", &post(&app, &county, "/quotes", enrol.clone()).await);
    let draft = api.ok("post", "/policies", &post(&app, &county, "/policies", enrol.clone()).await);
    let path = format!("/policies/{}/cancel", draft["id"]);
    api.ok(
        "post",
        "/policies/{id}/cancel",
        &post(&app, &county, &path, json!({"reason": "接口测试撤销"})).await,
    );
    let policy = api.ok("post", "/policies", &post(&app, &county, "/policies", enrol.clone()).await);
    let policy_id = policy["id"].as_i64().expect("the policy's id");
    let list = get(&app, &county, &format!("/policies?year=2026&status=draft&family_id={family_id}")).await;
    assert_eq!(api.ok("get", "/policies", &list)["total"], 1);
    let path = format!("/policies/{policy_id}/submit");
    api.ok("post", "/policies/{id}/submit", &post(&app, &county, &path, json!({})).await);
    let path = format!("/policies/{policy_id}/underwrite");
    let underwritten = post(&app, &branch, &path, json!({"policy_no": "PJA-API-0001"})).await;
    api.ok("post", "/policies/{id}/underwrite", &underwritten);
    let shown = api.ok("get", "/policies/{id}", &get(&app, &county, &format!("/policies/{policy_id}")).await);
    let code = shown["cert_code"].as_str().expect("a certificate code").to_owned();
    api.ok("get", "/verify/{code}", &app.get_anonymous(&format!("/api/v1/verify/{code}")).await);
    let coverage = post(&app, &county, "/coverage", json!({"id_number": head_id})).await;
    assert_eq!(api.ok("post", "/coverage", &coverage)["policies"][0]["policy_id"], policy_id);

    // Funding and gifting.
    let sources = api.ok("get", "/funding/sources", &get(&app, &county, "/funding/sources?year=2026").await);
    let source_id = sources[0]["id"].as_i64().expect("a source");
    api.ok(
        "get",
        "/funding/sources/{id}",
        &get(&app, &county, &format!("/funding/sources/{source_id}")).await,
    );
    let fund = crate::funding::create_source(&app, &county, "接口送保资金", "360802", "500").await;
    let other = json!({"village_code": village, "category": "only_child", "head_name": "接口二户",
        "head_id_number": crate::util::id_number("19810101", 773), "consents": true});
    let other = api.ok("post", "/families", &post(&app, &county, "/families", other).await)["id"].clone();
    let gift = json!({"source_id": fund, "package_id": package_id, "family_ids": [other]});
    api.ok("post", "/gifting/preview", &post(&app, &county, "/gifting/preview", gift.clone()).await);
    api.ok("post", "/gifting", &post(&app, &county, "/gifting", gift).await);

    // Claims: report, the queue, papers, missing papers, advance, decision, payment,
    // satisfaction (the policy above covers from 2026-12-02).
    {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 10).expect("a date");
        assert!(app.store.clock().set(guanai_domain::Clock::fixed_in_china(day, 10, 0).now()));
        let report = json!({"person_id": members[0], "kind": "accident_outpatient",
            "incident_date": "2026-12-05", "place": "村道", "description": "骑车摔伤",
            "claimed_fen": 50_000, "expenses_fen": 50_000});
        let claim = api.ok("post", "/claims", &post(&app, &county, "/claims", report).await)["id"].clone();
        let path = |tail: &str| format!("/claims/{claim}{tail}");
        api.ok("get", "/claims", &get(&app, &branch, "/claims?filter=open&page=0").await);
        api.ok("get", "/claims/{id}", &get(&app, &county, &path("")).await);
        let papers = json!({"papers": ["id_card", "invoices"]});
        api.ok("post", "/claims/{id}/papers", &post(&app, &county, &path("/papers"), papers).await);
        let jpeg = crate::photos::plain_jpeg();
        let upload = format!("/api/v1/claims/{claim}/papers");
        let files = [("身份证.jpg", jpeg.as_slice())];
        let sent =
            crate::photos::upload_form(&app, &county, &upload, &[("paper", "id_card")], &files, true).await;
        let file = api.ok("post", "/claims/{id}/papers", &sent)["files"][0]["id"].clone();
        api.ok("get", "/claims/{id}/papers", &get(&app, &county, &path("/papers")).await);
        let thumb = format!("/claims/papers/{file}?size=thumb");
        api.file("get", "/claims/papers/{id}", &get(&app, &branch, &thumb).await, "image/jpeg");
        let asked = post(&app, &branch, &path("/missing-papers"), json!({})).await;
        api.ok("post", "/claims/{id}/missing-papers", &asked);
        let rest = json!({"papers": ["bank_card", "medical_records", "prescriptions"]});
        api.ok("post", "/claims/{id}/papers", &post(&app, &county, &path("/papers"), rest).await);
        let advance = json!({"amount_fen": 10_000, "paid_on": "2026-12-10"});
        api.ok("post", "/claims/{id}/advance", &post(&app, &branch, &path("/advance"), advance).await);
        let decided = post(&app, &branch, &path("/decision"), json!({"status": "approved"})).await;
        assert_eq!(api.ok("post", "/claims/{id}/decision", &decided)["approved"], 32_000);
        let payment = json!({"beneficiary": "接口户主", "account": "6222021234567890123",
            "amount_fen": 22_000, "paid_on": "2026-12-10", "reference": "ZF-API-1"});
        api.ok("post", "/claims/{id}/payment", &post(&app, &branch, &path("/payment"), payment).await);
        let rated = post(&app, &county, &path("/satisfaction"), json!({"score": 5, "comment": "快"})).await;
        assert_eq!(api.ok("post", "/claims/{id}/satisfaction", &rated)["status"], "closed");
        api.ok("get", "/claims/measures", &get(&app, &branch, "/claims/measures?year=2026").await);
        // The claims exchange: the export, and a file naming the decided claim, applied already.
        let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        api.file(
            "get",
            "/claims/exchange/export",
            &get(&app, &branch, "/claims/exchange/export").await,
            xlsx,
        );
        let claim_no = claim.to_string();
        let insurer =
            crate::exchange::claims::file(&[[&claim_no, "核定", "赔付", "", "", "320", "", "", "", ""]]);
        for step in ["preview", "confirm"] {
            let answer = crate::exchange::claims::post_file(&app, &branch, step, &insurer).await;
            api.ok("post", &format!("/claims/exchange/import/{step}"), &answer);
        }
        // Back to the suite's day for the features below.
        assert!(app.store.clock().set(crate::util::test_day_clock().now()));
    }
    // The association's own work: agents, training, publicity, supervision, student aid.
    let me_agent = crate::agents::user_id(&app, "demo.agent").await;
    let body = json!({"name": "接口专员", "kind": "specialist", "villages": "360802100201", "appointed_on": "2026-01-01",
        "user_id": me_agent.to_string()});
    let kept = api.ok("post", "/agents", &post(&app, &county, "/agents", body).await)["id"].as_i64().unwrap();
    let body = json!({"name": "接口离任", "kind": "three_heads", "villages": "360802100202", "appointed_on": "2021-01-01"});
    let leaving =
        api.ok("post", "/agents", &post(&app, &county, "/agents", body).await)["id"].as_i64().unwrap();
    api.ok("get", "/agents", &get(&app, &county, "/agents?year=2026").await);
    api.ok("get", "/agents/{id}", &get(&app, &county, &format!("/agents/{kept}")).await);
    api.ok("get", "/agents/idle", &get(&app, &county, "/agents/idle").await);
    let body = json!({"region": "360802", "topic": "接口培训", "place": "会议室", "trainer": "支公司", "held_on": "2026-12-01"});
    let training = api.ok("post", "/trainings", &post(&app, &county, "/trainings", body).await);
    let training_id = training["id"].as_i64().unwrap();
    api.ok("get", "/trainings", &get(&app, &county, "/trainings?year=2026").await);
    let agent = app.login("demo.agent").await;
    let body = json!({"code": training["sign_in_code"]});
    api.ok("post", "/trainings/sign-in", &post(&app, &agent, "/trainings/sign-in", body).await);
    let path = format!("/trainings/{training_id}/scores");
    let body = json!({"scores": [{"agent_id": kept, "score": "90"}]});
    api.ok("post", "/trainings/{id}/scores", &post(&app, &county, &path, body).await);
    api.ok("get", "/trainings/{id}", &get(&app, &county, &format!("/trainings/{training_id}")).await);
    let path = format!("/agents/{leaving}/handover");
    let body = json!({"successor_id": kept.to_string(), "note": "换届"});
    api.ok("post", "/agents/{id}/handover", &post(&app, &county, &path, body).await);
    let body = json!({"kind": "door_to_door", "region": "360802100", "title": "接口宣传", "held_on": "2026-11-30",
        "organiser": "兴桥镇计生协", "people_reached": "50"});
    let activity = api.ok("post", "/activities", &post(&app, &county, "/activities", body).await);
    api.ok("get", "/activities", &get(&app, &county, "/activities?year=2026&kind=door_to_door").await);
    api.ok("get", "/activities/{id}", &get(&app, &county, &format!("/activities/{}", activity["id"])).await);
    api.ok("get", "/activities/report", &get(&app, &county, "/activities/report").await);
    api.ok("get", "/activity-kinds", &get(&app, &county, "/activity-kinds").await);
    let city = app.login("demo.city").await;
    let added = api.ok(
        "post",
        "/activity-kinds",
        &post(&app, &city, "/activity-kinds", json!({"label": "进社区"})).await,
    );
    let path = format!("/activity-kinds/{}", added["code"].as_str().unwrap());
    let body = json!({"label": "进社区服务站", "active": false});
    api.ok("post", "/activity-kinds/{code}", &post(&app, &city, &path, body).await);
    let taken = post(&app, &city, "/activity-kinds", json!({"label": "进学校"})).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    api.check("post", "/activity-kinds", &taken);
    let path = format!("/api/v1/activities/{}/photos", activity["id"]);
    let jpeg = crate::photos::plain_jpeg();
    let saved = crate::photos::upload(&app, &county, &path, &[("现场.jpg", &jpeg)], true).await;
    let saved = api.ok("post", "/activities/{id}/photos", &saved);
    let path = format!("/activities/{}/photos", activity["id"]);
    api.ok("get", "/activities/{id}/photos", &get(&app, &county, &path).await);
    let path = format!("/activities/photos/{}?size=thumb", saved[0]["id"]);
    api.file("get", "/activities/photos/{id}", &get(&app, &county, &path).await, "image/jpeg");
    let me_county = crate::agents::user_id(&app, "demo.county").await;
    let me_branch = crate::agents::user_id(&app, "demo.branch").await;
    let body = json!({"region": "360802100", "visited_on": "2026-11-20", "members": [me_county, me_branch],
        "findings": "接口督导", "actions": [{"description": "整改", "owner_id": me_county, "due_on": "2026-11-25"}]});
    let visit =
        api.ok("post", "/supervision/visits", &post(&app, &county, "/supervision/visits", body).await);
    api.ok("get", "/supervision/visits", &get(&app, &county, "/supervision/visits").await);
    let path = format!("/supervision/visits/{}", visit["id"]);
    api.ok("get", "/supervision/visits/{id}", &get(&app, &county, &path).await);
    api.ok("get", "/supervision/my-actions", &get(&app, &county, "/supervision/my-actions").await);
    let path = format!("/supervision/actions/{}/done", visit["actions"][0]["id"]);
    api.ok("post", "/supervision/actions/{id}/done", &post(&app, &county, &path, json!({})).await);
    let body = json!({"family_id": family_id.to_string(), "student_name": "接口学生", "school": "吉安一中",
        "admission_year": "2026", "amount": "1000"});
    let aid = api.ok("post", "/student-aid", &post(&app, &county, "/student-aid", body).await);
    api.ok("get", "/student-aid", &get(&app, &county, "/student-aid").await);
    api.ok("get", "/student-aid/{id}", &get(&app, &county, &format!("/student-aid/{}", aid["id"])).await);
    let path = format!("/student-aid/{}/review", aid["id"]);
    api.ok(
        "post",
        "/student-aid/{id}/review",
        &post(&app, &county, &path, json!({"decision": "county_approve"})).await,
    );
    api.ok("get", "/student-aid/figures", &get(&app, &county, "/student-aid/figures").await);
    // Reports and targets.
    let coverage = get(&app, &county, "/reports/coverage?year=2026&by=category").await;
    assert_eq!(api.ok("get", "/reports/coverage", &coverage)["region"], "360802");
    api.ok("get", "/reports/funding", &get(&app, &county, "/reports/funding?year=2026").await);
    api.ok("get", "/reports/season", &get(&app, &county, "/reports/season?year=2026").await);
    api.ok("get", "/reports/claims", &get(&app, &county, "/reports/claims?year=2026").await);
    api.ok("get", "/reports/years", &get(&app, &county, "/reports/years?year=2026").await);
    let targets = json!({"year": 2026, "rows": [{"region_code": "360802100", "households": "120",
        "renewal_percent": "85"}]});
    assert_eq!(api.ok("post", "/targets", &post(&app, &county, "/targets", targets).await)["changed"], 1);
    let set = api.ok("get", "/targets", &get(&app, &county, "/targets?year=2026").await);
    assert_eq!(set[0]["values"]["households"], 120);
    // Renewal season (续保): a year on, in 2027's season, with 2027's catalog.
    let insurer = app.system().acting_as(guanai_domain::Role::InsurerCity);
    let mut due_ids = Vec::new();
    for (i, poverty) in
        [guanai_domain::PovertyStatus::Lifted, guanai_domain::PovertyStatus::None].into_iter().enumerate()
    {
        let spec = crate::util::FamilySpec {
            village: &village,
            category: "only_child",
            poverty,
            members: vec![(
                "续保户",
                crate::util::id_number("19790101", 780 + i as u32),
                guanai_domain::families::Relationship::Head,
            )],
            consents: true,
        };
        let (family, members) = app.family(spec).await;
        let id = app.enrol(family, members, "P1", 2026).await;
        app.store.policies().submit_policy(&app.system(), id).await.unwrap();
        app.store.policies().underwrite_policy(&insurer, id, &format!("PJA-API-R{i}")).await.unwrap();
        due_ids.push(id);
    }
    let season =
        guanai_domain::Clock::fixed_in_china(chrono::NaiveDate::from_ymd_opt(2027, 8, 1).unwrap(), 10, 0);
    app.store.clock().set(season.now());
    guanai::demo::catalog::products_and_packages(&app.store, &app.system(), 2027).await.unwrap();
    let city = guanai_store::regions::demo_city();
    guanai::demo::catalog::funding(&app.store, &app.system(), &city, 2027).await.unwrap();
    let due = api.ok("get", "/renewals/due", &get(&app, &county, "/renewals/due?state=open").await);
    assert!(due["total"].as_u64().unwrap() >= 3, "{due}");
    let path = format!("/renewals/due/{policy_id}/quote");
    api.ok("post", "/renewals/due/{id}/quote", &post(&app, &county, &path, json!({})).await);
    let path = format!("/renewals/due/{policy_id}/renew");
    api.ok("post", "/renewals/due/{id}/renew", &post(&app, &county, &path, json!({})).await);
    let batch = json!({"region": "360802"});
    let preview = api.ok(
        "post",
        "/renewals/batch/preview",
        &post(&app, &county, "/renewals/batch/preview", batch).await,
    );
    let batch = json!({"region": "360802", "expected_households": preview["households"]});
    api.ok("post", "/renewals/batch", &post(&app, &county, "/renewals/batch", batch).await);
    let lapsed =
        guanai_domain::Clock::fixed_in_china(chrono::NaiveDate::from_ymd_opt(2027, 10, 1).unwrap(), 10, 0);
    app.store.clock().set(lapsed.now());
    app.store.renewals().open_follow_ups(&app.system(), &Default::default()).await.unwrap();
    let tasks = api.ok("get", "/renewals/follow-ups", &get(&app, &county, "/renewals/follow-ups").await);
    let path = format!("/renewals/follow-ups/{}", tasks[0]["id"]);
    let closed = post(&app, &county, &path, json!({"outcome": "unreachable", "note": "电话无人接听"})).await;
    api.ok("post", "/renewals/follow-ups/{id}", &closed);
    api.ok("get", "/renewals/rates", &get(&app, &county, "/renewals/rates?year=2026").await);
    api.ok("get", "/outbox", &get(&app, &county, "/outbox").await);

    // Refusals of each family answer in the error schema the document gives them.
    for path in [
        "/users/999999",
        "/families/999999",
        "/policies/999999",
        "/funding/sources/999999",
        "/regions/369999",
    ] {
        let template = path.rsplit_once('/').map(|(head, _)| head).unwrap().to_owned();
        let template = if template == "/regions" { "/regions/{code}".to_owned() } else { template + "/{id}" };
        let refused = get(&app, &county, path).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{path}: {}", refused.body);
        assert_eq!(api.check("get", &template, &refused)["error"]["code"], "not_found");
    }
    // A path id that is no number answers as an unknown one, naming what was looked for.
    for (path, template, named) in [
        ("/families/abc", "/families/{id}", "找不到家庭“abc”"),
        ("/policies/1.5", "/policies/{id}", "找不到保单“1.5”"),
        ("/users/-3", "/users/{id}", "找不到用户“-3”"),
        ("/funding/sources/x", "/funding/sources/{id}", "找不到资金来源“x”"),
    ] {
        let refused = get(&app, &county, path).await;
        assert_eq!(api.check("get", template, &refused)["error"]["message"], named, "{path}");
    }
    let path = "/policies/abc/cancel";
    let refused = post(&app, &county, path, json!({"reason": "无"})).await;
    assert_eq!(api.check("post", "/policies/{id}/cancel", &refused)["error"]["message"], "找不到保单“abc”");
    let unknown = app.get_anonymous("/api/v1/verify/NO-SUCH-CODE").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    api.check("get", "/verify/{code}", &unknown);
    for (path, template) in [
        ("/users", "/users"),
        ("/families", "/families"),
        ("/families/lookup", "/families/lookup"),
        ("/quotes", "/quotes"),
        ("/policies", "/policies"),
        ("/gifting", "/gifting"),
        ("/coverage", "/coverage"),
    ] {
        let refused = post(&app, &county, path, json!({"unexpected": true})).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}: {}", refused.body);
        assert_eq!(api.check("post", template, &refused)["error"]["code"], "bad_request");
    }
    let bad_filter = get(&app, &county, "/policies?status=unknown").await;
    assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);
    api.check("get", "/policies", &bad_filter);
    let anonymous = app.get_anonymous("/api/v1/families").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    api.check("get", "/families", &anonymous);
    let taken = post(
        &app,
        &county,
        "/families",
        json!({"village_code": village, "category": "only_child",
        "head_name": "接口户主", "head_id_number": head_id}),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    api.check("post", "/families", &taken);

    let ids: Vec<&str> = api
        .operations()
        .iter()
        .map(|(method, path)| api.document["paths"][path][method]["operationId"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "operation ids repeat: {ids:?}");
    let missed: Vec<_> = api.operations().difference(&api.exercised).cloned().collect();
    assert!(missed.is_empty(), "operations of the document no call reached with success: {missed:?}");
}
