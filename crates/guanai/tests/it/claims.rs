//! Claims end to end: each check of a report refuses with its rule named, a repeated
//! report is flagged, the fast lane from report to satisfaction through the pages, the
//! shared medical limit under concurrent decisions, the scope and audit of every view,
//! refusals, the art. 25 advance and a death closing the person. On every engine.

use axum::http::StatusCode;
use chrono::NaiveDate;
use guanai_domain::claims::{ClaimKind, ClaimStatus, PaperChecklist, ReportChannel};
use guanai_domain::families::Relationship;
use guanai_domain::{Clock, Fen, PovertyStatus, Role};
use guanai_store::claims::{Decision, NewClaim};
use guanai_store::StoreError;
use serde_json::json;

use crate::util::{id_number, FamilySpec, TestApp};

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(crate) fn set_day(app: &TestApp, day: NaiveDate) {
    assert!(app.store.clock().set(Clock::fixed_in_china(day, 10, 0).now()), "a fixed clock");
}

/// A family of `names.len()` in `village`, all but the last `not_insured` insured under
/// the 2026 package `code` (cover 2026-09-01 to 2027-08-31), underwritten. The app's clock
/// must stand in the 2026 season; it is left on 2026-10-12 (a Monday).
pub(crate) async fn insured(
    app: &TestApp,
    village: &str,
    seq: u32,
    names: &[&str],
    not_insured: usize,
    code: &str,
) -> (i64, Vec<i64>, i64) {
    let relationships = [Relationship::Head, Relationship::Spouse, Relationship::Child, Relationship::Parent];
    let members = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (*name, id_number(&format!("19{}0305", 70 + i), seq * 5 + i as u32), relationships[i])
        })
        .collect();
    let spec =
        FamilySpec { village, category: "only_child", poverty: PovertyStatus::None, members, consents: true };
    let (family, ids) = app.family(spec).await;
    let policy = app.enrol(family, ids[..ids.len() - not_insured].to_vec(), code, 2026).await;
    let system = app.system();
    app.store.policies().submit_policy(&system, policy).await.unwrap();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    app.store.policies().underwrite_policy(&insurer, policy, &format!("PJA-CLM-{seq}")).await.unwrap();
    set_day(app, date(2026, 10, 12));
    (family, ids, policy)
}

fn report(person: i64, kind: &str, incident: &str) -> serde_json::Value {
    json!({"person_id": person, "kind": kind, "incident_date": incident, "place": "村道",
        "description": "骑车摔伤", "claimed_fen": 100_000, "expenses_fen": 100_000})
}

pub(crate) fn new_claim(person: i64, kind: ClaimKind, incident: NaiveDate, expenses: i64) -> NewClaim {
    NewClaim {
        person_id: person,
        kind,
        incident_date: incident,
        place: "家中".into(),
        description: "摔伤".into(),
        claimed: Fen::from_yuan(expenses),
        expenses: Some(Fen::from_yuan(expenses)),
        other_paid: None,
        days: Some(10),
        grade: None,
        channel: ReportChannel::Association,
    }
}

pub(crate) fn approve() -> Decision {
    Decision {
        status: ClaimStatus::Approved,
        expenses: None,
        other_paid: None,
        days: None,
        grade: None,
        amount: None,
        reason: String::new(),
        refusal_reasons: Vec::new(),
    }
}

/// Every paper the kind needs, recorded by the system actor.
pub(crate) async fn all_papers(app: &TestApp, claim: i64, kind: ClaimKind) {
    let papers = PaperChecklist::default().required(kind).to_vec();
    app.store.claims().add_papers(&app.system(), claim, &papers).await.unwrap();
}

#[tokio::test]
async fn each_check_of_a_report_refuses_with_its_rule_named_and_a_repeat_is_flagged() {
    let app = TestApp::demo_in_season(2026).await;
    let (_, ids, _) = insured(&app, "360802100200", 1, &["赵大", "钱二", "孙三"], 1, "P1N2").await;
    set_day(&app, date(2026, 8, 20));
    let (_, basic, _) = insured(&app, "360802100200", 2, &["李四", "周五"], 0, "P1").await;
    let agent = app.login("demo.agent").await;
    let refusals = [
        (report(ids[0], "accident_outpatient", "2026-08-25"), "保险期间规则"),
        (report(ids[2], "accident_outpatient", "2026-10-01"), "被保险人规则"),
        (report(ids[0], "disease", "2026-09-15"), "等待期规则"),
        (report(basic[0], "hospital_allowance", "2026-10-01"), "保险责任规则"),
        (report(ids[0], "accident_outpatient", "2024-10-01"), "二年索赔时效"),
        (report(ids[0], "accident_outpatient", "2026-10-13"), "出险日期规则"),
    ];
    for (body, rule) in refusals {
        let refused = app.post_json(&agent, "/api/v1/claims", body.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(rule), "{rule} in {message}");
    }
    // A disease after the waiting period is covered by the 1+2 package.
    let disease = app.post_json(&agent, "/api/v1/claims", report(ids[1], "disease", "2026-10-02")).await;
    assert_eq!(disease.status, StatusCode::CREATED, "{}", disease.body);
    let first =
        app.post_json(&agent, "/api/v1/claims", report(ids[0], "accident_outpatient", "2026-10-10")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again =
        app.post_json(&agent, "/api/v1/claims", report(ids[0], "accident_outpatient", "2026-10-10")).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.json()["duplicate"], true);
    let all = app.get(&agent, "/api/v1/claims").await.json();
    assert_eq!(all["total"], 2, "the repeat was not written: {all}");
    // Roles that may not report: the supervisor is refused, the auditor sees no claims.
    let supervisor = app.login("demo.supervisor").await;
    let refused = app
        .post_json(&supervisor, "/api/v1/claims", report(ids[1], "accident_outpatient", "2026-10-09"))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    let auditor = app.login("demo.auditor").await;
    assert_ne!(app.get(&auditor, "/api/v1/claims").await.status, StatusCode::OK);
}

/// Reports made at once are written many to a transaction; each is still written once, the
/// person's own, with the limit's row its decision spends and its audit entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_at_once_are_each_written_once_with_their_limit_and_audit_entry() {
    let app = TestApp::demo_in_season(2026).await;
    let mut persons = Vec::new();
    for (seq, names) in [(11, ["甲一", "甲二", "甲三", "甲四"]), (12, ["乙一", "乙二", "乙三", "乙四"])]
    {
        // Enrolled in the season, so that the cover starts on 1 September.
        set_day(&app, date(2026, 8, 20));
        persons.extend(insured(&app, "360802100200", seq, &names, 0, "P1").await.1);
    }
    let system = app.system();
    // Every person reports an accident; the first person's is reported three times at once.
    let mut tasks = Vec::new();
    for person in persons.iter().chain([&persons[0], &persons[0]]) {
        let new = new_claim(*person, ClaimKind::AccidentOutpatient, date(2026, 10, 5), 1_000);
        let (store, actor) = (app.store.clone(), system.clone());
        tasks.push(tokio::spawn(async move { store.claims().report_claim(&actor, new).await }));
    }
    let mut reported = Vec::new();
    for task in tasks {
        reported.push(task.await.unwrap().unwrap());
    }
    let repeats = [reported[0], reported[persons.len()], reported[persons.len() + 1]];
    assert!(repeats.iter().all(|r| r.id == repeats[0].id), "one claim for one incident: {repeats:?}");
    assert_eq!(repeats.iter().filter(|r| r.duplicate).count(), 2, "{repeats:?}");
    let created: Vec<i64> = reported.iter().filter(|r| !r.duplicate).map(|r| r.id).collect();
    assert_eq!(created.len(), persons.len(), "{reported:?}");
    let insurer = system.clone().acting_as(Role::InsurerCity);
    for (person, id) in persons.iter().zip(&reported) {
        let claim = app.store.claims().claim(&system, id.id).await.unwrap();
        assert_eq!(claim.summary.person_id, *person, "claim {} is its reporter's", id.id);
        // The decision spends the limit's row the report opened.
        all_papers(&app, id.id, ClaimKind::AccidentOutpatient).await;
        app.store.claims().decide(&insurer, id.id, approve()).await.unwrap();
        let decided = app.store.claims().claim(&system, id.id).await.unwrap();
        assert!(decided.summary.approved.is_some_and(|a| a > Fen::ZERO), "{:?}", decided.summary);
    }
    let entries: Vec<_> = app
        .audit_entries(system.username(), "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "claim.report")
        .collect();
    assert_eq!(entries.len(), persons.len() + 2, "one entry per report");
    assert_eq!(entries.iter().filter(|e| e.detail.contains("重复报案")).count(), 2);
}

#[tokio::test]
async fn an_agent_reports_on_the_phone_the_insurer_asks_once_approves_and_pays_within_the_fast_lane() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, ids, _) = insured(&app, "360802100200", 3, &["吴一", "郑二"], 0, "P1").await;
    let agent = app.login("demo.agent").await;
    let form = app.get(&agent, &format!("/families/{family}/claims/new")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let person = ids[1].to_string();
    let fields = [
        ("person_id", person.as_str()),
        ("kind", "accident_outpatient"),
        ("incident_date", "2026-10-11"),
        ("place", "自家院子"),
        ("description", "摔倒扭伤脚踝，门诊治疗"),
        ("claimed", "1,000"),
        ("expenses", "1000"),
    ];
    let done = app.post_form(&agent, &format!("/families/{family}/claims/new"), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let id: i64 = done.location().trim_start_matches("/claims/").split('?').next().unwrap().parse().unwrap();
    // Two papers photographed at the report.
    let two = [("paper_id_card", "on"), ("paper_invoices", "on")];
    let added = app.post_form(&agent, &format!("/claims/{id}/papers"), &two).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    // The insurer's county branch asks for everything missing at once.
    let branch = app.login("demo.branch").await;
    let queue = app.get(&branch, "/claims?filter=open").await;
    assert!(queue.body.contains(&format!("/claims/{id}")), "{}", queue.body);
    let asked = app.post_json(&branch, &format!("/api/v1/claims/{id}/missing-papers"), json!({})).await;
    assert_eq!(asked.json()["papers"], json!(["bank_card", "medical_records", "prescriptions"]));
    // The agent's funnel counts the report, not yet decided.
    let county = app.login("demo.county").await;
    let me = crate::agents::user_id(&app, "demo.agent").await;
    let agent_id = crate::agents::registered(&app, &county, "刘敏", "360802100200", Some(me)).await;
    let funnel = |year: i32| {
        let (app, county) = (&app, &county);
        async move {
            let listed = app.get(county, &format!("/api/v1/agents?year={year}")).await.json();
            let work =
                listed.as_array().unwrap().iter().find(|w| w["agent"]["id"] == agent_id).unwrap().clone();
            (work["funnel"]["claims_reported"].clone(), work["funnel"]["claims_decided"].clone())
        }
    };
    assert_eq!(funnel(2026).await, (json!(1), json!(0)));
    let page = app.get(&agent, &format!("/claims/{id}")).await;
    assert!(page.body.contains("data-testid=\"missing-papers\""), "{}", page.body);
    let home = app.get(&agent, "/").await;
    assert!(
        home.body.contains("待补理赔材料") && home.body.contains(&format!("/claims/{id}")),
        "{}",
        home.body
    );
    let rest = [("paper_bank_card", "on"), ("paper_medical_records", "on"), ("paper_prescriptions", "on")];
    app.post_form(&agent, &format!("/claims/{id}/papers"), &rest).await;
    let claim = app.store.claims().claim(&app.system(), id).await.unwrap();
    assert_eq!(
        (claim.summary.status, claim.papers_complete_on),
        (ClaimStatus::UnderReview, Some(date(2026, 10, 12)))
    );
    // The rules propose (1,000 − 100) × 80 % = 720 元; the insurer approves it as proposed.
    assert_eq!(claim.proposal.as_ref().unwrap().amount, Fen::from_yuan(720));
    let decided = app.post_form(&branch, &format!("/claims/{id}/decision"), &[("status", "approved")]).await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    set_day(&app, date(2026, 10, 14));
    let paid = [
        ("beneficiary", "郑二"),
        ("account", "6222 0212 3456 7890 123"),
        ("amount", "720.00"),
        ("paid_on", "2026-10-14"),
        ("reference", "ZF20261014001"),
    ];
    let done = app.post_form(&branch, &format!("/claims/{id}/payment"), &paid).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // Decided and paid: the agent followed it through. Last year's funnel has nothing.
    assert_eq!(funnel(2026).await, (json!(1), json!(1)));
    assert_eq!(funnel(2025).await, (json!(0), json!(0)));
    // The association sees it paid within the fast lane; the account only masked.
    let page = app.get(&county, &format!("/claims/{id}")).await;
    assert!(page.body.contains("data-testid=\"fast-lane\""), "{}", page.body);
    assert!(page.body.contains("6222***********0123") && !page.body.contains("6222021234567890123"));
    let json = app.get(&county, &format!("/api/v1/claims/{id}")).await.json();
    let clocks = json["clocks"].as_array().unwrap();
    for deadline in ["fast_missing_papers", "fast_payment", "payment"] {
        let clock = clocks.iter().find(|c| c["deadline"] == deadline).unwrap_or_else(|| panic!("{deadline}"));
        assert_eq!(clock["state"], "met", "{clock}");
    }
    assert_eq!(json["status"], "paid");
    assert_eq!(json["paid"], 72_000);
    // The family's satisfaction, once.
    let rated = app
        .post_form(&agent, &format!("/claims/{id}/satisfaction"), &[("score", "5"), ("comment", "很及时")])
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    let again = app.post_form(&agent, &format!("/claims/{id}/satisfaction"), &[("score", "1")]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("已登记过满意度"));
    let claim = app.store.claims().claim(&app.system(), id).await.unwrap();
    assert_eq!((claim.summary.status, claim.satisfaction), (ClaimStatus::Closed, Some(5)));
    // Nobody may pay it twice.
    let twice = app.post_form(&branch, &format!("/claims/{id}/payment"), &paid).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_decisions_on_one_family_never_spend_the_shared_medical_limit_twice() {
    let app = TestApp::demo_in_season(2026).await;
    let (_, ids, _) = insured(&app, "360802100200", 4, &["王甲", "王乙", "王丙", "王丁"], 0, "P1").await;
    let system = app.system();
    let mut claims = Vec::new();
    for (i, person) in ids.iter().enumerate() {
        let new = new_claim(*person, ClaimKind::AccidentInpatient, date(2026, 10, 1 + i as u32), 10_100);
        let id = app.store.claims().report_claim(&system, new).await.unwrap().id;
        all_papers(&app, id, ClaimKind::AccidentInpatient).await;
        claims.push(id);
    }
    // Each alone would be (10,100 − 100) × 80 % = 8,000 元; the family shares 12,000 元.
    let insurer = system.clone().acting_as(Role::InsurerCity);
    let mut tasks = Vec::new();
    for id in &claims {
        let (store, actor, id) = (app.store.clone(), insurer.clone(), *id);
        tasks.push(tokio::spawn(async move { (id, store.claims().decide(&actor, id, approve()).await) }));
    }
    let mut waiting = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (_, Ok(())) => {}
            (id, Err(StoreError::Conflict(m))) if m.contains("共用保额") => waiting.push(id),
            (id, Err(StoreError::Invalid(m))) if m.contains("须大于0") => waiting.push(id),
            (_, Err(other)) => panic!("only the shared limit may refuse: {other:?}"),
        }
    }
    let approved = |app: &TestApp| {
        let (store, system) = (app.store.clone(), app.system());
        let claims = claims.clone();
        async move {
            let mut total = 0;
            for id in claims {
                total +=
                    store.claims().claim(&system, id).await.unwrap().summary.approved.map_or(0, Fen::get);
            }
            total
        }
    };
    assert!(approved(&app).await <= Fen::from_yuan(12_000).get(), "never above the family's limit");
    assert!(waiting.len() >= 2, "four claims of 8,000 元 cannot all fit in 12,000 元: {waiting:?}");
    // Decided one after the other, each gets what is left, and says why.
    for id in waiting {
        let claim = app.store.claims().claim(&system, id).await.unwrap();
        let proposal = claim.proposal.unwrap();
        if proposal.amount == Fen::ZERO {
            let nothing = app.store.claims().decide(&insurer, id, approve()).await.unwrap_err();
            assert!(matches!(nothing, StoreError::Invalid(_)), "{nothing:?}");
        } else {
            assert!(
                proposal.limited_by.unwrap_or_default().contains("共用限额")
                    || proposal.amount == Fen::from_yuan(8_000)
            );
            app.store.claims().decide(&insurer, id, approve()).await.unwrap();
        }
    }
    assert_eq!(approved(&app).await, Fen::from_yuan(12_000).get(), "the whole limit, once");
}

#[tokio::test]
async fn no_claim_is_seen_outside_its_scope_and_every_view_is_audited() {
    let app = TestApp::demo_in_season(2026).await;
    // 文石村 of 文山街道: in 吉州区, outside the agent's 兴桥镇; 新生社区 of 青原区.
    let (_, near, _) = insured(&app, "360802101200", 5, &["冯一"], 0, "P1").await;
    set_day(&app, date(2026, 8, 20));
    let (_, far, _) = insured(&app, "360803001003", 6, &["陈二"], 0, "P1").await;
    let system = app.system();
    let near_claim = app
        .store
        .claims()
        .report_claim(&system, new_claim(near[0], ClaimKind::AccidentOutpatient, date(2026, 10, 5), 500))
        .await
        .unwrap()
        .id;
    let far_claim = app
        .store
        .claims()
        .report_claim(&system, new_claim(far[0], ClaimKind::AccidentOutpatient, date(2026, 10, 5), 500))
        .await
        .unwrap()
        .id;
    let agent = app.login("demo.agent").await;
    for path in [format!("/claims/{near_claim}"), format!("/api/v1/claims/{near_claim}")] {
        assert_eq!(app.get(&agent, &path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get(&agent, "/api/v1/claims").await.json()["total"], 0);
    let denied = app.audit_entries("demo.agent", "denied").await;
    assert!(
        denied.iter().any(|e| e.action == "claim.view" && e.target_id == near_claim.to_string()),
        "{denied:?}"
    );
    // Nor may the agent add papers to it, or report for that family.
    let refused = app
        .post_json(&agent, &format!("/api/v1/claims/{near_claim}/papers"), json!({"papers": ["id_card"]}))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let refused =
        app.post_json(&agent, "/api/v1/claims", report(near[0], "accident_outpatient", "2026-10-06")).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    // The county's branch sees its county's claim, audited, and not the other county's.
    let branch = app.login("demo.branch").await;
    assert_eq!(app.get(&branch, &format!("/api/v1/claims/{near_claim}")).await.status, StatusCode::OK);
    assert_eq!(app.get(&branch, &format!("/api/v1/claims/{far_claim}")).await.status, StatusCode::NOT_FOUND);
    let viewed = app.audit_entries("demo.branch", "ok").await;
    assert!(viewed.iter().any(|e| e.action == "claim.view" && e.target_id == near_claim.to_string()));
    // Nor may the branch decide the other county's claim.
    let decided = app
        .post_json(&branch, &format!("/api/v1/claims/{far_claim}/decision"), json!({"status": "approved"}))
        .await;
    assert_eq!(decided.status, StatusCode::NOT_FOUND);
    // The association may not decide at all; the refusal is audited.
    let county = app.login("demo.county").await;
    let decided = app
        .post_json(&county, &format!("/api/v1/claims/{near_claim}/decision"), json!({"status": "approved"}))
        .await;
    assert_eq!(decided.status, StatusCode::NOT_FOUND);
    let store =
        app.store.claims().decide(&app.system().acting_as(Role::CountyStaff), near_claim, approve()).await;
    assert!(matches!(store, Err(StoreError::Forbidden(_))), "{store:?}");
}

#[tokio::test]
async fn a_refusal_needs_its_reasons_a_death_closes_the_person_and_the_advance_counts() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, ids, _) = insured(&app, "360802100200", 7, &["褚一", "卫二", "蒋三"], 0, "P1").await;
    let system = app.system();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    // A refusal without a reason is refused; with one, the notice goes the same day.
    let refused = app
        .store
        .claims()
        .report_claim(&system, new_claim(ids[2], ClaimKind::AccidentOutpatient, date(2026, 10, 2), 300))
        .await
        .unwrap()
        .id;
    let no_reason = Decision { status: ClaimStatus::Refused, ..approve() };
    let err = app.store.claims().decide(&insurer, refused, no_reason.clone()).await.unwrap_err();
    assert!(err.to_string().contains("第二十四条"), "{err}");
    let with_reason = Decision {
        reason: "经核实为疾病发作，非意外".into(),
        refusal_reasons: vec![guanai_domain::claims::RefusalReason::NotAccident],
        ..no_reason
    };
    app.store.claims().decide(&insurer, refused, with_reason).await.unwrap();
    let claim = app.store.claims().claim(&system, refused).await.unwrap();
    assert_eq!(
        (claim.summary.status, claim.refusal_notified_on),
        (ClaimStatus::Refused, Some(date(2026, 10, 12)))
    );
    // Approval needs complete papers.
    let death = app
        .store
        .claims()
        .report_claim(&system, new_claim(ids[1], ClaimKind::AccidentalDeath, date(2026, 10, 3), 0))
        .await
        .unwrap()
        .id;
    let early = app.store.claims().decide(&insurer, death, approve()).await.unwrap_err();
    assert!(early.to_string().contains("材料齐全"), "{early}");
    all_papers(&app, death, ClaimKind::AccidentalDeath).await;
    // 60 days after complete papers the amount is still open: the advance is late.
    set_day(&app, date(2026, 12, 20));
    let claim = app.store.claims().claim(&system, death).await.unwrap();
    let advance = claim.clocks.iter().find(|c| c.deadline.code() == "advance").unwrap();
    assert_eq!(advance.state.code(), "breached", "{advance:?}");
    let breached = app
        .store
        .claims()
        .claims(
            &system,
            &guanai_store::claims::ClaimQuery {
                filter: guanai_store::claims::ClaimFilter::Breached,
                per_page: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(breached.claims.iter().any(|c| c.id == death));
    app.store
        .claims()
        .pay_advance(&insurer, death, Fen::from_yuan(10_000), date(2026, 12, 20))
        .await
        .unwrap();
    // The death pays the person's share, 150,000 ÷ 3 = 50,000 元, and closes the person.
    app.store.claims().decide(&insurer, death, approve()).await.unwrap();
    let claim = app.store.claims().claim(&system, death).await.unwrap();
    assert_eq!(claim.summary.approved, Some(Fen::from_yuan(50_000)));
    let person = app
        .store
        .families()
        .family(&system, family)
        .await
        .unwrap()
        .members
        .into_iter()
        .find(|m| m.id == ids[1])
        .unwrap();
    assert!(!person.active, "closed in the registry");
    // The payment is the rest after the advance.
    let payment = |amount| guanai_store::claims::NewPayment {
        beneficiary: "褚一".into(),
        account: guanai_domain::claims::BankAccount::parse("6222021234567890123").unwrap(),
        amount,
        paid_on: date(2026, 12, 20),
        reference: "ZF-1".into(),
    };
    let wrong = app.store.claims().pay(&insurer, death, payment(Fen::from_yuan(50_000))).await.unwrap_err();
    assert!(wrong.to_string().contains("40,000.00"), "{wrong}");
    app.store.claims().pay(&insurer, death, payment(Fen::from_yuan(40_000))).await.unwrap();
}

#[tokio::test]
async fn the_report_button_follows_the_right_to_report_not_the_right_to_enrol() {
    let app = TestApp::demo_in_season(2026).await;
    let (family, _, _) = insured(&app, "360802100200", 3, &["冯一"], 0, "P1").await;
    // (user, may report, may enrol): the insurer's county staff take hotline reports but do
    // not enrol; a supervisor does neither.
    for (user, reports, enrols) in
        [("demo.agent", true, true), ("demo.branch", true, false), ("demo.supervisor", false, false)]
    {
        let client = app.login(user).await;
        let page = app.get(&client, &format!("/families/{family}")).await;
        assert_eq!(page.status, StatusCode::OK, "{user}: {}", page.body);
        assert_eq!(page.body.contains("data-testid=\"report-claim\""), reports, "{user}: the 报案 button");
        assert_eq!(page.body.contains("data-testid=\"enrol\""), enrols, "{user}: the 参保 button");
        let form = app.get(&client, &format!("/families/{family}/claims/new")).await;
        assert_eq!(
            form.status == StatusCode::OK,
            reports,
            "{user}: the report form answered {}",
            form.status
        );
    }
}

#[tokio::test]
async fn the_measures_page_is_in_the_menu_of_every_role_that_may_see_it() {
    let app = TestApp::demo().await;
    let entry = r#"<a href="/claims/measures""#;
    for (login, shown) in [
        ("demo.county", true),
        ("demo.agent", true),
        ("demo.branch", true),
        ("demo.supervisor", true),
        ("demo.auditor", false),
    ] {
        let client = app.login(login).await;
        let home = app.get(&client, "/").await;
        assert_eq!(home.status, StatusCode::OK, "{login}");
        assert_eq!(home.body.contains(entry), shown, "{login}: the menu's 理赔指标");
        let page = app.get(&client, "/claims/measures").await;
        assert_eq!(page.status == StatusCode::OK, shown, "{login}: the page itself");
        if shown {
            let current = r#"<a href="/claims/measures" class="active" aria-current="page">理赔指标</a>"#;
            assert!(page.body.contains(current), "{login}: the measures page marks its entry current");
        }
    }
}
