//! The command line against the same databases: migrate, users, regions, backup.

use clap::Parser;
use guanai::cli::{run, Cli};

use crate::util::TestDb;

pub async fn guanai(db: &TestDb, args: &[&str]) -> anyhow::Result<std::process::ExitCode> {
    let mut argv = vec![
        "guanai",
        "--database-url",
        db.url.as_str(),
        "--encryption-key",
        db.key_hex.as_str(),
        "--data-dir",
    ];
    let dir = db.dir().to_str().unwrap().to_owned();
    argv.push(&dir);
    argv.extend_from_slice(args);
    run(Cli::try_parse_from(argv)?).await
}

/// The demo with a few households.
const DEMO_FEW: [&str; 3] = ["demo", "--households", "20"];

#[tokio::test]
async fn migrate_is_repeatable_and_keeps_data() {
    let db = TestDb::new().await;
    // A few households are data enough to keep; the default 2,000 take minutes on a server.
    guanai(&db, &DEMO_FEW).await.unwrap();
    let store = guanai_store::Store::connect(&db.target(), db.keys()).await.unwrap();
    let users = store.users().count_users().await.unwrap();
    assert_eq!(users, 8);
    guanai(&db, &["migrate"]).await.unwrap();
    guanai(&db, &["migrate"]).await.unwrap();
    assert_eq!(store.users().count_users().await.unwrap(), users);
    assert_eq!(store.applied_migrations().await.unwrap(), guanai_store::Store::known_migrations());
    // The demo is idempotent too.
    guanai(&db, &DEMO_FEW).await.unwrap();
    assert_eq!(store.users().count_users().await.unwrap(), users);
}

#[tokio::test]
async fn user_add_checks_everything_and_refuses_a_duplicate() {
    let db = TestDb::new().await;
    // The city's regions and users; no households.
    guanai(&db, &["demo", "--households", "0"]).await.unwrap();
    let add = |name: &'static str, role: &'static str, region: &'static str| {
        vec!["user", "add", "--username", name, "--name", "测试", "--role", role, "--region", region]
    };
    guanai(&db, &add("cli.staff", "county_staff", "360803")).await.unwrap();
    let err = guanai(&db, &add("cli.staff", "county_staff", "360803")).await.unwrap_err();
    assert!(err.to_string().contains("已被使用"), "{err}");
    let err = guanai(&db, &add("cli.other", "chief", "360803")).await.unwrap_err();
    assert!(err.to_string().contains("未知的角色"), "{err}");
    let err = guanai(&db, &add("cli.other", "county_staff", "360899")).await.unwrap_err();
    assert!(err.to_string().contains("不存在"), "{err}");
    let store = guanai_store::Store::connect(&db.target(), db.keys()).await.unwrap();
    assert_eq!(store.users().count_users().await.unwrap(), 9);
    guanai(&db, &["user", "reset-password", "cli.staff"]).await.unwrap();
    let err = guanai(&db, &["user", "reset-password", "no.such.user"]).await.unwrap_err();
    assert!(err.to_string().contains("找不到用户"), "{err}");
}

#[tokio::test]
async fn regions_import_reports_a_bad_file_and_changes_nothing() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cities.csv"), "code,name,provinceCode\n3699,\"样例市\",36\n").unwrap();
    std::fs::write(dir.path().join("areas.csv"), "code,name,cityCode\n36990,\"坏县\",3699\n").unwrap();
    std::fs::write(dir.path().join("streets.csv"), "code,name,areaCode\n").unwrap();
    std::fs::write(dir.path().join("villages.csv"), "code,name,streetCode\n").unwrap();
    let from = dir.path().to_str().unwrap();
    let err = guanai(&db, &["regions", "import", "--city", "3699", "--from", from]).await.unwrap_err();
    assert!(err.to_string().contains("areas.csv") && err.to_string().contains("第2行"), "{err}");
    let store = guanai_store::Store::open(&db.target(), db.keys()).await.unwrap();
    assert!(store.regions().cities().await.unwrap().is_empty());
    std::fs::write(dir.path().join("areas.csv"), "code,name,cityCode\n369901,\"好县\",3699\n").unwrap();
    guanai(&db, &["regions", "import", "--city", "3699", "--from", from]).await.unwrap();
    assert_eq!(store.regions().cities().await.unwrap().len(), 1);
}

#[tokio::test]
async fn backup_writes_a_consistent_copy_of_sqlite() {
    let db = TestDb::new().await;
    if !db.url.starts_with("sqlite:") {
        // Servers are backed up with their own tools; the command says so.
        let err = guanai(&db, &["backup", "/tmp/never-written.db"]).await.unwrap_err();
        assert!(format!("{err:#}").contains("pg_dump"));
        return;
    }
    guanai(&db, &DEMO_FEW).await.unwrap();
    let copy = db.dir().join("copy.db");
    guanai(&db, &["backup", copy.to_str().unwrap()]).await.unwrap();
    let restored =
        guanai_store::Store::connect(&guanai_store::DatabaseTarget::SqliteFile(copy.clone()), db.keys())
            .await
            .unwrap();
    assert_eq!(restored.users().count_users().await.unwrap(), 8);
    // The demo's sealed papers and photos are copied beside it, the same bytes.
    let mut kept = crate::photos::blobs(&db.files_dir());
    assert!(!kept.is_empty(), "the demo keeps papers and photos");
    let mut copied = crate::photos::blobs(&guanai::backup::files_copy_dir(&copy));
    kept.sort();
    copied.sort();
    assert!(copied == kept, "{} files copied of {}", copied.len(), kept.len());
    let err = guanai(&db, &["backup", copy.to_str().unwrap()]).await.unwrap_err();
    assert!(format!("{err:#}").contains("已存在"));
}

/// Migration 000006 cuts the look-up hashes stored by earlier versions to 128 bits, and
/// migration 000033 turns hashes and sealed values from hex text into bytes: a family
/// registered before both is still found by its head's ID number and its phone, and its
/// sealed numbers still open.
#[tokio::test]
async fn hashes_and_sealed_values_stored_as_hex_before_the_cut_are_found_after_it() {
    use guanai_domain::families::Relationship;
    use guanai_store::lookups::FamilyLookup;
    use sea_orm::{ConnectionTrait, Statement};

    let app = crate::util::TestApp::demo().await;
    let head_id = crate::util::id_number("19800101", 31);
    let (family, members) = app
        .family(crate::util::FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: guanai_domain::PovertyStatus::None,
            members: vec![("迁移户主", head_id.clone(), Relationship::Head)],
            consents: false,
        })
        .await;
    let person = members[0];
    // An agent's sealed phone: a column first declared TEXT (BLOB on MySQL).
    let agent =
        app.store
            .agents()
            .create_agent(
                &app.system(),
                guanai_store::agents::NewAgent {
                    name: guanai_domain::families::PersonName::parse("迁移专员").unwrap(),
                    kind: guanai_domain::agents::AgentKind::Specialist,
                    phone: guanai_domain::Mobile::parse("13907960009").ok(),
                    villages: guanai_domain::agents::AgentVillages::new(vec![
                        guanai_domain::RegionCode::parse("360802100200").unwrap(),
                    ])
                    .unwrap(),
                    appointed_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
                    user_id: None,
                },
            )
            .await
            .unwrap();
    let raw = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    // The head's row as stored, read on a connection of its own each time: PostgreSQL
    // refuses a statement prepared before a column changed type ("cached plan must not
    // change result type"). The person's id, from the database, is written into the SQL.
    let stored_head = || {
        let url = app._db.url.clone();
        async move {
            let raw = sea_orm::Database::connect(url.as_str()).await.unwrap();
            let sql = format!("SELECT id_hash, id_enc FROM persons WHERE id = {person}");
            raw.query_one(Statement::from_string(raw.get_database_backend(), sql)).await.unwrap().unwrap()
        }
    };
    let row = stored_head().await;
    let (hash, sealed) =
        (row.try_get_by_index::<Vec<u8>>(0).unwrap(), row.try_get_by_index::<Vec<u8>>(1).unwrap());
    assert_eq!((hash.len(), sealed.len()), (16, 24 + 18 + 16), "stored as bytes, not hex");

    // As an earlier version stored them: hex text, the hashes 64 characters, of which the
    // cut keeps the first 32; and migrations 000006 and 000033 not yet run.
    app.store.undo_last_migration().await.unwrap();
    assert_eq!(
        app.store.applied_migrations().await.unwrap().last().unwrap(),
        "m20261217_000032_name_prefix_index"
    );
    for sql in [
        "UPDATE persons SET id_hash = CONCAT(id_hash, 'ffffffffffffffffffffffffffffffff')",
        "UPDATE families SET phone_hash = CONCAT(phone_hash, '00000000000000000000000000000000')",
        "CREATE INDEX idx_families_head ON families (head_name)",
        "DELETE FROM seaql_migrations WHERE version LIKE '%000006%'",
    ] {
        raw.execute_unprepared(sql).await.unwrap();
    }
    let find = |query: FamilyLookup| {
        let store = app.store.clone();
        let system = app.system();
        async move { store.families().lookup_families(&system, &query).await.unwrap().families }
    };
    let by_id = || FamilyLookup {
        id_number: Some(guanai_domain::IdNumber::parse(&head_id).unwrap().id),
        ..Default::default()
    };
    let by_phone = || FamilyLookup {
        phone: Some(guanai_domain::Mobile::parse("13812345678").unwrap()),
        ..Default::default()
    };
    let hex_hash = stored_head().await.try_get_by_index::<String>(0).unwrap();
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex_hash, format!("{hex}{}", "f".repeat(32)), "the hash in hex, as before migration 000006");

    app.store.migrate().await.unwrap();
    assert_eq!(app.store.applied_migrations().await.unwrap(), guanai_store::Store::known_migrations());
    assert_eq!(find(by_id()).await.iter().map(|f| f.id).collect::<Vec<_>>(), vec![family]);
    assert_eq!(find(by_phone()).await.iter().map(|f| f.id).collect::<Vec<_>>(), vec![family]);
    assert_eq!(stored_head().await.try_get_by_index::<Vec<u8>>(0).unwrap(), hash, "the same bytes as before");
    let families = app.store.families();
    assert_eq!(families.reveal_id_number(&app.system(), person).await.unwrap(), head_id);
    assert_eq!(families.reveal_phone(&app.system(), family).await.unwrap().as_deref(), Some("13812345678"));
    let agent_phone = app.store.agents().reveal_agent_phone(&app.system(), agent).await.unwrap();
    assert_eq!(agent_phone.as_deref(), Some("13907960009"));
}
