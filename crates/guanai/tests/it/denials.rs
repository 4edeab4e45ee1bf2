//! Refusals leave a trace: a look-up of a record outside the actor's region answers "not
//! found" exactly as a record that does not exist, and is audited; a call the actor's role
//! may not make is audited in the store's permission check itself.

use guanai_domain::families::Relationship;
use guanai_domain::{Password, PovertyStatus, RegionCode, Role, Username};
use guanai_store::audit::Outcome;
use guanai_store::imports::JobKind;
use guanai_store::orgs::OrgKind;
use guanai_store::users::{LoginOutcome, LoginPolicy, NewUser};
use guanai_store::{Actor, StoreError};

use crate::util::{id_number, FamilySpec, TestApp};

/// The scoped look-ups, one per kind of record.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Family,
    Person,
    Policy,
    User,
    Org,
    Import,
}

/// Looks `id` of `kind` up as `actor`, through the store method the pages use.
async fn look_up(app: &TestApp, actor: &Actor, kind: Kind, id: i64) -> Result<(), StoreError> {
    let store = &app.store;
    match kind {
        Kind::Family => store.families().family(actor, id).await.map(drop),
        Kind::Person => store.families().reveal_id_number(actor, id).await.map(drop),
        Kind::Policy => store.policies().policy(actor, id).await.map(drop),
        Kind::User => store.users().user(actor, id).await.map(drop),
        Kind::Org => store.orgs().org(actor, id).await.map(drop),
        Kind::Import => store.imports().import_job_info(actor, JobKind::Roster, id).await.map(drop),
    }
}

/// One record of every kind in 青原区 (360803), outside 吉州区.
async fn records_in_qingyuan(app: &TestApp) -> Vec<(Kind, &'static str, i64)> {
    let system = app.system();
    let qingyuan = RegionCode::parse("360803").unwrap();
    let (family, members) = app
        .family(FamilySpec {
            village: "360803001003",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![("王三", id_number("19900101", 31), Relationship::Head)],
            consents: true,
        })
        .await;
    let policy = app.enrol_all(family, &members, "P1").await;
    let user = NewUser {
        username: Username::parse("qingyuan.staff").unwrap(),
        display_name: "青原区 工作人员".to_owned(),
        role: Role::CountyStaff,
        region: qingyuan.clone(),
        org_id: None,
        password: Password::parse("qingyuan-2026").unwrap(),
        must_change_password: false,
    };
    let user = app.store.users().create_user(&system, user).await.unwrap().id;
    let org = app.store.orgs().org_at(OrgKind::Association, &qingyuan).await.unwrap().expect("demo org").id;
    let import = app
        .store
        .imports()
        .create_import_job(&Actor::system(qingyuan), JobKind::Roster, "r.csv", Some(b"a,b\n1,2\n"))
        .await
        .unwrap();
    vec![
        (Kind::Family, "family.view", family),
        (Kind::Person, "person.view", members[0]),
        (Kind::Policy, "policy.view", policy),
        (Kind::User, "user.view", user),
        (Kind::Org, "org.view", org),
        (Kind::Import, "import.view", import),
    ]
}

#[tokio::test]
async fn an_out_of_scope_id_of_every_kind_answers_not_found_and_is_audited() {
    let app = TestApp::demo().await;
    let records = records_in_qingyuan(&app).await;
    let city = app.system();
    // 吉州区's operator, a city administrator's role in a county's scope.
    let county = Actor::system(RegionCode::parse("360802").unwrap());
    for (kind, action, id) in records {
        look_up(&app, &city, kind, id).await.unwrap_or_else(|e| panic!("{kind:?} {id} within the city: {e}"));
        let outside = look_up(&app, &county, kind, id).await.expect_err("outside the county");
        let missing = look_up(&app, &county, kind, 999_999).await.expect_err("no such record");
        match (&outside, &missing) {
            (StoreError::NotFound(outside), StoreError::NotFound(missing)) => {
                // The same sentence but for the id: nothing tells the two apart.
                assert_eq!(outside.replace(&id.to_string(), "#"), missing.replace("999999", "#"), "{kind:?}");
            }
            other => panic!("{kind:?}: both answer not found, got {other:?}"),
        }
        let denied = app.audit_entries("system", "denied").await;
        let traces: Vec<_> = denied.iter().filter(|e| e.action == action).collect();
        assert_eq!(traces.len(), 1, "{kind:?}: one trace of the attempt: {denied:?}");
        assert_eq!(traces[0].target_id, id.to_string(), "{kind:?}");
        assert_eq!(traces[0].actor_region.as_deref(), Some("360802"), "{kind:?}");
        assert!(!denied.iter().any(|e| e.target_id == "999999"), "{kind:?}: a missing id is no attempt");
    }
}

/// The actor of a real session of `login`, as the web gets it.
async fn session_actor(app: &TestApp, login: &str) -> Actor {
    let policy = LoginPolicy::default();
    let password = app.passwords[login].clone();
    let LoginOutcome::LoggedIn { session_token, .. } =
        app.store.users().login(login, &password, "192.0.2.8", &policy).await.unwrap()
    else {
        panic!("{login} logs in");
    };
    app.store
        .sessions()
        .session(&session_token, "192.0.2.8", &policy)
        .await
        .unwrap()
        .expect("a session")
        .actor
}

#[tokio::test]
async fn a_call_the_role_may_not_make_is_audited_by_the_store_and_an_allowed_one_is_not() {
    let app = TestApp::demo().await;
    let agent = session_actor(&app, "demo.agent").await;
    // Allowed: the agent's own township.
    app.store.regions().region(&agent, &RegionCode::parse("360802100").unwrap()).await.unwrap();
    assert!(app.audit_entries("demo.agent", "denied").await.is_empty(), "an allowed call leaves no refusal");
    // Not allowed: a village agent sees no organisations.
    let refused = app.store.orgs().list_orgs(&agent).await.expect_err("agents see no organisations");
    assert!(matches!(&refused, StoreError::Forbidden(m) if m.contains("不能进行此操作")), "{refused:?}");
    let denied = app.audit_entries("demo.agent", "denied").await;
    assert_eq!(denied.len(), 1, "one trace of the refusal: {denied:?}");
    assert_eq!(denied[0].action, "permission");
    assert_eq!(denied[0].action_label(), "无权限的操作");
    assert_eq!(denied[0].target_id, "ViewOrgs");
    assert_eq!(denied[0].actor_id, agent.user_id());
    assert_eq!(denied[0].outcome, Outcome::Denied);
}
