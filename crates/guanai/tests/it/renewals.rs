//! Renewal season: the due list, one-step renewal under next year's terms, renewing twice,
//! the API and pages of both. Families are enrolled for 2026 in its season (20 August
//! 2026), underwritten, and the clock then moved into 2027's renewal season.

use axum::http::StatusCode;
use chrono::NaiveDate;
use guanai_domain::families::Relationship;
use guanai_domain::funding::{FundingKind, RuleScope, SubsidyAmount};
use guanai_domain::products::{CoverItem, LatePremium, LateStart, PremiumBasis, ProductTerms};
use guanai_domain::{Fen, PovertyStatus, RegionCode, Role};
use guanai_store::families::ConsentKind;
use guanai_store::funding::{NewRule, NewSource};
use guanai_store::policies::{Channel, EnrolRequest, PolicyQuery, PolicyStatus};
use guanai_store::products::{NewPackage, NewProduct, ProductKind};
use guanai_store::renewals::{DuePolicy, DueQuery, MemberChange, RenewRequest, RenewalState};
use guanai_store::{Actor, StoreError};

use crate::util::{id_number, FamilySpec, TestApp};

/// 钓源村 and 东塘村 in 兴桥镇 (吉州区); 新生社区 in 青原区, another county.
pub const VILLAGE: &str = "360802100200";
pub const OTHER_VILLAGE: &str = "360802100201";
pub const OTHER_COUNTY_VILLAGE: &str = "360803001003";

pub struct Season {
    pub app: TestApp,
    pub system: Actor,
    pub insurer: Actor,
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The demo city on 20 August 2026, before the 2026 scheme starts.
pub async fn season() -> Season {
    let app = TestApp::demo_in_season(2026).await;
    let system = app.system();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    Season { app, system, insurer }
}

impl Season {
    /// Moves the clock to 10:00 in China on that day.
    pub fn move_to(&self, date: NaiveDate) {
        let clock = guanai_domain::Clock::fixed_in_china(date, 10, 0);
        assert!(self.app.store.clock().set(clock.now()));
    }

    /// A family with these members (name, birth `YYYYMMDD`), the first the head, consents
    /// given (a guardian's for each child); enrolled in 2026's P1 with the members `insured`
    /// (indexes), submitted and underwritten. Returns the family, its members and the policy.
    pub async fn insured_family(
        &self,
        village: &str,
        poverty: PovertyStatus,
        members: &[(&str, &str)],
        insured: &[usize],
        seq: u32,
    ) -> (i64, Vec<i64>, i64) {
        let spec_members = members
            .iter()
            .enumerate()
            .map(|(i, (name, birth))| {
                let relationship = if i == 0 { Relationship::Head } else { Relationship::Child };
                (*name, id_number(birth, seq * 10 + i as u32), relationship)
            })
            .collect();
        let spec =
            FamilySpec { village, category: "only_child", poverty, members: spec_members, consents: true };
        let (family, ids) = self.app.family(spec).await;
        for (i, (_, birth)) in members.iter().enumerate() {
            if birth[..4].parse::<i32>().unwrap() >= 2013 {
                self.app
                    .store
                    .families()
                    .record_consent(&self.system, family, ConsentKind::Guardian, Some(ids[i]), members[0].0)
                    .await
                    .unwrap();
            }
        }
        let policy = self.insured_policy(family, insured.iter().map(|i| ids[*i]).collect()).await;
        (family, ids, policy)
    }

    /// A 2026 P1 policy of `family` for the persons `member_ids`, submitted and underwritten.
    pub async fn insured_policy(&self, family: i64, member_ids: Vec<i64>) -> i64 {
        let request = EnrolRequest {
            family_id: family,
            package_id: self.app.package("P1", 2026).await.id,
            shares: 1,
            member_ids,
            channel: Channel::Staff,
            expected_family_part: None,
        };
        let policy = self.app.store.policies().enrol(&self.system, &request).await.expect("enrol 2026");
        self.app.store.policies().submit_policy(&self.system, policy).await.unwrap();
        let no = format!("PJA2026{policy:08}");
        self.app.store.policies().underwrite_policy(&self.insurer, policy, &no).await.unwrap();
        policy
    }

    /// Next year's catalog: the base product (same code) at `premium` 元 with a renewal age
    /// limit of `renewal_age_max`, its package P1, and 2027's funding: the city 10 元 a
    /// household, and a birth-care fund of `care_budget` 元 paying in full for poverty
    /// households. Returns the fund's id.
    pub async fn next_year(&self, premium: i64, renewal_age_max: u32, care_budget: i64) -> i64 {
        let store = &self.app.store;
        let terms = ProductTerms {
            premium: Fen::from_yuan(premium),
            basis: PremiumBasis::PerHouseholdShare,
            min_shares: 1,
            max_shares: 2,
            max_members: 6,
            first_age_min: 1,
            first_age_max: renewal_age_max.min(65),
            renewal_age_max,
            start_date: day(2027, 9, 1),
            term_months: 12,
            items: vec![CoverItem::AccidentDeathDisability { family_sum: Fen::from_yuan(150_000) }],
            sales_end: None,
            late_start: LateStart::AfterUnderwriting,
            late_premium: LatePremium::Full,
        };
        let base = store
            .products()
            .create_product(
                &self.system,
                NewProduct {
                    code: "JSJT".to_owned(),
                    year: 2027,
                    name: "计生家庭意外伤害保险（2027版）".to_owned(),
                    kind: ProductKind::Base,
                    insurer_org_id: None,
                    terms,
                },
            )
            .await
            .unwrap();
        let package = NewPackage {
            code: "P1".to_owned(),
            year: 2027,
            name: "基础保障2027".to_owned(),
            base_product_id: base,
            addon_ids: vec![],
        };
        store.products().create_package(&self.system, package).await.unwrap();
        let source = |name: &str, kind, pledged: i64| NewSource {
            name: name.to_owned(),
            kind,
            payer: "吉安市".to_owned(),
            uscc: None,
            year: 2027,
            region: RegionCode::parse("3608").unwrap(),
            pledged: Fen::from_yuan(pledged),
        };
        let city = store
            .funding()
            .create_source(&self.system, source("市财政（2027）", FundingKind::Government, 1_000_000))
            .await
            .unwrap();
        let rule = NewRule {
            source_id: city,
            name: "每户10元".to_owned(),
            priority: 10,
            scope: RuleScope::default(),
            amount: SubsidyAmount::PerHousehold(Fen::from_yuan(10)),
        };
        store.funding().create_rule(&self.system, rule).await.unwrap();
        let care = store
            .funding()
            .create_source(
                &self.system,
                source("生育关怀基金（2027）", FundingKind::BirthCareFund, care_budget),
            )
            .await
            .unwrap();
        let rule = NewRule {
            source_id: care,
            name: "脱贫户全额".to_owned(),
            priority: 1,
            scope: RuleScope { poverty: Some(PovertyStatus::Lifted), ..Default::default() },
            amount: SubsidyAmount::All,
        };
        store.funding().create_rule(&self.system, rule).await.unwrap();
        care
    }

    pub fn renew_request(&self, policy_id: i64) -> RenewRequest {
        RenewRequest {
            policy_id,
            member_ids: None,
            expected_family_part: None,
            channel: Channel::Agent,
            payment: None,
            settings: Default::default(),
        }
    }

    /// The family's policies of `year`, not cancelled.
    pub async fn policies_of(&self, family: i64, year: i32) -> Vec<i64> {
        let query =
            PolicyQuery { family_id: Some(family), year: Some(year), per_page: 100, ..Default::default() };
        let page = self.app.store.policies().search_policies(&self.system, &query).await.unwrap();
        page.policies.into_iter().filter(|p| p.status != PolicyStatus::Cancelled).map(|p| p.id).collect()
    }
}

/// A family of three: the head (46), an elder who is 65 at 2026's start and 66 at 2027's,
/// and a baby born in March 2026 (under one in 2026, one in 2027); the head and the elder
/// insured in 2026.
pub async fn three_generations(season: &Season, seq: u32) -> (i64, Vec<i64>, i64) {
    season
        .insured_family(
            VILLAGE,
            PovertyStatus::None,
            &[("张建国", "19800115"), ("张老汉", "19610601"), ("张小宝", "20260301")],
            &[0, 1],
            seq,
        )
        .await
}

#[tokio::test]
async fn the_due_list_shows_each_member_under_next_years_terms_and_what_the_family_pays() {
    let s = season().await;
    let (family, ids, policy) = three_generations(&s, 1).await;
    // Due from 2 July 2027 (60 days before 31 August): not yet on 1 July.
    s.move_to(day(2027, 7, 1));
    let query = DueQuery { per_page: 50, ..Default::default() };
    assert_eq!(s.app.store.renewals().due_list(&s.system, &query).await.unwrap().total, 0);
    s.move_to(day(2027, 8, 1));
    // Next year's terms: 120 元, and a renewal age limit of 65 (this year's is 70).
    s.next_year(120, 65, 100_000).await;
    let page = s.app.store.renewals().due_list(&s.system, &query).await.unwrap();
    assert_eq!(page.total, 1);
    let due = &page.policies[0];
    assert_eq!((due.policy_id, due.family_id, due.state), (policy, family, RenewalState::Due));
    assert_eq!(due.end_date, day(2027, 8, 31));
    assert_eq!(due.last_renewal_day, day(2027, 9, 30));
    let change = |id: i64| due.members.iter().find(|m| m.person_id == id).unwrap();
    assert_eq!(change(ids[0]).change, MemberChange::Kept);
    assert_eq!(change(ids[1]).change, MemberChange::Refused);
    assert_eq!(
        change(ids[1]).rule.as_deref(),
        Some(
            "张老汉在2027年9月1日（起保日）年满66周岁，超过《计生家庭意外伤害保险（2027版）》的续保年龄上限65周岁"
        )
    );
    assert_eq!(change(ids[2]).change, MemberChange::Newborn);
    let next = due.next.as_ref().expect("next year's terms");
    assert_eq!(next.year, 2027);
    assert_eq!(next.start_date, day(2027, 9, 1));
    assert_eq!(next.member_ids, vec![ids[0], ids[2]]);
    assert_eq!(next.premium, Fen::from_yuan(120));
    // 2027's rules only: the city's 10 元 (2026's county and company parts are not there).
    assert_eq!(next.family_part, Fen::from_yuan(110));
    // Filters: renewed ones only, another region, another package.
    let renewed = DueQuery { open: Some(false), ..query.clone() };
    assert_eq!(s.app.store.renewals().due_list(&s.system, &renewed).await.unwrap().total, 0);
    let elsewhere = DueQuery { region: Some(RegionCode::parse("360803").unwrap()), ..query.clone() };
    assert_eq!(s.app.store.renewals().due_list(&s.system, &elsewhere).await.unwrap().total, 0);
    let other_package = DueQuery { package_code: Some("P1N1".to_owned()), ..query.clone() };
    assert_eq!(s.app.store.renewals().due_list(&s.system, &other_package).await.unwrap().total, 0);
    // In the grace period, then lapsed (past 30 September), then out of the list.
    s.move_to(day(2027, 9, 15));
    let page = s.app.store.renewals().due_list(&s.system, &query).await.unwrap();
    assert_eq!(page.policies[0].state, RenewalState::InGrace);
    s.move_to(day(2027, 10, 31));
    assert_eq!(s.app.store.renewals().due_list(&s.system, &query).await.unwrap().total, 0);
}

/// A family with two policies due on one page (the head on one, the spouse on the other):
/// each policy keeps whom it insured and offers the other as an added member, and the
/// family's members are listed once on each, however its policies fall on the page.
#[tokio::test]
async fn each_of_a_familys_two_due_policies_keeps_whom_it_insured() {
    let s = season().await;
    let (family, ids, first) = s
        .insured_family(
            VILLAGE,
            PovertyStatus::None,
            &[("钱两单", "19800115"), ("孙两单", "19820310")],
            &[0],
            11,
        )
        .await;
    // The spouse's own policy.
    let second = s.insured_policy(family, vec![ids[1]]).await;
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 70, 100_000).await;
    let changes = |due: &DuePolicy| -> Vec<(i64, MemberChange)> {
        due.members.iter().map(|m| (m.person_id, m.change)).collect()
    };
    let expected = |policy: i64| {
        if policy == first {
            vec![(ids[0], MemberChange::Kept), (ids[1], MemberChange::Added)]
        } else {
            vec![(ids[0], MemberChange::Added), (ids[1], MemberChange::Kept)]
        }
    };
    // Both on one page, and each on a page of its own.
    let query = DueQuery { per_page: 50, ..Default::default() };
    let page = s.app.store.renewals().due_list(&s.system, &query).await.unwrap();
    let mut listed: Vec<i64> = page.policies.iter().map(|p| p.policy_id).collect();
    listed.sort_unstable();
    assert_eq!(listed, vec![first, second]);
    for due in &page.policies {
        assert_eq!(changes(due), expected(due.policy_id), "policy {} on one page", due.policy_id);
    }
    for policy in [first, second] {
        let due = s.app.store.renewals().due_policy_of(&s.system, policy, &Default::default()).await.unwrap();
        assert_eq!(changes(&due), expected(policy), "policy {policy} alone");
    }
}

/// A family that enrolled late (its cover began in October, weeks after the scheme's
/// start) with a baby who was under one on the scheme's start: the baby was too young for
/// last year's cover, so renewal adds it as a newborn, not as an ordinary new member.
#[tokio::test]
async fn a_newborn_is_told_by_last_years_start_date_not_by_a_late_policys_cover_start() {
    let s = season().await;
    s.move_to(day(2026, 10, 15));
    let (_, ids, policy) = s
        .insured_family(
            VILLAGE,
            PovertyStatus::None,
            &[("赵晚保", "19800115"), ("赵小妹", "20251001")],
            &[0],
            8,
        )
        .await;
    let cover = s.app.store.policies().policy(&s.system, policy).await.unwrap().summary.start_date;
    assert!(cover > day(2026, 10, 1), "a late policy: cover from {cover}");
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 70, 100_000).await;
    let due = s.app.store.renewals().due_policy_of(&s.system, policy, &Default::default()).await.unwrap();
    let baby = due.members.iter().find(|m| m.person_id == ids[1]).unwrap();
    // Under one on 1 September 2026 (11 months), though one when the late cover began.
    assert_eq!(baby.change, MemberChange::Newborn);
    assert_eq!(baby.change.label(), "新增（新生儿）");
}

#[tokio::test]
async fn renewing_takes_next_years_terms_links_last_years_policy_and_happens_once() {
    let s = season().await;
    let (family, ids, policy) = three_generations(&s, 2).await;
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 65, 100_000).await;
    // Asking to insure the elder names the rule that refuses him.
    let with_elder = RenewRequest { member_ids: Some(ids.clone()), ..s.renew_request(policy) };
    let refused = s.app.store.renewals().renewal_quote(&s.system, &with_elder).await.unwrap_err();
    assert!(
        refused.to_string().contains("超过《计生家庭意外伤害保险（2027版）》的续保年龄上限65周岁"),
        "{refused}"
    );
    // A family part seen before a change is refused: the user looks again.
    let stale = RenewRequest { expected_family_part: Some(Fen::from_yuan(100)), ..s.renew_request(policy) };
    assert!(matches!(s.app.store.renewals().renew(&s.system, &stale).await, Err(StoreError::Conflict(_))));
    assert!(s.policies_of(family, 2027).await.is_empty(), "nothing written");

    let quote = s.app.store.renewals().renewal_quote(&s.system, &s.renew_request(policy)).await.unwrap();
    assert_eq!(quote.quote.family_part, Fen::from_yuan(110));
    let paid = RenewRequest {
        expected_family_part: Some(quote.quote.family_part),
        payment: Some(("cash_agent".to_owned(), "XB-2027-001".to_owned())),
        ..s.renew_request(policy)
    };
    let renewed = s.app.store.renewals().renew(&s.system, &paid).await.unwrap();
    assert_eq!(renewed.previous_policy_id, policy);
    assert_eq!(renewed.status, PolicyStatus::Submitted, "{:?}", renewed.note);
    assert_eq!(
        (renewed.premium, renewed.family_part, renewed.paid),
        (Fen::from_yuan(120), Fen::from_yuan(110), Fen::from_yuan(110))
    );
    let detail = s.app.store.policies().policy(&s.system, renewed.policy_id).await.unwrap();
    assert_eq!((detail.summary.year, detail.summary.start_date), (2027, day(2027, 9, 1)));
    assert_eq!(detail.summary.end_date, day(2028, 8, 31));
    assert_eq!(detail.summary.paid, Fen::from_yuan(110));
    let mut insured: Vec<i64> = detail.members.iter().map(|m| m.person_id).collect();
    insured.sort_unstable();
    assert_eq!(insured, vec![ids[0], ids[2]]);
    assert!(detail.funding.iter().any(|l| l.name == "市财政（2027）"), "{:?}", detail.funding);

    // The due list says so, and a second renewal is a conflict that writes nothing.
    let query = DueQuery { per_page: 50, ..Default::default() };
    let due = s.app.store.renewals().due_list(&s.system, &query).await.unwrap();
    assert_eq!(due.policies[0].state, RenewalState::Renewed);
    assert_eq!(due.policies[0].renewed_policy_id, Some(renewed.policy_id));
    let again = s.app.store.renewals().renew(&s.system, &s.renew_request(policy)).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(ref m) if m.contains("已经续保")), "{again}");
    assert_eq!(s.policies_of(family, 2027).await, vec![renewed.policy_id]);
}

#[tokio::test]
async fn a_renewal_adding_a_child_without_a_guardians_consent_stays_a_draft_naming_the_child() {
    let s = season().await;
    let (family, ids, policy) = three_generations(&s, 4).await;
    // The baby (under 14) is added by renewal; its guardian's consent is withdrawn first.
    s.app
        .store
        .families()
        .withdraw_consent(&s.system, family, ConsentKind::Guardian, Some(ids[2]))
        .await
        .unwrap();
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 65, 100_000).await;
    let renewed = s.app.store.renewals().renew(&s.system, &s.renew_request(policy)).await.unwrap();
    assert_eq!(renewed.status, PolicyStatus::Draft);
    let note = renewed.note.expect("why it is a draft");
    assert!(note.contains("张小宝未满14周岁，缺少监护人同意"), "{note}");
    assert!(!note.contains("张建国"), "the adult needs no guardian: {note}");
    assert_eq!(s.policies_of(family, 2027).await, vec![renewed.policy_id]);
}

#[tokio::test]
async fn two_renewals_of_one_policy_at_once_make_one_policy() {
    let s = season().await;
    let (family, ids, policy) = three_generations(&s, 3).await;
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 70, 100_000).await;
    // Different members each time, so only the renewal link can tell them apart.
    let first = RenewRequest { member_ids: Some(vec![ids[0]]), ..s.renew_request(policy) };
    let second = RenewRequest { member_ids: Some(vec![ids[1]]), ..s.renew_request(policy) };
    let store = &s.app.store;
    let (a, b) =
        tokio::join!(store.renewals().renew(&s.system, &first), store.renewals().renew(&s.system, &second));
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let refused = a.err().or(b.err()).unwrap();
    assert!(matches!(refused, StoreError::Conflict(_)), "{refused}");
    assert_eq!(s.policies_of(family, 2027).await.len(), 1);
    // Budgets: the loser's allocation was rolled back with it.
    let sources = store.funding().sources(&s.system, Some(2027)).await.unwrap();
    let city = sources.iter().find(|x| x.name == "市财政（2027）").unwrap();
    assert_eq!(city.allocated, Fen::from_yuan(10));
}

#[tokio::test]
async fn a_policy_not_due_yet_or_not_set_up_next_year_cannot_be_renewed() {
    let s = season().await;
    let (_, _, policy) = three_generations(&s, 4).await;
    s.move_to(day(2027, 6, 1));
    let early = s.app.store.renewals().renew(&s.system, &s.renew_request(policy)).await.unwrap_err();
    assert!(early.to_string().contains("还未到续保期"), "{early}");
    s.move_to(day(2027, 8, 1));
    let missing = s.app.store.renewals().renew(&s.system, &s.renew_request(policy)).await.unwrap_err();
    assert!(missing.to_string().contains("2027年度的“基础保障（1+0）”方案尚未设立"), "{missing}");
}

#[tokio::test]
async fn the_api_lists_quotes_and_renews_within_the_callers_region_only() {
    let s = season().await;
    let (_, ids, policy) = three_generations(&s, 5).await;
    let (_, _, elsewhere) =
        s.insured_family(OTHER_COUNTY_VILLAGE, PovertyStatus::None, &[("王五", "19700101")], &[0], 6).await;
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 65, 100_000).await;
    let agent = s.app.login("demo.agent").await;
    let list = s.app.get(&agent, "/api/v1/renewals/due").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let json = list.json();
    assert_eq!(json["total"], 1, "the agent sees 兴桥镇 only: {json}");
    assert_eq!(json["policies"][0]["policy_id"], policy);
    assert_eq!(json["policies"][0]["next"]["family_part"], 11000);
    let bad = s.app.get(&agent, "/api/v1/renewals/due?state=gone").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("未知的续保状态"));

    let quote_path = format!("/api/v1/renewals/due/{policy}/quote");
    let with_elder = serde_json::json!({ "member_ids": ids });
    let refused = s.app.post_json(&agent, &quote_path, with_elder).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("续保年龄上限65周岁"));
    let quote = s.app.post_json(&agent, &quote_path, serde_json::json!({})).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert_eq!(quote.json()["quote"]["premium"], 12000);

    // Another county's policy is not found, and the attempt is logged.
    let other = s
        .app
        .post_json(&agent, &format!("/api/v1/renewals/due/{elsewhere}/renew"), serde_json::json!({}))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    // A supervisor may look but not renew.
    let supervisor = s.app.login("demo.supervisor").await;
    assert_eq!(s.app.get(&supervisor, "/api/v1/renewals/due").await.status, StatusCode::OK);
    let denied = s
        .app
        .post_json(&supervisor, &format!("/api/v1/renewals/due/{policy}/renew"), serde_json::json!({}))
        .await;
    assert_eq!(
        denied.status,
        StatusCode::NOT_FOUND,
        "answered as a page the role may not use: {}",
        denied.body
    );

    let path = format!("/api/v1/renewals/due/{policy}/renew");
    let body = serde_json::json!({ "expected_family_part_fen": 11000, "payment_method": "cash_agent" });
    let no_receipt = s.app.post_json(&agent, &path, body).await;
    assert_eq!(no_receipt.status, StatusCode::BAD_REQUEST);
    let renewed =
        s.app.post_json(&agent, &path, serde_json::json!({ "expected_family_part_fen": 11000 })).await;
    assert_eq!(renewed.status, StatusCode::CREATED, "{}", renewed.body);
    assert_eq!(renewed.json()["paid"], 0, "to be collected");
    let again = s.app.post_json(&agent, &path, serde_json::json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let new_id = renewed.json()["policy_id"].as_i64().unwrap();
    let channel = s.app.store.policies().policy(&s.system, new_id).await.unwrap().summary.channel;
    assert_eq!(channel, Channel::Agent);
}

#[tokio::test]
async fn an_agent_renews_on_the_pages_in_two_steps_and_the_list_exports() {
    let s = season().await;
    let (_, ids, policy) = three_generations(&s, 7).await;
    s.move_to(day(2027, 8, 1));
    s.next_year(120, 65, 100_000).await;
    let agent = s.app.login("demo.agent").await;
    let list = s.app.get(&agent, "/renewals").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&format!("href=\"/renewals/due/{policy}\"")), "{}", list.body);
    assert!(list.body.contains("张小宝 新增（新生儿）"));
    let form = s.app.get(&agent, &format!("/renewals/due/{policy}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("超过《计生家庭意外伤害保险（2027版）》的续保年龄上限65周岁"));
    let (head, elder, baby) = (ids[0].to_string(), ids[1].to_string(), ids[2].to_string());
    // Ticking the elder anyway: the form comes back with the rule, 400.
    let quote_path = format!("/renewals/due/{policy}/quote");
    let fields = [("members_chosen", "1"), ("member", head.as_str()), ("member", elder.as_str())];
    let back = s.app.post_form(&agent, &quote_path, &fields).await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST);
    assert!(back.body.contains("续保年龄上限65周岁"));
    let fields = [("members_chosen", "1"), ("member", head.as_str()), ("member", baby.as_str())];
    let quote = s.app.post_form(&agent, &quote_path, &fields).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert!(quote.body.contains("110.00 元"), "{}", quote.body);
    let fields = [
        ("members_chosen", "1"),
        ("member", head.as_str()),
        ("member", baby.as_str()),
        ("expected_family_part", "11000"),
        ("payment_method", "cash_agent"),
        ("receipt_no", "XB-001"),
    ];
    let done = s.app.post_form(&agent, &format!("/renewals/due/{policy}"), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location().starts_with("/policies/"), "{}", done.location());
    let again = s.app.post_form(&agent, &format!("/renewals/due/{policy}"), &fields).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("已经续保"));

    let county = s.app.login("demo.county").await;
    let export = s.app.get(&county, "/renewals/export.xlsx").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.headers["content-disposition"].to_str().unwrap().contains("renewals-due.xlsx"));
    assert_eq!(
        s.app
            .audit_entries("demo.county", "ok")
            .await
            .iter()
            .filter(|e| e.action == "renewal.export")
            .count(),
        1
    );
}
