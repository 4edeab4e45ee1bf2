//! Logging in and out, lockout, expiry, CSRF, and the forced first password change.

use axum::http::StatusCode;
use guanai_domain::RegionCode;
use guanai_web::WebConfig;

use guanai_store::users::LoginOutcome;

use crate::security::login_from;
use crate::util::{test_config, TestApp};

#[tokio::test]
async fn a_good_login_sets_a_protected_cookie_and_opens_the_home_page() {
    let app = TestApp::demo().await;
    let response = app.attempt_login("demo.county", &app.passwords["demo.county"]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/");
    let cookie = response.cookies().into_iter().find(|c| c.starts_with("guanai_session=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP must not mark the cookie Secure: {cookie}");
    let client = app.login("demo.county").await;
    let home = app.get(&client, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("吉州区计生协 李干事"));
    assert!(home.body.contains("data-testid=\"home-region\">吉州区<"));
    assert_eq!(
        app.audit_entries("demo.county", "ok").await.iter().filter(|e| e.action == "login").count(),
        2
    );
}

#[tokio::test]
async fn cookies_are_secure_when_configured_for_tls() {
    let app = TestApp::demo_with(WebConfig { secure_cookies: true, ..test_config() }).await;
    let response = app.attempt_login("demo.city", &app.passwords["demo.city"]).await;
    let cookie = response.cookies().into_iter().find(|c| c.starts_with("guanai_session=")).unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_clearly_and_logged() {
    let app = TestApp::demo().await;
    let response = app.attempt_login("demo.county", "wrong-password-1").await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert!(response.body.contains("用户名或密码错误"), "{}", response.body);
    assert!(response.cookie("guanai_session").is_none());
    let denied = app.audit_entries("demo.county", "denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].action, "login");
    // An unknown name gets the same answer and is logged too.
    let unknown = app.attempt_login("nobody.here", "whatever-123").await;
    assert!(unknown.body.contains("用户名或密码错误"));
    assert_eq!(app.audit_entries("nobody.here", "denied").await.len(), 1);
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let app = TestApp::demo().await;
    for attempt in 1..=4 {
        let response = app.attempt_login("demo.agent", "not-the-password-1").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let warned = app.attempt_login("demo.agent", "not-the-password-1").await;
    assert!(warned.body.contains("已暂停从此处登录"), "{}", warned.body);
    let right = app.attempt_login("demo.agent", &app.passwords["demo.agent"]).await;
    assert_eq!(right.status, StatusCode::UNAUTHORIZED);
    assert!(right.body.contains("已暂停从此处登录"), "{}", right.body);
    assert!(right.cookie("guanai_session").is_none());
    // Other accounts are not affected.
    app.login("demo.county").await;
}

#[tokio::test]
async fn an_expired_session_sends_the_user_to_log_in_again() {
    let mut config = test_config();
    config.login_policy.session_idle = chrono::Duration::seconds(-1);
    let app = TestApp::demo_with(config).await;
    let response = app.attempt_login("demo.city", &app.passwords["demo.city"]).await;
    let cookie = response.cookie("guanai_session").unwrap();
    let client = crate::util::Client { cookie, csrf: String::new() };
    let page = app.get(&client, "/users").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?next=%2Fusers&expired=1");
    let login = app.get_anonymous(page.location()).await;
    assert!(login.body.contains("登录已过期，请重新登录"));
    let api = app.get(&client, "/api/v1/me").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.json()["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn a_forged_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::demo().await;
    let client = app.login("demo.city").await;
    let before = app.store.users().count_users().await.unwrap();
    let fields = [
        ("csrf", "0".repeat(64)),
        ("username", "forged.user".to_owned()),
        ("display_name", "伪造".to_owned()),
        ("role", "county_staff".to_owned()),
        ("region", "360802".to_owned()),
        ("password", "forged-pass-123".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.post_form_raw(Some(&client.cookie), "/users", &fields).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.body.contains("页面已过期或请求来源无法确认"));
    let missing = app.post_form_raw(Some(&client.cookie), "/users", &fields[1..]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.users().count_users().await.unwrap(), before);
    let denied = app.audit_entries("demo.city", "denied").await;
    assert_eq!(denied.iter().filter(|e| e.action == "csrf").count(), 2);
    // Logging out needs the token too.
    let logout = app.post_form_raw(Some(&client.cookie), "/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&client, "/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_login_form_needs_its_own_token() {
    let app = TestApp::demo().await;
    let fields =
        [("username", "demo.city"), ("password", app.passwords["demo.city"].as_str()), ("csrf", "abc")];
    let response = app.post_form_raw(None, "/login", &fields).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.cookie("guanai_session").is_none());
}

#[tokio::test]
async fn logging_out_ends_the_session_at_once() {
    let app = TestApp::demo().await;
    let client = app.login("demo.township").await;
    let response = app.post_form(&client, "/logout", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/login");
    let after = app.get(&client, "/").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/login"));
}

#[tokio::test]
async fn the_first_admin_must_change_the_one_time_password() {
    let db = crate::util::TestDb::new().await;
    let store = guanai_store::Store::open(&db.target(), db.keys()).await.unwrap();
    store.regions().import_regions(&guanai_store::regions::demo_city()).await.unwrap();
    let city = RegionCode::parse("3608").unwrap();
    let (username, password) = store.users().bootstrap_admin(&city).await.unwrap().expect("created");
    assert!(store.users().bootstrap_admin(&city).await.unwrap().is_none(), "only on an empty user table");
    let app = crate::util::TestApp {
        router: guanai_web::router(guanai_web::AppState::new(store.clone(), test_config())),
        store,
        _db: db,
        passwords: Default::default(),
    };
    let response = app.attempt_login(&username, &password).await;
    assert_eq!(response.location(), "/account/password");
    let client = app.login_with(&username, &password).await;
    let home = app.get(&client, "/users").await;
    assert_eq!((home.status, home.location()), (StatusCode::SEE_OTHER, "/account/password"));
    assert_eq!(app.get(&client, "/api/v1/users").await.status, StatusCode::FORBIDDEN);

    let mismatch = app
        .post_form(
            &client,
            "/account/password",
            &[("current", &password), ("new", "newpass12345"), ("confirm", "other12345x")],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(mismatch.body.contains("两次输入的新密码不一致"));
    let weak = app
        .post_form(
            &client,
            "/account/password",
            &[("current", &password), ("new", "short"), ("confirm", "short")],
        )
        .await;
    assert!(weak.body.contains("密码至少需要10个字符"));
    let wrong = app
        .post_form(
            &client,
            "/account/password",
            &[("current", "not-it-12345"), ("new", "newpass12345"), ("confirm", "newpass12345")],
        )
        .await;
    assert!(wrong.body.contains("当前密码不正确"));

    let done = app
        .post_form(
            &client,
            "/account/password",
            &[("current", &password), ("new", "newpass12345"), ("confirm", "newpass12345")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&client, "/users").await.status, StatusCode::OK);
    assert_eq!(app.attempt_login(&username, &password).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.attempt_login(&username, "newpass12345").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_logout_on_one_server_instance_is_refused_at_once_by_another() {
    let app = TestApp::demo().await;
    // A second instance on the same database: its own store, pool and writers.
    let other_store = guanai_store::Store::open(&app._db.target(), app._db.keys()).await.unwrap();
    let other = TestApp {
        store: other_store.clone(),
        router: guanai_web::router(guanai_web::AppState::new(other_store, test_config())),
        _db: crate::util::TestDb::new().await,
        passwords: app.passwords.clone(),
    };
    let client = app.login("demo.township").await;
    let me = other.get(&client, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "the other instance serves the session: {}", me.body);
    assert_eq!(me.json()["username"], "demo.township");
    let response = app.post_form(&client, "/logout", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let after = other.get(&client, "/api/v1/me").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    let page = other.get(&client, "/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"));
}

/// The digits of "连续N次" in an audit entry's detail.
fn count_in(detail: &str) -> Option<i32> {
    let start = detail.find("连续")? + "连续".len();
    let digits: String = detail[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[tokio::test]
async fn fifty_wrong_passwords_at_once_all_count_and_lock_the_account() {
    let app = TestApp::demo().await;
    let policy = guanai_store::users::LoginPolicy::default();
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let store = app.store.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                store.users().login("demo.agent", "wrong-guess-123", "192.0.2.77", &policy).await
            })
        })
        .collect();
    for attempt in attempts {
        let outcome = attempt.await.unwrap().unwrap();
        assert!(!matches!(outcome, LoginOutcome::LoggedIn { .. }));
    }
    let right = app
        .store
        .users()
        .login("demo.agent", &app.passwords["demo.agent"], "192.0.2.77", &policy)
        .await
        .unwrap();
    assert!(matches!(right, LoginOutcome::Locked { .. }), "the account is locked: {right:?}");
    // Every guess is logged. A guess that arrives once the lock is in force is refused
    // without a password check and not counted; every other one adds one to the count in
    // one statement, so the last count equals the number of guesses counted: none is lost.
    // (The count an entry names is read after its own increment, so concurrent guesses may
    // name the same, later count.)
    let denied = app.audit_entries("demo.agent", "denied").await;
    let guesses: Vec<_> = denied.iter().filter(|e| e.action == "login").collect();
    assert_eq!(guesses.len(), 51, "the 50 guesses and the right password while locked are logged");
    let counts: Vec<i32> = guesses.iter().filter_map(|e| count_in(&e.detail)).collect();
    assert_eq!(counts.iter().max().copied(), Some(counts.len() as i32), "no guess lost: {counts:?}");
    assert!(counts.len() >= policy.max_failures as usize, "enough guesses counted to lock: {counts:?}");
}

/// A response body with the typed name and the form's token taken out.
fn normalised(response: &crate::util::TestResponse, name: &str) -> String {
    response.body.replace(&response.csrf(), "TOKEN").replace(name, "NAME")
}

#[tokio::test]
async fn an_unknown_name_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::demo().await;
    for attempt in 1..=7 {
        let real = app.attempt_login("demo.agent", "not-the-password-1").await;
        let unknown = app.attempt_login("nobody.agent", "not-the-password-1").await;
        assert_eq!(real.status, unknown.status, "attempt {attempt}");
        assert_eq!(
            normalised(&real, "demo.agent"),
            normalised(&unknown, "nobody.agent"),
            "attempt {attempt}: the answer tells the names apart"
        );
    }
}

#[tokio::test]
async fn a_stranger_flooding_one_address_does_not_lock_the_owner_out_elsewhere() {
    let app = TestApp::demo().await;
    for _ in 0..8 {
        let response = login_from(&app, "203.0.113.9", "demo.county", "guessing-12345", "/").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let stranger = login_from(&app, "203.0.113.9", "demo.county", &app.passwords["demo.county"], "/").await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED, "the flooding address is locked");
    let owner = login_from(&app, "198.51.100.80", "demo.county", &app.passwords["demo.county"], "/").await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "the owner logs in from the office: {}", owner.body);
}

#[tokio::test]
async fn an_administrator_unlocks_a_locked_user_and_it_is_audited() {
    let app = TestApp::demo().await;
    for _ in 0..5 {
        login_from(&app, "203.0.113.10", "demo.agent", "guessing-12345", "/").await;
    }
    let locked = login_from(&app, "203.0.113.10", "demo.agent", &app.passwords["demo.agent"], "/").await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    let users = app.store.users().list_users(&app.system()).await.unwrap();
    let agent = users.iter().find(|u| u.username == "demo.agent").unwrap().id;
    let path = format!("/users/{agent}/unlock");
    // Someone without user management cannot unlock.
    let township = app.login("demo.township").await;
    assert_ne!(app.post_form(&township, &path, &[]).await.status, StatusCode::SEE_OTHER);
    let county = app.login("demo.county").await;
    let page = app.get(&county, &format!("/users/{agent}")).await;
    assert!(page.body.contains("203.0.113.10") && page.body.contains("解除锁定"), "{}", page.body);
    let response = app.post_form(&county, &path, &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let unlocked = app.audit_entries("demo.county", "ok").await;
    assert!(unlocked.iter().any(|e| e.action == "user.unlock" && e.target_id == "demo.agent"));
    let again = login_from(&app, "203.0.113.10", "demo.agent", &app.passwords["demo.agent"], "/").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
}

#[tokio::test]
async fn the_command_line_password_reset_unlocks_too() {
    let app = TestApp::demo().await;
    let policy = guanai_store::users::LoginPolicy::default();
    for _ in 0..5 {
        app.store.users().login("demo.agent", "guessing-12345", "203.0.113.11", &policy).await.unwrap();
    }
    let locked =
        app.store.users().login("demo.agent", &app.passwords["demo.agent"], "203.0.113.11", &policy).await;
    assert!(matches!(locked.unwrap(), LoginOutcome::Locked { .. }));
    let password = guanai_domain::Password::parse("reset-pass-2026").unwrap();
    let name = guanai_domain::Username::parse("demo.agent").unwrap();
    app.store.users().reset_password(&name, &password, &RegionCode::parse("3608").unwrap()).await.unwrap();
    let after =
        app.store.users().login("demo.agent", "reset-pass-2026", "203.0.113.11", &policy).await.unwrap();
    assert!(matches!(after, LoginOutcome::LoggedIn { .. }), "{after:?}");
}

#[tokio::test]
async fn idle_failure_streaks_are_forgotten_but_locks_in_force_are_kept() {
    let app = TestApp::demo().await;
    let policy = guanai_store::users::LoginPolicy::default();
    app.store.users().login("made.up.name", "guessing-12345", "203.0.113.12", &policy).await.unwrap();
    for _ in 0..5 {
        app.store.users().login("demo.agent", "guessing-12345", "203.0.113.13", &policy).await.unwrap();
    }
    // Not idle for a day yet: nothing goes.
    assert_eq!(app.store.users().purge_stale_login_failures(chrono::Duration::days(1)).await.unwrap(), 0);
    // Idle streaks go; the lock in force stays.
    assert_eq!(app.store.users().purge_stale_login_failures(chrono::Duration::zero()).await.unwrap(), 1);
    let locked =
        app.store.users().login("demo.agent", &app.passwords["demo.agent"], "203.0.113.13", &policy).await;
    assert!(matches!(locked.unwrap(), LoginOutcome::Locked { .. }));
}

/// Each request's session is read on a connection outside the pool (`quick_reads.rs`): on
/// a server, a request dropped while its read is under way must close that connection,
/// not give it back mid-statement, and later requests, more at once than the pool has
/// connections, must all be served (the home page's reports each hold a pooled connection
/// for their snapshot, so a read of theirs through another one could wait for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_dropped_midway_leave_every_later_request_served() {
    let app = TestApp::demo().await;
    let client = app.login("demo.county").await;
    for _ in 0..12 {
        // Dropped at its first wait: on a server, inside the session's read.
        let _ = tokio::time::timeout(std::time::Duration::ZERO, app.get(&client, "/")).await;
    }
    let homes = futures_util::future::join_all((0..12).map(|_| app.get(&client, "/"))).await;
    for home in homes {
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("吉州区计生协 李干事"));
    }
}

/// The database's other connections killed (a server restarted, a firewall that forgot
/// them): the session reads' kept connections are dead, and the next requests must still
/// be served, not fail on them until the server is restarted. On SQLite nothing is killed.
#[tokio::test]
async fn requests_are_served_after_the_databases_connections_were_killed() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let app = TestApp::demo().await;
    let client = app.login("demo.county").await;
    assert_eq!(app.get(&client, "/").await.status, StatusCode::OK);
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let backend = db.get_database_backend();
    let others = match backend {
        DbBackend::Postgres => {
            "SELECT pid::bigint AS id FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        }
        DbBackend::MySql => {
            "SELECT CAST(id AS SIGNED) AS id FROM information_schema.processlist WHERE db = database() AND id <> connection_id()"
        }
        DbBackend::Sqlite => "SELECT 0 AS id WHERE 0",
    };
    let ids: Vec<i64> = db
        .query_all(Statement::from_string(backend, others))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<i64>("", "id").unwrap())
        .collect();
    assert!(backend == DbBackend::Sqlite || !ids.is_empty(), "no connection of the server found");
    for id in ids {
        let kill = match backend {
            DbBackend::Postgres => format!("SELECT pg_terminate_backend({id})"),
            _ => format!("KILL {id}"),
        };
        db.execute_unprepared(&kill).await.unwrap();
    }
    for _ in 0..3 {
        let home = app.get(&client, "/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    }
}
