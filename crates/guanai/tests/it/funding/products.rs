//! Products and packages: the catalogue and the city administrator defining them.

use axum::http::StatusCode;
use guanai_domain::products::CoverItem;
use guanai_domain::Fen;

use crate::util::TestApp;

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
    assert!(app.store.products().products(Some(2027)).await.unwrap().is_empty());

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
    let products = app.store.products().products(Some(2027)).await.unwrap();
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
    let packages = app.store.products().packages(Some(2027)).await.unwrap();
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
    assert_eq!(app.store.products().products(Some(2027)).await.unwrap().len(), 2);
}
