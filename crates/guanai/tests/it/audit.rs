//! Searching, exporting and pruning the audit log.

use axum::http::StatusCode;

use guanai_domain::families::Relationship;
use guanai_domain::PovertyStatus;
use guanai_store::policies::{Channel, EnrolRequest, PolicyNo};

use crate::util::{id_number, FamilySpec, TestApp};

#[tokio::test]
async fn auditors_search_by_outcome_and_export_what_they_found() {
    let app = TestApp::demo().await;
    app.attempt_login("demo.county", "wrong-password-1").await;
    let county = app.login("demo.county").await;
    app.get(&county, "/audit").await; // refused: county staff do not read the log
    let auditor = app.login("demo.auditor").await;
    let page = app.get(&auditor, "/audit?outcome=denied").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("打开页面") && page.body.contains("/audit"), "{}", page.body);
    assert!(page.body.contains("密码错误"));
    assert!(!page.body.contains("<td>user.create</td>"), "only refusals were asked for");

    let bad_date = app.get(&auditor, "/audit?from=2026-13-01").await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    assert!(bad_date.body.contains("不是有效日期"));
    let future = app.get(&auditor, "/audit?from=2999-01-01").await;
    assert!(future.body.contains("共 0 条"));

    let export = app.get(&auditor, "/audit/export?outcome=denied&actor=demo.county").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(export.body.starts_with('\u{feff}'), "BOM for spreadsheet programs");
    let lines: Vec<&str> = export.body.lines().collect();
    assert!(lines[0].contains("操作人"));
    assert_eq!(lines.len(), 3, "header, the failed login and the refused page: {lines:?}");
    assert!(lines[1..].iter().all(|l| l.contains("demo.county") && l.contains("拒绝")));
    let exported = app.audit_entries("demo.auditor", "ok").await;
    assert!(exported.iter().any(|e| e.action == "audit.export" && e.detail == "导出2条"));
}

#[tokio::test]
async fn a_county_level_auditor_sees_only_its_county_actors() {
    let app = TestApp::demo().await;
    let system = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    app.store
        .users()
        .create_user(
            &system,
            guanai_store::users::NewUser {
                username: guanai_domain::Username::parse("jizhou.auditor").unwrap(),
                display_name: "吉州区审计".to_owned(),
                role: guanai_domain::Role::Auditor,
                region: guanai_domain::RegionCode::parse("360802").unwrap(),
                org_id: None,
                password: guanai_domain::Password::parse("auditor-2026x").unwrap(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    app.login("demo.county").await;
    app.login("demo.insurer").await;
    let auditor = app.login_with("jizhou.auditor", "auditor-2026x").await;
    let page = app.get(&auditor, "/audit?action=login").await;
    assert!(page.body.contains("demo.county"));
    assert!(!page.body.contains("demo.insurer"), "a city-level actor is outside a county auditor's scope");
}

#[tokio::test]
async fn retention_below_six_months_is_refused() {
    let app = TestApp::demo().await;
    let err = app.store.audit_log().prune_audit(30).await.unwrap_err();
    assert!(err.to_string().contains("至少保存180天"));
    app.login("demo.city").await;
    assert_eq!(app.store.audit_log().prune_audit(180).await.unwrap(), 0, "recent entries stay");
    assert!(!app.audit_entries("demo.city", "ok").await.is_empty());
}

/// Entries written at the same time go to the writer task together; every one must be
/// stored, in the order the callers handed them in. On the test's current-thread runtime
/// the tasks below run, and hand in their entries, in the order they were spawned, before
/// the writer wakes: more than one batch's worth is waiting for it.
#[tokio::test]
async fn entries_written_at_once_are_all_stored_in_order() {
    use guanai_store::audit::{AuditEvent, AuditQuery};
    let app = TestApp::demo().await;
    let actor = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    let mut tasks = Vec::new();
    for i in 0..600 {
        let store = app.store.clone();
        let actor = actor.clone();
        tasks.push(tokio::spawn(async move {
            store.audit(&actor, AuditEvent::ok("test.batch", "测试", i.to_string())).await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("each caller learns that its entry was written");
    }
    let query = AuditQuery { action: Some("test.batch".to_owned()), per_page: 1000, ..Default::default() };
    let mut entries = app.store.audit_log().search_audit(&actor, &query).await.unwrap().entries;
    entries.sort_by_key(|e| e.id);
    let targets: Vec<String> = entries.iter().map(|e| e.target_id.clone()).collect();
    let expected: Vec<String> = (0..600).map(|i: i32| i.to_string()).collect();
    assert_eq!(targets, expected, "all 600 entries, in the order they were handed in");
}

/// An entry that cannot be written fails its caller: the action it records must not go
/// ahead unlogged.
#[tokio::test]
async fn an_entry_that_cannot_be_written_fails_its_caller() {
    use guanai_store::audit::AuditEvent;
    let app = TestApp::demo().await;
    let actor = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
    app.store.audit(&actor, AuditEvent::ok("test.before", "测试", "1")).await.expect("written");
    app.store.clone().close().await.unwrap();
    let err = app.store.audit(&actor, AuditEvent::ok("test.after", "测试", "2")).await.unwrap_err();
    assert!(matches!(err, guanai_store::StoreError::Database(_)), "{err:?}");
}

/// The export used to stop at 10,000 rows without a word. Now it is streamed step by step
/// and has every entry found; and a cell a spreadsheet would run as a formula, also one
/// starting with a tab or a carriage return, is neutralised with a leading `'`.
#[tokio::test]
async fn the_export_has_every_entry_past_ten_thousand_and_neutralises_formula_cells() {
    use guanai_store::audit::AuditEvent;
    const N: usize = 10_050;
    let app = TestApp::demo().await;
    let actor = app.system();
    let mut tasks = Vec::with_capacity(N);
    for i in 0..N {
        let (store, actor) = (app.store.clone(), actor.clone());
        tasks.push(tokio::spawn(async move {
            store.audit(&actor, AuditEvent::ok("test.export", "测试", i.to_string())).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let risky = AuditEvent::ok("test.export", "测试", "\t=1+2").with_detail("\r=cmd|' /C calc'!A0");
    app.store.audit(&actor, risky).await.unwrap();
    app.store
        .audit(&actor, AuditEvent::ok("test.export", "测试", "@SUM(A1)").with_detail("-2+3"))
        .await
        .unwrap();

    let auditor = app.login("demo.auditor").await;
    let export = app.get(&auditor, "/audit/export?action=test.export").await;
    assert_eq!(export.status, StatusCode::OK);
    let text = export.body.strip_prefix('\u{feff}').expect("BOM");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let target = header.iter().position(|h| h == "对象").expect("对象 column");
    let detail = header.iter().position(|h| h == "说明").expect("说明 column");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), N + 2, "every entry found, none cut off");
    let mut seen: Vec<usize> = rows.iter().filter_map(|r| r[target].parse().ok()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..N).collect::<Vec<_>>());
    let cell = |t: &str| rows.iter().find(|r| r[target].ends_with(t)).expect(t).clone();
    let tab = cell("\t=1+2");
    assert_eq!(&tab[target], "'\t=1+2");
    assert_eq!(&tab[detail], "'\r=cmd|' /C calc'!A0");
    let at = cell("@SUM(A1)");
    assert_eq!((&at[target], &at[detail]), ("'@SUM(A1)", "'-2+3"));
    let exported = app.audit_entries("demo.auditor", "ok").await;
    assert!(exported.iter().any(|e| e.action == "audit.export" && e.detail == format!("导出{}条", N + 2)));
}

/// Auditors read Chinese: actions, the system actor and its address, outcomes and whose
/// data an entry concerns are labelled; an action without a label reads 其他操作 with its
/// code in small print.
#[tokio::test]
async fn the_audit_page_shows_no_raw_action_or_actor_codes() {
    use guanai_store::audit::AuditEvent;
    let app = TestApp::demo().await;
    let system = app.system();
    // A batch underwriting, a certificate and a command-line action by the system actor.
    let county = app.login("demo.county").await;
    app.get(&county, "/audit").await; // refused: page.view, denied
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![("李建国", id_number("19800305", 1), Relationship::Head)],
            consents: true,
        })
        .await;
    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids: members,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let policy = app.store.policies().enrol(&system, &request).await.unwrap();
    app.store.policies().submit_policy(&system, policy).await.unwrap();
    let insurer = system.clone().acting_as(guanai_domain::Role::InsurerCity);
    app.store
        .policies()
        .underwrite_many(&insurer, &[(policy, PolicyNo::parse("PJA2026000001").unwrap())])
        .await
        .unwrap();
    app.store.policies().certificate(&system, policy).await.unwrap();
    app.store.audit(&system, AuditEvent::ok("claim.approve", "理赔", "1")).await.unwrap();
    let auditor = app.login("demo.auditor").await;
    let page = app.get(&auditor, "/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    // The rows themselves, not the filter's drop-downs, which list every label.
    let start = page.body.find("data-testid=\"audit\"").expect("the entries' table");
    let rows = &page.body[start..start + page.body[start..].find("</table>").expect("the table's end")];
    let family_label = format!("家庭 {family}");
    for label in
        ["批量承保", "登录", "打开页面", "系统", "本机命令行", &family_label, "拒绝", "成功", "其他操作"]
    {
        assert!(rows.contains(label), "expected “{label}” in the entries");
    }
    assert!(
        page.body.contains("<small class=\"muted\">claim.approve</small>"),
        "the unknown code in small print"
    );
    let text = visible_text(&page.body);
    for raw in ["policy.", "system", "page.view", ">login<", "family:", ">cli<", ">ok<", ">denied<"] {
        assert!(
            !text.contains(raw),
            "raw “{raw}” shown: {}",
            &text[text.find(raw).unwrap().saturating_sub(200)..]
        );
    }
    // The home page's recent entries read the same way.
    let city = app.login("demo.city").await;
    let home = visible_text(&app.get(&city, "/").await.body);
    assert!(!home.contains("policy.") && !home.contains("system"), "{home}");
}

/// The page's text outside tags and attributes.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push('<');
            }
            '>' => {
                in_tag = false;
                out.push('>');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
