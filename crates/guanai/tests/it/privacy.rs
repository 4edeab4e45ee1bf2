//! Personal data at rest and on screen: raw ID and phone numbers are nowhere in the
//! database, and pages show them masked unless a role reveals them on purpose.

use guanai_domain::families::Relationship;
use guanai_domain::PovertyStatus;
use sea_orm::{ConnectionTrait, Statement};

use crate::util::{id_number, FamilySpec, TestApp};

/// Every text value stored in the tables that hold personal data, and every binary one
/// (sealed values and hashes) read as text, as one string.
async fn everything_stored(app: &TestApp) -> String {
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let backend = db.get_database_backend();
    let mut all = String::new();
    for table in
        ["families", "persons", "person_events", "consents", "policies", "policy_members", "audit_log"]
    {
        let rows =
            db.query_all(Statement::from_string(backend, format!("SELECT * FROM {table}"))).await.unwrap();
        for row in rows {
            for column in row.column_names() {
                if let Ok(Some(text)) = row.try_get::<Option<String>>("", &column) {
                    all.push_str(&text);
                    all.push('\n');
                } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>>("", &column) {
                    all.push_str(&String::from_utf8_lossy(&bytes));
                    all.push('\n');
                }
            }
        }
    }
    all
}

#[tokio::test]
async fn raw_id_and_phone_numbers_are_nowhere_in_the_database() {
    let app = TestApp::demo().await;
    let head = id_number("19800305", 901);
    let child = id_number("20100101", 902);
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![
                ("周保密", head.clone(), Relationship::Head),
                ("周小密", child.clone(), Relationship::Child),
            ],
            consents: true,
        })
        .await;
    // Reveal once, so the audit log has the event too.
    let county = app.login("demo.county").await;
    let revealed = app.store.families().reveal_id_number(&app.system(), members[0]).await.unwrap();
    assert_eq!(revealed, head, "the sealed value opens to the original");
    let page = app.get(&county, &format!("/families/{family}")).await;
    assert!(
        !page.body.contains(&head) && !page.body.contains(&child),
        "the family page shows masked numbers only"
    );
    assert!(page.body.contains(&format!("{}***********{}", &head[..3], &head[14..])));

    let stored = everything_stored(&app).await;
    for secret in [head.as_str(), child.as_str(), "13812345678"] {
        assert!(!stored.contains(secret), "{secret} is stored in the clear");
    }
    // The masked forms are there, so the scan did read the rows.
    assert!(stored.contains(&format!("{}***********{}", &head[..3], &head[14..])));

    if app._db.url.starts_with("sqlite:") {
        // And not in any byte of the database files, WAL included, nor of the sealed
        // uploads in the files folder beside them.
        let mut paths = vec![app._db.dir().to_path_buf()];
        let mut files = Vec::new();
        while let Some(path) = paths.pop() {
            if path.is_dir() {
                paths.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                files.push(path);
            }
        }
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            for secret in [head.as_bytes(), child.as_bytes(), b"13812345678".as_slice()] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret),
                    "{} holds a raw number",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn the_coverage_look_up_is_scoped_and_audited() {
    let app = TestApp::demo().await;
    let head = id_number("19800305", 911);
    app.family(FamilySpec {
        village: "360802100200",
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![("吴查询", head.clone(), Relationship::Head)],
        consents: true,
    })
    .await;
    let county = app.login("demo.county").await;
    let found = app.post_json(&county, "/api/v1/coverage", serde_json::json!({"id_number": head})).await;
    assert_eq!(found.status, axum::http::StatusCode::OK, "{}", found.body);
    assert_eq!(found.json()["name"], "吴查询");
    assert!(!found.body.contains(&head), "the answer carries the masked number only");
    let looked = app.audit_entries("demo.county", "ok").await;
    assert!(looked.iter().any(|e| e.action == "coverage.lookup"));
    // The insurer's branch of another county does not find the person, and the try is logged.
    let system = app.system();
    app.store
        .users()
        .create_user(
            &system,
            guanai_store::users::NewUser {
                username: guanai_domain::Username::parse("qingyuan.branch").unwrap(),
                display_name: "青原支公司".to_owned(),
                role: guanai_domain::Role::InsurerCounty,
                region: guanai_domain::RegionCode::parse("360803").unwrap(),
                org_id: None,
                password: guanai_domain::Password::parse("qingyuan-2026").unwrap(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    let other = app.login_with("qingyuan.branch", "qingyuan-2026").await;
    let hidden = app.post_json(&other, "/api/v1/coverage", serde_json::json!({"id_number": head})).await;
    assert_eq!(hidden.status, axum::http::StatusCode::NOT_FOUND);
    assert_eq!(app.audit_entries("qingyuan.branch", "denied").await.len(), 1);
    let bad = app
        .post_json(&county, "/api/v1/coverage", serde_json::json!({"id_number": "360802198003059110"}))
        .await;
    assert_eq!(bad.status, axum::http::StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("校验位"));
}
