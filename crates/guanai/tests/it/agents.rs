//! Village agents: the registry in scope with its phone sealed, the handover to a
//! successor in one step (villages, login scope, open tasks), the funnel per season.

use axum::http::StatusCode;
use guanai_domain::{Password, RegionCode, Role, Username};
use guanai_store::users::NewUser;
use serde_json::json;

use crate::util::{Client, TestApp};

/// 东塘村 and 袁塘村 in 兴桥镇; 文石村 in 樟山镇 (also 吉州区).
pub(crate) const DONGTANG: &str = "360802100201";
pub(crate) const YUANTANG: &str = "360802100202";
pub(crate) const WENSHI: &str = "360802101200";

/// The id of a demo user.
pub(crate) async fn user_id(app: &TestApp, login: &str) -> i64 {
    let users = app.store.users().list_users(&app.system()).await.unwrap();
    users.into_iter().find(|u| u.username == login).unwrap_or_else(|| panic!("no user {login}")).id
}

/// A new village-agent account in 兴桥镇; its id.
pub(crate) async fn agent_account(app: &TestApp, login: &str) -> i64 {
    let new = NewUser {
        username: Username::parse(login).unwrap(),
        display_name: format!("专员 {login}"),
        role: Role::VillageAgent,
        region: RegionCode::parse("360802100").unwrap(),
        org_id: None,
        password: Password::parse("Agent-pass-2026").unwrap(),
        must_change_password: false,
    };
    app.store.users().create_user(&app.system(), new).await.unwrap().id
}

/// Registers an agent through the API as `client`; the answer.
pub(crate) async fn register(
    app: &TestApp,
    client: &Client,
    name: &str,
    villages: &str,
    user_id: Option<i64>,
) -> crate::util::TestResponse {
    let body = json!({"name": name, "kind": "specialist", "phone": "13907961234", "villages": villages,
        "appointed_on": "2024-03-01", "user_id": user_id.map(|u| u.to_string()).unwrap_or_default()});
    app.post_json(client, "/api/v1/agents", body).await
}

pub(crate) async fn registered(
    app: &TestApp,
    client: &Client,
    name: &str,
    villages: &str,
    user: Option<i64>,
) -> i64 {
    let created = register(app, client, name, villages, user).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_agent_is_registered_in_scope_with_its_phone_masked_and_its_account_scoped() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let account = agent_account(&app, "agent.one").await;
    let created =
        register(&app, &county, " 钟桂兰 ", &format!("{DONGTANG}，{YUANTANG}"), Some(account)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let agent = created.json();
    assert_eq!(agent["name"], "钟桂兰");
    assert_eq!(agent["phone_masked"], "139****1234");
    assert_eq!(agent["villages"], json!([DONGTANG, YUANTANG]));
    assert!(!created.body.contains("13907961234"), "the full number is never answered");
    // The account now covers the agent's two villages: their township.
    let user = app.store.users().user(&app.system(), account).await.unwrap();
    assert_eq!(user.region_code, "360802100");
    // One account, one serving agent.
    let again = register(&app, &county, "另一人", WENSHI, Some(account)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    // Villages of two townships, a village outside the county: refused with the reason.
    let mixed = register(&app, &county, "张三", &format!("{DONGTANG},{WENSHI}"), None).await;
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST);
    assert!(mixed.json()["error"]["message"].as_str().unwrap().contains("同一个乡镇"));
    let outside = register(&app, &county, "张三", "360803001003", None).await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN, "{}", outside.body);
    // Another county's staff neither lists nor opens it; an auditor has no agent pages.
    let id = agent["id"].as_i64().unwrap();
    let city = app.login("demo.city").await;
    let listed = app.get(&city, "/api/v1/agents").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let township = app.login("demo.township").await;
    assert_eq!(app.get(&township, &format!("/agents/{id}")).await.status, StatusCode::OK);
    let auditor = app.login("demo.auditor").await;
    assert_eq!(app.get(&auditor, "/agents").await.status, StatusCode::NOT_FOUND);
    let other = app
        .store
        .agents()
        .agents(&guanai_store::Actor::system(RegionCode::parse("360803").unwrap()), &Default::default())
        .await;
    assert!(other.unwrap().is_empty(), "青原区 sees none of 吉州区's agents");
    // The page lists it, masked.
    let page = app.get(&county, "/agents").await;
    assert!(page.body.contains("钟桂兰") && page.body.contains("139****1234"), "{}", page.body);
}

#[tokio::test]
async fn a_handover_moves_the_villages_the_login_and_the_open_actions_in_one_step_once() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let leaving_user = user_id(&app, "demo.agent").await;
    let successor_user = agent_account(&app, "agent.next").await;
    let leaving =
        registered(&app, &county, "钟桂兰", &format!("{DONGTANG},{YUANTANG}"), Some(leaving_user)).await;
    let successor = registered(&app, &county, "胡志强", "360802100205", Some(successor_user)).await;
    // An open supervision action owned by the leaving agent's account, and a done one.
    let visit = crate::supervision::visit_with_action(&app, &county, leaving_user, "2026-12-31").await;
    let detail = app.store.supervision().visit(&app.system(), visit).await.unwrap();
    let done = detail.actions[1].id;
    app.store.supervision().complete_action(&app.system(), done).await.unwrap();

    let path = format!("/api/v1/agents/{leaving}/handover");
    let body = json!({"successor_id": successor.to_string(), "day": "2026-11-20", "note": "村“两委”换届"});
    let answer = app.post_json(&county, &path, body.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let outcome = answer.json();
    assert_eq!(outcome["villages"], json!([DONGTANG, YUANTANG]));
    assert_eq!(outcome["tasks"], 1, "the open action only");
    assert_eq!(outcome["successor_scope"], "360802100");

    let system = app.system();
    let gone = app.store.agents().agent(&system, leaving).await.unwrap();
    assert_eq!(gone.left_on.unwrap().to_string(), "2026-11-20");
    assert!(gone.villages.is_empty());
    let next = app.store.agents().agent(&system, successor).await.unwrap();
    assert_eq!(next.villages, vec!["360802100201", "360802100202", "360802100205"]);
    assert_eq!(app.store.users().user(&system, successor_user).await.unwrap().region_code, "360802100");
    assert!(!app.store.users().user(&system, leaving_user).await.unwrap().active, "the leaver's login ends");
    let actions = app.store.supervision().visit(&system, visit).await.unwrap().actions;
    assert_eq!(actions[0].owner_id, successor_user, "the open action moved");
    assert_eq!(actions[1].owner_id, leaving_user, "the done one stays with who did it");
    let records = app.store.agents().handovers(&system, successor).await.unwrap();
    assert_eq!((records.len(), records[0].villages, records[0].tasks), (1, 2, 1));
    let audited = app.audit_entries("demo.county", "ok").await;
    assert!(audited.iter().any(|e| e.action == "agent.handover" && e.target_id == leaving.to_string()));

    // Again: nothing changes.
    let again = app.post_json(&county, &path, body).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(again.json()["error"]["message"].as_str().unwrap().contains("已于2026-11-20离任"));
    assert_eq!(app.store.agents().handovers(&system, successor).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_handover_is_refused_across_townships_to_itself_and_outside_the_scope() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let leaving = registered(&app, &county, "钟桂兰", DONGTANG, None).await;
    let elsewhere = registered(&app, &county, "罗建华", WENSHI, None).await;
    let path = format!("/api/v1/agents/{leaving}/handover");
    let across = app.post_json(&county, &path, json!({"successor_id": elsewhere.to_string()})).await;
    assert_eq!(across.status, StatusCode::BAD_REQUEST);
    assert!(across.json()["error"]["message"].as_str().unwrap().contains("同一个乡镇"));
    let itself = app.post_json(&county, &path, json!({"successor_id": leaving.to_string()})).await;
    assert_eq!(itself.status, StatusCode::BAD_REQUEST);
    let future = app
        .post_json(&county, &path, json!({"successor_id": elsewhere.to_string(), "day": "2027-01-01"}))
        .await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST);
    // Nothing was written by the refusals.
    assert!(app.store.agents().agent(&app.system(), leaving).await.unwrap().serving());
    // The township's staff of 兴桥镇 cannot hand over 樟山镇's agent; the agent role not at all.
    let township = app.login("demo.township").await;
    let path = format!("/api/v1/agents/{elsewhere}/handover");
    let refused = app.post_json(&township, &path, json!({"successor_id": leaving.to_string()})).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    let agent = app.login("demo.agent").await;
    let refused = app.post_json(&agent, &path, json!({"successor_id": leaving.to_string()})).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
}

#[tokio::test]
async fn the_funnel_counts_what_the_agents_account_enrolled_and_lists_the_idle() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let me = user_id(&app, "demo.agent").await;
    let working = registered(&app, &county, "刘敏", &format!("{DONGTANG},{YUANTANG}"), Some(me)).await;
    let idle = registered(&app, &county, "王秀英", "360802100200", None).await;
    let agent = app.login("demo.agent").await;
    for seq in [11, 13] {
        let family = crate::publicity::new_family(&app, DONGTANG, seq).await;
        let (_, status) = crate::publicity::enrol(&app, &agent, family, None).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let listed = app.get(&county, "/api/v1/agents?year=2026").await.json();
    let funnel = |id: i64| {
        listed.as_array().unwrap().iter().find(|w| w["agent"]["id"] == id).unwrap()["funnel"].clone()
    };
    assert_eq!(funnel(working)["enrolled"], 2);
    assert_eq!(funnel(working)["renewed"], 0);
    assert_eq!(funnel(idle)["enrolled"], 0);
    let idle_list = app.get(&county, "/api/v1/agents/idle?year=2026").await.json();
    let ids: Vec<i64> =
        idle_list.as_array().unwrap().iter().map(|i| i["agent"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![idle]);
    assert_eq!(idle_list[0]["no_login"], true);
    // Last year nothing: both idle.
    let last_year = app.get(&county, "/api/v1/agents/idle?year=2025").await.json();
    assert_eq!(last_year.as_array().unwrap().len(), 2);
    // The agent's own phone page shows its funnel.
    let page = app.get(&agent, "/agents/me").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-testid=\"my-funnel\""), "{}", page.body);
}
