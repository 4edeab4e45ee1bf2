//! What every role can and cannot reach: pages and API, within and across regions. Every
//! refusal answers 404 (nothing is revealed) and leaves an audit entry.

use axum::http::StatusCode;
use guanai_domain::{Password, RegionCode, Role, Username};
use guanai_store::users::NewUser;
use guanai_store::Actor;

use crate::util::TestApp;

const LOGINS: [&str; 8] = [
    "demo.city",
    "demo.county",
    "demo.township",
    "demo.agent",
    "demo.insurer",
    "demo.branch",
    "demo.supervisor",
    "demo.auditor",
];

/// Expected status per login, in the order of `LOGINS`: `o` 200, `x` 404.
/// Scopes: city 3608 (city, insurer, supervisor, auditor); county 吉州区 360802 (county,
/// branch); township 兴桥镇 360802100 (township, agent). 360803 is 青原区, another county;
/// 360802001 is 古南街道, another township of 吉州区.
const MATRIX: [(&str, &str); 13] = [
    ("/", "oooooooo"),
    ("/regions/3608", "oxxxoxoo"),
    ("/regions/360802", "ooxxoooo"),
    ("/regions/360803", "oxxxoxoo"),
    ("/regions/360802100", "oooooooo"),
    ("/regions/360802100001", "oooooooo"),
    ("/regions/360802001", "ooxxoooo"),
    ("/orgs", "oooxoooo"),
    ("/users", "ooxxoxoo"),
    ("/users/new", "ooxxoxxx"),
    ("/audit", "oxxxxxxo"),
    ("/api/v1/users", "ooxxoxoo"),
    ("/api/v1/regions/360803", "oxxxoxoo"),
];

#[tokio::test]
async fn every_role_reaches_exactly_what_its_role_and_region_allow() {
    let app = TestApp::demo().await;
    for (column, login) in LOGINS.iter().enumerate() {
        let client = app.login(login).await;
        let mut expected_denials = 0;
        for (path, expected) in MATRIX {
            let want = match expected.as_bytes()[column] {
                b'o' => StatusCode::OK,
                _ => StatusCode::NOT_FOUND,
            };
            let response = app.get(&client, path).await;
            assert_eq!(
                response.status,
                want,
                "{login} GET {path}: {}",
                &response.body[..response.body.len().min(300)]
            );
            if want == StatusCode::NOT_FOUND {
                expected_denials += 1;
                assert!(
                    response.body.contains("找不到"),
                    "{login} {path}: a refusal reads as not found: {}",
                    response.body
                );
            }
        }
        let denied = app.audit_entries(login, "denied").await;
        assert_eq!(denied.len(), expected_denials, "{login}: one audit entry per refusal");
    }
}

#[tokio::test]
async fn the_navigation_offers_only_what_the_role_may_use() {
    let app = TestApp::demo().await;
    let cases = [
        ("demo.city", true, true),
        ("demo.county", true, false),
        ("demo.agent", false, false),
        ("demo.auditor", true, true),
        ("demo.branch", false, false),
    ];
    for (login, users, audit) in cases {
        let client = app.login(login).await;
        let home = app.get(&client, "/").await;
        assert_eq!(home.body.contains("href=\"/users\""), users, "{login} users link");
        assert_eq!(home.body.contains("href=\"/audit\""), audit, "{login} audit link");
    }
}

#[tokio::test]
async fn guessing_a_user_id_in_another_county_reveals_nothing_and_is_logged() {
    let app = TestApp::demo().await;
    let system = Actor::system(RegionCode::parse("3608").unwrap());
    let other = app
        .store
        .users()
        .create_user(
            &system,
            NewUser {
                username: Username::parse("qingyuan.staff").unwrap(),
                display_name: "青原区 工作人员".to_owned(),
                role: Role::CountyStaff,
                region: RegionCode::parse("360803").unwrap(),
                org_id: None,
                password: Password::parse("qingyuan-2026").unwrap(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    let county = app.login("demo.county").await;
    let page = app.get(&county, &format!("/users/{}", other.id)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("qingyuan"));
    let api = app.get(&county, &format!("/api/v1/users/{}", other.id)).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
    let list = app.get(&county, "/users").await;
    assert!(!list.body.contains("qingyuan.staff"), "another county's users are not listed");
    let denied = app.audit_entries("demo.county", "denied").await;
    let guesses: Vec<_> = denied.iter().filter(|e| e.target_id == other.id.to_string()).collect();
    assert_eq!(guesses.len(), 2, "page and API refusals are both logged");
    assert!(guesses.iter().all(|e| e.action == "user.view"));
    // The city admin does see that user.
    let city = app.login("demo.city").await;
    assert_eq!(app.get(&city, &format!("/users/{}", other.id)).await.status, StatusCode::OK);
    // A number that is no user at all is simply not found.
    assert_eq!(app.get(&city, "/users/999999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&city, "/users/abc").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_county_user_sees_only_its_county_and_the_agent_only_its_villages() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let home = app.get(&county, "/").await;
    assert!(home.body.contains("兴桥镇") && home.body.contains("古南街道"));
    assert!(!home.body.contains("青原区"), "another county is not shown");
    let orgs = app.get(&county, "/orgs").await;
    assert!(orgs.body.contains("吉州区计生协会") && orgs.body.contains("中国人寿吉州区支公司"));
    assert!(!orgs.body.contains("青原区计生协会") && !orgs.body.contains("吉安市计生协会"));

    let agent = app.login("demo.agent").await;
    let home = app.get(&agent, "/").await;
    assert!(home.body.contains("我负责的村（社区）"));
    let villages = app.get(&agent, "/api/v1/regions/360802100").await.json();
    let names: Vec<&str> =
        villages["children_list"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert!(!names.is_empty());
    for name in &names {
        assert!(home.body.contains(name), "agent home lists {name}");
    }
    assert!(!home.body.contains("古南街道"));
}
