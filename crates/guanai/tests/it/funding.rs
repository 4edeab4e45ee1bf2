//! Funding sources, subsidy rules, receipts and ledgers; products and packages; gifted
//! policies in bulk (送保) — through the pages and the API, checked against what was stored.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_domain::families::Relationship;
use guanai_domain::funding::SubsidyAmount;
use guanai_domain::products::CoverItem;
use guanai_domain::{Fen, IdNumber, PovertyStatus, RegionCode};
use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
use guanai_store::funding::Source;
use guanai_store::policies::{Channel, PolicyQuery};
use guanai_store::Actor;

use crate::util::{Client, TestApp, TestResponse};

const YEAR: i32 = 2026;
/// 钓源村, in 兴桥镇 (吉州区).
const VILLAGE: &str = "360802100200";

fn system() -> Actor {
    Actor::system(RegionCode::parse("3608").unwrap())
}

/// The demo package with this code (P1, P1N1, P1N2) of 2026.
async fn package(app: &TestApp, code: &str) -> guanai_store::products::Package {
    let packages = app.store.packages(Some(YEAR)).await.unwrap();
    packages.into_iter().find(|p| p.code == code).expect("demo package")
}

async fn sources(app: &TestApp) -> Vec<Source> {
    app.store.sources(&system(), Some(YEAR)).await.unwrap()
}

async fn source_named(app: &TestApp, name: &str) -> Source {
    sources(app).await.into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no source {name}"))
}

fn source_form<'a>(
    name: &'a str,
    kind: &'a str,
    uscc: &'a str,
    region: &'a str,
    pledged: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("kind", kind),
        ("payer", "测试出资方"),
        ("uscc", uscc),
        ("year", "2026"),
        ("region", region),
        ("pledged", pledged),
    ]
}

/// Registers a source through the page; returns its id.
async fn create_source(app: &TestApp, client: &Client, name: &str, region: &str, pledged: &str) -> i64 {
    let response =
        app.post_form(client, "/funding", &source_form(name, "donation", "", region, pledged)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response.location().trim_start_matches("/funding/").parse().expect("redirect to the ledger")
}

// ---- sources and ledgers -------------------------------------------------------------

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
    let rules = app.store.ledger(&system(), care.id).await.unwrap().rules;
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
    let ledger = app.store.ledger(&system(), id).await.unwrap();
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
    assert_eq!(app.store.ledger(&system(), id).await.unwrap().rules.len(), 2, "no bad rule was stored");

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
    let source = app.store.ledger(&system(), id).await.unwrap();
    assert_eq!(source.source.received, Fen::new(110_000));
    assert_eq!(source.receipts.len(), 2);
    assert_eq!(source.source.allocated, Fen::ZERO);
    let page = app.get(&city, &format!("/funding/{id}")).await;
    assert!(page.body.contains("1,100.00 元") && page.body.contains("第一笔拨款"));
}

// ---- products and packages -----------------------------------------------------------

#[tokio::test]
async fn the_catalogue_shows_packages_and_product_terms() {
    let app = TestApp::demo().await;
    let agent = app.login("demo.agent").await;
    let page = app.get(&agent, "/products").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "计生家庭意外伤害保险",
        "100.00 元（每户每份）",
        "20.00 元（每人每份）",
        "基础+住院津贴+特殊家庭护理（1+2）",
        "每户 130.00 元 + 每人 20.00 元",
        "初保 1–65 周岁，续保至 70 周岁",
        "意外身故、伤残：全家保额 150,000.00 元，由被保险人均分",
        "住院津贴：每天 100.00 元，最多 180 天",
        "2026年9月1日",
    ] {
        assert!(page.body.contains(text), "expected “{text}” in the catalogue");
    }
    assert!(!page.body.contains("新增险种"), "only the city administrator defines products");
    let auditor = app.login("demo.auditor").await;
    assert_eq!(app.get(&auditor, "/products").await.status, StatusCode::NOT_FOUND);
}

fn product_form<'a>(code: &'a str, kind: &'a str, renewal_max: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = product_terms(code, kind, renewal_max);
    fields.extend([
        ("item1_kind", "accident_death_disability"),
        ("item1_amount", "100,000"),
        ("item2_kind", "accident_medical"),
        ("item2_amount", "10000"),
        ("item2_deductible", "100"),
        ("item2_percent", "85"),
        ("item3_kind", ""),
        ("item3_amount", "999"),
    ]);
    fields
}

fn product_terms<'a>(code: &'a str, kind: &'a str, renewal_max: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("code", code),
        ("year", "2027"),
        ("name", "测试险种"),
        ("kind", kind),
        ("premium", "60"),
        ("basis", "household_share"),
        ("min_shares", "1"),
        ("max_shares", "2"),
        ("max_members", "4"),
        ("insurer", ""),
        ("first_age_min", "1"),
        ("first_age_max", "60"),
        ("renewal_age_max", renewal_max),
        ("start_date", "2027-01-01"),
        ("term_months", "12"),
    ]
}

#[tokio::test]
async fn the_city_administrator_defines_products_and_packages() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    assert_eq!(app.get(&city, "/products/new").await.status, StatusCode::OK);
    // The terms' own rule (renewal age below first-insure age) comes back from the store.
    let response = app.post_form(&city, "/products", &product_form("JS27", "base", "55")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("年龄范围不正确：初保年龄1–60周岁，续保上限55周岁"), "{}", response.body);
    assert!(response.body.contains("value=\"JS27\"") && response.body.contains("value=\"100,000\""));
    let response = app.post_form(&city, "/products", &product_terms("JS27", "base", "65")).await;
    assert!(response.body.contains("至少需要一项保障责任"), "{}", response.body);
    assert!(app.store.products(Some(2027)).await.unwrap().is_empty());

    let response = app.post_form(&city, "/products", &product_form("JS27", "base", "65")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let mut addon = product_terms("ZY27", "addon", "65");
    addon.extend([
        ("item2_kind", "hospital_allowance"),
        ("item2_amount", "50"),
        ("item2_days", "90"),
        ("item3_kind", "disease"),
        ("item3_label", "母婴安康"),
        ("item3_amount", "5000"),
        ("item3_days", "30"),
    ]);
    let response = app.post_form(&city, "/products", &addon).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let products = app.store.products(Some(2027)).await.unwrap();
    assert_eq!(products.len(), 2);
    let base = products.iter().find(|p| p.code == "JS27").unwrap();
    assert_eq!(base.terms.premium, Fen::from_yuan(60));
    assert_eq!(base.terms.items.len(), 2, "the empty third row is ignored");
    let allowance = products.iter().find(|p| p.code == "ZY27").unwrap();
    assert_eq!(
        allowance.terms.items,
        [
            CoverItem::HospitalAllowance { per_day: Fen::from_yuan(50), max_days: 90 },
            CoverItem::Disease {
                label: "母婴安康".to_owned(), sum: Fen::from_yuan(5000), waiting_days: 30
            },
        ],
        "rows are read by their kind; the empty first row is ignored"
    );

    // A package of the two.
    let form = app.get(&city, "/packages/new").await;
    assert!(form.body.contains("测试险种"));
    let (base_id, addon_id) = (base.id.to_string(), allowance.id.to_string());
    let wrong = [("code", "Q27"), ("year", "2027"), ("name", "错配方案"), ("base", addon_id.as_str())];
    let response = app.post_form(&city, "/packages", &wrong).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("不是基础险"), "{}", response.body);
    let fields = [
        ("code", "Q27"),
        ("year", "2027"),
        ("name", "2027基础+津贴"),
        ("base", base_id.as_str()),
        ("addon", addon_id.as_str()),
    ];
    let response = app.post_form(&city, "/packages", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let packages = app.store.packages(Some(2027)).await.unwrap();
    assert_eq!(packages.len(), 1);
    assert_eq!(packages[0].base.id, base.id);
    assert_eq!(packages[0].addons.iter().map(|p| p.id).collect::<Vec<_>>(), [allowance.id]);
    let page = app.get(&city, "/products").await;
    assert!(page.body.contains("2027基础+津贴") && page.body.contains("每户 120.00 元"), "{}", page.body);

    // County staff may read the catalogue but not change it.
    let county = app.login("demo.county").await;
    assert_eq!(app.get(&county, "/products").await.status, StatusCode::OK);
    assert_eq!(app.get(&county, "/products/new").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&county, "/packages/new").await.status, StatusCode::NOT_FOUND);
    let response = app.post_form(&county, "/products", &product_form("CNTY", "base", "65")).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.products(Some(2027)).await.unwrap().len(), 2);
}

// ---- gifting -------------------------------------------------------------------------

/// Registers a one-person family in 钓源村 (head born in 1980 + `n`); with the two
/// consents gifting needs when `consents`.
async fn family(app: &TestApp, n: u32, name: &str, consents: bool) -> i64 {
    let body = format!("360802{}0101{:03}", 1980 + n, 100 + n);
    let id = format!("{body}{}", IdNumber::check_char_for(&body).unwrap());
    let actor = system();
    let family = app
        .store
        .create_family(
            &actor,
            NewFamily {
                village: RegionCode::parse(VILLAGE).unwrap(),
                category: "three_child".to_owned(),
                poverty: PovertyStatus::None,
                address: "钓源村".to_owned(),
                phone: None,
                head: NewPerson {
                    name: name.to_owned(),
                    id_number: IdNumber::parse(&id).unwrap().id,
                    relationship: Relationship::Head,
                },
            },
        )
        .await
        .expect("create family");
    if consents {
        for kind in [ConsentKind::Processing, ConsentKind::InsurerSharing] {
            app.store.record_consent(&actor, family, kind, None, name).await.unwrap();
        }
    }
    family
}

async fn policies_of(app: &TestApp, family_id: i64) -> Vec<guanai_store::policies::PolicySummary> {
    let query = PolicyQuery { family_id: Some(family_id), per_page: 100, ..Default::default() };
    app.store.search_policies(&system(), &query).await.unwrap().policies
}

#[tokio::test]
async fn the_preview_counts_who_can_be_gifted_and_why_others_are_skipped() {
    let app = TestApp::demo().await;
    let township = app.login("demo.township").await;
    let form = app.get(&township, "/gifting").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("吉安市生育关怀基金（2026）") && form.body.contains("基础保障（1+0）"));
    assert!(form.body.contains("value=\"360802100\""), "the region defaults to the township");
    assert!(form.body.contains("全部不做"), "the form says the gift is all or nothing");

    let source = source_named(&app, "庐陵爱心企业捐助（2026）").await;
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
    let ledger = app.store.ledger(&system(), small).await.unwrap();
    assert_eq!(ledger.source.allocated, Fen::ZERO);
    assert!(ledger.lines.is_empty());
}

#[tokio::test]
async fn a_covered_gift_creates_one_gifted_policy_per_family_paid_by_the_source() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let source = create_source(&app, &county, "乡贤送保资金", "360802", "1000").await;
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

    let ledger = app.store.ledger(&system(), source).await.unwrap();
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
    assert_eq!(app.store.ledger(&system(), source).await.unwrap().source.allocated, Fen::from_yuan(200));
}

// ---- the API -------------------------------------------------------------------------

async fn api_get(app: &TestApp, client: &Client, path: &str) -> TestResponse {
    app.get(client, path).await
}

async fn api_post(app: &TestApp, client: &Client, path: &str, body: serde_json::Value) -> TestResponse {
    let request = Request::post(path)
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", &client.csrf)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_api_reads_sources_ledgers_packages_and_gifts() {
    let app = TestApp::demo().await;
    let county = app.login("demo.county").await;
    let list = api_get(&app, &county, "/api/v1/funding/sources?year=2026").await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<String> =
        list.json().as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"吉州区财政计生保险补助（2026）".to_owned()));
    assert!(!names.contains(&"青原区财政计生保险补助（2026）".to_owned()));
    let care = source_named(&app, "吉安市生育关怀基金（2026）").await;
    let ledger = api_get(&app, &county, &format!("/api/v1/funding/sources/{}", care.id)).await.json();
    assert_eq!(ledger["source"]["pledged"], 80_000_000);
    assert_eq!(ledger["rules"].as_array().unwrap().len(), 4);
    assert_eq!(ledger["rules"][0]["amount"]["kind"], "all");
    let qingyuan = source_named(&app, "青原区财政计生保险补助（2026）").await;
    let denied = api_get(&app, &county, &format!("/api/v1/funding/sources/{}", qingyuan.id)).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    assert_eq!(denied.json()["error"]["code"], "not_found");
    let packages = api_get(&app, &county, "/api/v1/packages?year=2026").await.json();
    let codes: Vec<&str> = packages.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["P1", "P1N1", "P1N2"]);
    assert_eq!(packages[0]["base"]["terms"]["premium"], 10_000);
    let bad = api_get(&app, &county, "/api/v1/packages?year=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "bad_request");

    // Gifting: a preview, a refusal that changes nothing, then the gift.
    let a = family(&app, 7, "冯七", true).await;
    let b = family(&app, 8, "陈八", false).await;
    let small = create_source(&app, &county, "接口小额捐助", "360802", "50").await;
    let package = package(&app, "P1").await;
    let body = |source: i64| serde_json::json!({"source_id": source, "package_id": package.id, "family_ids": [a, b]});
    let preview = api_post(&app, &county, "/api/v1/gifting/preview", body(small)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let preview = preview.json();
    assert_eq!((preview["selected"].as_u64(), preview["eligible"].as_u64()), (Some(2), Some(1)));
    assert_eq!(preview["skipped"][0]["family_id"], b);
    assert_eq!((preview["total"].as_i64(), preview["coverable"].as_u64()), (Some(10_000), Some(0)));
    let refused = api_post(&app, &county, "/api/v1/gifting", body(small)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("本次未做任何更改"));
    assert!(policies_of(&app, a).await.is_empty());

    let enough = create_source(&app, &county, "接口送保资金", "360802", "500").await;
    let created = api_post(&app, &county, "/api/v1/gifting", body(enough)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json(), serde_json::json!({"created": 1, "total": 10_000}));
    assert_eq!(policies_of(&app, a).await[0].channel, Channel::Gifted);
    assert_eq!(app.store.ledger(&system(), enough).await.unwrap().source.allocated, Fen::from_yuan(100));

    // Without the CSRF header a gift is refused; an agent may not gift at all.
    let request = Request::post("/api/v1/gifting")
        .header(header::COOKIE, format!("guanai_session={}", county.cookie))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body(enough).to_string()))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
    let agent = app.login("demo.agent").await;
    assert_eq!(
        api_post(&app, &agent, "/api/v1/gifting/preview", body(enough)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api_get(&app, &agent, "/api/v1/funding/sources").await.status, StatusCode::NOT_FOUND);
}
