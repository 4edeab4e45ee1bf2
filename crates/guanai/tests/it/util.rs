//! Test harness: a fresh database per test on the chosen engine, the app in process, and
//! a small client that logs in like a browser (cookies, CSRF token from the page).

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use guanai_store::files::{spool_dir, Bucket};
use guanai_store::{DatabaseTarget, Store};
use guanai_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    /// The master key for personal data, as `--encryption-key` takes it.
    pub key_hex: String,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = std::env::var("GUANAI_TEST_DATABASE_URL").unwrap_or_default();
        let url = if base.trim().is_empty() {
            format!("sqlite://{}?mode=rwc", dir.path().join("guanai.db").display())
        } else {
            let name = format!("guanai_t_{:016x}", rand::random::<u64>());
            guanai_store::create_database(&base, &name).await.expect("create a test database on the server")
        };
        let key_hex = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>(),
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        TestDb { url, key_hex, _dir: dir }
    }

    pub fn keys(&self) -> guanai_store::Keys {
        guanai_store::Keys::from_hex(&self.key_hex).expect("valid test key")
    }

    pub fn target(&self) -> DatabaseTarget {
        DatabaseTarget::Url(self.url.clone())
    }

    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Where the test's uploaded files are kept.
    pub fn files_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("files")
    }

    /// The store on this database, reading time from `clock`, its files in the test's folder.
    pub async fn store_on(&self, clock: guanai_domain::Clock) -> Store {
        Store::open(&self.target(), self.keys())
            .await
            .expect("open store")
            .with_clock(clock)
            .with_files(&self.files_dir())
            .expect("a files folder")
    }

    /// The store on this database on the test day, its files' blobs in `bucket`.
    pub async fn store_in_bucket(&self, bucket: Bucket) -> Store {
        Store::open(&self.target(), self.keys())
            .await
            .expect("open store")
            .with_clock(test_day_clock())
            .with_bucket(bucket, &spool_dir(&self.files_dir()))
            .await
            .expect("the bucket answers")
    }
}

/// A fresh database with the demo city set up on `clock`, its store and the demo logins'
/// passwords.
async fn demo_database(clock: guanai_domain::Clock) -> (TestDb, Store, HashMap<String, String>) {
    let db = TestDb::new().await;
    let store = db.store_on(clock).await;
    let report = guanai::demo::setup(&store, db.dir()).await.expect("demo setup");
    let passwords = report.logins.into_iter().map(|(login, _, _, password)| (login, password)).collect();
    (db, store, passwords)
}

/// The demo city set up on the test day, once per test process and per population; each
/// test that takes the demo on that day gets a copy (`TestApp::demo_with`,
/// `TestApp::demo_populated`). Migrations and the set-up take seconds on PostgreSQL and
/// MariaDB, mostly DDL, and a population of a few hundred households tens of seconds in the
/// test profile; a copy takes a fraction. Every copy shares its template's key and demo
/// passwords, and gets its own copy of the template's files.
struct DemoTemplate {
    /// The SQLite file, or the database's name on the test server.
    source: TemplateSource,
    key_hex: String,
    passwords: HashMap<String, String>,
    /// The template's folder, kept as long as the process: its SQLite file and its files.
    dir: std::path::PathBuf,
}

enum TemplateSource {
    SqliteFile(std::path::PathBuf),
    Server { base: String, name: String },
}

/// Which demo a template holds: the set-up alone, or populated with `households` made-up
/// households from `seed` (`guanai::demo::populate`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Population {
    households: usize,
    seed: u64,
}

type Templates = HashMap<Option<Population>, &'static std::sync::OnceLock<DemoTemplate>>;
static DEMO_TEMPLATES: std::sync::LazyLock<std::sync::Mutex<Templates>> =
    std::sync::LazyLock::new(Default::default);

impl DemoTemplate {
    /// The process's template for `population`, built by the first test that asks (the others
    /// wait; templates of other populations are built meanwhile).
    fn get(population: Option<Population>) -> &'static DemoTemplate {
        let once = *DEMO_TEMPLATES
            .lock()
            .expect("the templates' lock")
            .entry(population)
            .or_insert_with(|| Box::leak(Box::default()));
        once.get_or_init(|| {
            // Built on a runtime of its own: the asking test's runtime may end before others
            // use the template, and nothing of the template's store may outlive this build.
            std::thread::spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(DemoTemplate::build(population))
            })
            .join()
            .expect("the demo template was built")
        })
    }

    async fn build(population: Option<Population>) -> DemoTemplate {
        let (db, store, passwords) = match population {
            None => demo_database(test_day_clock()).await,
            Some(Population { households, seed }) => {
                let base = DemoTemplate::get(None);
                let db = base.copy().await;
                let store = db.store_on(test_day_clock()).await;
                guanai::demo::populate(&store, households, seed).await.expect("demo population");
                (db, store, base.passwords.clone())
            }
        };
        // Closed, so that SQLite's file is whole and nobody is connected to the server's.
        store.close().await.expect("close the template's store");
        let base = std::env::var("GUANAI_TEST_DATABASE_URL").unwrap_or_default();
        let source = if base.trim().is_empty() {
            TemplateSource::SqliteFile(db.dir().join("guanai.db"))
        } else {
            let name = db.url.split('?').next().and_then(|u| u.rsplit('/').next()).expect("a database name");
            TemplateSource::Server { base, name: name.to_owned() }
        };
        let (key_hex, dir) = (db.key_hex.clone(), db.dir().to_owned());
        // The template's folder lives as long as the process.
        std::mem::forget(db);
        DemoTemplate { source, key_hex, passwords, dir }
    }

    async fn copy(&self) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match &self.source {
            TemplateSource::SqliteFile(file) => {
                let copy = dir.path().join("guanai.db");
                std::fs::copy(file, &copy).expect("copy the template's file");
                format!("sqlite://{}?mode=rwc", copy.display())
            }
            TemplateSource::Server { base, name } => {
                let copy = format!("guanai_t_{:016x}", rand::random::<u64>());
                guanai_store::copy_database(base, name, &copy).await.expect("copy the template database")
            }
        };
        let db = TestDb { url, key_hex: self.key_hex.clone(), _dir: dir };
        copy_folder(&self.dir.join("files"), &db.files_dir());
        db
    }
}

/// Copies `from` and everything under it to `to`, if `from` exists.
fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(from) else { return };
    std::fs::create_dir_all(to).expect("a folder for the copy");
    for entry in entries {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("an entry's type").is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a template's file");
        }
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies().iter().find_map(|c| {
            let first = c.split(';').next()?;
            let (key, value) = first.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The CSRF token a page's forms carry.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).unwrap_or_else(|| panic!("no csrf field in: {}", self.body))
            + marker.len();
        self.body[start..start + 64].to_owned()
    }
}

/// A logged-in browser: its session cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Client {
    pub cookie: String,
    pub csrf: String,
}

pub struct TestApp {
    pub store: Store,
    pub router: Router,
    /// Keeps the test's database (and its folder) alive as long as the app.
    pub _db: TestDb,
    /// Demo logins and their passwords.
    pub passwords: HashMap<String, String>,
}

pub fn test_config() -> WebConfig {
    WebConfig {
        login_failure_delay: std::time::Duration::ZERO,
        // The suite logs in often from one address; the limits have tests of their own.
        login_per_address_per_minute: 100_000,
        login_global_per_minute: 100_000,
        ..Default::default()
    }
}

impl TestApp {
    /// The demo city with one user per role.
    pub async fn demo() -> TestApp {
        Self::demo_with(test_config()).await
    }

    /// The demo city on the test day, copied from the process's template (see
    /// `DemoTemplate`): the same database `demo_with_clock` would build, in a fraction of
    /// the time on a server.
    pub async fn demo_with(config: WebConfig) -> TestApp {
        Self::copy_of_template(None, config).await
    }

    /// The demo city on the test day with `households` made-up households from `seed`, as
    /// `guanai::demo::populate` makes them: a copy of the process's template of that
    /// population, built once for every test that asks for the same.
    pub async fn demo_populated(households: usize, seed: u64) -> TestApp {
        Self::copy_of_template(Some(Population { households, seed }), test_config()).await
    }

    async fn copy_of_template(population: Option<Population>, config: WebConfig) -> TestApp {
        let template = DemoTemplate::get(population);
        let db = template.copy().await;
        let store = db.store_on(test_day_clock()).await;
        Self::serving(db, store, config, template.passwords.clone())
    }

    /// The demo city on a clock of the test's choosing (`Clock::fixed_in_china`); the test
    /// moves it through `app.store.clock().set(…)`.
    pub async fn demo_at(clock: guanai_domain::Clock) -> TestApp {
        Self::demo_with_clock(test_config(), clock).await
    }

    /// The demo city on a clock standing in `year`'s enrolment season (20 August, 10:00 in
    /// China), before the scheme's cover starts on 1 September: policies start with it.
    pub async fn demo_in_season(year: i32) -> TestApp {
        Self::demo_at(season_clock(year)).await
    }

    /// The demo city on the test day (a copy of the template) keeping its files' blobs in
    /// `bucket`; uploads are spooled to the test's folder.
    pub async fn demo_in_bucket(bucket: Bucket) -> TestApp {
        let template = DemoTemplate::get(None);
        let db = template.copy().await;
        let store = db.store_in_bucket(bucket).await;
        Self::serving(db, store, test_config(), template.passwords.clone())
    }

    /// Another instance of this app (as behind one load balancer): the same database and
    /// key, its files' blobs in `bucket`, a spool folder of its own.
    pub async fn another_instance(&self, bucket: Bucket) -> TestApp {
        let db = TestDb {
            url: self._db.url.clone(),
            key_hex: self._db.key_hex.clone(),
            _dir: tempfile::tempdir().expect("temp dir"),
        };
        let store = db.store_in_bucket(bucket).await;
        Self::serving(db, store, test_config(), self.passwords.clone())
    }

    pub async fn demo_with_clock(config: WebConfig, clock: guanai_domain::Clock) -> TestApp {
        let (db, store, passwords) = demo_database(clock).await;
        Self::serving(db, store, config, passwords)
    }

    /// The app in process on `store`.
    fn serving(db: TestDb, store: Store, config: WebConfig, passwords: HashMap<String, String>) -> TestApp {
        let router = guanai_web::router(AppState::new(store.clone(), config));
        TestApp { store, router, _db: db, passwords }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get_anonymous(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn get(&self, client: &Client, path: &str) -> TestResponse {
        let request = Request::get(path).header(header::COOKIE, format!("guanai_session={}", client.cookie));
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Posts a form with the client's CSRF token.
    pub async fn post_form(&self, client: &Client, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all = vec![("csrf", client.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(Some(&client.cookie), path, &all).await
    }

    /// Posts a JSON body to the API with the client's session and CSRF token.
    pub async fn post_json(&self, client: &Client, path: &str, body: serde_json::Value) -> TestResponse {
        let request = Request::post(path)
            .header(header::COOKIE, format!("guanai_session={}", client.cookie))
            .header("x-csrf-token", client.csrf.as_str())
            .header(header::CONTENT_TYPE, "application/json");
        self.send(request.body(Body::from(body.to_string())).unwrap()).await
    }

    /// Posts exactly these fields, with the session cookie if given.
    pub async fn post_form_raw(
        &self,
        cookie: Option<&str>,
        path: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("guanai_session={cookie}"));
        }
        let body = serde_urlencoded_body(fields);
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// The login form, then its submission; the raw answer.
    pub async fn attempt_login(&self, username: &str, password: &str) -> TestResponse {
        let form = self.get_anonymous("/login").await;
        let token = form.cookie("guanai_login_csrf").expect("login csrf cookie");
        assert_eq!(form.csrf(), token, "the form carries the cookie's token");
        let body = serde_urlencoded_body(&[
            ("csrf", &token),
            ("username", username),
            ("password", password),
            ("next", "/"),
        ]);
        let request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("guanai_login_csrf={token}"));
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> Client {
        let response = self.attempt_login(username, password).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "login of {username} failed: {}", response.body);
        let cookie = response.cookie("guanai_session").expect("session cookie");
        let page = self
            .send(
                Request::get("/account/password")
                    .header(header::COOKIE, format!("guanai_session={cookie}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        Client { csrf: page.csrf(), cookie }
    }

    /// Logs in as one of the demo users (`demo.county`, …).
    pub async fn login(&self, login: &str) -> Client {
        let password = self.passwords.get(login).unwrap_or_else(|| panic!("no demo user {login}")).clone();
        self.login_with(login, &password).await
    }

    /// Audit entries with this outcome written for `actor_name`, newest first.
    pub async fn audit_entries(
        &self,
        actor_name: &str,
        outcome: &str,
    ) -> Vec<guanai_store::audit::AuditEntry> {
        let auditor = guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap());
        let query = guanai_store::audit::AuditQuery {
            actor_name: Some(actor_name.to_owned()),
            outcome: Some(outcome.to_owned()),
            per_page: 1000,
            ..Default::default()
        };
        self.store.audit_log().search_audit(&auditor, &query).await.expect("audit search").entries
    }
}

/// The day the suite runs on unless a test says otherwise: fixed, so that a test that sells
/// the demo's 2026 packages does not start failing once their year is over.
pub fn test_day_clock() -> guanai_domain::Clock {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a valid date");
    guanai_domain::Clock::fixed_in_china(day, 10, 0)
}

/// A clock standing on 20 August of `year`, 10:00 in China: the enrolment season, before the
/// demo schemes start on 1 September. Move the app's clock with `app.store.clock().set(…)`.
pub fn season_clock(year: i32) -> guanai_domain::Clock {
    let day = chrono::NaiveDate::from_ymd_opt(year, 8, 20).expect("a valid date");
    guanai_domain::Clock::fixed_in_china(day, 10, 0)
}

pub fn serde_urlencoded_body(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A valid ID number for a person born on `birth` (`YYYYMMDD`), registered in 吉州区;
/// `seq` keeps numbers apart (odd = male, even = female).
pub fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("360802{birth}{:03}", seq % 1000);
    let check = guanai_domain::IdNumber::check_char_for(&body).expect("17 digits");
    format!("{body}{check}")
}

/// What a test family looks like: village, category, poverty, and members as
/// (name, ID number, relationship); the first member is the head.
pub struct FamilySpec<'a> {
    pub village: &'a str,
    pub category: &'a str,
    pub poverty: guanai_domain::PovertyStatus,
    pub members: Vec<(&'a str, String, guanai_domain::families::Relationship)>,
    /// Record the consents to processing and to sharing with the insurer.
    pub consents: bool,
}

impl TestApp {
    pub fn system(&self) -> guanai_store::Actor {
        guanai_store::Actor::system(guanai_domain::RegionCode::parse("3608").unwrap())
    }

    /// Registers a family through the store; returns its id and its members' ids.
    pub async fn family(&self, spec: FamilySpec<'_>) -> (i64, Vec<i64>) {
        use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
        let system = self.system();
        let mut members = spec.members.into_iter();
        let (head_name, head_id, _) = members.next().expect("a head");
        let family = self
            .store
            .families()
            .create_family(
                &system,
                NewFamily {
                    village: guanai_domain::RegionCode::parse(spec.village).unwrap(),
                    category: spec.category.to_owned(),
                    poverty: spec.poverty,
                    address: "测试地址".to_owned(),
                    phone: Some(guanai_domain::Mobile::parse("13812345678").unwrap()),
                    head: NewPerson {
                        name: head_name.to_owned(),
                        id_number: guanai_domain::IdNumber::parse(&head_id).unwrap().id,
                        relationship: guanai_domain::families::Relationship::Head,
                    },
                },
            )
            .await
            .expect("create family");
        for (name, id, relationship) in members {
            let person = NewPerson {
                name: name.to_owned(),
                id_number: guanai_domain::IdNumber::parse(&id).unwrap().id,
                relationship,
            };
            self.store.families().add_member(&system, family, person).await.expect("add member");
        }
        if spec.consents {
            for kind in [ConsentKind::Processing, ConsentKind::InsurerSharing] {
                self.store.families().record_consent(&system, family, kind, None, head_name).await.unwrap();
            }
        }
        let ids = self
            .store
            .families()
            .family(&system, family)
            .await
            .unwrap()
            .members
            .iter()
            .map(|m| m.id)
            .collect();
        (family, ids)
    }

    /// Enrols all `members` of `family` in the 2026 package `code` as the system actor, by
    /// staff; the new (draft) policy's id.
    pub async fn enrol_all(&self, family: i64, members: &[i64], code: &str) -> i64 {
        let request = guanai_store::policies::EnrolRequest {
            family_id: family,
            package_id: self.package(code, 2026).await.id,
            shares: 1,
            member_ids: members.to_vec(),
            channel: guanai_store::policies::Channel::Staff,
            expected_family_part: None,
        };
        self.store.policies().enrol(&self.system(), &request).await.expect("enrolment")
    }

    /// The demo package with this code (P1, P1N1, P1N2) of `year`.
    pub async fn package(&self, code: &str, year: i32) -> guanai_store::products::Package {
        self.store
            .products()
            .packages(Some(year))
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.code == code)
            .expect("demo package")
    }

    /// Enrols these members of a family in one share of the demo package `code` of `year`
    /// by staff (a draft); returns the policy's id.
    pub async fn enrol(&self, family_id: i64, member_ids: Vec<i64>, code: &str, year: i32) -> i64 {
        let request = guanai_store::policies::EnrolRequest {
            family_id,
            package_id: self.package(code, year).await.id,
            shares: 1,
            member_ids,
            channel: guanai_store::policies::Channel::Staff,
            expected_family_part: None,
        };
        self.store.policies().enrol(&self.system(), &request).await.expect("enrol")
    }
}
