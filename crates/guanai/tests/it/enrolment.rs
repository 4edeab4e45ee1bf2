//! Enrolment end to end: the quote and its split, eligibility, consents, underwriting,
//! certificates, budgets under concurrency, cancellation and payments.

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_domain::funding::{FundingKind, RuleScope, SubsidyAmount};
use guanai_domain::{Fen, PovertyStatus, RegionCode};
use guanai_store::funding::{NewRule, NewSource};
use guanai_store::policies::{Channel, EnrolRequest, PolicyQuery, PolicyStatus};

use crate::util::{id_number, FamilySpec, TestApp};

/// A family of three in 兴桥镇 钓源村 (吉州区), with consents.
async fn three_person_family(app: &TestApp, seq: u32) -> (i64, Vec<i64>) {
    app.family(FamilySpec {
        village: "360802100200",
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![
            ("李建国", id_number("19800305", seq * 3 + 1), Relationship::Head),
            ("王秀英", id_number("19820611", seq * 3 + 2), Relationship::Spouse),
            ("李小明", id_number("20080920", seq * 3 + 3), Relationship::Child),
        ],
        consents: true,
    })
    .await
}

async fn policy_count(app: &TestApp) -> u64 {
    app.store
        .policies()
        .search_policies(&app.system(), &PolicyQuery { per_page: 1, ..Default::default() })
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn county_staff_enrol_with_an_add_on_funded_by_three_sources_and_the_insurer_underwrites() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, members) = three_person_family(&app, 1).await;
    let package = app.package("P1N1", 2026).await;
    let county = app.login("demo.county").await;

    let form = app.get(&county, &format!("/families/{family}/enrol")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("基础+住院津贴（1+1）") && form.body.contains("李小明"));

    let package_id = package.id.to_string();
    let mut fields = vec![("package_id", package_id.as_str()), ("shares", "1")];
    let member_ids: Vec<String> = members.iter().map(|m| m.to_string()).collect();
    fields.extend(member_ids.iter().map(|m| ("member", m.as_str())));
    let quote = app.post_form(&county, &format!("/families/{family}/enrol/quote"), &fields).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    // 100 (base, per household) + 3 × 20 (allowance, per person) = 160; the city gives 10,
    // 吉州区 5 and the company 10; the family pays 135.
    assert!(quote.body.contains("data-testid=\"quote-premium\">160.00 元<"), "{}", quote.body);
    for part in [
        "吉安市财政计生保险补助（2026）</td><td class=\"num\">10.00 元",
        "吉州区财政计生保险补助（2026）</td><td class=\"num\">5.00 元",
        "庐陵爱心企业捐助（2026）</td><td class=\"num\">10.00 元",
    ] {
        assert!(quote.body.contains(part), "missing {part}");
    }
    assert!(quote.body.contains("data-testid=\"quote-family-part\">135.00 元<"));
    assert_eq!(policy_count(&app).await, 0, "a quote saves nothing");

    fields.push(("expected_family_part", "13500"));
    fields.push(("submit_now", "1"));
    let created = app.post_form(&county, &format!("/families/{family}/enrol"), &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location().to_owned();
    assert!(location.ends_with("?notice=created"), "{location}");
    let policy_id: i64 =
        location.trim_start_matches("/policies/").split('?').next().unwrap().parse().unwrap();
    let detail = app.store.policies().policy(&app.system(), policy_id).await.unwrap();
    assert_eq!(detail.summary.status, PolicyStatus::Submitted);
    assert_eq!(detail.summary.channel, Channel::Staff);
    assert_eq!(detail.summary.premium, Fen::from_yuan(160));
    let paid_by_sources: i64 =
        detail.funding.iter().filter(|l| l.source_id.is_some()).map(|l| l.amount.get()).sum();
    assert_eq!(paid_by_sources + detail.summary.family_part.get(), detail.summary.premium.get());
    assert_eq!(detail.funding.iter().filter(|l| l.source_id.is_some()).count(), 3);

    // The insurer's county user confirms it with its policy number.
    let branch = app.login("demo.branch").await;
    let listed = app.get(&branch, "/policies?status=submitted").await;
    assert!(listed.body.contains(&format!("/policies/{policy_id}\"")));
    let bad = app
        .post_form(&branch, &format!("/policies/{policy_id}/underwrite"), &[("policy_no", "PJA 2026/1")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("须为1到40位英文字母、数字或短横线"), "{}", bad.body);
    let done = app
        .post_form(&branch, &format!("/policies/{policy_id}/underwrite"), &[("policy_no", "PJA2026000001")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // County staff cannot underwrite.
    let refused =
        app.post_form(&county, &format!("/policies/{policy_id}/underwrite"), &[("policy_no", "X1")]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // The certificate prints, and anyone can check its code, seeing masked data only.
    let certificate = app.get(&county, &format!("/policies/{policy_id}/certificate")).await;
    assert_eq!(certificate.status, StatusCode::OK);
    assert!(certificate.body.contains("PJA2026000001") && certificate.body.contains("2026年9月1日零时起"));
    let code = app.store.policies().policy(&app.system(), policy_id).await.unwrap().cert_code;
    assert!(certificate.body.contains(&code));
    let public = app.get_anonymous(&format!("/verify?code={}", code.to_lowercase())).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("已承保，尚未起保") && public.body.contains("李**户"), "{}", public.body);
    assert!(!public.body.contains("李建国") && !public.body.contains(&id_number("19800305", 4)));
    let unknown = app.get_anonymous("/verify?code=ABCDEFGHJKLM").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_agent_enrols_a_family_in_two_steps_as_its_agent() {
    let app = TestApp::demo().await;
    let (family, members) = three_person_family(&app, 2).await;
    let package = app.package("P1", 2026).await;
    let agent = app.login("demo.agent").await;
    let package_id = package.id.to_string();
    let head = members[0].to_string();
    let fields = [("package_id", package_id.as_str()), ("shares", "1"), ("member", head.as_str())];
    let quote = app.post_form(&agent, &format!("/families/{family}/enrol/quote"), &fields).await;
    assert!(quote.body.contains("第2步"));
    let confirm = app.post_form(&agent, &format!("/families/{family}/enrol"), &fields).await;
    assert_eq!(confirm.status, StatusCode::SEE_OTHER);
    let found = app
        .store
        .policies()
        .search_policies(
            &app.system(),
            &PolicyQuery { family_id: Some(family), per_page: 10, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(found.policies.len(), 1);
    assert_eq!(found.policies[0].channel, Channel::Agent);
    assert_eq!(found.policies[0].premium, Fen::from_yuan(100));
}

#[tokio::test]
async fn eligibility_refusals_name_the_person_and_the_rule_and_save_nothing() {
    let app = TestApp::demo().await;
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "general",
            poverty: PovertyStatus::None,
            members: vec![
                ("张大爷", id_number("19600101", 11), Relationship::Head),
                ("张小宝", id_number("20260101", 12), Relationship::Grandchild),
            ],
            consents: true,
        })
        .await;
    let package = app.package("P1", 2026).await;
    let request = |member_ids: Vec<i64>, shares: u32| EnrolRequest {
        family_id: family,
        package_id: package.id,
        shares,
        member_ids,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let err = app
        .store
        .policies()
        .enrol(&app.system(), &request(members.clone(), 1))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "张大爷在2026年9月1日（起保日）年满66周岁，不在《计生家庭意外伤害保险》的初保年龄1–65周岁之内"
        ),
        "{err}"
    );
    assert!(err.contains("张小宝在2026年9月1日（起保日）年满0周岁"), "{err}");
    let err = app
        .store
        .policies()
        .enrol(&app.system(), &request(vec![members[0]], 3))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("每户可投1–2份"), "{err}");
    let err = app.store.policies().enrol(&app.system(), &request(vec![], 1)).await.unwrap_err().to_string();
    assert!(err.contains("请至少选择一名被保险人"), "{err}");
    // A request naming thousands of ids is refused before anything is read for them.
    let many: Vec<i64> = (1..=5_000).collect();
    let err = app.store.policies().enrol(&app.system(), &request(many, 1)).await.unwrap_err().to_string();
    assert!(err.contains("一次参保最多选择50名被保险人"), "{err}");
    assert_eq!(policy_count(&app).await, 0);
}

#[tokio::test]
async fn renewal_ages_apply_to_those_insured_last_year() {
    let app = TestApp::demo_in_season(2025).await;
    let system = app.system();
    guanai::demo::catalog::products_and_packages(&app.store, &system, 2025).await.unwrap();
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "general",
            poverty: PovertyStatus::None,
            members: vec![("赵老汉", id_number("19600601", 21), Relationship::Head)],
            consents: true,
        })
        .await;
    // 65 on 2025-09-01: first insurance allowed; 66 on 2026-09-01: renewal only.
    let request = |package_id| EnrolRequest {
        family_id: family,
        package_id,
        shares: 1,
        member_ids: members.clone(),
        channel: Channel::Staff,
        expected_family_part: None,
    };
    app.store.policies().enrol(&system, &request(app.package("P1", 2025).await.id)).await.unwrap();
    app.store.clock().set(crate::util::season_clock(2026).now());
    let id = app.store.policies().enrol(&system, &request(app.package("P1", 2026).await.id)).await.unwrap();
    let detail = app.store.policies().policy(&system, id).await.unwrap();
    assert_eq!(detail.members[0].age_at_start, 66);
}

#[tokio::test]
async fn one_person_cannot_be_covered_twice_by_the_same_product_in_a_year() {
    let app = TestApp::demo().await;
    let (family, members) = three_person_family(&app, 3).await;
    let system = app.system();
    let request = |package_id| EnrolRequest {
        family_id: family,
        package_id,
        shares: 1,
        member_ids: members.clone(),
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let first =
        app.store.policies().enrol(&system, &request(app.package("P1", 2026).await.id)).await.unwrap();
    let err = app
        .store
        .policies()
        .enrol(&system, &request(app.package("P1N1", 2026).await.id))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("李建国已在2026年度参保《计生家庭意外伤害保险》"), "{err}");
    assert_eq!(policy_count(&app).await, 1);
    // Cancelling gives the cover and the funding back.
    let before = app.store.funding().sources(&system, Some(2026)).await.unwrap();
    app.store.policies().cancel_policy(&system, first, "录入错误").await.unwrap();
    let after = app.store.funding().sources(&system, Some(2026)).await.unwrap();
    let allocated =
        |list: &[guanai_store::funding::Source]| list.iter().map(|s| s.allocated.get()).sum::<i64>();
    assert_eq!(allocated(&before) - allocated(&after), 2_500, "10 + 5 + 10 元 returned");
    app.store.policies().enrol(&system, &request(app.package("P1N1", 2026).await.id)).await.unwrap();
}

#[tokio::test]
async fn submitting_needs_consents_and_a_guardian_for_children_under_fourteen() {
    let app = TestApp::demo().await;
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![
                ("陈父", id_number("19850101", 31), Relationship::Head),
                ("陈娃", id_number("20180101", 32), Relationship::Child),
            ],
            consents: false,
        })
        .await;
    let system = app.system();
    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: members.clone(),
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let id = app.store.policies().enrol(&system, &request).await.unwrap();
    let err = app.store.policies().submit_policy(&system, id).await.unwrap_err().to_string();
    assert!(err.contains("同意处理个人信息") && err.contains("同意向保险公司提供个人信息"), "{err}");
    assert!(err.contains("陈娃未满14周岁，缺少监护人同意"), "{err}");
    use guanai_store::families::ConsentKind;
    app.store
        .families()
        .record_consent(&system, family, ConsentKind::Processing, None, "陈父")
        .await
        .unwrap();
    app.store
        .families()
        .record_consent(&system, family, ConsentKind::InsurerSharing, None, "陈父")
        .await
        .unwrap();
    let err = app.store.policies().submit_policy(&system, id).await.unwrap_err().to_string();
    assert!(!err.contains("同意处理个人信息") && err.contains("陈娃未满14周岁"), "{err}");
    app.store
        .families()
        .record_consent(&system, family, ConsentKind::Guardian, Some(members[1]), "陈父")
        .await
        .unwrap();
    app.store.policies().submit_policy(&system, id).await.unwrap();
    assert_eq!(
        app.store.policies().policy(&system, id).await.unwrap().summary.status,
        PolicyStatus::Submitted
    );
}

#[tokio::test]
async fn a_changed_budget_between_quote_and_confirm_is_refused_and_changes_nothing() {
    let app = TestApp::demo().await;
    let (family, members) = three_person_family(&app, 4).await;
    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: vec![members[0]],
        channel: Channel::Staff,
        expected_family_part: Some(Fen::from_yuan(50)),
    };
    let err = app.store.policies().enrol(&app.system(), &request).await.unwrap_err().to_string();
    assert!(err.contains("资金情况已有变化：家庭应缴由 50.00 元 变为 75.00 元"), "{err}");
    assert_eq!(policy_count(&app).await, 0);
    let sources = app.store.funding().sources(&app.system(), Some(2026)).await.unwrap();
    assert!(sources.iter().all(|s| s.allocated == Fen::ZERO));
}

#[tokio::test]
async fn concurrent_enrolments_never_overspend_a_small_budget() {
    let app = TestApp::demo().await;
    let system = app.system();
    let source = app
        .store
        .funding()
        .create_source(
            &system,
            NewSource {
                name: "小额测试基金".to_owned(),
                kind: FundingKind::Donation,
                payer: "测试".to_owned(),
                uscc: None,
                year: 2026,
                region: RegionCode::parse("3608").unwrap(),
                pledged: Fen::from_yuan(450),
            },
        )
        .await
        .unwrap();
    app.store
        .funding()
        .create_rule(
            &system,
            NewRule {
                source_id: source,
                name: "三孩家庭全额".to_owned(),
                priority: 0,
                scope: RuleScope { category: Some("three_child".to_owned()), ..Default::default() },
                amount: SubsidyAmount::All,
            },
        )
        .await
        .unwrap();
    let package = app.package("P1", 2026).await.id;
    let mut requests = Vec::new();
    for seq in 0..16 {
        let (family, members) = app
            .family(FamilySpec {
                village: "360802100201",
                category: "three_child",
                poverty: PovertyStatus::None,
                members: vec![("并发户", id_number("19900101", 100 + seq), Relationship::Head)],
                consents: true,
            })
            .await;
        requests.push(EnrolRequest {
            family_id: family,
            package_id: package,
            shares: 1,
            member_ids: members,
            channel: Channel::Staff,
            expected_family_part: None,
        });
    }
    let mut tasks = Vec::new();
    for request in requests {
        let store = app.store.clone();
        let actor = system.clone();
        tasks.push(tokio::spawn(async move { store.policies().enrol(&actor, &request).await }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(err) => {
                assert!(err.to_string().contains("预算不足"), "only budget conflicts may fail: {err}")
            }
        }
    }
    assert!(created >= 4, "the budget pays four and a half premiums: {created} created");
    let ledger = app.store.funding().ledger(&system, source).await.unwrap();
    assert!(ledger.source.allocated <= ledger.source.pledged, "over-allocated: {:?}", ledger.source);
    let paid: i64 = ledger.lines.iter().map(|l| l.amount.get()).sum();
    assert_eq!(paid, ledger.source.allocated.get(), "the ledger matches what was allocated");
    let full = ledger.lines.iter().filter(|l| l.amount == Fen::from_yuan(100)).count();
    assert_eq!(full, 4, "four families paid in full, then one in part");
}

#[tokio::test]
async fn family_payments_cannot_exceed_what_is_owed_or_reuse_a_receipt() {
    let app = TestApp::demo().await;
    let (family, members) = three_person_family(&app, 5).await;
    let system = app.system();
    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: vec![members[0]],
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let id = app.store.policies().enrol(&system, &request).await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let err = app
        .store
        .policies()
        .record_payment(&system, id, Fen::from_yuan(80), "cash_agent", "R001", today)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("不超过待缴的 75.00 元"), "{err}");
    app.store
        .policies()
        .record_payment(&system, id, Fen::from_yuan(50), "cash_agent", "R001", today)
        .await
        .unwrap();
    let err = app
        .store
        .policies()
        .record_payment(&system, id, Fen::from_yuan(25), "cash_agent", "R001", today)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("收据号“R001”已经登记过"), "{err}");
    app.store
        .policies()
        .record_payment(&system, id, Fen::from_yuan(25), "bank_transfer", "R002", today)
        .await
        .unwrap();
    assert_eq!(app.store.policies().policy(&system, id).await.unwrap().summary.paid, Fen::from_yuan(75));
}

/// The public check names the policy's state instead of calling every genuine code valid:
/// a draft, a policy waiting for the insurer, one in force (or not yet started), one
/// cancelled before underwriting and one surrendered after.
#[tokio::test]
async fn the_public_certificate_check_says_what_state_the_policy_is_in() {
    let app = TestApp::demo().await;
    let system = app.system();
    let insurer = system.clone().acting_as(guanai_domain::Role::InsurerCity);
    let mut ids = Vec::new();
    for seq in 10..15 {
        let (family, members) = three_person_family(&app, seq).await;
        let request = EnrolRequest {
            family_id: family,
            package_id: app.package("P1", 2026).await.id,
            shares: 1,
            member_ids: members,
            channel: Channel::Staff,
            expected_family_part: None,
        };
        ids.push(app.store.policies().enrol(&system, &request).await.unwrap());
    }
    let (draft, waiting, in_force, withdrawn, surrendered) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
    for id in [waiting, in_force, surrendered] {
        app.store.policies().submit_policy(&system, id).await.unwrap();
    }
    app.store.policies().underwrite_policy(&insurer, in_force, "PJA2026000010").await.unwrap();
    app.store.policies().underwrite_policy(&insurer, surrendered, "PJA2026000011").await.unwrap();
    app.store.policies().cancel_policy(&system, withdrawn, "录入错误").await.unwrap();
    app.store.policies().cancel_policy(&insurer, surrendered, "家庭申请退保").await.unwrap();

    // The app's day, not the machine's: after 16:00 UTC China is a day ahead already.
    let today = app.store.today();
    let underwritten = app.store.policies().policy(&system, in_force).await.unwrap().summary;
    let started = underwritten.start_date <= today;
    let check = |id: i64| {
        let app = &app;
        async move {
            let code = app.store.policies().policy(&app.system(), id).await.unwrap().cert_code;
            let page = app.get_anonymous(&format!("/verify?code={code}")).await;
            assert_eq!(page.status, StatusCode::OK);
            let at = page.body.find("data-testid=\"verify-state\"").expect("a verdict");
            let start = page.body[..at].rfind("<p").unwrap();
            page.body[start..].split("</p>").next().unwrap().to_owned()
        }
    };
    let cases = [
        (draft, "草稿，未生效", "tag red", "尚未提交承保"),
        (waiting, "待承保，未生效", "tag orange", "尚待保险公司承保"),
        (withdrawn, "已撤销，未生效", "tag red", "从未生效"),
        (surrendered, "已退保（已注销）", "tag red", "凭证作废"),
    ];
    for (id, label, tag, words) in cases {
        let verdict = check(id).await;
        assert!(
            verdict.contains(label) && verdict.contains(tag) && verdict.contains(words),
            "{label}: {verdict}"
        );
        assert!(!verdict.contains("有效"), "{label} is not valid: {verdict}");
        assert!(verdict.starts_with("<p class=\"alert\""), "shown as a warning: {verdict}");
    }
    let verdict = check(in_force).await;
    if started {
        assert!(
            verdict.contains("凭证真实有效")
                && verdict.contains(">有效（保障中）<")
                && verdict.contains("tag green"),
            "{verdict}"
        );
    } else {
        assert!(verdict.contains("已承保，尚未起保") && verdict.contains("tag green"), "{verdict}");
    }
    // The API answers with the same state.
    let code = app.store.policies().policy(&system, surrendered).await.unwrap().cert_code;
    let api = app.get_anonymous(&format!("/api/v1/verify/{code}")).await.json();
    assert_eq!(api["state"], "surrendered", "{api}");
}
