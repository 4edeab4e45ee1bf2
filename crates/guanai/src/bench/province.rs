//! Step 7 (`--only province`): a province in simulation (issue #16, docs/SCALE.md). Five of
//! 江西省's cities, a generated roster of `roster_households` households each, go into one
//! database: the first three one after another, the last two at once (on a server engine;
//! SQLite, which has one writer, takes them one after another). After each addition a
//! server on the database measures the cities just added: the import, the summary's
//! refresh, enrolment and the coverage look-up over HTTP by `clients` clients, and the city
//! administrator's home page (the dashboard). At the end the first city is measured again.
//! A province needs each city's figures to stay flat as cities are added.

use std::time::Instant;

use anyhow::Context;
use guanai_domain::{Password, RegionCode, Role, Username};
use guanai_store::regions::{read_embedded_divisions, DivisionSet};
use guanai_store::users::NewUser;
use guanai_store::{Actor, DatabaseTarget, Keys, Store};

use super::load::look_up_over_http;
use super::server::{self, ApiClient, Server};
use super::stats::{median, tenth_rates};
use super::{enrol_over_http, hex_key, ms, BenchSize, Figure, Figures, Target, Workload};
use crate::demo;

/// 江西省's division files, carried by the binary for this step alone
/// (`scripts/extract_divisions.py` made them from the shared official set).
const PROVINCE_FILES: [(&str, &[u8]); 5] = guanai_store::embedded_divisions!("../../data/divisions-36");

/// The cities in the order they are added: 吉安市 (the demo's), then four of the province's
/// largest: 赣州市, 宜春市, 上饶市, 九江市.
const CITIES: [&str; 5] = ["3608", "3607", "3609", "3611", "3604"];

/// What was measured of one city after an addition.
struct CityRun {
    /// Which addition measured it (1-based), and how many cities were in the database.
    addition: usize,
    cities_in_database: usize,
    code: String,
    name: String,
    /// `None` when this row re-measures a city imported earlier.
    import: Option<ImportFigures>,
    enrol_rate: f64,
    enrol_p99_ms: f64,
    lookup_rate: f64,
    lookup_p99_ms: f64,
    dashboard_ms: f64,
}

struct ImportFigures {
    persons: usize,
    seconds: f64,
    /// Persons per second over the whole import.
    rate: f64,
    /// The last tenth's rate ÷ the first tenth's.
    tenth_ratio: Option<f64>,
    /// Another city was imported at the same time.
    concurrent: bool,
}

struct City {
    set: DivisionSet,
    name: String,
    admin: String,
    roster: std::path::PathBuf,
    persons: usize,
}

pub(super) async fn bench(size: &BenchSize, target: &Target, figures: &mut Figures) -> anyhow::Result<()> {
    let db = target.fresh("province").await?;
    let key = hex_key();
    let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::from_hex(&key)?).await?;
    // 吉安市 with the products and packages every city's enrolment uses.
    demo::setup(&store, &db.dir).await?;
    let today = chrono::NaiveDate::from_ymd_opt(demo::catalog::DEMO_YEAR, 11, 30).expect("valid date");
    let started = Instant::now();
    let mut cities = Vec::new();
    for code in CITIES.iter().take(size.province_cities) {
        cities.push(prepare_city(&store, &db.dir, code, size.roster_households, today).await?);
    }
    println!(
        "  province: {} rosters of {} households written in {:.0} s (bench only)",
        cities.len(),
        size.roster_households,
        started.elapsed().as_secs_f64()
    );

    // The additions: one city at a time, the last two at once where the engine writes
    // side by side.
    let together = if target.server_url.is_some() && cities.len() >= 3 { 2 } else { 1 };
    let mut additions: Vec<Vec<usize>> = (0..cities.len() - together).map(|i| vec![i]).collect();
    additions.push((cities.len() - together..cities.len()).collect());

    let mut runs = Vec::new();
    let mut refreshes = Vec::new();
    for (number, addition) in additions.iter().enumerate() {
        let imported = futures_util::future::try_join_all(addition.iter().map(|&i| {
            let city = &cities[i];
            server::import_roster(&db.url, &key, &db.dir, &city.roster, Some(city.set.city.as_str()))
        }))
        .await?;
        // As the server's refresher would, before anyone reads the dashboard.
        let refreshed = Instant::now();
        store.reports().refresh_whole_summary().await?;
        refreshes.push(refreshed.elapsed().as_secs_f64());
        let in_database = addition.last().map_or(0, |last| last + 1);
        let server = Server::start(&db.url, &key, &db.dir).await?;
        for (&i, run) in addition.iter().zip(imported) {
            let city = &cities[i];
            let import = ImportFigures {
                persons: city.persons,
                seconds: run.seconds,
                rate: city.persons as f64 / run.seconds,
                tenth_ratio: tenth_rates(&run.progress).map(|(first, last)| last / first),
                concurrent: addition.len() > 1,
            };
            runs.push(measure(&store, &server, city, size, number + 1, in_database, Some(import)).await?);
        }
    }
    // The first city again, with every city in the database.
    let server = Server::start(&db.url, &key, &db.dir).await?;
    runs.push(measure(&store, &server, &cities[0], size, additions.len() + 1, cities.len(), None).await?);
    drop(server);

    print_table(&runs, &refreshes);
    push_figures(&runs, figures);
    store.close().await?;
    for city in &cities {
        let _ = std::fs::remove_file(&city.roster);
    }
    db.remove().await;
    Ok(())
}

/// The city's regions and administrator in the database, and its roster on disk.
async fn prepare_city(
    store: &Store,
    dir: &std::path::Path,
    code: &str,
    households: usize,
    today: chrono::NaiveDate,
) -> anyhow::Result<City> {
    let city = RegionCode::parse(code)?;
    let set = read_embedded_divisions(&PROVINCE_FILES, &city)?;
    let name =
        set.rows.iter().find(|r| r.code == city).map(|r| r.name.clone()).context("city without a name")?;
    store.regions().import_regions(&set).await?;
    let admin = format!("bench.c{code}");
    store
        .users()
        .create_user(
            &Actor::system(city.clone()),
            NewUser {
                username: Username::parse(&admin)?,
                display_name: format!("{name}压测"),
                role: Role::CityAdmin,
                region: city.clone(),
                org_id: None,
                password: Password::parse(super::BENCH_PASSWORD)?,
                must_change_password: false,
            },
        )
        .await?;
    let roster = dir.join(format!("roster-{code}.csv"));
    let seed = u64::from(code.parse::<u32>()?);
    let written = {
        let (set, roster) = (set.clone(), roster.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let text = demo::households::roster_csv(&set, households, seed, today);
            std::fs::write(&roster, &text)?;
            Ok(text.lines().count().saturating_sub(3))
        })
        .await??
    };
    Ok(City { set, name, admin, roster, persons: written })
}

/// Enrolment, look-up and the dashboard of one city, through the server.
async fn measure(
    store: &Store,
    server: &Server,
    city: &City,
    size: &BenchSize,
    addition: usize,
    cities_in_database: usize,
    import: Option<ImportFigures>,
) -> anyhow::Result<CityRun> {
    let sizes = BenchSize { enrolments: size.province_enrolments, gifts: 0, ..size.clone() };
    let work = Workload::prepare(store, &city.set.city, &sizes).await?;
    let client = ApiClient::login(&server.base, &city.admin, super::BENCH_PASSWORD).await?;
    let (enrol_rate, enrolled) = enrol_over_http(&client, &work, size.clients).await?;
    let (lookup_rate, looked_up) =
        look_up_over_http(&client, &work.id_numbers, size.lookups, size.clients).await?;
    let mut dashboard = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let response = client.get("/").send().await?;
        anyhow::ensure!(response.status().is_success(), "home page answered {}", response.status());
        let _ = response.bytes().await?;
        dashboard.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let run = CityRun {
        addition,
        cities_in_database,
        code: city.set.city.to_string(),
        name: city.name.clone(),
        import,
        enrol_rate,
        enrol_p99_ms: ms(enrolled.percentile(99.0)),
        lookup_rate,
        lookup_p99_ms: ms(looked_up.percentile(99.0)),
        dashboard_ms: median(&dashboard),
    };
    println!(
        "  province: {} ({}) measured with {} cities in the database",
        run.name, run.code, run.cities_in_database
    );
    Ok(run)
}

fn print_table(runs: &[CityRun], refreshes: &[f64]) {
    println!(
        "\n| addition | cities in the database | city | import | persons/s | last ÷ first tenth | \
         enrolment | look-up | dashboard |\n|---|---|---|---|---|---|---|---|---|"
    );
    for run in runs {
        let (import, rate, tenths) = match &run.import {
            Some(import) => (
                format!(
                    "{} persons in {:.1} s{}",
                    import.persons,
                    import.seconds,
                    if import.concurrent { " (two at once)" } else { "" }
                ),
                format!("{:.0}", import.rate),
                import.tenth_ratio.map_or("—".to_owned(), |r| format!("{r:.2}")),
            ),
            None => ("(measured again)".to_owned(), "—".to_owned(), "—".to_owned()),
        };
        println!(
            "| {} | {} | {} {} | {import} | {rate} | {tenths} | {:.0}/s, p99 {:.1} ms | {:.0}/s, p99 {:.1} ms | {:.0} ms |",
            run.addition,
            run.cities_in_database,
            run.name,
            run.code,
            run.enrol_rate,
            run.enrol_p99_ms,
            run.lookup_rate,
            run.lookup_p99_ms,
            run.dashboard_ms
        );
    }
    let refreshes: Vec<String> = refreshes.iter().map(|s| format!("{s:.1} s")).collect();
    println!("\nthe summary refreshed after each addition: {}\n", refreshes.join(", "));
}

/// The province's figures in the suite's table: the import of the last city added alone
/// against the first, the cities imported at once together, and the first city again at
/// the end against itself at the start.
fn push_figures(runs: &[CityRun], figures: &mut Figures) {
    let imported: Vec<(&CityRun, &ImportFigures)> =
        runs.iter().filter_map(|run| run.import.as_ref().map(|import| (run, import))).collect();
    let alone: Vec<&(&CityRun, &ImportFigures)> = imported.iter().filter(|(_, i)| !i.concurrent).collect();
    let (Some((first, first_import)), Some(again)) = (imported.first(), runs.last()) else {
        return;
    };
    if let Some((last, last_import)) = alone.last().filter(|(run, _)| run.addition > 1) {
        figures.push(Figure {
            name: "province: import rate alone, last city added ÷ first",
            value: format!(
                "{:.0} ÷ {:.0} persons/s = {:.2} ({} cities in the database)",
                last_import.rate,
                first_import.rate,
                last_import.rate / first_import.rate,
                last.cities_in_database
            ),
            target: "flat (≈ 1)",
        });
    }
    let together: Vec<&ImportFigures> =
        imported.iter().filter(|(_, i)| i.concurrent).map(|(_, i)| *i).collect();
    if !together.is_empty() {
        let persons: usize = together.iter().map(|i| i.persons).sum();
        let seconds = together.iter().map(|i| i.seconds).fold(0.0, f64::max);
        figures.push(Figure {
            name: "province: cities imported at once, together",
            value: format!(
                "{} cities, {persons} persons in {seconds:.1} s: {:.0} persons/s ({:.2}× the first city alone)",
                together.len(),
                persons as f64 / seconds,
                persons as f64 / seconds / first_import.rate
            ),
            target: "—",
        });
    }
    figures.push(Figure {
        name: "province: enrolment, first city at the end ÷ at the start",
        value: format!(
            "{:.0}/s p99 {:.1} ms ÷ {:.0}/s p99 {:.1} ms = {:.2}",
            again.enrol_rate,
            again.enrol_p99_ms,
            first.enrol_rate,
            first.enrol_p99_ms,
            again.enrol_rate / first.enrol_rate
        ),
        target: "flat (≈ 1)",
    });
    figures.push(Figure {
        name: "province: look-up, first city at the end ÷ at the start",
        value: format!(
            "{:.0}/s p99 {:.1} ms ÷ {:.0}/s p99 {:.1} ms = {:.2}",
            again.lookup_rate,
            again.lookup_p99_ms,
            first.lookup_rate,
            first.lookup_p99_ms,
            again.lookup_rate / first.lookup_rate
        ),
        target: "flat (≈ 1)",
    });
    figures.push(Figure {
        name: "province: dashboard, first city at the end ÷ at the start",
        value: format!(
            "{:.0} ms ÷ {:.0} ms = {:.2}",
            again.dashboard_ms,
            first.dashboard_ms,
            again.dashboard_ms / first.dashboard_ms
        ),
        target: "flat (≈ 1)",
    });
}
