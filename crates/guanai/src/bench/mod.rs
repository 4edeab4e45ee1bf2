//! `guanai bench`: Guanai measured at city scale, end to end, printing one table. See
//! docs/BENCHMARKS.md for what each figure means and what limits it.
//!
//! 1. Roster import of a generated city roster into an empty database, by a
//!    `guanai import roster` process of its own (its peak memory is measured alone), and
//!    a plain bulk insert beside it as a yardstick (`import.rs`).
//! 2. A city database built by the demo generator; then a separate `guanai serve` process
//!    on loopback: its start-up time, enrolment through the HTTP API by 32 clients, the
//!    coverage look-up by ID number, the family list of one county, and its peak memory.
//! 3. A gifted-policy batch (送保) for many families (in process).
//! 4. The dashboard and the reports on a city with its history (`reports.rs`).
//! 5. Claims at city scale: queues, reports over HTTP, photo uploads (`claims.rs`).
//! 6. The renewal season a year on (`renewals.rs`, part of the city step's database).
//! 7. A province: five cities imported into one database, each measured as they are added
//!    (`province.rs`).
//!
//! Each timed step runs `runs` times on fresh data where it writes; figures are medians.

mod claims;
mod import;
mod load;
mod province;
mod renewals;
mod reports;
mod server;
pub mod stats;

use std::time::{Duration, Instant};

use anyhow::Context;
use guanai_domain::funding::FundingKind;
use guanai_domain::{Fen, RegionCode};
use guanai_store::funding::NewSource;
use guanai_store::policies::{GiftRequest, GiftSelection};
use guanai_store::{Actor, DatabaseTarget, Keys, Store};

use self::server::{ApiClient, Server};
use self::stats::{machine, median, peak_memory_mb, Latencies};
use crate::demo;

/// The sizes of one benchmark run.
#[derive(Debug, Clone)]
pub struct BenchSize {
    /// Households in the imported roster (≈ 3 persons each).
    pub roster_households: usize,
    /// Households of the city database the server runs on.
    pub city_households: usize,
    pub enrolments: usize,
    pub lookups: usize,
    pub gifts: usize,
    /// Cities of the province step (each a roster of `roster_households`).
    pub province_cities: usize,
    /// Enrolments over HTTP per city measured in the province step.
    pub province_enrolments: usize,
    pub clients: usize,
    pub runs: usize,
}

impl BenchSize {
    /// The city: about 1,000,000 persons.
    pub fn city() -> Self {
        BenchSize {
            roster_households: 330_000,
            city_households: 330_000,
            enrolments: 10_000,
            lookups: 20_000,
            gifts: 50_000,
            province_cities: 5,
            province_enrolments: 2_000,
            clients: 32,
            runs: 3,
        }
    }

    /// A pass small enough for CI: everything runs, nothing is big.
    pub fn quick() -> Self {
        BenchSize {
            roster_households: 3_000,
            city_households: 4_000,
            enrolments: 300,
            lookups: 500,
            gifts: 500,
            province_cities: 3,
            province_enrolments: 100,
            clients: 8,
            runs: 1,
        }
    }
}

/// The parts of the suite, each runnable alone (`guanai bench --only import`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    /// The roster import into an empty database.
    Import,
    /// The city database and the server on it: start-up, enrolment, look-up, county list.
    City,
    /// The gifted-policy batch (needs the city database, which it builds).
    Gift,
    /// The dashboard and the reports on a city with its history (`reports.rs`).
    Reports,
    /// The renewal season on the city database a year on (needs it, and builds it).
    Renew,
    /// Claims on a city with six years of them: queues, reports, photos (`claims.rs`).
    Claims,
    /// A province: five cities' rosters into one database, each city measured as they are
    /// added (`province.rs`; docs/SCALE.md).
    Province,
}

impl Step {
    pub const ALL: [Step; 7] =
        [Step::Import, Step::City, Step::Gift, Step::Reports, Step::Renew, Step::Claims, Step::Province];
}

/// Where the databases go: fresh SQLite files in a temporary folder, or fresh databases
/// on a server (`postgres://…/postgres`, `mysql://…/test`: the bench creates its own).
pub struct Target {
    pub server_url: Option<String>,
}

struct FreshDb {
    url: String,
    dir: std::path::PathBuf,
    /// The server and the database's name, for a database on a server.
    on_server: Option<(String, String)>,
}

impl FreshDb {
    /// Removes the database once measured: its folder, and its database on a server
    /// (each run's is a city or more: left behind, they fill the server's disk).
    async fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((server, name)) = &self.on_server {
            if let Err(err) = guanai_store::drop_database(server, name).await {
                tracing::warn!(%err, name, "could not drop the benchmark's database");
            }
        }
    }
}

impl Target {
    async fn fresh(&self, label: &str) -> anyhow::Result<FreshDb> {
        let dir = std::env::temp_dir().join(format!("guanai-bench-{label}-{}", rand::random::<u32>()));
        std::fs::create_dir_all(&dir)?;
        let (url, on_server) = match &self.server_url {
            None => (format!("sqlite://{}?mode=rwc", dir.join("guanai.db").display()), None),
            Some(base) => {
                let name = format!("guanai_bench_{label}_{}", rand::random::<u32>());
                (guanai_store::create_database(base, &name).await?, Some((base.clone(), name)))
            }
        };
        Ok(FreshDb { url, dir, on_server })
    }
}

/// One row of the report.
struct Figure {
    name: &'static str,
    value: String,
    target: &'static str,
}

/// The rows so far; each is printed as soon as it is measured, so a long run that fails
/// late still leaves its figures.
#[derive(Default)]
struct Figures(Vec<Figure>);

impl Figures {
    fn push(&mut self, figure: Figure) {
        println!("  {}: {} (target {})", figure.name.trim(), figure.value, figure.target);
        self.0.push(figure);
    }
}

/// The password of the benchmark's city administrator (`bench.city`).
const BENCH_PASSWORD: &str = "bench-password-2026";

fn hex_key() -> String {
    (0..4).map(|_| format!("{:016x}", rand::random::<u64>())).collect()
}

pub async fn run(size: BenchSize, target: Target, steps: &[Step]) -> anyhow::Result<()> {
    let engine = if target.server_url.is_some() { "server" } else { "SQLite" };
    println!(
        "关爱 benchmark — {} — {}",
        machine(),
        target.server_url.as_deref().map(|u| u.split('@').next_back().unwrap_or(u)).unwrap_or(engine)
    );
    let mut figures = Figures::default();
    let set = guanai_store::regions::demo_city();
    let today = chrono::NaiveDate::from_ymd_opt(demo::catalog::DEMO_YEAR, 11, 30).expect("valid date");

    if steps.contains(&Step::Import) {
        import::import_roster(&size, &target, &set, today, &mut figures).await?;
    }
    if steps.contains(&Step::City) || steps.contains(&Step::Gift) || steps.contains(&Step::Renew) {
        city(&size, &target, &set, steps, &mut figures).await?;
    }
    if steps.contains(&Step::Reports) {
        reports::bench(&size, &target, &mut figures).await?;
    }
    if steps.contains(&Step::Claims) {
        claims::bench(&size, &target, &mut figures).await?;
    }
    if steps.contains(&Step::Province) {
        province::bench(&size, &target, &mut figures).await?;
    }
    println!("\n| figure | measured | target |\n|---|---|---|");
    for figure in figures.0 {
        println!("| {} | {} | {} |", figure.name, figure.value, figure.target);
    }
    Ok(())
}

/// 2. The city database, served by its own process; 3. the gifted batch on it.
async fn city(
    size: &BenchSize,
    target: &Target,
    set: &guanai_store::regions::DivisionSet,
    steps: &[Step],
    figures: &mut Figures,
) -> anyhow::Result<()> {
    // `GUANAI_BENCH_CITY=DIR` (SQLite only) keeps the city database in DIR and serves the
    // one found there on later runs: for comparing server builds on the same data. Each
    // run enrols other families.
    let kept = std::env::var_os("GUANAI_BENCH_CITY").filter(|_| target.server_url.is_none());
    let (db, key, reused) = match &kept {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir)?;
            let key_file = dir.join("bench.key");
            let reused = key_file.exists();
            let key = if reused { std::fs::read_to_string(&key_file)?.trim().to_owned() } else { hex_key() };
            let url = format!("sqlite://{}?mode=rwc", dir.join("guanai.db").display());
            (FreshDb { url, dir, on_server: None }, key, reused)
        }
        None => (target.fresh("city").await?, hex_key(), false),
    };
    let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::from_hex(&key)?).await?;
    let password = BENCH_PASSWORD;
    if !reused {
        build_city(size, &store, &db, set, password, figures).await?;
        if kept.is_some() {
            std::fs::write(db.dir.join("bench.key"), &key)?;
        }
    } else {
        // A kept city holds the marks its last run's enrolments left behind.
        summary_caught_up(&store).await?;
    }
    let prepared = Instant::now();
    // Families to gift only when the gift step runs (a kept city has fewer to spare).
    let gifts = if steps.contains(&Step::Gift) { size.gifts } else { 0 };
    let work = Workload::prepare(&store, &set.city, &BenchSize { gifts, ..size.clone() }).await?;
    figures.push(Figure {
        name: "workload chosen (bench only)",
        value: format!(
            "{} families to enrol, {} to gift, {} ID numbers in {:.1} s",
            work.enrol.len(),
            work.gift.len(),
            work.id_numbers.len(),
            prepared.elapsed().as_secs_f64()
        ),
        target: "—",
    });
    if steps.contains(&Step::City) {
        serve_city(size, &db, &key, password, &work, figures).await?;
    }
    if steps.contains(&Step::Gift) {
        // 3. A gifted batch, in process.
        let (gift_seconds, gifted) = gift(&store, &set.city, &work.gift).await?;
        figures.push(Figure {
            name: "gifted policies (送保) batch",
            value: format!(
                "{gifted} policies ({} families selected) in {gift_seconds:.2} s",
                work.gift.len()
            ),
            target: "50,000 ≤ 5 s",
        });
    }
    if steps.contains(&Step::Renew) {
        renewals::renewals(&store, set, size, figures).await?;
    }
    // What the figures above ran on: on MariaDB the buffer pool decides most of them
    // (`guanai_store::server_cache`).
    let database = match store.server_cache().await {
        Ok(cache) => cache.describe(),
        Err(err) => format!("not read: {err}"),
    };
    figures.push(Figure {
        name: "database: engine, its own cache, data and indexes",
        value: database,
        target: "—",
    });
    store.close().await?;
    if kept.is_none() {
        db.remove().await;
    }
    Ok(())
}

/// The reports' summary brought up to date, as the refresher of a server that has been
/// running has it: otherwise the server measured next spends its run on marks it did not
/// make (a bulk load's, a kept city's last run's), where a server measures only its own.
pub(super) async fn summary_caught_up(store: &Store) -> anyhow::Result<()> {
    let refreshed = Instant::now();
    let marks = store.reports().refresh_whole_summary().await?;
    if marks > 0 {
        println!(
            "  (the reports' summary caught up: {marks} marks in {:.1} s)",
            refreshed.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The city database: the demo generator's city with the demo year alone, and the
/// benchmark's user.
async fn build_city(
    size: &BenchSize,
    store: &Store,
    db: &FreshDb,
    set: &guanai_store::regions::DivisionSet,
    password: &str,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let built = Instant::now();
    demo::setup(store, &db.dir).await?;
    // The demo year alone: the figures measure serving a city, not building its history.
    let year = demo::catalog::DEMO_YEAR;
    let report = demo::populate_years(store, size.city_households, 2026, year..=year).await?;
    let build_seconds = built.elapsed().as_secs_f64();
    summary_caught_up(store).await?;
    figures.push(Figure {
        name: "city database built",
        value: format!(
            "{} households, {} persons, {} policies in {build_seconds:.0} s",
            report.households, report.persons, report.policies
        ),
        target: "a few minutes",
    });
    store
        .users()
        .create_user(
            &Actor::system(set.city.clone()),
            guanai_store::users::NewUser {
                username: guanai_domain::Username::parse("bench.city")?,
                display_name: "压测".to_owned(),
                role: guanai_domain::Role::CityAdmin,
                region: set.city.clone(),
                org_id: None,
                password: guanai_domain::Password::parse(password)?,
                must_change_password: false,
            },
        )
        .await?;
    Ok(())
}

/// Start-up, enrolment, look-up, the county list and memory of a `guanai serve` process.
async fn serve_city(
    size: &BenchSize,
    db: &FreshDb,
    key: &str,
    password: &str,
    work: &Workload,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let mut startups = Vec::new();
    for _ in 0..size.runs {
        let server = Server::start(&db.url, key, &db.dir).await?;
        startups.push(server.startup.as_secs_f64() * 1000.0);
    }
    figures.push(Figure {
        name: "server start-up (city database)",
        value: format!("{:.0} ms", median(&startups)),
        target: "≤ 1 s",
    });

    let server = Server::start(&db.url, key, &db.dir).await?;
    let client = ApiClient::login(&server.base, "bench.city", password).await?;

    let (rate, latencies) = enrol_over_http(&client, work, size.clients).await?;
    figures.push(Figure {
        name: "enrolment via HTTP API",
        value: format!(
            "{} families, {rate:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
            work.enrol.len(),
            ms(latencies.percentile(50.0)),
            ms(latencies.percentile(99.0))
        ),
        target: "≥ 2,000/s, p99 ≤ 50 ms",
    });

    let mut rates = Vec::new();
    let mut p50s = Vec::new();
    let mut p99s = Vec::new();
    for _ in 0..size.runs {
        let (rate, latencies) =
            load::look_up_over_http(&client, &work.id_numbers, size.lookups, size.clients).await?;
        rates.push(rate);
        p50s.push(ms(latencies.percentile(50.0)));
        p99s.push(ms(latencies.percentile(99.0)));
    }
    figures.push(Figure {
        name: "coverage look-up by ID via HTTP API",
        value: format!("{:.0}/s, p50 {:.1} ms, p99 {:.1} ms", median(&rates), median(&p50s), median(&p99s)),
        target: "≥ 10,000/s, p99 ≤ 20 ms",
    });

    let mut list_times = Vec::new();
    for _ in 0..(size.runs * 5) {
        let started = Instant::now();
        let response = client.get("/families?region=360802&category=only_child").send().await?;
        anyhow::ensure!(response.status().is_success(), "family list answered {}", response.status());
        let _ = response.bytes().await?;
        list_times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    figures.push(Figure {
        name: "family list of one county, filtered",
        value: format!("{:.1} ms (median of {})", median(&list_times), list_times.len()),
        target: "≤ 50 ms",
    });
    figures.push(Figure {
        name: "server peak memory",
        value: format!("{:.0} MB", peak_memory_mb(server.pid())),
        target: "≤ 200 MB",
    });
    drop(server);
    Ok(())
}

pub(super) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Families for each step, chosen before any load starts.
struct Workload {
    package_id: i64,
    /// (family, its active members) to enrol over HTTP.
    enrol: Vec<(i64, Vec<i64>)>,
    /// Families to gift.
    gift: Vec<i64>,
    /// ID numbers of registered persons.
    id_numbers: Vec<String>,
}

impl Workload {
    async fn prepare(store: &Store, city: &RegionCode, size: &BenchSize) -> anyhow::Result<Workload> {
        let system = Actor::system(city.clone());
        let package = store
            .products()
            .packages(Some(demo::catalog::DEMO_YEAR))
            .await?
            .into_iter()
            .find(|p| p.code == "P1")
            .context("no package")?;
        let package_id = package.id;
        // Families without a policy this year (the demo left about a quarter), with their
        // members, in a few queries. Some families have nobody of insurable age: take a
        // few more for the enrolment.
        let wanted = size.enrolments * 3 / 2 + size.gifts;
        let mut free =
            store.policies().uninsured_families(&system, demo::catalog::DEMO_YEAR, wanted as u64).await?;
        anyhow::ensure!(
            free.len() >= size.enrolments + size.gifts,
            "not enough families without a policy: {}",
            free.len()
        );
        let gift = free.split_off(free.len() - size.gifts).iter().map(|f| f.family_id).collect();
        let enrol: Vec<(i64, Vec<i64>)> = free
            .into_iter()
            .filter_map(|family| {
                // Those the package may insure, as an agent would tick them.
                let members: Vec<i64> = family
                    .members
                    .iter()
                    .filter(|m| {
                        m.active && package.base.terms.check_person("", &m.name, m.birth_date, false).is_ok()
                    })
                    .map(|m| m.person_id)
                    .collect();
                (!members.is_empty()).then_some((family.family_id, members))
            })
            .take(size.enrolments)
            .collect();
        // ID numbers to look up: each reveal is audit-logged, so they are asked for 32 at a
        // time and the audit writer commits them together.
        let persons: Vec<i64> = enrol.iter().take(5_000).map(|(_, members)| members[0]).collect();
        let mut id_numbers = Vec::with_capacity(persons.len());
        for chunk in persons.chunks(32) {
            let mut tasks = tokio::task::JoinSet::new();
            for (at, &person) in chunk.iter().enumerate() {
                let (store, system) = (store.clone(), system.clone());
                tasks.spawn(async move { (at, store.families().reveal_id_number(&system, person).await) });
            }
            let mut revealed = vec![String::new(); chunk.len()];
            while let Some(done) = tasks.join_next().await {
                let (at, number) = done?;
                revealed[at] = number?;
            }
            id_numbers.extend(revealed);
        }
        Ok(Workload { package_id, enrol, gift, id_numbers })
    }
}

/// `clients` tasks share the list; each request is timed from send to full answer.
async fn enrol_over_http(
    client: &ApiClient,
    work: &Workload,
    clients: usize,
) -> anyhow::Result<(f64, Latencies)> {
    let requests = work
        .enrol
        .iter()
        .map(|(family, members)| {
            let body = serde_json::json!({"family_id": family, "package_id": work.package_id, "member_ids": members});
            ("/api/v1/policies".to_owned(), body)
        })
        .collect();
    load::post_all(client, requests, clients, "enrolment").await
}

/// Gifts the families a package; returns the seconds taken and how many were gifted
/// (families without consents or without anyone of insurable age are skipped).
async fn gift(store: &Store, city: &RegionCode, families: &[i64]) -> anyhow::Result<(f64, usize)> {
    let system = Actor::system(city.clone());
    let package_id =
        store.products().packages(Some(demo::catalog::DEMO_YEAR)).await?.first().context("no package")?.id;
    let source_id = store
        .funding()
        .create_source(
            &system,
            NewSource {
                name: format!("压测送保基金 {}", rand::random::<u32>()),
                kind: FundingKind::Donation,
                payer: "压测".to_owned(),
                uscc: None,
                year: demo::catalog::DEMO_YEAR,
                region: city.clone(),
                pledged: Fen::from_yuan(100_000_000),
            },
        )
        .await?;
    let request =
        GiftRequest { source_id, package_id, selection: GiftSelection::Families(families.to_vec()) };
    let started = Instant::now();
    let outcome = store.policies().gift(&system, &request).await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(outcome.created > 0, "nobody was gifted");
    Ok((seconds, outcome.created))
}
