//! Gifted policies in bulk (送保): the preview, a budget that cannot cover the gift, and
//! a covered gift.

use axum::http::StatusCode;
use guanai_domain::Fen;
use guanai_store::policies::Channel;

use super::{create_source, family, package, policies_of, source_named, system, VILLAGE};
use crate::util::{Client, TestApp, TestResponse};

const TOWNSHIP: &str = "360802100";

/// The source's manager lets `region`'s users spend the source.
async fn grant(app: &TestApp, manager: &Client, source: i64, region: &str) {
    let response = app.post_form(manager, &format!("/funding/{source}/grants"), &[("region", region)]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "grant: {}", response.body);
}

#[tokio::test]
async fn the_preview_counts_who_can_be_gifted_and_why_others_are_skipped() {
    let app = TestApp::demo().await;
    // The demo grants the company's donation in 吉州区 to 兴桥镇: its staff may spend it.
    let source = source_named(&app, "庐陵爱心企业捐助（2026）").await;
    let township = app.login("demo.township").await;
    let form = app.get(&township, "/gifting").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("庐陵爱心企业捐助（2026）") && form.body.contains("基础保障（1+0）"));
    assert!(
        !form.body.contains("吉安市生育关怀基金（2026）"),
        "the city fund is not the township's to spend"
    );
    assert!(form.body.contains("value=\"360802100\""), "the region defaults to the township");
    assert!(form.body.contains("全部不做"), "the form says the gift is all or nothing");

    let package = package(&app, "P1").await;
    let (source_id, package_id) = (source.id.to_string(), package.id.to_string());
    let by_village = [
        ("source_id", source_id.as_str()),
        ("package_id", package_id.as_str()),
        ("region", VILLAGE),
        ("category", "three_child"),
        ("poverty", ""),
        ("family_ids", ""),
    ];
    let before = count(&app.post_form(&township, "/gifting/preview", &by_village).await, "selected");
    let ready = family(&app, 1, "钱一", true).await;
    let unconsented = family(&app, 2, "孙二", false).await;
    let page = app.post_form(&township, "/gifting/preview", &by_village).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(count(&page, "selected"), before + 2);
    assert!(page.body.contains(&format!("<a href=\"/families/{unconsented}\">{unconsented}</a>")));
    assert!(page.body.contains("未签署个人信息处理及向保险公司提供的同意书"));
    assert!(
        !page.body.contains(&format!("<a href=\"/families/{ready}\">")),
        "the ready family is not skipped"
    );

    // By id: exactly these two.
    let ids = format!("{ready}，{unconsented}\n");
    let fields = [
        ("source_id", source_id.as_str()),
        ("package_id", package_id.as_str()),
        ("region", ""),
        ("family_ids", ids.as_str()),
    ];
    let page = app.post_form(&township, "/gifting/preview", &fields).await;
    assert_eq!((count(&page, "selected"), count(&page, "eligible"), count(&page, "skipped")), (2, 1, 1));
    assert_eq!(count(&page, "coverable"), 1);
    assert!(page.body.contains("100.00 元") && page.body.contains("指定的 2 户家庭"));
    assert!(page.body.contains("确认送保 1 户"));
    let hidden = format!("name=\"family_ids\" value=\"{ready}, {unconsented}\"");
    assert!(page.body.contains(&hidden), "the confirmation re-posts the ids as read");
    // Preview changes nothing.
    assert!(policies_of(&app, ready).await.is_empty());
    assert_eq!(source_named(&app, "庐陵爱心企业捐助（2026）").await.allocated, Fen::ZERO);

    // Bad input comes back on the form.
    let bad =
        [("source_id", source_id.as_str()), ("package_id", package_id.as_str()), ("family_ids", "12 x")];
    let page = app.post_form(&township, "/gifting/preview", &bad).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("家庭编号“x”无效"));
    // A region outside the township is refused.
    let outside =
        [("source_id", source_id.as_str()), ("package_id", package_id.as_str()), ("region", "360803")];
    let page = app.post_form(&township, "/gifting/preview", &outside).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("不在您的管理范围内"), "{}", page.body);
    // Roles that do not gift do not get the pages.
    let agent = app.login("demo.agent").await;
    assert_eq!(app.get(&agent, "/gifting").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&agent, "/gifting", &fields).await.status, StatusCode::NOT_FOUND);
}

/// The number a preview shows under `data-testid`.
fn count(page: &TestResponse, testid: &str) -> usize {
    let marker = format!("data-testid=\"{testid}\">");
    let start =
        page.body.find(&marker).unwrap_or_else(|| panic!("no {testid} in {}", page.body)) + marker.len();
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].trim().parse().unwrap()
}

#[tokio::test]
async fn a_gift_the_budget_cannot_cover_changes_nothing() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let small = create_source(&app, &county, "小额捐助", "360802", "150").await;
    grant(&app, &county, small, TOWNSHIP).await;
    let township = app.login("demo.township").await;
    let a = family(&app, 3, "周三", true).await;
    let b = family(&app, 4, "吴四", true).await;
    let package = package(&app, "P1").await;
    let (small_id, package_id, ids) = (small.to_string(), package.id.to_string(), format!("{a} {b}"));
    let fields =
        [("source_id", small_id.as_str()), ("package_id", package_id.as_str()), ("family_ids", ids.as_str())];

    let preview = app.post_form(&township, "/gifting/preview", &fields).await;
    assert_eq!((count(&preview, "eligible"), count(&preview, "coverable")), (2, 1));
    assert!(preview.body.contains("只够为 1 户送保") && preview.body.contains("还差 50.00 元"));
    assert!(!preview.body.contains("data-testid=\"gift-confirm\""), "no confirmation the store would refuse");

    let response = app.post_form(&township, "/gifting", &fields).await;
    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.body);
    assert!(response.body.contains("只够为1户送保"), "{}", response.body);
    assert!(response.body.contains("本次未做任何更改"));
    assert!(policies_of(&app, a).await.is_empty() && policies_of(&app, b).await.is_empty());
    let ledger = app.store.funding().ledger(&system(), small).await.unwrap();
    assert_eq!(ledger.source.allocated, Fen::ZERO);
    assert!(ledger.lines.is_empty());
}

#[tokio::test]
async fn a_covered_gift_creates_one_gifted_policy_per_family_paid_by_the_source() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let source = create_source(&app, &county, "乡贤送保资金", "360802", "1000").await;
    grant(&app, &county, source, TOWNSHIP).await;
    let township = app.login("demo.township").await;
    let a = family(&app, 5, "郑五", true).await;
    let b = family(&app, 6, "王六", true).await;
    let package = package(&app, "P1").await;
    let (source_id, package_id, ids) = (source.to_string(), package.id.to_string(), format!("{a},{b}"));
    let mut fields = vec![
        ("source_id", source_id.as_str()),
        ("package_id", package_id.as_str()),
        ("family_ids", ids.as_str()),
    ];

    let preview = app.post_form(&township, "/gifting/preview", &fields).await;
    assert!(preview.body.contains("data-testid=\"gift-confirm\""));
    assert!(preview.body.contains("name=\"expect_total\" value=\"20000\""));
    // A confirmation of a preview that no longer holds is refused without changes.
    fields.extend([("expect_count", "2"), ("expect_total", "19999")]);
    let stale = app.post_form(&township, "/gifting", &fields).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("情况有变化"));
    assert!(policies_of(&app, a).await.is_empty());
    fields.truncate(3);
    fields.extend([("expect_count", "2"), ("expect_total", "20000")]);

    let response = app.post_form(&township, "/gifting", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), format!("/funding/{source}?gifted=2"));
    let ledger_page = app.get(&township, response.location()).await;
    assert!(ledger_page.body.contains("已为 2 户家庭创建送保保单"), "{}", ledger_page.body);

    let ledger = app.store.funding().ledger(&system(), source).await.unwrap();
    assert_eq!(ledger.source.allocated, Fen::from_yuan(200), "exactly the two premiums");
    assert_eq!(ledger.source.remaining, Fen::from_yuan(800));
    assert_eq!(ledger.lines.len(), 2);
    for family_id in [a, b] {
        let policies = policies_of(&app, family_id).await;
        assert_eq!(policies.len(), 1, "one policy per family");
        let policy = &policies[0];
        assert_eq!(policy.channel, Channel::Gifted);
        assert_eq!(policy.family_part, Fen::ZERO);
        assert_eq!(policy.premium, Fen::from_yuan(100));
        assert_eq!(policy.package_id, package.id);
        let line = ledger.lines.iter().find(|l| l.policy_id == policy.id).expect("in the ledger");
        assert_eq!(line.amount, Fen::from_yuan(100));
    }
    // Gifting the same families again finds nobody left to insure.
    fields.truncate(3);
    let again = app.post_form(&township, "/gifting", &fields).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("没有符合送保条件的家庭"), "{}", again.body);
    assert_eq!(
        app.store.funding().ledger(&system(), source).await.unwrap().source.allocated,
        Fen::from_yuan(200)
    );
}

#[tokio::test]
async fn a_source_is_spent_by_its_own_level_or_below_by_an_explicit_grant() {
    let app = TestApp::demo().await;
    let a = family(&app, 7, "冯七", true).await;
    let package = package(&app, "P1").await;
    let care = source_named(&app, "吉安市生育关怀基金（2026）").await;
    let fields = |source: i64| {
        vec![
            ("source_id", source.to_string()),
            ("package_id", package.id.to_string()),
            ("family_ids", a.to_string()),
        ]
    };
    let post = |client: Client, path: &'static str, fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form(&client, path, &fields).await
        }
    };
    // Township staff cannot gift from the city fund's budget, nor from the county's.
    let township = app.login("demo.township").await;
    let county_source = source_named(&app, "吉州区财政计生保险补助（2026）").await;
    for source in [care.id, county_source.id] {
        for path in ["/gifting/preview", "/gifting"] {
            let response = post(township.clone(), path, fields(source)).await;
            assert!(response.status.is_client_error(), "{path}: {}", response.body);
            assert!(response.body.contains("须经其授权"), "{}", response.body);
        }
    }
    assert!(policies_of(&app, a).await.is_empty());
    let refusals = app.audit_entries("demo.township", "denied").await;
    assert!(refusals.iter().any(|e| e.action == "funding.spend"), "refusals are logged");
    // The county cannot grant what the city runs, nor grant outside its source's region.
    let county = app.login("demo.county").await;
    let path = format!("/funding/{}/grants", care.id);
    let response = app.post_form(&county, &path, &[("region", TOWNSHIP)]).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.body);
    let path = format!("/funding/{}/grants", county_source.id);
    let response = app.post_form(&county, &path, &[("region", "360803001")]).await;
    assert_ne!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    // The county grants its own source to the township: now it may.
    grant(&app, &county, county_source.id, TOWNSHIP).await;
    let ledger = app.get(&county, &format!("/funding/{}", county_source.id)).await;
    assert!(ledger.body.contains("兴桥镇（360802100）"), "{}", ledger.body);
    let preview = post(township.clone(), "/gifting/preview", fields(county_source.id)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(count(&preview, "eligible"), 1);
    // The county itself spends its own source without a grant.
    let own = post(county.clone(), "/gifting/preview", fields(county_source.id)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    // A grant withdrawn is gone at once.
    let revoke = format!("/funding/{}/grants/{TOWNSHIP}/revoke", county_source.id);
    assert_eq!(app.post_form(&county, &revoke, &[]).await.status, StatusCode::SEE_OTHER);
    let after = post(township.clone(), "/gifting/preview", fields(county_source.id)).await;
    assert!(after.status.is_client_error() && after.body.contains("须经其授权"), "{}", after.body);
    let done = app.audit_entries("demo.county", "ok").await;
    assert!(
        done.iter().any(|e| e.action == "funding.grant") && done.iter().any(|e| e.action == "funding.revoke")
    );
}
