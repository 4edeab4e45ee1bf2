//! Policies in bulk, as the demo city and insurer return files write them: batch enrolment
//! across many multi-row statements (every premium split exactly, every budget matching
//! what its policies took), the list of a year's waiting policies, and underwriting many at
//! once (all or nothing, whatever goes wrong).

use std::collections::{HashMap, HashSet};

use guanai_domain::{Fen, RegionCode, Role};
use guanai_store::consents::ConsentKind;
use guanai_store::policies::{Channel, PolicyNo, PolicyStatus};
use guanai_store::{Actor, StoreError};

use crate::util::TestApp;

/// Registers `households` made-up households of the demo city (the demo's generator);
/// their family ids.
async fn households(app: &TestApp, households: usize, seed: u64) -> Vec<i64> {
    let set = guanai_store::regions::demo_city();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut generator = guanai::demo::households::Generator::new(&set, seed, today);
    let drafts: Vec<_> = (0..households).map(|_| generator.household()).collect();
    app.store.families().register_households(&app.system(), &drafts).await.unwrap()
}

/// Households registered in bulk (several chunks, several statements each) get their own
/// ids back in order, with their own members, and a guardian's consent for exactly the
/// members under 14 of the households that gave one, naming that member.
#[tokio::test]
async fn households_in_bulk_get_their_own_ids_members_and_guardian_consents() {
    let app = TestApp::demo().await;
    let set = guanai_store::regions::demo_city();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut generator = guanai::demo::households::Generator::new(&set, 11, today);
    let drafts: Vec<_> = (0..1100).map(|_| generator.household()).collect();
    let system = app.system();
    let ids = app.store.families().register_households(&system, &drafts).await.unwrap();
    assert_eq!(ids.len(), drafts.len());
    let (mut guarded, mut unguarded, mut children_consented) = (0, 0, 0);
    for (draft, id) in drafts.iter().zip(&ids) {
        let family = app.store.families().family(&system, *id).await.unwrap();
        assert_eq!(family.summary.head_name.as_str(), draft.members[0].0, "family {id}");
        assert_eq!(
            family.members.iter().map(|m| m.id_masked.clone()).collect::<Vec<_>>(),
            draft.members.iter().map(|(_, number, _)| number.masked()).collect::<Vec<_>>(),
            "family {id}: its members, in the roster's order, head first"
        );
        let consented: HashSet<i64> = family
            .consents
            .iter()
            .filter(|c| c.kind == ConsentKind::Guardian)
            .map(|c| c.person_id.expect("a guardian's consent names the child"))
            .collect();
        let children: HashSet<i64> =
            family.members.iter().filter(|m| m.needs_guardian_consent).map(|m| m.id).collect();
        if draft.consents.contains(&ConsentKind::Guardian) {
            guarded += 1;
            assert_eq!(consented, children, "family {id}");
            children_consented += children.len();
        } else {
            unguarded += 1;
            assert!(consented.is_empty(), "family {id}");
        }
        let kinds = family.consents.iter().filter(|c| c.kind != ConsentKind::Guardian).count();
        assert_eq!(kinds, draft.consents.iter().filter(|k| **k != ConsentKind::Guardian).count());
    }
    assert!(
        guarded > 0 && unguarded > 0 && children_consented > 0,
        "{guarded} {unguarded} {children_consented}"
    );
}

/// A person already registered, deep inside a load of many statements, fails the whole
/// load: nothing of it stays, neither the rows of the statements before nor those of the
/// failing statement before that person (on SQLite its INSERTs are `OR FAIL`, which keeps
/// them until the transaction is abandoned), through the bulk connection and the pool's.
#[tokio::test]
async fn a_person_registered_twice_deep_in_a_load_leaves_nothing_of_it() {
    let app = TestApp::demo().await;
    let system = app.system();
    let set = guanai_store::regions::demo_city();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut generator = guanai::demo::households::Generator::new(&set, 17, today);
    let registered = generator.household();
    app.store.families().register_households(&system, std::slice::from_ref(&registered)).await.unwrap();
    let count = || async {
        let query = guanai_store::families::FamilyQuery { per_page: 1, ..Default::default() };
        app.store.families().search_families(&system, &query).await.unwrap().total
    };
    let before = count().await;
    let mut drafts: Vec<_> = (0..700).map(|_| generator.household()).collect();
    // In the second chunk of 500 households, after most of its members' statements.
    let again = registered.members[0].clone();
    drafts[640].members.push((again.0, again.1, guanai_domain::families::Relationship::Other));
    let bulk = app.store.bulk().await.unwrap();
    let err = bulk.families().register_households(&system, &drafts).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    bulk.finish_bulk().await.unwrap();
    assert_eq!(count().await, before, "through the bulk connection");
    let err = app.store.families().register_households(&system, &drafts).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(count().await, before, "through the pool");
}

/// A bulk load ends with the planner's statistics refreshed on PostgreSQL, so that what
/// runs next (another import's look-ups, the lists) is not planned for the empty tables
/// the load began with. (MySQL refreshes InnoDB's in the background anyway; SQLite plans
/// from its indexes.)
#[tokio::test]
async fn a_bulk_load_leaves_the_planner_the_tables_new_size_on_postgres() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::demo().await;
    if app.store.engine() != guanai_store::Engine::Postgres {
        return;
    }
    let set = guanai_store::regions::demo_city();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut generator = guanai::demo::households::Generator::new(&set, 13, today);
    let drafts: Vec<_> = (0..300).map(|_| generator.household()).collect();
    let bulk = app.store.bulk().await.unwrap();
    bulk.families().register_households(&app.system(), &drafts).await.unwrap();
    bulk.finish_bulk().await.unwrap();
    let raw = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    for table in ["families", "persons", "consents"] {
        let sql = format!(
            "SELECT (SELECT reltuples::BIGINT FROM pg_class WHERE relname = '{table}'), \
             (SELECT COUNT(*) FROM {table})"
        );
        let row =
            raw.query_one(Statement::from_string(raw.get_database_backend(), sql)).await.unwrap().unwrap();
        let (planned, counted): (i64, i64) =
            (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap());
        assert_eq!(planned, counted, "{table}");
    }
}

/// Enrols `families` in the 2026 package `code`, submitted to the insurer; the new policy
/// ids, oldest first.
async fn enrolled(app: &TestApp, code: &str, families: &[i64]) -> Vec<i64> {
    let package = app.package(code, 2026).await;
    let outcome = app
        .store
        .policies()
        .enrol_families(&app.system(), package.id, families, Channel::Staff, true)
        .await
        .unwrap();
    assert!(outcome.created > 0);
    let mut ids = app.store.policies().submitted_policy_ids(&insurer(), 2026).await.unwrap();
    ids.reverse();
    ids
}

fn insurer() -> Actor {
    Actor::system(RegionCode::parse("3608").unwrap()).acting_as(Role::InsurerCity)
}

#[tokio::test]
async fn a_batch_over_many_statements_splits_every_premium_exactly_and_within_budgets() {
    let app = TestApp::demo().await;
    let families = households(&app, 700, 3).await;
    let package = app.package("P1N1", 2026).await;
    let system = app.system();
    let outcome = app
        .store
        .policies()
        .enrol_families(&system, package.id, &families, Channel::Staff, true)
        .await
        .unwrap();
    assert_eq!(outcome.created + outcome.skipped.len(), families.len());
    // More than two statements of policies (256 rows each) and their parts.
    assert!(outcome.created > 512, "{} created", outcome.created);

    let ids = app.store.policies().submitted_policy_ids(&insurer(), 2026).await.unwrap();
    assert_eq!(ids.len(), outcome.created);
    let mut taken_by_source: HashMap<i64, i64> = HashMap::new();
    let mut insured = HashSet::new();
    let mut covered_families = HashSet::new();
    for id in &ids {
        let policy = app.store.policies().policy(&system, *id).await.unwrap();
        let summary = &policy.summary;
        assert_eq!(summary.status, PolicyStatus::Submitted);
        assert_eq!(summary.package_id, package.id);
        assert!(covered_families.insert(summary.family_id), "one policy a family");
        assert!(families.contains(&summary.family_id));
        // The policy is the family's: its insured are the family's members.
        let members: HashSet<i64> = app
            .store
            .families()
            .family(&system, summary.family_id)
            .await
            .unwrap()
            .members
            .iter()
            .map(|m| m.id)
            .collect();
        assert!(!policy.members.is_empty());
        for member in &policy.members {
            assert!(members.contains(&member.person_id), "policy {id} insures a stranger");
            assert!(insured.insert(member.person_id), "a person insured twice");
        }
        // Both products, each priced for the insured.
        assert_eq!(policy.lines.len(), 2);
        let premium: i64 = policy.lines.iter().map(|l| l.premium.get()).sum();
        assert_eq!(premium, summary.premium.get());
        // The split adds up to the fen; the family part is the last line.
        let funded: i64 = policy.funding.iter().map(|l| l.amount.get()).sum();
        assert_eq!(funded, summary.premium.get(), "policy {id}: split {:?}", policy.funding);
        assert_eq!(policy.funding.last().unwrap().amount, summary.family_part);
        for line in &policy.funding {
            assert!(line.amount.get() >= 0);
            if let Some(source) = line.source_id {
                *taken_by_source.entry(source).or_default() += line.amount.get();
            }
        }
    }
    // Every source's allocation is exactly what its policies took, and within its pledge.
    let sources = app.store.funding().sources(&system, Some(2026)).await.unwrap();
    assert!(!taken_by_source.is_empty());
    for source in sources {
        let taken = taken_by_source.get(&source.id).copied().unwrap_or(0);
        assert_eq!(source.allocated, Fen::new(taken), "{}", source.name);
        assert!(source.allocated <= source.pledged, "{}", source.name);
    }
    // The cover slots hold: the same families cannot be enrolled again for 2026.
    let again = app
        .store
        .policies()
        .enrol_families(&system, package.id, &families, Channel::Staff, true)
        .await
        .unwrap();
    assert_eq!(again.created, 0);
}

#[tokio::test]
async fn underwriting_many_is_all_or_nothing_and_names_what_went_wrong() {
    let app = TestApp::demo().await;
    let families = households(&app, 400, 5).await;
    let ids = enrolled(&app, "P1", &families).await;
    assert!(ids.len() > 330, "{} policies", ids.len());
    let insurer = insurer();
    let no = |raw: &str| PolicyNo::parse(raw).unwrap();
    let numbers = |ids: &[i64], prefix: &str| -> Vec<(i64, PolicyNo)> {
        ids.iter().map(|id| (*id, no(&format!("{prefix}-{id}")))).collect()
    };

    // A batch of several statements.
    let first = &ids[..230];
    assert_eq!(app.store.policies().underwrite_many(&insurer, &numbers(first, "A")).await.unwrap(), 230);
    for id in [first[0], first[99], first[100], first[229]] {
        let policy = app.store.policies().policy(&app.system(), id).await.unwrap().summary;
        assert_eq!(policy.status, PolicyStatus::Underwritten);
        assert_eq!(policy.policy_no.as_deref(), Some(format!("A-{id}").as_str()));
    }
    // The waiting list is what is left, newest first.
    let waiting = app.store.policies().submitted_policy_ids(&insurer, 2026).await.unwrap();
    let mut left: Vec<i64> = ids[230..].to_vec();
    left.reverse();
    assert_eq!(waiting, left);

    let unchanged = |app: &TestApp, ids: Vec<i64>| {
        let store = app.store.clone();
        let system = app.system();
        async move {
            for id in ids {
                let policy = store.policies().policy(&system, id).await.unwrap().summary;
                assert_eq!(policy.status, PolicyStatus::Submitted, "policy {id} changed");
                assert_eq!(policy.policy_no, None);
            }
        }
    };
    // One policy of the batch (in its second statement) is underwritten already.
    let mut batch = numbers(&ids[230..], "B");
    batch.insert(120, (first[7], no("B-again")));
    match app.store.policies().underwrite_many(&insurer, &batch).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains(&first[7].to_string()), "{message}"),
        other => panic!("underwrote a policy twice: {other:?}"),
    }
    unchanged(&app, ids[230..].to_vec()).await;
    // A number another policy holds.
    let mut batch = numbers(&ids[230..], "C");
    let last = batch.len() - 1;
    batch[last].1 = no(&format!("A-{}", first[3]));
    match app.store.policies().underwrite_many(&insurer, &batch).await {
        Err(StoreError::Conflict(message)) => {
            assert!(message.contains(&format!("保单号“A-{}”已被其他保单使用", first[3])), "{message}")
        }
        other => panic!("a number used twice: {other:?}"),
    }
    unchanged(&app, ids[230..].to_vec()).await;
    // One number for two policies of the batch.
    let mut batch = numbers(&ids[230..], "D");
    batch[1].1 = batch[0].1.clone();
    assert!(matches!(
        app.store.policies().underwrite_many(&insurer, &batch).await,
        Err(StoreError::Conflict(_))
    ));
    // One policy twice, with two numbers, in different statements: refused by its own id.
    let mut batch = numbers(&ids[230..], "G");
    batch.push((ids[231], no("G-again")));
    match app.store.policies().underwrite_many(&insurer, &batch).await {
        Err(StoreError::Conflict(message)) => {
            assert!(message.contains(&format!("保单 {} 在本批中出现多次", ids[231])), "{message}")
        }
        other => panic!("one policy underwritten twice in a batch: {other:?}"),
    }
    unchanged(&app, ids[230..].to_vec()).await;
    // A county insurer underwrites within its county only.
    let branch = Actor::system(RegionCode::parse("360802").unwrap()).acting_as(Role::InsurerCounty);
    let theirs = app.store.policies().submitted_policy_ids(&branch, 2026).await.unwrap();
    assert!(theirs.len() < waiting.len());
    let outside: Vec<i64> = waiting.iter().copied().filter(|id| !theirs.contains(id)).collect();
    assert!(!outside.is_empty());
    let mut batch = numbers(&theirs, "E");
    batch.push((outside[0], no("E-outside")));
    match app.store.policies().underwrite_many(&branch, &batch).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains(&outside[0].to_string()), "{message}"),
        other => panic!("underwrote outside the county: {other:?}"),
    }
    unchanged(&app, ids[230..].to_vec()).await;
    // The rest, in one go; one audit entry for the batch.
    assert_eq!(
        app.store.policies().underwrite_many(&insurer, &numbers(&waiting, "F")).await.unwrap(),
        ids.len() - 230
    );
    assert!(app.store.policies().submitted_policy_ids(&insurer, 2026).await.unwrap().is_empty());
    let entries = app.audit_entries("system", "ok").await;
    let batches: Vec<_> = entries.iter().filter(|e| e.action == "policy.underwrite_batch").collect();
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert_eq!(batches[0].target_id, format!("{}份", ids.len() - 230));
}
