//! The one clock and the dates it decides: "today" in China on every floor, the guardian
//! age, and cover that never starts in the past (the sales window, 次日零时起保, the premium
//! of a late start), on every path that creates policies.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::NaiveDate;
use guanai_domain::families::Relationship;
use guanai_domain::products::{CoverItem, LatePremium, LateStart, PremiumBasis, ProductTerms};
use guanai_domain::{Clock, Fen, IdNumber, PovertyStatus};
use guanai_store::consents::ConsentKind;
use guanai_store::families::NewPerson;
use guanai_store::policies::{Channel, EnrolRequest, GiftRequest, GiftSelection, PolicyNo, PolicyStatus};
use guanai_store::products::{NewPackage, NewProduct, ProductKind};

use crate::util::{id_number, Client, FamilySpec, TestApp, TestResponse};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The demo city on a clock standing at `hour:minute` China time on `on`.
async fn app_at(on: NaiveDate, hour: u32, minute: u32) -> TestApp {
    TestApp::demo_at(Clock::fixed_in_china(on, hour, minute)).await
}

/// Moves the app's clock to `hour:minute` China time on `on`.
fn set_clock(app: &TestApp, on: NaiveDate, hour: u32, minute: u32) {
    assert!(app.store.clock().set(Clock::fixed_in_china(on, hour, minute).now()), "a fixed clock");
}

/// A family of two in 钓源村 with its consents.
async fn couple(app: &TestApp, seq: u32) -> (i64, Vec<i64>) {
    app.family(FamilySpec {
        village: "360802100200",
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![
            ("陈立春", id_number("19800305", seq * 2 + 1), Relationship::Head),
            ("黄秋月", id_number("19820611", seq * 2 + 2), Relationship::Spouse),
        ],
        consents: true,
    })
    .await
}

async fn post_json(app: &TestApp, client: &Client, path: &str, body: &serde_json::Value) -> TestResponse {
    let token = app.get(client, "/api/v1/me").await.json()["csrf_token"].as_str().unwrap().to_owned();
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, format!("guanai_session={}", client.cookie))
        .header("x-csrf-token", token);
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

/// The enrolment form's fields for a package and members.
fn enrol_fields(package: i64, members: &[i64]) -> Vec<(String, String)> {
    let mut fields =
        vec![("package_id".to_owned(), package.to_string()), ("shares".to_owned(), "1".to_owned())];
    fields.extend(members.iter().map(|m| ("member".to_owned(), m.to_string())));
    fields
}

fn borrowed(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Enrols through the pages (quote, then confirm and submit); the new policy's id.
async fn enrol_by_page(app: &TestApp, client: &Client, family: i64, package: i64, members: &[i64]) -> i64 {
    let mut fields = enrol_fields(package, members);
    let created = {
        fields.push(("submit_now".to_owned(), "1".to_owned()));
        app.post_form(client, &format!("/families/{family}/enrol"), &borrowed(&fields)).await
    };
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    created.location().trim_start_matches("/policies/").split('?').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_newborn_registered_before_eight_in_china_is_accepted_by_the_form_and_the_store() {
    // 07:30 on 1 December in China is 23:30 on 30 November UTC.
    let app = app_at(date(2026, 12, 1), 7, 30).await;
    assert_eq!(app.store.today(), date(2026, 12, 1));
    let (family, _) = couple(&app, 1).await;
    let county = app.login("demo.county").await;
    let twin_a = id_number("20261201", 11);
    let page = app
        .post_form(
            &county,
            &format!("/families/{family}/members"),
            &[("name", "陈小一"), ("id_number", &twin_a), ("relationship", "child")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "the form accepts today's newborn: {}", page.body);
    let twin_b = id_number("20261201", 12);
    let person = NewPerson {
        name: "陈小二".to_owned(),
        id_number: IdNumber::parse(&twin_b).unwrap().id,
        relationship: Relationship::Child,
    };
    app.store
        .families()
        .add_member(&app.system(), family, person)
        .await
        .expect("the store accepts today's newborn");
    let members = app.store.families().family(&app.system(), family).await.unwrap().members;
    assert_eq!(members.iter().filter(|m| m.birth_date == Some(date(2026, 12, 1))).count(), 2);
    // Tomorrow's birth date is still refused by both.
    let tomorrow = id_number("20261202", 13);
    let refused = app
        .post_form(
            &county,
            &format!("/families/{family}/members"),
            &[("name", "陈小三"), ("id_number", &tomorrow), ("relationship", "child")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let person = NewPerson {
        name: "陈小三".to_owned(),
        id_number: IdNumber::parse(&tomorrow).unwrap().id,
        relationship: Relationship::Child,
    };
    assert!(app.store.families().add_member(&app.system(), family, person).await.is_err());
}

#[tokio::test]
async fn a_guardian_consents_for_a_child_under_14_only_in_the_page_and_the_store() {
    let app = app_at(date(2026, 8, 20), 10, 0).await;
    let system = app.system();
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![
                ("何建华", id_number("19800305", 41), Relationship::Head),
                ("何小满", id_number("20130301", 42), Relationship::Child),
                ("何大满", id_number("20110501", 43), Relationship::Child),
            ],
            consents: true,
        })
        .await;
    let (thirteen, fifteen) = (members[1], members[2]);

    // The store: a guardian's consent for the 15-year-old is refused, for the 13-year-old taken.
    let refused = app
        .store
        .families()
        .record_consent(&system, family, ConsentKind::Guardian, Some(fifteen), "何建华")
        .await;
    let message = refused.expect_err("no guardian consent at 15").to_string();
    assert!(message.contains("何大满已满14周岁"), "{message}");
    app.store
        .families()
        .record_consent(&system, family, ConsentKind::Guardian, Some(thirteen), "何建华")
        .await
        .unwrap();

    // The page offers only the 13-year-old and refuses the 15-year-old.
    let county = app.login("demo.county").await;
    let page = app.get(&county, &format!("/families/{family}")).await;
    let start = page.body.find("未成年人（仅监护人同意）").expect("the guardian's choice");
    let choice = &page.body[start..start + page.body[start..].find("</select>").unwrap()];
    assert!(choice.contains(&format!("<option value=\"{thirteen}\">何小满</option>")), "{choice}");
    assert!(!choice.contains("何大满"), "{choice}");
    let posted = app
        .post_form(
            &county,
            &format!("/families/{family}/consents"),
            &[("kind", "guardian"), ("person", &fifteen.to_string()), ("given_by", "何建华")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{}", posted.body);

    // A policy insuring the 15-year-old goes to the insurer without a guardian's consent.
    let package = app.package("P1", 2026).await;
    let request = EnrolRequest {
        family_id: family,
        package_id: package.id,
        shares: 1,
        member_ids: vec![members[0], fifteen],
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let id = app.store.policies().enrol(&system, &request).await.unwrap();
    app.store.policies().submit_policy(&system, id).await.expect("no guardian consent needed at 15");
}

#[tokio::test]
async fn a_package_of_an_ended_year_is_neither_offered_nor_accepted() {
    let app = app_at(date(2026, 12, 1), 10, 0).await;
    let system = app.system();
    let set = guanai_store::regions::demo_city();
    guanai::demo::catalog::products_and_packages(&app.store, &system, 2021).await.unwrap();
    guanai::demo::catalog::funding(&app.store, &system, &set, 2021).await.unwrap();
    let old = app.package("P1", 2021).await;
    let current = app.package("P1", 2026).await;
    let (family, members) = couple(&app, 2).await;
    let county = app.login("demo.county").await;

    // The enrolment page offers this year's packages only.
    let form = app.get(&county, &format!("/families/{family}/enrol")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(&format!("value=\"{}\"", current.id)), "{}", form.body);
    assert!(!form.body.contains(&format!("value=\"{}\"", old.id)), "{}", form.body);
    assert!(!form.body.contains("2021年度"), "{}", form.body);

    // Posted anyway: refused by the quote and the confirmation.
    let fields = enrol_fields(old.id, &members);
    let quote = app.post_form(&county, &format!("/families/{family}/enrol/quote"), &borrowed(&fields)).await;
    assert_eq!(quote.status, StatusCode::BAD_REQUEST, "{}", quote.body);
    assert!(quote.body.contains("2021年度的保险期间到2022年8月31日结束"), "{}", quote.body);
    let created = app.post_form(&county, &format!("/families/{family}/enrol"), &borrowed(&fields)).await;
    assert_eq!(created.status, StatusCode::BAD_REQUEST, "{}", created.body);

    // The API.
    let body = serde_json::json!({ "family_id": family, "package_id": old.id, "member_ids": members });
    let api = post_json(&app, &county, "/api/v1/policies", &body).await;
    assert!(api.status.is_client_error(), "{} {}", api.status, api.body);
    assert!(api.body.contains("不能再参保"), "{}", api.body);
    let api_quote = post_json(&app, &county, "/api/v1/quotes", &body).await;
    assert!(api_quote.status.is_client_error(), "{}", api_quote.body);

    // Gifting: the page offers no package of 2021, the store accepts none.
    let gifting = app.get(&county, "/gifting?year=2021").await;
    assert_eq!(gifting.status, StatusCode::OK, "{}", gifting.body);
    assert!(!gifting.body.contains(&format!("value=\"{}\"", old.id)), "{}", gifting.body);
    let source = app
        .store
        .funding()
        .sources(&system, Some(2021))
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a 2021 source");
    let gift = GiftRequest {
        source_id: source.id,
        package_id: old.id,
        selection: GiftSelection::Families(vec![family]),
    };
    let preview = app.store.policies().gift_preview(&system, &gift).await;
    assert!(preview.is_err_and(|e| e.to_string().contains("不能再参保")));
    assert!(app.store.policies().gift(&system, &gift).await.is_err());

    // Batch enrolment (campaigns and roster-driven batches).
    let batch = app.store.policies().enrol_families(&system, old.id, &[family], Channel::Staff, true).await;
    assert!(batch.is_err_and(|e| e.to_string().contains("不能再参保")));
    let policies = app
        .store
        .policies()
        .search_policies(&system, &guanai_store::policies::PolicyQuery { per_page: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(policies.total, 0, "nothing was written for 2021");

    // This year's package is still sold, from tomorrow.
    let id = enrol_by_page(&app, &county, family, current.id, &members).await;
    assert_eq!(app.store.policies().policy(&system, id).await.unwrap().summary.start_date, date(2026, 12, 2));
}

#[tokio::test]
async fn a_sales_window_closes_a_package_before_its_year_ends() {
    let app = app_at(date(2026, 12, 1), 10, 0).await;
    let system = app.system();
    let package =
        custom_package(&app, "SW", Some(date(2026, 11, 30)), LateStart::AfterUnderwriting, LatePremium::Full)
            .await;
    let (family, members) = couple(&app, 3).await;
    let county = app.login("demo.county").await;
    let form = app.get(&county, &format!("/families/{family}/enrol")).await;
    assert!(!form.body.contains(&format!("value=\"{package}\"")), "{}", form.body);
    let request = EnrolRequest {
        family_id: family,
        package_id: package,
        shares: 1,
        member_ids: members,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let refused = app.store.policies().enrol(&system, &request).await.expect_err("sales closed");
    assert!(refused.to_string().contains("参保（销售）期已于2026年11月30日截止"), "{refused}");
}

/// A base product of 2026 (100 元 a household, 1 September to 31 August) with these late
/// rules, in a package of its own; the package's id.
pub(crate) async fn custom_package(
    app: &TestApp,
    code: &str,
    sales_end: Option<NaiveDate>,
    late_start: LateStart,
    late_premium: LatePremium,
) -> i64 {
    let system = app.system();
    let terms = ProductTerms {
        premium: Fen::from_yuan(100),
        basis: PremiumBasis::PerHouseholdShare,
        min_shares: 1,
        max_shares: 1,
        max_members: 0,
        first_age_min: 1,
        first_age_max: 65,
        renewal_age_max: 70,
        start_date: date(2026, 9, 1),
        term_months: 12,
        items: vec![CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(100_000) }],
        sales_end,
        late_start,
        late_premium,
    };
    let product = app
        .store
        .products()
        .create_product(
            &system,
            NewProduct {
                code: code.to_owned(),
                year: 2026,
                name: format!("测试险{code}"),
                kind: ProductKind::Base,
                insurer_org_id: None,
                terms,
            },
        )
        .await
        .unwrap();
    app.store
        .products()
        .create_package(
            &system,
            NewPackage {
                code: code.to_owned(),
                year: 2026,
                name: format!("测试方案{code}"),
                base_product_id: product,
                addon_ids: vec![],
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn todays_enrolment_starts_the_day_after_underwriting_on_the_quote_policy_and_certificate() {
    let app = app_at(date(2026, 12, 1), 10, 0).await;
    let system = app.system();
    let package = app.package("P1", 2026).await;
    let (family, members) = couple(&app, 4).await;
    let county = app.login("demo.county").await;

    let form = app.get(&county, &format!("/families/{family}/enrol")).await;
    assert!(form.body.contains("承保次日起保，最早 2026-12-02"), "{}", form.body);
    let fields = enrol_fields(package.id, &members);
    let quote = app.post_form(&county, &format!("/families/{family}/enrol/quote"), &borrowed(&fields)).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert!(quote.body.contains("2026-12-02 至 2027-08-31"), "{}", quote.body);
    assert!(quote.body.contains("保险公司承保次日零时起保"), "{}", quote.body);
    // The full premium by default.
    assert!(quote.body.contains("data-testid=\"quote-premium\">100.00 元<"), "{}", quote.body);
    let id = enrol_by_page(&app, &county, family, package.id, &members).await;
    let draft = app.store.policies().policy(&system, id).await.unwrap();
    assert_eq!(draft.summary.status, PolicyStatus::Submitted);
    assert_eq!(draft.summary.start_date, date(2026, 12, 2));
    assert!(draft.start_after_underwriting);

    // Four days later the insurer underwrites it: cover from the next day.
    set_clock(&app, date(2026, 12, 5), 16, 0);
    let waiting = app.get(&county, &format!("/policies/{id}")).await;
    assert!(
        waiting.body.contains("2026-12-06 至 2027-08-31"),
        "the expected start moves on: {}",
        waiting.body
    );
    let insurer = app.login("demo.insurer").await;
    let done =
        app.post_form(&insurer, &format!("/policies/{id}/underwrite"), &[("policy_no", "PJA-DATES-1")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let policy = app.store.policies().policy(&system, id).await.unwrap();
    assert_eq!(policy.summary.status, PolicyStatus::Underwritten);
    assert_eq!(policy.summary.start_date, date(2026, 12, 6));
    assert_eq!(policy.summary.end_date, date(2027, 8, 31));
    assert!(!policy.start_after_underwriting);
    let page = app.get(&county, &format!("/policies/{id}")).await;
    assert!(page.body.contains("2026-12-06 至 2027-08-31"), "{}", page.body);
    let certificate = app.get(&county, &format!("/policies/{id}/certificate")).await;
    assert_eq!(certificate.status, StatusCode::OK, "{}", certificate.body);
    assert!(certificate.body.contains("2026年12月6日"), "{}", certificate.body);
    assert!(!certificate.body.contains("2026年9月1日"), "{}", certificate.body);

    // The batch path (return files, the demo) sets the start the same way.
    let (other, other_members) = couple(&app, 5).await;
    let request = EnrolRequest {
        family_id: other,
        package_id: package.id,
        shares: 1,
        member_ids: other_members,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let second = app.store.policies().enrol(&system, &request).await.unwrap();
    assert_eq!(
        app.store.policies().policy(&system, second).await.unwrap().summary.start_date,
        date(2026, 12, 6)
    );
    app.store.policies().submit_policy(&system, second).await.unwrap();
    set_clock(&app, date(2026, 12, 9), 9, 0);
    let insurer_actor = system.clone().acting_as(guanai_domain::Role::InsurerCity);
    app.store
        .policies()
        .underwrite_many(&insurer_actor, &[(second, PolicyNo::parse("PJA-DATES-2").unwrap())])
        .await
        .unwrap();
    assert_eq!(
        app.store.policies().policy(&system, second).await.unwrap().summary.start_date,
        date(2026, 12, 10)
    );
    assert_eq!(
        app.store.policies().policy(&system, second).await.unwrap().summary.start_date,
        date(2026, 12, 10)
    );
    assert_eq!(
        app.store.policies().policy(&system, id).await.unwrap().summary.start_date,
        date(2026, 12, 6),
        "untouched"
    );
}

#[tokio::test]
async fn a_product_may_start_the_day_after_enrolment_and_pro_rate_the_premium() {
    let app = app_at(date(2026, 12, 1), 10, 0).await;
    let system = app.system();
    let package =
        custom_package(&app, "PR", None, LateStart::AfterEnrolment, LatePremium::ByMonthsLeft).await;
    let (family, members) = couple(&app, 6).await;
    let county = app.login("demo.county").await;
    let fields = enrol_fields(package, &members);
    let quote = app.post_form(&county, &format!("/families/{family}/enrol/quote"), &borrowed(&fields)).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    // 2 December to 31 August: 9 months begun of 12, 75 元 of 100.
    assert!(quote.body.contains("data-testid=\"quote-premium\">75.00 元<"), "{}", quote.body);
    assert!(quote.body.contains("参保次日零时起保"), "{}", quote.body);
    let id = enrol_by_page(&app, &county, family, package, &members).await;
    let policy = app.store.policies().policy(&system, id).await.unwrap();
    assert_eq!(policy.summary.premium, Fen::from_yuan(75));
    assert_eq!(policy.summary.start_date, date(2026, 12, 2));
    set_clock(&app, date(2026, 12, 20), 9, 0);
    let insurer = system.clone().acting_as(guanai_domain::Role::InsurerCity);
    app.store.policies().underwrite_policy(&insurer, id, "PJA-DATES-3").await.unwrap();
    let policy = app.store.policies().policy(&system, id).await.unwrap();
    assert_eq!(policy.summary.start_date, date(2026, 12, 2), "fixed at enrolment under this rule");
    assert_eq!(policy.summary.premium, Fen::from_yuan(75), "the premium is fixed at enrolment");
}

#[tokio::test]
async fn an_enrolment_before_the_scheme_starts_gets_the_schemes_start() {
    let app = app_at(date(2026, 8, 20), 10, 0).await;
    let system = app.system();
    let package = app.package("P1", 2026).await;
    let (family, members) = couple(&app, 7).await;
    let county = app.login("demo.county").await;
    let id = enrol_by_page(&app, &county, family, package.id, &members).await;
    let policy = app.store.policies().policy(&system, id).await.unwrap();
    assert_eq!(policy.summary.start_date, date(2026, 9, 1));
    assert!(!policy.start_after_underwriting);
    set_clock(&app, date(2026, 8, 31), 20, 0);
    let insurer = system.clone().acting_as(guanai_domain::Role::InsurerCity);
    app.store.policies().underwrite_policy(&insurer, id, "PJA-DATES-4").await.unwrap();
    assert_eq!(app.store.policies().policy(&system, id).await.unwrap().summary.start_date, date(2026, 9, 1));
}
