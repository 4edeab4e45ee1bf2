//! Funding sources and their ledgers: credit codes, scope, subsidy rules and receipts.

use axum::http::StatusCode;
use guanai_domain::funding::SubsidyAmount;
use guanai_domain::{Fen, PovertyStatus, RegionCode};

use super::{create_source, package, source_form, source_named, sources, system};
use crate::util::TestApp;

#[tokio::test]
async fn the_funding_list_shows_each_sources_ledger_totals_to_those_who_may_see_it() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let page = app.get(&city, "/funding").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "吉安市生育关怀基金（2026）",
        "生育关怀资金",
        "吉安市计生协会",
        "800,000.00 元",
        "吉安市财政计生保险补助（2026）",
        "庐陵爱心企业捐助（2026）",
        "新增资金来源",
    ] {
        assert!(page.body.contains(text), "expected “{text}” on the list");
    }
    // Another year has none.
    let other = app.get(&city, "/funding?year=2025").await;
    assert!(other.body.contains("2025年度还没有资金来源"), "{}", other.body);

    // The county sees its own and the city's, not another county's.
    let county = app.login("demo.county").await;
    let page = app.get(&county, "/funding").await;
    assert!(page.body.contains("吉州区财政计生保险补助（2026）"));
    assert!(page.body.contains("吉安市生育关怀基金（2026）"));
    assert!(!page.body.contains("青原区财政计生保险补助（2026）"));
    let qingyuan = source_named(&app, "青原区财政计生保险补助（2026）").await;
    let denied = app.get(&county, &format!("/funding/{}", qingyuan.id)).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    assert!(app.audit_entries("demo.county", "denied").await.iter().any(|e| e.action == "funding.view"));

    // The supervisor reads, without the button; an agent does not get the page at all.
    let supervisor = app.login("demo.supervisor").await;
    let page = app.get(&supervisor, "/funding").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("新增资金来源"));
    assert_eq!(app.get(&supervisor, "/funding/new").await.status, StatusCode::NOT_FOUND);
    let agent = app.login("demo.agent").await;
    assert_eq!(app.get(&agent, "/funding").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn credit_codes_are_checked_and_companies_must_have_one() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let before = sources(&app).await.len();
    let form = app.get(&city, "/funding/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("value=\"3608\""), "the region defaults to the user's");
    assert!(!form.body.contains("value=\"family\""), "the family's part is not a source");

    // A wrong check character: the code's own message, the values kept, nothing stored.
    let response = app
        .post_form(
            &city,
            "/funding",
            &source_form("爱心捐助甲", "company", "91350100M000100Y44", "3608", "5,000"),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("统一社会信用代码校验位不正确：最后一位应为3"), "{}", response.body);
    assert!(response.body.contains("value=\"爱心捐助甲\"") && response.body.contains("value=\"5,000\""));
    // A company without a code is refused by the store's rule.
    let response =
        app.post_form(&city, "/funding", &source_form("爱心捐助乙", "company", "", "3608", "5000")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("爱心企业须填写统一社会信用代码"), "{}", response.body);
    // Money is checked before anything reaches the store.
    let response =
        app.post_form(&city, "/funding", &source_form("爱心捐助丙", "donation", "", "3608", "12.345")).await;
    assert!(response.body.contains("认捐（预算）金额：金额最多保留两位小数"), "{}", response.body);
    assert_eq!(sources(&app).await.len(), before, "nothing was stored");

    // A valid code, typed in lower case with spaces, is accepted and normalised.
    let response = app
        .post_form(
            &city,
            "/funding",
            &source_form("爱心捐助丁", "company", " 91350100m000100y43 ", "360802", "20000.50"),
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let stored = source_named(&app, "爱心捐助丁").await;
    assert_eq!(stored.uscc.as_deref(), Some("91350100M000100Y43"));
    assert_eq!(stored.pledged, Fen::new(2_000_050));
    assert_eq!(stored.region_code, "360802");
    assert_eq!(response.location(), format!("/funding/{}", stored.id));
    let ledger = app.get(&city, response.location()).await;
    assert!(ledger.body.contains("91350100M000100Y43") && ledger.body.contains("20,000.50 元"));
    assert!(app.audit_entries("demo.city", "ok").await.iter().any(|e| e.action == "funding.create"));
}

#[tokio::test]
async fn county_staff_fund_their_own_county_only() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let before = sources(&app).await.len();
    let form = app.get(&county, "/funding/new").await;
    assert!(form.body.contains("value=\"360802\""));
    let response = app
        .post_form(&county, "/funding", &source_form("青原区捐助", "donation", "", "360803", "1000"))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("区划“360803”不在您的管理范围内"), "{}", response.body);
    assert_eq!(sources(&app).await.len(), before);

    // The city's fund is visible to the county but not run by it: no forms, and a post
    // is refused without changing anything.
    let care = source_named(&app, "吉安市生育关怀基金（2026）").await;
    let ledger = app.get(&county, &format!("/funding/{}", care.id)).await;
    assert_eq!(ledger.status, StatusCode::OK);
    assert!(ledger.body.contains("脱贫户全额资助") && !ledger.body.contains("登记到账</summary>"));
    let path = format!("/funding/{}/receipts", care.id);
    let response = app
        .post_form(&county, &path, &[("amount", "100"), ("received_on", "2026-03-01"), ("note", "")])
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("只能为本辖区的资金来源登记到账"));
    assert_eq!(source_named(&app, "吉安市生育关怀基金（2026）").await.received, Fen::ZERO);
    let path = format!("/funding/{}/rules", care.id);
    let response = app
        .post_form(&county, &path, &[("name", "越权规则"), ("priority", "1"), ("amount_kind", "all")])
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("只能为本辖区的资金来源设置资助规则"));
    let rules = app.store.funding().ledger(&system(), care.id).await.unwrap().rules;
    assert!(rules.iter().all(|r| r.name != "越权规则"));

    // Its own county's new source it runs.
    let id = create_source(&app, &county, "吉州区乡贤捐助", "360802", "1000").await;
    let ledger = app.get(&county, &format!("/funding/{id}")).await;
    assert!(ledger.body.contains("新增资助规则") && ledger.body.contains("登记到账"));
}

#[tokio::test]
async fn rules_store_exact_amounts_and_receipts_add_up() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let id = create_source(&app, &city, "测试资助资金", "360802", "10000").await;
    let rules = format!("/funding/{id}/rules");
    let p1 = package(&app, "P1").await;
    let p1_id = p1.id.to_string();
    let share = [
        ("name", "吉州区脱贫户三分之一"),
        ("priority", "5"),
        ("region", "360802"),
        ("category", ""),
        ("poverty", "lifted"),
        ("package", p1_id.as_str()),
        ("amount_kind", "share"),
        ("amount_value", "33.33"),
    ];
    let response = app.post_form(&city, &rules, &share).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let per_person = [
        ("name", "二女户每人补助"),
        ("priority", "6"),
        ("region", ""),
        ("category", "rural_two_daughters"),
        ("poverty", ""),
        ("package", ""),
        ("amount_kind", "per_person"),
        ("amount_value", "12.5"),
    ];
    assert_eq!(app.post_form(&city, &rules, &per_person).await.status, StatusCode::SEE_OTHER);
    let ledger = app.store.funding().ledger(&system(), id).await.unwrap();
    let stored: Vec<_> = ledger.rules.iter().map(|r| (r.name.as_str(), r.priority, r.amount)).collect();
    assert_eq!(
        stored,
        [
            ("吉州区脱贫户三分之一", 5, SubsidyAmount::Share(3333)),
            ("二女户每人补助", 6, SubsidyAmount::PerPerson(Fen::new(1250))),
        ]
    );
    let first = &ledger.rules[0].scope;
    assert_eq!(first.region.as_ref().map(RegionCode::as_str), Some("360802"));
    assert_eq!(first.poverty, Some(PovertyStatus::Lifted));
    assert_eq!(first.package_id, Some(p1.id));
    let page = app.get(&city, &format!("/funding/{id}")).await;
    for text in [
        "保费的 33.33%",
        "区域：吉州区；脱贫户；方案：基础保障（1+0）",
        "家庭类型：农村二女户",
        "每人 12.50 元",
    ] {
        assert!(page.body.contains(text), "expected “{text}” in the rules");
    }

    // Bad rules come back with the form kept.
    for (kind, value, region, message) in [
        ("share", "33.333", "", "资助比例最多保留两位小数"),
        ("share", "120", "", "资助比例须在0.01%到100%之间"),
        ("per_household", "0", "", "资助金额须大于0"),
        ("per_household", "10", "360803", "规则的适用区域“360803”须在资金来源的区域“360802”之内"),
        ("per_household", "10", "360802999", "区划代码“360802999”不存在"),
        ("", "10", "", "请选择资助方式"),
    ] {
        let fields = [
            ("name", "错误规则"),
            ("priority", "9"),
            ("region", region),
            ("amount_kind", kind),
            ("amount_value", value),
        ];
        let response = app.post_form(&city, &rules, &fields).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(response.body.contains(message), "expected “{message}” in {}", response.body);
        assert!(response.body.contains("value=\"错误规则\""));
    }
    assert_eq!(
        app.store.funding().ledger(&system(), id).await.unwrap().rules.len(),
        2,
        "no bad rule was stored"
    );

    // Receipts raise “received”, to the fen.
    let receipts = format!("/funding/{id}/receipts");
    let response = app
        .post_form(
            &city,
            &receipts,
            &[("amount", "1,000.50"), ("received_on", "2026-03-01"), ("note", "第一笔拨款")],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    app.post_form(&city, &receipts, &[("amount", "99.50"), ("received_on", "2026-04-01"), ("note", "")])
        .await;
    let bad = app.post_form(&city, &receipts, &[("amount", "0"), ("received_on", "2026-04-01")]).await;
    assert!(bad.body.contains("到账金额须大于0"), "{}", bad.body);
    let bad = app.post_form(&city, &receipts, &[("amount", "5"), ("received_on", "2026-02-30")]).await;
    assert!(bad.body.contains("到账日期“2026-02-30”不是有效日期"));
    let source = app.store.funding().ledger(&system(), id).await.unwrap();
    assert_eq!(source.source.received, Fen::new(110_000));
    assert_eq!(source.receipts.len(), 2);
    assert_eq!(source.source.allocated, Fen::ZERO);
    let page = app.get(&city, &format!("/funding/{id}")).await;
    assert!(page.body.contains("1,100.00 元") && page.body.contains("第一笔拨款"));
}

/// Two receipts of the most an amount can be used to overflow the source's total (on
/// SQLite into a REAL that broke every funding page). Each is refused, saying the range;
/// the pages keep working and the total stays exact.
#[tokio::test]
async fn huge_receipts_are_refused_with_the_range_and_the_funding_pages_keep_working() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let id = create_source(&app, &city, "测试到账上限", "360802", "10000").await;
    let receipts = format!("/funding/{id}/receipts");
    let ok =
        app.post_form(&city, &receipts, &[("amount", "1,000,000,000"), ("received_on", "2026-03-01")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "the most one receipt may be: {}", ok.body);
    for huge in ["92,233,720,368,547,758.07", "92233720368547758.07", "1,000,000,000.01"] {
        let refused =
            app.post_form(&city, &receipts, &[("amount", huge), ("received_on", "2026-03-01")]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{huge}");
        assert!(
            refused.body.contains("单笔到账金额须大于0且不超过1,000,000,000.00 元"),
            "{huge}: {}",
            refused.body
        );
    }
    let too_long = app
        .post_form(&city, &receipts, &[("amount", "99999999999999999999"), ("received_on", "2026-03-01")])
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.body.contains("最多可记录"), "{}", too_long.body);
    let source = app.store.funding().ledger(&system(), id).await.unwrap();
    assert_eq!(source.source.received, Fen::from_yuan(1_000_000_000));
    assert_eq!(source.receipts.len(), 1);
    for page in [format!("/funding/{id}"), "/funding".to_owned(), format!("/api/v1/funding/sources/{id}")] {
        let shown = app.get(&city, &page).await;
        assert_eq!(shown.status, StatusCode::OK, "{page}: {}", shown.body);
    }
    assert!(app.get(&city, &format!("/funding/{id}")).await.body.contains("1,000,000,000.00 元"));
}
