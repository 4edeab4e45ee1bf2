//! Renewal season, continued: batch renewal of fully funded families (preview, budgets,
//! all or nothing, concurrent with one-step renewals on the same source), the lapse
//! follow-ups on the agent's to-do list, and the renewal rate against a direct count.

use axum::http::StatusCode;
use guanai_domain::renewals::{FollowUpStatus, LapseOutcome, SeasonSettings};
use guanai_domain::{Fen, Password, PovertyStatus, RegionCode, Role, Username};
use guanai_store::policies::{Channel, EnrolRequest, PolicyQuery, PolicyStatus};
use guanai_store::renewals::BatchQuery;
use guanai_store::users::NewUser;
use guanai_store::StoreError;

use crate::renewals::{day, season, Season, OTHER_VILLAGE, VILLAGE};
use crate::roster::every_foreign_key_holds;

/// `n` poverty households (fully funded next year) in `village`, one member each.
async fn poor_families(s: &Season, village: &str, n: u32, seq: u32) -> Vec<(i64, i64)> {
    let mut found = Vec::new();
    for i in 0..n {
        let name = format!("脱贫户{seq}{i}");
        let (family, _, policy) = s
            .insured_family(village, PovertyStatus::Lifted, &[(name.as_str(), "19750505")], &[0], seq + i)
            .await;
        found.push((family, policy));
    }
    found
}

fn township() -> Option<RegionCode> {
    Some(RegionCode::parse("360802100").unwrap())
}

#[tokio::test]
async fn a_batch_renews_only_fully_funded_families_all_at_once_after_a_preview() {
    let s = season().await;
    let poor = poor_families(&s, VILLAGE, 3, 10).await;
    let (ordinary, _, _) =
        s.insured_family(VILLAGE, PovertyStatus::None, &[("李四", "19800101")], &[0], 20).await;
    s.move_to(day(2027, 8, 1));
    let care = s.next_year(100, 70, 10_000).await;
    let query = BatchQuery { region: township(), ..Default::default() };
    let preview = s.app.store.renewals().batch_preview(&s.system, &query).await.unwrap();
    assert_eq!((preview.households, preview.persons, preview.not_fully_funded), (3, 3, 1));
    assert_eq!(preview.premium, Fen::from_yuan(300));
    let paid_by_care = preview.sources.iter().find(|x| x.source_id == care).unwrap();
    assert_eq!(paid_by_care.amount, Fen::from_yuan(300), "the fund's rule comes first and pays all");
    // A confirmation of another count is refused and writes nothing.
    let wrong = BatchQuery { expected: Some(4), ..query.clone() };
    let refused = s.app.store.renewals().batch_renew(&s.system, &wrong).await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(ref m) if m.contains("预览时可批量续保4户")), "{refused}");
    let right = BatchQuery { expected: Some(3), ..query.clone() };
    // A family that asked for no messages is renewed all the same, and told nothing.
    s.app.store.outbox().opt_out(&s.system, poor[0].0).await.unwrap();
    let done = s.app.store.renewals().batch_renew(&s.system, &right).await.unwrap();
    assert_eq!((done.households, done.persons), (3, 3));
    let messages = s.app.store.outbox().state(&s.system).await.unwrap().messages;
    for (index, (family, _)) in poor.iter().enumerate() {
        let policies = s.policies_of(*family, 2027).await;
        assert_eq!(policies.len(), 1);
        let detail = s.app.store.policies().policy(&s.system, policies[0]).await.unwrap();
        assert_eq!((detail.summary.family_part, detail.summary.status), (Fen::ZERO, PolicyStatus::Submitted));
        // Each family is told of next year's cover, and that it pays nothing.
        let told: Vec<&str> =
            messages.iter().filter(|m| m.policy_id == Some(policies[0])).map(|m| m.body.as_str()).collect();
        if index == 0 {
            assert!(told.is_empty(), "opted out: {told:?}");
        } else {
            assert_eq!(told.len(), 1, "{told:?}");
            assert!(
                told[0].contains("已续保，保障期2027年9月1日至2028年8月31日")
                    && told[0].contains("保费已由资助方全额承担"),
                "{}",
                told[0]
            );
        }
    }
    assert!(s.policies_of(ordinary, 2027).await.is_empty(), "the family part is not zero");
    every_foreign_key_holds(&s.app).await;
    // Nothing left to batch: a second run renews nobody.
    let again = s.app.store.renewals().batch_preview(&s.system, &query).await.unwrap();
    assert_eq!(again.households, 0);
    let sources = s.app.store.funding().sources(&s.system, Some(2027)).await.unwrap();
    let care_now = sources.iter().find(|x| x.id == care).unwrap();
    assert_eq!(care_now.allocated, Fen::from_yuan(300));
}

/// Whom a batch insures next year is decided by each member's cover: an elder past the
/// first-insure age who was insured last year renews (the renewal age limit), one who was
/// not is left out, and a member who already holds next year's cover is left out rather
/// than failing the batch.
#[tokio::test]
async fn a_batch_insures_whom_last_and_next_years_cover_allow() {
    let s = season().await;
    let members =
        [("王建国", "19800115"), ("王老汉", "19610601"), ("王老太", "19610701"), ("王小宝", "20260301")];
    let (family, ids, _) = s.insured_family(VILLAGE, PovertyStatus::Lifted, &members, &[0, 1], 50).await;
    s.move_to(day(2027, 8, 1));
    // First-insure limit 65, renewal limit 70: both elders are 66 on 1 September 2027.
    s.next_year(100, 70, 10_000).await;
    let baby_alone = EnrolRequest {
        family_id: family,
        package_id: s.app.package("P1", 2027).await.id,
        shares: 1,
        member_ids: vec![ids[3]],
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let baby_policy = s.app.store.policies().enrol(&s.system, &baby_alone).await.unwrap();
    let query = BatchQuery { region: Some(RegionCode::parse(VILLAGE).unwrap()), ..Default::default() };
    let preview = s.app.store.renewals().batch_preview(&s.system, &query).await.unwrap();
    assert_eq!((preview.households, preview.persons), (1, 2), "{preview:?}");
    let done = s
        .app
        .store
        .renewals()
        .batch_renew(&s.system, &BatchQuery { expected: Some(1), ..query })
        .await
        .unwrap();
    assert_eq!((done.households, done.persons), (1, 2));
    let renewed: Vec<i64> =
        s.policies_of(family, 2027).await.into_iter().filter(|p| *p != baby_policy).collect();
    assert_eq!(renewed.len(), 1);
    let detail = s.app.store.policies().policy(&s.system, renewed[0]).await.unwrap();
    let mut insured: Vec<i64> = detail.members.iter().map(|m| m.person_id).collect();
    insured.sort_unstable();
    assert_eq!(insured, vec![ids[0], ids[1]], "the head and the elder insured last year");
    every_foreign_key_holds(&s.app).await;
}

#[tokio::test]
async fn a_batch_and_one_step_renewals_on_the_same_source_never_overrun_its_budget() {
    let s = season().await;
    let batch_families = poor_families(&s, VILLAGE, 3, 30).await;
    let single = poor_families(&s, OTHER_VILLAGE, 3, 40).await;
    s.move_to(day(2027, 8, 1));
    // 100 元 a family from the fund: room for four of the six.
    let care = s.next_year(100, 70, 400).await;
    let village = Some(RegionCode::parse(VILLAGE).unwrap());
    let preview = s
        .app
        .store
        .renewals()
        .batch_preview(&s.system, &BatchQuery { region: village.clone(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(preview.households, 3);
    let batch = BatchQuery { region: village, expected: Some(3), ..Default::default() };
    let store = &s.app.store;
    let mut running = Vec::new();
    for (_, policy) in &single {
        let (store, system, request) = (store.clone(), s.system.clone(), s.renew_request(*policy));
        running.push(tokio::spawn(async move { store.renewals().renew(&system, &request).await }));
    }
    let batched = store.renewals().batch_renew(&s.system, &batch).await;
    let mut singles = Vec::new();
    for task in running {
        singles.push(task.await.expect("a renewal task"));
    }
    let sources = store.funding().sources(&s.system, Some(2027)).await.unwrap();
    let fund = sources.iter().find(|x| x.id == care).unwrap();
    assert!(fund.allocated <= fund.pledged, "{:?}", fund);
    // What the fund's ledger says it paid is what it allocated.
    let ledger = store.funding().ledger(&s.system, care).await.unwrap();
    let paid: i64 = ledger.lines.iter().map(|l| l.amount.get()).sum();
    assert_eq!(Fen::new(paid), fund.allocated);
    // The batch is all or nothing.
    let mut batch_renewed = 0;
    for (family, _) in &batch_families {
        batch_renewed += s.policies_of(*family, 2027).await.len();
    }
    assert_eq!(batch_renewed, if batched.is_ok() { 3 } else { 0 }, "{batched:?}");
    // Fully funded one-step renewals beyond the budget pay their part instead; one that
    // lost a race for the budget is refused whole.
    for refused in singles.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(refused, StoreError::Conflict(_)), "{refused}");
    }
    let fully_funded = singles.iter().flatten().filter(|r| r.family_part == Fen::ZERO).count();
    assert_eq!(fully_funded + batch_renewed, (fund.allocated.get() / 10_000) as usize);
}

#[tokio::test]
async fn lapsed_families_become_the_agents_follow_ups_once_and_can_be_handed_over() {
    let s = season().await;
    let (family, _, policy) =
        s.insured_family(VILLAGE, PovertyStatus::None, &[("赵六", "19800101")], &[0], 50).await;
    let (renewed_family, _, renewed_policy) =
        s.insured_family(VILLAGE, PovertyStatus::None, &[("钱七", "19800101")], &[0], 51).await;
    s.move_to(day(2027, 8, 1));
    s.next_year(100, 70, 1_000).await;
    s.app.store.renewals().renew(&s.system, &s.renew_request(renewed_policy)).await.unwrap();
    let settings = SeasonSettings::default();
    // Still in the grace period on 30 September: no task.
    s.move_to(day(2027, 9, 30));
    assert_eq!(s.app.store.renewals().open_follow_ups(&s.system, &settings).await.unwrap(), 0);
    s.move_to(day(2027, 10, 1));
    assert_eq!(s.app.store.renewals().open_follow_ups(&s.system, &settings).await.unwrap(), 1);
    assert_eq!(s.app.store.renewals().open_follow_ups(&s.system, &settings).await.unwrap(), 0, "once");

    let agent = s.app.login("demo.agent").await;
    let home = s.app.get(&agent, "/").await;
    let todo = home.body.find("待办：脱保家庭跟进（1户）").expect("the to-do list");
    assert!(todo < home.body.find("参保进度").unwrap(), "first on the agent's home page");
    assert!(home.body.contains(&format!("/families/{family}")));
    assert!(!home.body.contains(&format!("/families/{renewed_family}\"")));
    let tasks = s.app.get(&agent, "/api/v1/renewals/follow-ups").await.json();
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(tasks[0]["policy_id"], policy);
    let task = tasks[0]["id"].as_i64().unwrap();

    // Handed to a new agent after the village election: gone from the old agent's list.
    let new_agent = NewUser {
        username: Username::parse("agent.new").unwrap(),
        display_name: "新服务专员".to_owned(),
        role: Role::VillageAgent,
        region: RegionCode::parse("360802100").unwrap(),
        org_id: None,
        password: Password::parse("Xinzhuanyuan-2027").unwrap(),
        must_change_password: false,
    };
    s.app.store.users().create_user(&s.system, new_agent).await.unwrap();
    let handed =
        s.app.store.renewals().hand_over_follow_ups(&s.system, "demo.agent", "agent.new").await.unwrap();
    assert_eq!(handed, 1);
    assert!(s.app.get(&agent, "/api/v1/renewals/follow-ups").await.json().as_array().unwrap().is_empty());
    let unknown = s.app.store.renewals().hand_over_follow_ups(&s.system, "demo.agent", "nobody").await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))));
    let newcomer = s.app.login_with("agent.new", "Xinzhuanyuan-2027").await;
    let path = format!("/api/v1/renewals/follow-ups/{task}");
    let bad = s.app.post_json(&newcomer, &path, serde_json::json!({ "outcome": "lost" })).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let closed = s
        .app
        .post_json(&newcomer, &path, serde_json::json!({ "outcome": "moved_away", "note": "已迁往广东" }))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let twice = s.app.post_json(&newcomer, &path, serde_json::json!({ "outcome": "refused" })).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let all = s.app.store.renewals().follow_ups(&s.system, false).await.unwrap();
    assert_eq!((all[0].status, all[0].outcome), (FollowUpStatus::Closed, Some(LapseOutcome::MovedAway)));
}

#[tokio::test]
async fn every_figure_of_the_rate_table_agrees_with_a_direct_count_of_policies() {
    let s = season().await;
    let mut policies = Vec::new();
    for (i, village) in [VILLAGE, VILLAGE, VILLAGE, OTHER_VILLAGE, OTHER_VILLAGE].iter().enumerate() {
        let members: &[(&str, &str)] =
            if i % 2 == 0 { &[("甲", "19800101"), ("乙", "19820101")] } else { &[("丙", "19800101")] };
        let insured: Vec<usize> = (0..members.len()).collect();
        policies
            .push(s.insured_family(village, PovertyStatus::None, members, &insured, 60 + i as u32).await.2);
    }
    s.move_to(day(2027, 8, 1));
    s.next_year(100, 70, 1_000).await;
    // An agent for each village, and the county's renewal target for 2027 (80 %).
    let agents = s.app.store.agents();
    for (name, village) in [("甲专员", VILLAGE), ("乙专员", OTHER_VILLAGE)] {
        let new = guanai_store::agents::NewAgent {
            name: guanai_domain::families::PersonName::parse(name).unwrap(),
            kind: guanai_domain::agents::AgentKind::Specialist,
            phone: None,
            villages: guanai_domain::agents::AgentVillages::new(vec![RegionCode::parse(village).unwrap()])
                .unwrap(),
            appointed_on: day(2026, 1, 1),
            user_id: None,
        };
        agents.create_agent(&s.system, new).await.unwrap();
    }
    let target = guanai_store::targets::TargetChange {
        region: RegionCode::parse("360802").unwrap(),
        year: 2027,
        values: guanai_store::targets::TargetValues {
            renewal_permille: guanai_domain::targets::Permille::new(800),
            ..Default::default()
        },
    };
    s.app.store.targets().set_targets(&s.system, &[target]).await.unwrap();
    // Renewals on two days of the season: 1 August one family, 3 August two.
    let mut renewed_on: Vec<(chrono::NaiveDate, i64)> = Vec::new();
    for (date, policy) in
        [(day(2027, 8, 1), policies[0]), (day(2027, 8, 3), policies[1]), (day(2027, 8, 3), policies[3])]
    {
        s.move_to(date);
        s.app.store.renewals().renew(&s.system, &s.renew_request(policy)).await.unwrap();
        renewed_on.push((date, policy));
    }
    let table = s.app.store.renewals().renewal_rates(&s.system, 2026).await.unwrap();
    // The direct count: every underwritten 2026 policy and its members; renewed = a 2027
    // policy of the same family.
    let all = PolicyQuery {
        year: Some(2026),
        status: Some(PolicyStatus::Underwritten),
        per_page: 1000,
        ..Default::default()
    };
    let due = s.app.store.policies().search_policies(&s.system, &all).await.unwrap().policies;
    let mut expected = std::collections::BTreeMap::<String, [u64; 4]>::new();
    for p in &due {
        let members = s.app.store.policies().policy(&s.system, p.id).await.unwrap().members.len() as u64;
        let next = s.policies_of(p.family_id, 2027).await;
        let entry = expected.entry(p.village_code.clone()).or_default();
        entry[0] += 1;
        entry[2] += members;
        if let Some(new) = next.first() {
            entry[1] += 1;
            entry[3] += s.app.store.policies().policy(&s.system, *new).await.unwrap().members.len() as u64;
        }
    }
    assert_eq!(table.villages.len(), expected.len());
    for row in &table.villages {
        let [dh, rh, dp, rp] = expected[&row.region_code];
        let c = row.counts;
        assert_eq!(
            [c.due_households, c.renewed_households, c.due_persons, c.renewed_persons],
            [dh, rh, dp, rp],
            "{}",
            row.region_code
        );
    }
    assert_eq!(table.total.counts.due_households, 5);
    assert_eq!(table.total.counts.renewed_households, 3);
    assert_eq!(table.total.household_rate, Some(600));
    assert_eq!(table.counties.len(), 1);
    assert_eq!(table.townships[0].counts, table.total.counts);
    assert_eq!(table.by_year.last().unwrap().counts, table.total.counts);
    assert_eq!(table.by_year.first().unwrap().region_code, "2021");
    // The curve, day by day: the days the test renewed on, counted directly.
    let mut by_day = std::collections::BTreeMap::<chrono::NaiveDate, u64>::new();
    for (date, _) in &renewed_on {
        *by_day.entry(*date).or_default() += 1;
    }
    let mut running = 0;
    let expected_curve: Vec<(chrono::NaiveDate, u64, u64, Option<u64>)> = by_day
        .iter()
        .map(|(d, n)| {
            running += n;
            (*d, *n, running, Some(running * 1000 / 5))
        })
        .collect();
    let curve: Vec<_> =
        table.curve.iter().map(|p| (p.day, p.renewed, p.cumulative, p.household_rate)).collect();
    assert_eq!(curve, expected_curve);
    assert_eq!(table.curve.last().unwrap().cumulative, table.total.counts.renewed_households);
    // Agents: each agent's figures are those of the village it serves.
    assert_eq!(table.agents.len(), 2);
    for agent in &table.agents {
        let village = if agent.name == "甲专员" { VILLAGE } else { OTHER_VILLAGE };
        let [dh, rh, dp, rp] = expected[village];
        let c = agent.counts;
        assert_eq!(
            [c.due_households, c.renewed_households, c.due_persons, c.renewed_persons],
            [dh, rh, dp, rp]
        );
        assert_eq!(agent.villages, 1);
    }
    assert!(table.agents[0].household_rate >= table.agents[1].household_rate, "ranked");
    // The target beside the county (2027's, the year renewed into); none for the city.
    assert_eq!(table.counties[0].target_permille, Some(800));
    assert_eq!(table.total.target_permille, None);
    assert_eq!(table.townships[0].target_permille, None);
    // Year on year per county: this year's figures are the county's row; earlier years
    // had no policies in this test.
    let jizhou = table.county_years.iter().find(|c| c.region_code == "360802").unwrap();
    assert_eq!(jizhou.years.len(), table.by_year.len());
    assert_eq!(jizhou.years.last().unwrap().counts, table.counties[0].counts);
    assert_eq!(jizhou.years.last().unwrap().target_permille, Some(800));
    assert!(jizhou.years[..jizhou.years.len() - 1].iter().all(|r| r.counts == Default::default()));
    // The page shows the same figures: the curve drawn, its numbers, the agents, the target.
    let county = s.app.login("demo.county").await;
    let page = s.app.get(&county, "/renewals/rates?year=2026").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-testid=\"rate-total\">60.0%"), "{}", page.body);
    assert!(page.body.contains("<svg class=\"chart\""), "the curve is drawn");
    assert!(page.body.contains(
        "<td>2027-08-03</td><td class=\"num\">2</td><td class=\"num\">3</td><td class=\"num\">60.0%</td>"
    ));
    assert!(page.body.contains("甲专员") && page.body.contains("乙专员"));
    assert!(page.body.contains("data-testid=\"rate-target\">80.0%"), "the county user's own target");
    assert!(page.body.contains("data-testid=\"rates-county-years\""));
}

#[tokio::test]
async fn the_demo_links_its_history_and_gives_the_agents_their_lapsed_families() {
    let app = crate::util::TestApp::demo_populated(400, 5).await;
    let system = app.system();
    let rates = app.store.renewals().renewal_rates(&system, 2024).await.unwrap();
    let rate = rates.total.household_rate.unwrap();
    assert!((700..=950).contains(&rate), "most families renew each year: {rate}‰");
    assert_eq!(rates.by_year.len(), 4, "2021 to 2024");
    let tasks = app.store.renewals().follow_ups(&system, true).await.unwrap();
    assert!(!tasks.is_empty(), "the last year's lapsed families are followed up");
    // Policies that ended within the year before the grace period: the city's 2025 year
    // (to 31 August 2026) and the county schemes' (永丰县's 2024 year ended on 31 October
    // 2025).
    assert!(tasks.iter().all(|t| (2024..=2025).contains(&t.year) && t.status == FollowUpStatus::Open));
    // Running the demo again makes no second task.
    guanai::demo::populate(&app.store, 400, 5).await.unwrap();
    assert_eq!(app.store.renewals().follow_ups(&system, true).await.unwrap().len(), tasks.len());
}
