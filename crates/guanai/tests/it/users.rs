//! Creating users within one's own scope, and every way that can go wrong.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::util::{Client, TestApp};

fn form<'a>(username: &'a str, role: &'a str, region: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", username),
        ("display_name", "新 同事"),
        ("role", role),
        ("region", region),
        ("org_id", ""),
        ("password", "initial-pass-2026"),
    ]
}

async fn create(app: &TestApp, client: &Client, fields: &[(&str, &str)]) -> crate::util::TestResponse {
    app.post_form(client, "/users", fields).await
}

#[tokio::test]
async fn county_staff_create_a_township_user_in_their_county() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let response = create(&app, &county, &form("xingqiao.staff2", "township_staff", "360802100")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert!(response.location().starts_with("/users/"));
    let list = app.get(&county, "/users").await;
    assert!(list.body.contains("xingqiao.staff2"));
    let shown = app.get(&county, response.location()).await;
    assert!(shown.body.contains("兴桥镇") && shown.body.contains("待改初始密码"), "{}", shown.body);
    let created = app.audit_entries("demo.county", "ok").await;
    assert!(created.iter().any(|e| e.action == "user.create" && e.target_id == "xingqiao.staff2"));
    // The new user must set a password of their own first.
    let new_client = app.login_with("xingqiao.staff2", "initial-pass-2026").await;
    assert_eq!(app.get(&new_client, "/").await.location(), "/account/password");
}

#[tokio::test]
async fn nobody_creates_users_beyond_their_scope_or_role() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let before = app.store.users().count_users().await.unwrap();
    let cases = [
        (form("outside.user", "township_staff", "360803001"), "不在您的管理范围内"),
        (form("upward.user", "city_admin", "360802"), "不能创建“市计生协管理员”角色的用户"),
        (form("wronglevel.user", "township_staff", "360802"), "管辖区域须是乡镇（街道）级区划"),
        (form("nowhere.user", "township_staff", "360802999"), "区划代码“360802999”不存在"),
        (form("badcode.user", "township_staff", "36080x"), "只能由数字组成"),
        (form("x", "township_staff", "360802100"), "用户名须为3到32个字符"),
        (form("norole.user", "", "360802100"), "请选择角色"),
    ];
    for (fields, message) in cases {
        let response = create(&app, &county, &fields).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(response.body.contains(message), "expected “{message}” in {}", response.body);
        // The form keeps what was typed.
        assert!(response.body.contains(&format!("value=\"{}\"", fields[0].1)));
    }
    let mut weak = form("weak.user", "township_staff", "360802100");
    weak[5] = ("password", "123");
    let response = create(&app, &county, &weak).await;
    assert!(response.body.contains("初始密码：密码至少需要10个字符"));
    assert_eq!(app.store.users().count_users().await.unwrap(), before, "nothing was created");
    // A role without user management cannot post the form at all.
    let agent = app.login("demo.agent").await;
    let response = create(&app, &agent, &form("agent.made", "village_agent", "360802100001")).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.users().count_users().await.unwrap(), before);
}

#[tokio::test]
async fn a_duplicate_username_is_a_conflict_the_user_can_fix() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let before = app.store.users().count_users().await.unwrap();
    let response = create(&app, &city, &form("Demo.County", "county_staff", "360803")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("用户名“demo.county”已被使用，请换一个"), "{}", response.body);
    assert_eq!(app.store.users().count_users().await.unwrap(), before);
}

#[tokio::test]
async fn the_api_creates_users_with_the_csrf_header_only() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let me = app.get(&city, "/api/v1/me").await.json();
    assert_eq!(me["role"], "city_admin");
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let body = serde_json::json!({
        "username": "api.user", "display_name": "接口用户", "role": "county_staff",
        "region_code": "360803", "password": "api-pass-2026"
    })
    .to_string();
    let request = |csrf: Option<&str>| {
        let mut builder = Request::post("/api/v1/users")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("guanai_session={}", city.cookie));
        if let Some(csrf) = csrf {
            builder = builder.header("x-csrf-token", csrf);
        }
        builder.body(Body::from(body.clone())).unwrap()
    };
    let refused = app.send(request(None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"]["code"], "csrf");
    let created = app.send(request(Some(&token))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["region_code"], "360803");
    assert!(created.json().get("password_hash").is_none());
    let again = app.send(request(Some(&token))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["error"]["message"].as_str().unwrap().contains("已被使用"));
}

#[tokio::test]
async fn each_side_creates_only_its_own_users() {
    let app = TestApp::demo().await;
    let before = app.store.users().count_users().await.unwrap();
    // County staff cannot make insurer users (who underwrite and cancel policies).
    let county = app.login("demo.county").await;
    let response = create(&app, &county, &form("fake.insurer", "insurer_county", "360802")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
    assert!(response.body.contains("不能创建“保险公司支公司”角色的用户"), "{}", response.body);
    // Nor can the association's city administrator.
    let city = app.login("demo.city").await;
    for (name, role, region) in
        [("city.insurer", "insurer_city", "3608"), ("city.branch", "insurer_county", "360803")]
    {
        let response = create(&app, &city, &form(name, role, region)).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{role}: {}", response.body);
        assert!(response.body.contains("不能创建"), "{role}: {}", response.body);
    }
    let new_user_page = app.get(&city, "/users/new").await;
    assert!(!new_user_page.body.contains("value=\"insurer_county\""), "not offered");
    assert_eq!(app.store.users().count_users().await.unwrap(), before, "nothing was created");
    // The insurer's city branch creates its own sub-branch users, and sees only its side.
    let insurer = app.login("demo.insurer").await;
    let response = create(&app, &insurer, &form("qingyuan.branch", "insurer_county", "360803")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let refused = create(&app, &insurer, &form("insurer.made", "township_staff", "360802100")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("不能创建“乡镇计生协工作人员”角色的用户"), "{}", refused.body);
    let list = app.get(&insurer, "/users").await;
    assert!(list.body.contains("qingyuan.branch") && list.body.contains("demo.branch"), "{}", list.body);
    assert!(!list.body.contains("demo.county"), "association staff are not the insurer's to see");
    assert_eq!(app.store.users().count_users().await.unwrap(), before + 1);
}
