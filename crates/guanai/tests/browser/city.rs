//! The city test: Guanai serving a city-size database (`guanai demo --households city`:
//! 330,000 households, ≈ 1,060,000 persons over 吉安市's real villages, policies for
//! 2021–2026), opened in Chromium as the city administrator and as 吉州区's county staff.
//! Each main list (families, filtered through the form; policies; funding sources and a
//! ledger; the audit log) and a family's page must show what the database holds — the
//! counts are compared with the store's, the family's masked ID numbers with its members'.
//! How long each page took is printed (`-- --nocapture` shows it) and never asserted:
//! the figures go to docs/BENCHMARKS.md.
//!
//! Where the city database comes from:
//! - `GUANAI_CITY_DIR=DIR`: a data folder made beforehand by
//!   `guanai --data-dir DIR demo --households city` (the database, its key file and
//!   `demo-logins.txt`). CI (`.ci/run`) builds it once with the release binary (several minutes)
//!   and hands it over. The test logs in, so it adds sessions and audit entries to it.
//! - Otherwise the test builds it itself, with the `guanai` binary cargo built for the tests
//!   (the dev profile: expect about half an hour), in `target/tmp/city-demo/`, and reuses it
//!   on later runs; delete that folder to build it again.
//!
//! The server is a separate `guanai serve` process on that folder: the binary named by
//! `GUANAI_CITY_BIN` (CI: `target/release/guanai`, so the times are a release build's),
//! else the test profile's. The test never skips: without Chromium, a binary or a city, it
//! fails and says what is missing.
//!
//! The city test runs alone (the other browser tests wait for it, or it for them), so the
//! times are not those of a machine busy with a second browser.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::Locator;
use guanai_domain::RegionCode;
use guanai_store::families::FamilyQuery;
use guanai_store::policies::PolicyQuery;
use guanai_store::{Actor, DatabaseTarget, Keys, Store};

use crate::harness::{App, Browser, ChromeDriver, Login, Viewport};
use crate::pages::{fill, table, wait_path_where};
use crate::scenarios::{children_in_data, name_in_data};

/// The fewest households a city database has (`--households city` makes 330,000).
const CITY_AT_LEAST: u64 = 300_000;
const COUNTY: &str = guanai::demo::DEMO_COUNTY;
/// 兴桥镇, the township the filter asks for.
const TOWNSHIP: &str = guanai::demo::DEMO_TOWNSHIP;
/// How long the server may take to answer `/healthz` after it starts.
const START_LIMIT: Duration = Duration::from_secs(60);

/// The city's data folder: `GUANAI_CITY_DIR`, or the one the test builds (see the module
/// doc).
fn city_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GUANAI_CITY_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        check_city_dir(&dir).with_context(|| {
            format!(
                "GUANAI_CITY_DIR={} is not a city demo folder; make one with \
                 `guanai --data-dir {} demo --households city`",
                dir.display(),
                dir.display()
            )
        })?;
        return Ok(dir);
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("city-demo");
    if check_city_dir(&dir).is_ok() {
        eprintln!("[city] reusing the city database in {} (delete it to build it again)", dir.display());
        return Ok(dir);
    }
    let building = dir.with_extension("building");
    let _ = std::fs::remove_dir_all(&building);
    let binary = env!("CARGO_BIN_EXE_guanai");
    eprintln!(
        "[city] GUANAI_CITY_DIR is not set: building the city database in {} with {binary} \
         (the test profile: slow; .ci/run hands over one built by the release binary)",
        dir.display()
    );
    let started = Instant::now();
    let output = guanai_command(binary, &building)
        .args(["demo", "--households", "city"])
        .output()
        .with_context(|| format!("running {binary} demo"))?;
    ensure!(
        output.status.success(),
        "`guanai demo --households city` failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&building, &dir)?;
    eprintln!("[city] city database built in {:.0?}", started.elapsed());
    check_city_dir(&dir)?;
    Ok(dir)
}

fn check_city_dir(dir: &Path) -> Result<()> {
    for file in ["guanai.db", "guanai.key", "demo-logins.txt"] {
        ensure!(dir.join(file).is_file(), "{} has no {file}", dir.display());
    }
    Ok(())
}

/// `guanai --data-dir DIR …`, unaffected by the caller's Guanai settings.
fn guanai_command(binary: &str, dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command.arg("--data-dir").arg(dir).env("RUST_LOG", "warn").stdin(Stdio::null());
    for var in
        ["GUANAI_DATA_DIR", "GUANAI_DATABASE_URL", "GUANAI_CONFIG", "GUANAI_ENCRYPTION_KEY", "GUANAI_LISTEN"]
    {
        command.env_remove(var);
    }
    // No ./guanai.toml of the caller's.
    std::fs::create_dir_all(dir).ok();
    command.current_dir(dir);
    command
}

/// The demo logins the city's `demo` run wrote (login, password, role, region name).
fn read_logins(dir: &Path) -> Result<Vec<Login>> {
    let text = std::fs::read_to_string(dir.join("demo-logins.txt"))?;
    let mut logins = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [username, password, _, region] = fields[..] else { bail!("demo-logins.txt: odd line {line:?}") };
        let (_, _, role, _) = guanai::demo::DEMO_USERS
            .iter()
            .find(|(login, ..)| *login == username)
            .with_context(|| format!("demo-logins.txt names {username}, not a demo login"))?;
        logins.push(Login {
            username: username.to_owned(),
            role: *role,
            region: region.to_owned(),
            password: password.to_owned(),
        });
    }
    Ok(logins)
}

/// Serves the city with a `guanai serve` process on a free port; also opens its store.
async fn serve_city(dir: &Path) -> Result<App> {
    let binary = std::env::var("GUANAI_CITY_BIN")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_guanai").to_owned());
    ensure!(Path::new(&binary).is_file(), "GUANAI_CITY_BIN={binary}: no such binary");
    let logins = read_logins(dir)?;
    let store = Store::open(
        &DatabaseTarget::SqliteFile(dir.join("guanai.db")),
        Keys::load_or_create(&dir.join("guanai.key"))?,
    )
    .await
    .with_context(|| format!("opening the city database in {}", dir.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let log_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser").join("city-server.log");
    std::fs::create_dir_all(log_path.parent().expect("a folder"))?;
    let log = std::fs::File::create(&log_path)?;
    let started = Instant::now();
    let mut child = guanai_command(&binary, dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {binary} serve"))?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("`guanai serve` on the city ended at start ({status}):\n{log}");
        }
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if started.elapsed() > START_LIMIT {
            let _ = child.kill();
            bail!(
                "`guanai serve` on the city did not answer /healthz within {START_LIMIT:?}; see {}",
                log_path.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("[city] {binary} serving {} (ready in {:.0?})", dir.display(), started.elapsed());
    Ok(App::served_by(child, base, logins, store))
}

/// One page's figures: the time to its first byte and until it had loaded (as the
/// browser's navigation timing says), and the wall time the test waited for it.
struct Timed {
    who: String,
    page: String,
    first_byte_ms: f64,
    loaded_ms: f64,
    waited: Duration,
}

struct Visit<'a> {
    b: &'a Browser,
    who: &'a str,
    times: &'a mut Vec<Timed>,
}

impl Visit<'_> {
    /// Opens `path` and records its times; fails on the login page or an error page.
    async fn open(&mut self, path: &str) -> Result<()> {
        let started = Instant::now();
        self.b.goto(path).await?;
        self.record(path, started).await
    }

    /// Records the page the browser has just loaded (after `started`).
    async fn record(&mut self, page: &str, started: Instant) -> Result<()> {
        let waited = started.elapsed();
        let here = self.b.location().await?;
        ensure!(!here.starts_with("/login"), "{page}: sent to the login page ({here})");
        let errors = self.b.client.find_all(Locator::Css("[data-testid=error-message]")).await?;
        if let Some(error) = errors.first() {
            bail!("{page}: error page: {}", error.text().await?);
        }
        let (first_byte_ms, loaded_ms): (f64, f64) = self
            .b
            .js("const n = performance.getEntriesByType('navigation')[0];
                 return [n.responseStart - n.startTime, (n.loadEventEnd || performance.now()) - n.startTime];")
            .await?;
        self.times.push(Timed {
            who: self.who.to_owned(),
            page: page.to_owned(),
            first_byte_ms,
            loaded_ms,
            waited,
        });
        Ok(())
    }
}

/// "共 330,000 户，第 1 / 6600 页" → 330000.
fn total_in(text: &str, unit: &str) -> Result<u64> {
    let number = text
        .split_once('共')
        .and_then(|(_, rest)| rest.split_once(unit))
        .map(|(n, _)| n.trim().replace(',', ""))
        .with_context(|| format!("no 共 … {unit} in {text:?}"))?;
    number.parse().with_context(|| format!("{number:?} in {text:?} is not a count"))
}

async fn shown_total(b: &Browser, unit: &str) -> Result<u64> {
    let line = b
        .texts("main p.muted")
        .await?
        .into_iter()
        .find(|t| t.starts_with('共'))
        .with_context(|| format!("the page shows no 共 … {unit}"))?;
    total_in(&line, unit)
}

/// `360***********1234`: three digits, eleven stars, the last four characters.
fn is_masked_id(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.len() == 18
        && chars[..3].iter().all(char::is_ascii_digit)
        && chars[3..14].iter().all(|c| *c == '*')
        && chars[14..17].iter().all(char::is_ascii_digit)
        && (chars[17].is_ascii_digit() || chars[17] == 'X')
}

/// The family page of `family` as `actor` sees it: name, village, masked IDs, policies.
async fn check_family(v: &mut Visit<'_>, store: &Store, actor: &Actor, family: i64) -> Result<()> {
    let page = format!("/families/{family}");
    if v.b.path().await? != page {
        v.open(&page).await?;
    }
    let detail = store.families().family(actor, family).await?;
    let heading = v.b.text("h1").await?;
    ensure!(heading == format!("{}户", detail.summary.head_name), "{page}: heading {heading:?}");
    let facts = v.b.text("dl.facts").await?;
    ensure!(
        facts.contains(&detail.summary.village_code) && facts.contains(&detail.summary.code),
        "{page}: the facts should name village {} and family {}: {facts:?}",
        detail.summary.village_code,
        detail.summary.code
    );
    let members = table(v.b, "[data-testid=members]").await?;
    let active: Vec<_> = detail.members.iter().filter(|m| m.active).collect();
    ensure!(!members.is_empty() && members.len() >= active.len(), "{page}: members {members:?}");
    for person in &active {
        let row = members
            .iter()
            .find(|row| row.first().is_some_and(|cell| person.name == cell.as_str()))
            .with_context(|| format!("{page}: no row for member {}", person.name))?;
        let shown =
            row.get(1).map(|cell| cell.split_whitespace().next().unwrap_or_default()).unwrap_or_default();
        ensure!(
            is_masked_id(shown) && shown == person.id_masked,
            "{page}: {}'s ID shows {shown:?}, expected the masked {}",
            person.name,
            person.id_masked
        );
    }
    let policies = store
        .policies()
        .search_policies(actor, &PolicyQuery { family_id: Some(family), per_page: 100, ..Default::default() })
        .await?;
    let shown = table(v.b, "[data-testid=policies]").await?;
    if policies.total == 0 {
        ensure!(shown.len() == 1 && shown[0].join(" ").contains("尚未参保"), "{page}: policies {shown:?}");
    } else {
        ensure!(
            shown.len() as u64 == policies.total,
            "{page}: {} policies shown, {} held",
            shown.len(),
            policies.total
        );
        for policy in &policies.policies {
            ensure!(
                shown.iter().any(|row| row.get(1) == Some(&policy.year.to_string())),
                "{page}: no policy of {} shown: {shown:?}",
                policy.year
            );
        }
    }
    Ok(())
}

/// The family list, then the filter form (兴桥镇, 独生子女家庭), then the first family found.
async fn families(v: &mut Visit<'_>, store: &Store, actor: &Actor, at_least: u64) -> Result<()> {
    v.open("/families").await?;
    let all = store
        .families()
        .search_families(actor, &FamilyQuery { per_page: 1, ..Default::default() })
        .await?
        .total;
    let shown = shown_total(v.b, "户").await?;
    ensure!(shown == all, "/families: shows {shown} families, the database holds {all}");
    ensure!(all >= at_least, "/families: {all} families; a city database has at least {at_least}");
    let rows = table(v.b, "[data-testid=families]").await?;
    ensure!(rows.len() >= 20 && rows.iter().all(|r| r.len() >= 6), "/families: rows {rows:?}");

    // The filter, through the form as a user would.
    fill(v.b, "form.filters input[name=region]", TOWNSHIP).await?;
    v.b.find("form.filters select[name=category] option[value=only_child]").await?.click().await?;
    let started = Instant::now();
    v.b.find("form.filters button[type=submit]:not([formaction])").await?.click().await?;
    wait_path_where(v.b, "the filtered family list", |p| p == "/families").await?;
    let b = v.b;
    b.until("the filtered list", || async move {
        Ok(b.location().await?.contains("category=only_child").then_some(()))
    })
    .await?;
    v.record("/families?region=兴桥镇&category=独生子女", started).await?;
    let query = FamilyQuery {
        region: Some(RegionCode::parse(TOWNSHIP)?),
        category: Some("only_child".to_owned()),
        per_page: 1,
        ..Default::default()
    };
    let expected = store.families().search_families(actor, &query).await?.total;
    let shown = shown_total(v.b, "户").await?;
    ensure!(
        shown == expected && expected > 0,
        "filtered: shows {shown} families, the database holds {expected}"
    );
    let villages: Vec<String> = children_in_data(TOWNSHIP).into_iter().map(|(_, name)| name).collect();
    let rows = table(v.b, "[data-testid=families]").await?;
    ensure!(!rows.is_empty(), "filtered: no rows");
    for row in &rows {
        ensure!(row[3] == "独生子女家庭", "filtered: a family of category {:?}", row[3]);
        ensure!(
            villages.iter().any(|name| name.contains(&row[2]) || row[2].contains(name.as_str())),
            "filtered: village {:?} is not in {}",
            row[2],
            name_in_data(TOWNSHIP)
        );
    }

    // The first family found, by its link.
    let link = v.b.find("[data-testid=families] tbody tr a.rowlink").await?;
    let href = link.attr("href").await?.context("the family link has no href")?;
    let family: i64 =
        href.trim_start_matches("/families/").parse().with_context(|| format!("link {href}"))?;
    let started = Instant::now();
    link.click().await?;
    v.b.wait_path(&href).await?;
    v.record("/families/{id}", started).await?;
    check_family(v, store, actor, family).await
}

/// The policy list, all years and 2026.
async fn policies(v: &mut Visit<'_>, store: &Store, actor: &Actor) -> Result<()> {
    for (page, year) in [("/policies", None), ("/policies?year=2026", Some(2026))] {
        v.open(page).await?;
        let expected = store
            .policies()
            .search_policies(actor, &PolicyQuery { year, per_page: 1, ..Default::default() })
            .await?;
        let shown = shown_total(v.b, "份").await?;
        ensure!(
            shown == expected.total && shown > 0,
            "{page}: shows {shown} policies, the database holds {}",
            expected.total
        );
        let rows = table(v.b, "[data-testid=policies]").await?;
        ensure!(rows.len() >= 20, "{page}: {} rows", rows.len());
        if let Some(year) = year {
            ensure!(rows.iter().all(|r| r[4] == year.to_string()), "{page}: a policy of another year");
        }
    }
    Ok(())
}

/// The funding sources of 2026, and the ledger of the one that paid most.
async fn funding(v: &mut Visit<'_>, store: &Store, actor: &Actor) -> Result<()> {
    v.open("/funding?year=2026").await?;
    let sources = store.funding().sources(actor, Some(2026)).await?;
    let rows = table(v.b, "[data-testid=sources]").await?;
    ensure!(
        rows.len() == sources.len() && !sources.is_empty(),
        "/funding: {} rows, {} sources",
        rows.len(),
        sources.len()
    );
    let busiest = sources.iter().max_by_key(|s| s.allocated.get()).expect("a source");
    let page = format!("/funding/{}", busiest.id);
    v.open(&page).await?;
    ensure!(v.b.text("h1").await? == busiest.name, "{page}: not the ledger of {}", busiest.name);
    let totals = v.b.text("[data-testid=ledger-totals]").await?;
    ensure!(
        totals.contains(&busiest.allocated.to_string()),
        "{page}: totals {totals:?} lack {}",
        busiest.allocated
    );
    let lines = table(v.b, "[data-testid=ledger-lines]").await?;
    ensure!(
        lines.len() >= 20 && lines.iter().all(|l| l.len() == 4),
        "{page}: {} ledger lines (the source paid {})",
        lines.len(),
        busiest.allocated
    );
    Ok(())
}

/// The audit log, whole and filtered to logins.
async fn audit(v: &mut Visit<'_>) -> Result<()> {
    v.open("/audit").await?;
    let total = shown_total(v.b, "条").await?;
    let rows = table(v.b, "[data-testid=audit]").await?;
    ensure!(total > 0 && !rows.is_empty(), "/audit: {total} entries, {} rows", rows.len());
    v.open("/audit?action=login").await?;
    let rows = table(v.b, "[data-testid=audit]").await?;
    ensure!(
        rows.iter().any(|r| r[1] == "demo.city" && r[3] == "登录"),
        "/audit?action=login: the city administrator's login is not listed: {rows:?}"
    );
    Ok(())
}

async fn as_city_admin(b: &Browser, times: &mut Vec<Timed>) -> Result<()> {
    let store = &b.app.store;
    let actor = Actor::system(RegionCode::parse("3608")?);
    b.login_as("demo.city").await?;
    let mut v = Visit { b, who: "demo.city", times };
    families(&mut v, store, &actor, CITY_AT_LEAST).await?;
    policies(&mut v, store, &actor).await?;
    funding(&mut v, store, &actor).await?;
    audit(&mut v).await
}

async fn as_county_staff(b: &Browser, times: &mut Vec<Timed>, city_families: u64) -> Result<()> {
    let store = &b.app.store;
    let actor = Actor::system(RegionCode::parse(COUNTY)?);
    b.login_as("demo.county").await?;
    let mut v = Visit { b, who: "demo.county", times };
    // 吉州区 holds a share of the city, not all of it.
    families(&mut v, store, &actor, CITY_AT_LEAST / 100).await?;
    let county = families_of(store, &actor).await?;
    ensure!(county < city_families, "吉州区 shows {county} of the city's {city_families} families");
    policies(&mut v, store, &actor).await?;
    funding(&mut v, store, &actor).await?;
    // County staff have no audit log: it is "not found" for them.
    b.expect_not_found("/audit", &[]).await
}

async fn families_of(store: &Store, actor: &Actor) -> Result<u64> {
    Ok(store
        .families()
        .search_families(actor, &FamilyQuery { per_page: 1, ..Default::default() })
        .await?
        .total)
}

/// The whole city test (see the module doc).
pub async fn run() {
    let driver = ChromeDriver::shared().unwrap_or_else(|e| panic!("cannot start chromedriver: {e:#}"));
    let dir = city_dir().unwrap_or_else(|e| panic!("no city database for the city test: {e:#}"));
    let app = Arc::new(serve_city(&dir).await.unwrap_or_else(|e| panic!("cannot serve the city: {e:#}")));
    let city = Actor::system(RegionCode::parse("3608").expect("a city code"));
    let city_families = families_of(&app.store, &city).await.expect("counting the city's families");
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for (who, viewport) in [("demo.city", Viewport::DESKTOP), ("demo.county", Viewport::DESKTOP)] {
        let profile = tempfile::tempdir().expect("a temp dir for the browser profile");
        let browser = match Browser::open(&driver, app.clone(), viewport, profile.path()).await {
            Ok(browser) => browser,
            Err(err) => {
                failures.push(format!("{who}: cannot open the browser: {err:#}"));
                continue;
            }
        };
        let outcome = if who == "demo.city" {
            as_city_admin(&browser, &mut times).await
        } else {
            as_county_staff(&browser, &mut times, city_families).await
        };
        if let Err(err) = outcome {
            let evidence = browser.keep_evidence(&format!("city-{who}")).await;
            let evidence =
                evidence.map(|at| format!("\n    (screenshot and HTML: {at})")).unwrap_or_default();
            failures.push(format!("{who}: {err:#}{evidence}"));
        }
        let _ = browser.client.close().await;
    }
    eprintln!("[city] {city_families} families; page times (first byte / loaded / waited by the test):");
    for t in &times {
        eprintln!(
            "[city]   {:<12} {:<48} {:>6.0} ms {:>6.0} ms {:>6.0} ms",
            t.who,
            t.page,
            t.first_byte_ms,
            t.loaded_ms,
            t.waited.as_secs_f64() * 1000.0
        );
    }
    assert!(failures.is_empty(), "the city test failed:\n  - {}", failures.join("\n  - "));
}
