//! Enrolments written together (group commit): each caller gets its own answer, a refused
//! enrolment does not fail the others, and what was written is what each caller was told;
//! and the coverage look-up after enrolment.

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_domain::{Fen, PovertyStatus};
use guanai_store::policies::{Channel, EnrolRequest, PolicyQuery};

use crate::util::{id_number, FamilySpec, TestApp};

async fn one_person_family(app: &TestApp, name: &str, seq: u32) -> (i64, Vec<i64>) {
    app.family(FamilySpec {
        village: "360802100200",
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![(name, id_number("19850412", 500 + seq), Relationship::Head)],
        consents: true,
    })
    .await
}

#[tokio::test]
async fn concurrent_enrolments_each_get_their_own_answer_and_one_refusal_fails_no_other() {
    let app = TestApp::demo().await;
    let system = app.system();
    let package = app.package("P1", 2026).await.id;
    let request = |family_id, member_ids, expected_family_part| EnrolRequest {
        family_id,
        package_id: package,
        shares: 1,
        member_ids,
        channel: Channel::Staff,
        expected_family_part,
    };
    // Eight families; the third asks for a family part it will not get, and the fifth is
    // asked for twice.
    let mut requests = Vec::new();
    for seq in 0..8 {
        let (family, members) = one_person_family(&app, &format!("并发{seq}"), seq).await;
        let expected = (seq == 2).then(|| Fen::from_yuan(1));
        requests.push(request(family, members.clone(), expected));
        if seq == 4 {
            requests.push(request(family, members, None));
        }
    }
    let mut tasks = Vec::new();
    for request in requests.clone() {
        let (store, actor) = (app.store.clone(), system.clone());
        tasks.push(tokio::spawn(async move { store.policies().enrol(&actor, &request).await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }

    let refused_part = answers[2].as_ref().unwrap_err().to_string();
    assert!(refused_part.contains("资金情况已有变化：家庭应缴由 1.00 元"), "{refused_part}");
    // Of the two enrolments of one family, exactly one is written; the other is told why.
    let twice = [&answers[4], &answers[5]];
    assert_eq!(twice.iter().filter(|a| a.is_ok()).count(), 1, "{twice:?}");
    let again = twice.iter().find_map(|a| a.as_ref().err()).unwrap().to_string();
    assert!(again.contains("已在2026年度参保") || again.contains("不能重复参保"), "{again}");

    let mut created = Vec::new();
    for (request, answer) in requests.iter().zip(&answers) {
        let Ok(id) = answer else { continue };
        // Each caller's id is its own family's policy, with its own member.
        let detail = app.store.policies().policy(&system, *id).await.unwrap();
        assert_eq!(detail.summary.family_id, request.family_id);
        assert_eq!(detail.members.iter().map(|m| m.person_id).collect::<Vec<_>>(), request.member_ids);
        assert_eq!(detail.summary.premium, Fen::from_yuan(100));
        let paid: i64 = detail.funding.iter().map(|l| l.amount.get()).sum();
        assert_eq!(paid, detail.summary.premium.get(), "the split adds up to the premium");
        created.push(*id);
    }
    assert_eq!(created.len(), 7, "eight families, one refused: {answers:?}");
    let total = app
        .store
        .policies()
        .search_policies(&system, &PolicyQuery { per_page: 1, ..Default::default() })
        .await
        .unwrap()
        .total;
    assert_eq!(total, 7);
    // One audit entry per policy written, naming it.
    let logged: Vec<String> = app
        .audit_entries("system", "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "policy.create")
        .map(|e| e.target_id)
        .collect();
    assert_eq!(logged.len(), 7);
    for id in &created {
        assert!(logged.contains(&id.to_string()), "policy {id} is logged");
    }
    // The sources' allocations are exactly the parts written.
    let sources = app.store.funding().sources(&system, Some(2026)).await.unwrap();
    let allocated: i64 = sources.iter().map(|s| s.allocated.get()).sum();
    let mut parts = 0;
    for id in &created {
        let detail = app.store.policies().policy(&system, *id).await.unwrap();
        parts += detail.funding.iter().filter(|l| l.source_id.is_some()).map(|l| l.amount.get()).sum::<i64>();
    }
    assert_eq!(allocated, parts);
}

#[tokio::test]
async fn the_coverage_look_up_lists_the_policies_of_the_person_found() {
    // Before the scheme starts: the cover starts with it.
    let app = TestApp::demo_in_season(2026).await;
    let system = app.system();
    let head = id_number("19790101", 777);
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![("周保障", head.clone(), Relationship::Head)],
            consents: true,
        })
        .await;
    let county = app.login("demo.county").await;
    let before = app.post_json(&county, "/api/v1/coverage", serde_json::json!({"id_number": head})).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(before.json()["name"], "周保障");
    assert_eq!(before.json()["policies"].as_array().unwrap().len(), 0, "registered, not insured");

    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: members.clone(),
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let id = app.store.policies().enrol(&system, &request).await.unwrap();
    let after = app.post_json(&county, "/api/v1/coverage", serde_json::json!({"id_number": head})).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    let json = after.json();
    assert_eq!(json["person_id"], members[0]);
    let policies = json["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{json}");
    assert_eq!(policies[0]["policy_id"], id);
    assert_eq!(policies[0]["year"], 2026);
    assert_eq!(policies[0]["start_date"], "2026-09-01", "{json}");
    // Both look-ups were logged, naming the person.
    let looked = app
        .audit_entries("demo.county", "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "coverage.lookup")
        .count();
    assert_eq!(looked, 2);
}
