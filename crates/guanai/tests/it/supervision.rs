//! Joint supervision visits: a joint team, actions with owners and due dates, an overdue
//! action on its owner's home page, the printable record, scope.

use axum::http::StatusCode;
use serde_json::json;

use crate::agents::user_id;
use crate::util::{Client, TestApp};

/// A visit to 兴桥镇 by the county and the insurer's sub-branch with two actions owned by
/// `owner`, due `due`; the visit's id.
pub(crate) async fn visit_with_action(app: &TestApp, client: &Client, owner: i64, due: &str) -> i64 {
    let county = user_id(app, "demo.county").await;
    let branch = user_id(app, "demo.branch").await;
    let body = json!({"region": "360802100", "visited_on": "2026-11-10", "members": [county, branch],
        "findings": "理赔材料未一次性告知",
        "actions": [{"description": "一次性告知缺少的材料", "owner_id": owner, "due_on": due},
                    {"description": "整理报案登记簿", "owner_id": owner, "due_on": due}]});
    let created = app.post_json(client, "/api/v1/supervision/visits", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_overdue_action_shows_on_its_owners_home_page_until_it_is_done() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let owner = user_id(&app, "demo.township").await;
    let visit = visit_with_action(&app, &county, owner, "2026-11-28").await;
    let township = app.login("demo.township").await;
    let home = app.get(&township, "/").await;
    assert!(home.body.contains("督导整改待办（逾期2项）"), "{}", home.body);
    assert!(home.body.contains("逾期3天"), "due 28 November, today 1 December: {}", home.body);
    // Someone else's home page does not show it.
    let city = app.login("demo.city").await;
    assert!(!app.get(&city, "/").await.body.contains("督导整改待办"));
    // The record prints with its team and states.
    let record = app.get(&township, &format!("/supervision/{visit}")).await;
    assert!(
        record.body.contains("人寿吉州区支公司 周经理") && record.body.contains("逾期3天"),
        "{}",
        record.body
    );
    // The owner marks one done (twice changes nothing); the panel counts one.
    let actions = app.store.supervision().visit(&app.system(), visit).await.unwrap().actions;
    let path = format!("/api/v1/supervision/actions/{}/done", actions[0].id);
    assert_eq!(app.post_json(&township, &path, json!({})).await.json()["changed"], true);
    assert_eq!(app.post_json(&township, &path, json!({})).await.json()["changed"], false);
    assert!(app.get(&township, "/").await.body.contains("督导整改待办（逾期1项）"));
    // Another user may not mark it done: the agent owns nothing here.
    let agent = app.login("demo.agent").await;
    let path = format!("/api/v1/supervision/actions/{}/done", actions[1].id);
    assert_eq!(app.post_json(&agent, &path, json!({})).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_visit_needs_both_sides_an_owner_in_reach_and_a_due_date_after_it() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let me = user_id(&app, "demo.county").await;
    let township = user_id(&app, "demo.township").await;
    let branch = user_id(&app, "demo.branch").await;
    let post = |body| app.post_json(&county, "/api/v1/supervision/visits", body);
    let one_side = post(
        json!({"region": "360802", "visited_on": "2026-11-10", "members": [me, township], "findings": "x"}),
    )
    .await;
    assert_eq!(one_side.status, StatusCode::BAD_REQUEST);
    assert!(one_side.json()["error"]["message"].as_str().unwrap().contains("保险公司"));
    let early = post(
        json!({"region": "360802", "visited_on": "2026-11-10", "members": [me, branch], "findings": "x",
        "actions": [{"description": "y", "owner_id": township, "due_on": "2026-11-01"}]}),
    )
    .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    let elsewhere = post(
        json!({"region": "360803", "visited_on": "2026-11-10", "members": [me, branch], "findings": "x"}),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    let listed = app.get(&county, "/api/v1/supervision/visits?year=2026").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 0, "nothing half-written");
    // The page form: a joint team and one action row filled.
    let form = app.get(&county, "/supervision/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let (me_s, branch_s, township_s) = (me.to_string(), branch.to_string(), township.to_string());
    let saved = app
        .post_form(
            &county,
            "/supervision",
            &[
                ("region", "360802100"),
                ("visited_on", "2026-11-10"),
                ("member", &me_s),
                ("member", &branch_s),
                ("findings", "宣传到位"),
                ("action_1_description", "补充宣传资料"),
                ("action_1_owner", &township_s),
                ("action_1_due", "2026-12-20"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let visit = app.get(&county, saved.location()).await;
    assert!(visit.body.contains("补充宣传资料") && visit.body.contains("还剩19天"), "{}", visit.body);
}
