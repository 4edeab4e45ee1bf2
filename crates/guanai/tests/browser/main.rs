//! Real-browser tests: headless Chromium driven over WebDriver (chromedriver), against the
//! app served in-process with the demo city, at a desktop window and at a phone's width.
//!
//! Needs `apt-get install chromium chromium-driver` (or `CHROMEDRIVER` / `CHROMIUM` set to
//! their paths). Run with `cargo test -p guanai --test browser`; one scenario only with
//! `GUANAI_BROWSER_ONLY=logout cargo test -p guanai --test browser`. A failing scenario
//! leaves a screenshot and the page's HTML under `target/tmp/browser/`.
//!
//! Each window size is one test: it starts the app once, then runs every scenario in a
//! fresh browser profile, and reports all the scenarios that failed. The two tests share
//! one chromedriver, which is killed (with its browsers) when the last of them ends.
//!
//! `city` is a third test: the main lists and a family's page on a city-size database
//! (330,000 households), with the time each page took; see `city.rs` for where that
//! database comes from (`GUANAI_CITY_DIR`). It runs alone, so its times are not those of a
//! machine busy with the other two.

mod association;
mod city;
mod claims;
mod enrolment;
mod harness;
mod pages;
mod renewals;
mod reports;
mod scenarios;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

use harness::{App, Browser, ChromeDriver, Viewport};

type Run = fn(Browser) -> Pin<Box<dyn Future<Output = Result<()>> + Send>>;

const SCENARIOS: [(&str, Run); 18] = [
    ("county_login", |b| Box::pin(scenarios::county_login(b))),
    ("agent_home", |b| Box::pin(scenarios::agent_home(b))),
    ("county_regions", |b| Box::pin(scenarios::county_regions(b))),
    ("layout", |b| Box::pin(scenarios::layout(b))),
    ("logout", |b| Box::pin(scenarios::logout(b))),
    // In this order: the insurer underwrites the policy county staff enrolled just before
    // (alone, it makes that policy through the store).
    ("enrol_register", |b| Box::pin(enrolment::county_registers_and_enrols(b))),
    ("enrol_underwrite", |b| Box::pin(enrolment::insurer_underwrites_and_public_verifies(b))),
    ("enrol_agent", |b| Box::pin(enrolment::agent_enrols_on_phone(b))),
    ("enrol_refused", |b| Box::pin(enrolment::enrolment_refused(b))),
    ("association_training", |b| Box::pin(association::training_sign_in(b))),
    ("association_overdue", |b| Box::pin(association::overdue_action_on_home(b))),
    ("association_publicity", |b| Box::pin(association::publicity_code_counted(b))),
    ("association_handover", |b| Box::pin(association::handover_to_successor(b))),
    ("association_student_aid", |b| Box::pin(association::student_aid_to_payment(b))),
    ("renew_agent", |b| Box::pin(renewals::agent_renews_on_phone(b))),
    ("claims", |b| Box::pin(claims::claim_from_report_to_satisfaction(b))),
    ("reports_city", |b| Box::pin(reports::city_targets_and_coverage(b))),
    ("reports_agent", |b| Box::pin(reports::agent_dashboard(b))),
];

/// The window-size suites hold it to read, the city test to write: the city test runs alone.
static ALONE: RwLock<()> = RwLock::new(());

/// A scenario that takes longer than this is stuck.
const SCENARIO_LIMIT: Duration = Duration::from_secs(90);

async fn run_suite(viewport: Viewport) {
    let only = std::env::var("GUANAI_BROWSER_ONLY").ok();
    if only.as_deref() == Some("city") {
        return;
    }
    let driver = ChromeDriver::shared().unwrap_or_else(|e| panic!("cannot start chromedriver: {e:#}"));
    let app = Arc::new(App::start().await.unwrap_or_else(|e| panic!("cannot start the app: {e:#}")));
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, run) in SCENARIOS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        ran += 1;
        let started = Instant::now();
        let profile = tempfile::tempdir().expect("a temp dir for the browser profile");
        let browser = match Browser::open(&driver, app.clone(), viewport, profile.path()).await {
            Ok(browser) => browser,
            Err(err) => {
                failures.push(format!("{name}: cannot open the browser: {err:#}"));
                continue;
            }
        };
        let outcome = match tokio::time::timeout(SCENARIO_LIMIT, run(browser.clone())).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow!("did not finish within {SCENARIO_LIMIT:?}")),
        };
        if let Err(err) = outcome {
            let evidence = browser.keep_evidence(&format!("{}-{name}", viewport.name)).await;
            let evidence =
                evidence.map(|at| format!("\n    (screenshot and HTML: {at})")).unwrap_or_default();
            failures.push(format!("{name}: {err:#}{evidence}"));
        }
        let _ = browser.client.close().await;
        eprintln!("[{}] {name}: {:.1?}", viewport.name, started.elapsed());
    }
    assert!(ran > 0, "GUANAI_BROWSER_ONLY={only:?} names no scenario");
    assert!(
        failures.is_empty(),
        "{} of {ran} browser scenarios failed at {} ({}x{}):\n  - {}",
        failures.len(),
        viewport.name,
        viewport.width,
        viewport.height,
        failures.join("\n  - ")
    );
}

/// Runs a test's future on a runtime of its own, as `#[tokio::test]` would, so that the
/// [`ALONE`] lock is taken outside it.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

#[test]
fn desktop_1366x900() {
    let _shared = ALONE.read().unwrap_or_else(|e| e.into_inner());
    block_on(run_suite(Viewport::DESKTOP));
}

#[test]
fn phone_375x812() {
    let _shared = ALONE.read().unwrap_or_else(|e| e.into_inner());
    block_on(run_suite(Viewport::PHONE));
}

/// The main lists and a family on a city-size database (`city.rs`); with
/// `GUANAI_BROWSER_ONLY` naming a scenario of the other two, it does not run.
#[test]
fn city() {
    if std::env::var("GUANAI_BROWSER_ONLY").is_ok_and(|only| only != "city") {
        return;
    }
    let _alone = ALONE.write().unwrap_or_else(|e| e.into_inner());
    block_on(city::run());
}
