//! The home page shows real figures of the user's region, or no panel at all.

use guanai_domain::families::Relationship;
use guanai_domain::{PovertyStatus, RegionCode, Role};
use guanai_store::policies::{Channel, EnrolRequest};

use crate::util::{id_number, FamilySpec, TestApp};

/// The number a home-page figure shows.
fn figure(body: &str, key: &str) -> u64 {
    let at =
        body.find(&format!("data-testid=\"{key}\"")).unwrap_or_else(|| panic!("no figure {key}: {body}"));
    let rest = &body[at..];
    let start = rest.find("<strong>").expect("a number") + "<strong>".len();
    let end = rest[start..].find("</strong>").expect("its end") + start;
    rest[start..end].parse().unwrap_or_else(|_| panic!("{key}: {}", &rest[start..end]))
}

#[tokio::test]
async fn the_home_page_counts_this_years_policies_of_the_users_region() {
    let app = TestApp::demo().await;
    let system = app.system();
    // Three families of 吉州区: one policy left a draft, one submitted, one underwritten
    // (two insured), and one cancelled.
    let mut policies = Vec::new();
    for seq in 0..4u32 {
        let (family, members) = app
            .family(FamilySpec {
                village: "360802100200",
                category: "only_child",
                poverty: PovertyStatus::None,
                members: vec![
                    ("李建国", id_number("19800305", seq * 2 + 1), Relationship::Head),
                    ("王秀英", id_number("19820611", seq * 2 + 2), Relationship::Spouse),
                ],
                consents: true,
            })
            .await;
        let request = EnrolRequest {
            family_id: family,
            package_id: app.package("P1", 2026).await.id,
            shares: 1,
            member_ids: members,
            channel: Channel::Staff,
            expected_family_part: None,
        };
        policies.push(app.store.policies().enrol(&system, &request).await.unwrap());
    }
    for id in &policies[1..3] {
        app.store.policies().submit_policy(&system, *id).await.unwrap();
    }
    let insurer = system.clone().acting_as(Role::InsurerCity);
    app.store.policies().underwrite_policy(&insurer, policies[2], "PJA2026000001").await.unwrap();
    app.store.policies().cancel_policy(&system, policies[3], "录入错误").await.unwrap();

    let county = app.login("demo.county").await;
    let home = app.get(&county, "/").await.body;
    assert!(!home.contains("本年度尚无参保数据") && !home.contains("暂无"), "no placeholder: {home}");
    let shown: Vec<u64> = ["home-draft", "home-submitted", "home-underwritten", "home-cancelled"]
        .iter()
        .map(|k| figure(&home, k))
        .collect();
    assert_eq!(shown, [1, 1, 1, 1], "draft, submitted, underwritten, cancelled");
    assert_eq!((figure(&home, "home-households"), figure(&home, "home-persons")), (1, 2));
    assert!(home.contains("status=submitted"), "the figure links to its list");

    // The insurer sees what waits for it.
    let branch = app.login("demo.branch").await;
    let insurer_home = app.get(&branch, "/").await.body;
    assert_eq!(figure(&insurer_home, "home-submitted"), 1, "{insurer_home}");
    assert_eq!(figure(&insurer_home, "home-underwritten"), 1);
    assert!(!insurer_home.contains("暂无待承保的保单") && !insurer_home.contains("暂无待处理的理赔案件"));

    // A user of another county sees its own figures: none.
    app.store
        .users()
        .create_user(
            &system,
            guanai_store::users::NewUser {
                username: guanai_domain::Username::parse("qingyuan.staff").unwrap(),
                display_name: "青原区工作人员".to_owned(),
                role: Role::CountyStaff,
                region: RegionCode::parse("360803").unwrap(),
                org_id: None,
                password: guanai_domain::Password::parse("qingyuan-2026x").unwrap(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    let other = app.login_with("qingyuan.staff", "qingyuan-2026x").await;
    let other_home = app.get(&other, "/").await.body;
    for key in [
        "home-draft",
        "home-submitted",
        "home-underwritten",
        "home-cancelled",
        "home-households",
        "home-persons",
    ] {
        assert_eq!(figure(&other_home, key), 0, "{key} of 青原区");
    }
}
