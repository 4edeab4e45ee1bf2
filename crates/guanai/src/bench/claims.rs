//! 5. Claims at city scale (issue #13) on the demo's city with six years of policies,
//!    brought up to about 300,000 claims (a city's six years) by the store's bulk writer
//!    (`store.claims().top_up_for_bench`: set-based, a second run adds nothing), then:
//!    - the insurer's queue (`filter=open`, ordered by the clock), the breach list and the
//!      association's list of every claim of one county, first page, through the store
//!      call the pages make, as the county's insurer sub-branch, `runs × 5` times, medians;
//!    - claim reports through `POST /api/v1/claims`, as an agent's phone or the insurer's
//!      system sends them, for distinct insured persons without a claim, by `clients`
//!      clients at once, on a `guanai serve` process of its own;
//!    - a 5 MB phone photo (4000×3000, noisy so that it does not compress away) uploaded
//!      as a claim's paper through `POST /api/v1/claims/{id}/papers`, cleaned and
//!      thumbnailed: the median of single uploads, then 16 at once, on a fresh
//!      `guanai serve` whose resident memory is read from /proc before and after.
//!
//! The city is kept in `GUANAI_BENCH_CITY` when set (SQLite only: its `guanai.db` and
//! the key in `bench.key` or `guanai.key`, e.g. a copy of a `guanai demo --households
//! city` folder); built fresh otherwise, as the reports step builds it.

use std::time::Instant;

use anyhow::Context;
use guanai_domain::claims::ClaimKind;
use guanai_domain::{Clock, RegionCode, Role};
use guanai_store::claims::{ClaimFilter, ClaimQuery};
use guanai_store::{Actor, DatabaseTarget, Keys, Store, StoreError};

use super::load::post_all;
use super::server::{ApiClient, Server};
use super::stats::{median, peak_memory_mb, Latencies};
use super::{hex_key, ms, BenchSize, Figure, Figures, FreshDb, Target, BENCH_PASSWORD};
use crate::demo::{self, catalog::DEMO_YEAR, DEMO_COUNTY};

/// Claims of a city of 330,000 households over six years.
const CITY_CLAIMS: u64 = 300_000;

/// Uploads sent at once for the memory figure.
const AT_ONCE: usize = 16;

/// The sizes of this step, from the suite's: claims in proportion to the households; a
/// phone's photo at city scale, a small one in a quick pass.
struct ClaimsSize {
    claims: u64,
    photo: (u32, u32),
    photo_bytes: usize,
    at_once: usize,
}

impl ClaimsSize {
    fn of(size: &BenchSize) -> ClaimsSize {
        let claims = CITY_CLAIMS * size.city_households as u64 / 330_000;
        if size.city_households >= 100_000 {
            ClaimsSize { claims, photo: (4000, 3000), photo_bytes: 5 * 1024 * 1024, at_once: AT_ONCE }
        } else {
            ClaimsSize { claims, photo: (800, 600), photo_bytes: 200 * 1024, at_once: 4 }
        }
    }
}

pub(super) async fn bench(size: &BenchSize, target: &Target, figures: &mut Figures) -> anyhow::Result<()> {
    let scale = ClaimsSize::of(size);
    let (db, key, fresh) = city(size, target, figures).await?;
    // The demo's "today": the claims' history runs up to it, and the reports' incidents
    // lie before it.
    let today = chrono::NaiveDate::from_ymd_opt(DEMO_YEAR, 11, 30).context("a valid day")?;
    let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::from_hex(&key)?)
        .await?
        .with_clock(Clock::fixed_in_china(today, 10, 0));
    let city = RegionCode::parse("3608")?;
    let system = Actor::system(city.clone());
    bench_user(&store, &system).await?;

    let started = Instant::now();
    let bulk = store.bulk().await?;
    let topped = bulk.claims().top_up_for_bench(scale.claims, 2026).await?;
    bulk.finish_bulk().await?;
    let total =
        store.claims().claims(&system, &ClaimQuery { per_page: 1, ..Default::default() }).await?.total;
    figures.push(Figure {
        name: "claims: the city's claims",
        value: format!(
            "{total} claims ({} there, {} added in {:.0} s, {} of them open and breached)",
            topped.before,
            topped.added,
            started.elapsed().as_secs_f64(),
            topped.breached
        ),
        target: "≈ 300,000 over six years, minutes at most",
    });

    // The marks of the city's build (or of a kept city's last run): not the reports' work.
    super::summary_caught_up(&store).await?;
    queues(&store, size, figures).await?;
    let reported = report_over_http(&store, &db, &key, size, figures).await?;
    photos(&store, &system, &db, &key, size, &scale, reported, figures).await?;

    store.close().await?;
    if fresh {
        db.remove().await;
    }
    Ok(())
}

/// The kept city (`GUANAI_BENCH_CITY`) or a fresh one with its history; its hex key, and
/// whether it is fresh (removed at the end).
async fn city(
    size: &BenchSize,
    target: &Target,
    figures: &mut Figures,
) -> anyhow::Result<(FreshDb, String, bool)> {
    let kept = std::env::var_os("GUANAI_BENCH_CITY").filter(|_| target.server_url.is_none());
    if let Some(dir) = kept {
        let dir = std::path::PathBuf::from(dir);
        let key_file = ["bench.key", "guanai.key"].into_iter().map(|f| dir.join(f)).find(|f| f.exists());
        if let Some(key_file) = key_file {
            let key = std::fs::read_to_string(key_file)?.trim().to_owned();
            let url = format!("sqlite://{}?mode=rwc", dir.join("guanai.db").display());
            return Ok((FreshDb { url, dir, on_server: None }, key, false));
        }
    }
    let db = target.fresh("claims").await?;
    let key = hex_key();
    let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::from_hex(&key)?).await?;
    let built = Instant::now();
    demo::setup(&store, &db.dir).await?;
    let report = demo::populate(&store, size.city_households, 2026).await?;
    store.close().await?;
    figures.push(Figure {
        name: "claims: city with history built",
        value: format!(
            "{} households, {} policies {}–{} in {:.0} s",
            report.households,
            report.policies,
            report.years.0,
            report.years.1,
            built.elapsed().as_secs_f64()
        ),
        target: "—",
    });
    Ok((db, key, true))
}

/// The benchmark's city administrator, unless a run before made it.
async fn bench_user(store: &Store, system: &Actor) -> anyhow::Result<()> {
    let created = store
        .users()
        .create_user(
            system,
            guanai_store::users::NewUser {
                username: guanai_domain::Username::parse("bench.city")?,
                display_name: "压测".to_owned(),
                role: Role::CityAdmin,
                region: RegionCode::parse("3608")?,
                org_id: None,
                password: guanai_domain::Password::parse(BENCH_PASSWORD)?,
                must_change_password: false,
            },
        )
        .await;
    match created {
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The first page (50, as the page shows) of the insurer's queue, the breach list and every
/// claim of the demo county, as its sub-branch reads them.
async fn queues(store: &Store, size: &BenchSize, figures: &mut Figures) -> anyhow::Result<()> {
    let insurer = Actor::system(RegionCode::parse(DEMO_COUNTY)?).acting_as(Role::InsurerCounty);
    for (name, filter) in [
        ("claims: insurer's queue of one county, first page", ClaimFilter::Open),
        ("claims: breach list of one county, first page", ClaimFilter::Breached),
        ("claims: every claim of one county, first page", ClaimFilter::All),
    ] {
        let query = ClaimQuery { filter, per_page: 50, ..Default::default() };
        // One call first: each figure is of a warm cache, as a server's would be.
        let total = store.claims().claims(&insurer, &query).await?.total;
        let mut times = Vec::new();
        for _ in 0..(size.runs * 5) {
            let started = Instant::now();
            store.claims().claims(&insurer, &query).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        figures.push(Figure {
            name,
            value: format!("{:.1} ms (median of {}; {total} claims)", median(&times), times.len()),
            target: "≤ 50 ms",
        });
    }
    Ok(())
}

/// Reports of an outpatient accident for distinct insured persons without a claim, over
/// HTTP by `clients` clients; the number reported.
async fn report_over_http(
    store: &Store,
    db: &FreshDb,
    key: &str,
    size: &BenchSize,
    figures: &mut Figures,
) -> anyhow::Result<usize> {
    let persons = store.claims().unclaimed_insured(DEMO_YEAR, size.enrolments as u64).await?;
    anyhow::ensure!(!persons.is_empty(), "nobody insured without a claim to report for");
    let requests = persons
        .iter()
        .enumerate()
        .map(|(n, (person, day))| {
            let expenses = 30_000 + (n as i64 % 200) * 1_000;
            let body = serde_json::json!({
                "person_id": person,
                "kind": ClaimKind::AccidentOutpatient.code(),
                "incident_date": day.to_string(),
                "place": "村道",
                "description": "骑电动车摔伤",
                "claimed_fen": expenses,
                "expenses_fen": expenses,
            });
            ("/api/v1/claims".to_owned(), body)
        })
        .collect();
    let server = Server::start(&db.url, key, &db.dir).await?;
    let client = ApiClient::login(&server.base, "bench.city", BENCH_PASSWORD).await?;
    let (rate, latencies) = post_all(&client, requests, size.clients, "claim report").await?;
    figures.push(Figure {
        name: "claims: report via HTTP API",
        value: format!(
            "{} claims, {rate:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({} clients)",
            latencies.0.len(),
            ms(latencies.percentile(50.0)),
            ms(latencies.percentile(99.0)),
            size.clients
        ),
        target: "≥ 1,000/s, p99 ≤ 50 ms",
    });
    figures.push(Figure {
        name: "claims: server peak memory after the reports",
        value: format!("{:.0} MB", peak_memory_mb(server.pid())),
        target: "—",
    });
    Ok(persons.len())
}

/// A phone's photo of a paper uploaded, cleaned and thumbnailed: one at a time (median),
/// then `at_once` at once, on a fresh server whose memory is read before and after.
#[allow(clippy::too_many_arguments)]
async fn photos(
    store: &Store,
    system: &Actor,
    db: &FreshDb,
    key: &str,
    size: &BenchSize,
    scale: &ClaimsSize,
    reported: usize,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let singles = (size.runs * 3).max(3);
    let wanted = (singles + scale.at_once) as u64;
    anyhow::ensure!(reported as u64 >= wanted, "too few claims reported for the uploads");
    // Claims just reported (they take papers; the ID card is on every kind's list).
    let query = ClaimQuery {
        status: Some(guanai_domain::claims::ClaimStatus::Reported),
        per_page: wanted,
        ..Default::default()
    };
    let claims: Vec<i64> = store.claims().claims(system, &query).await?.claims.iter().map(|c| c.id).collect();
    anyhow::ensure!(claims.len() as u64 == wanted, "too few claims taking papers");
    let made = Instant::now();
    let photo = std::sync::Arc::new(phone_photo(scale.photo, scale.photo_bytes)?);
    println!(
        "  (photo {}×{}, {:.1} MB, made in {:.1} s)",
        scale.photo.0,
        scale.photo.1,
        photo.len() as f64 / 1024.0 / 1024.0,
        made.elapsed().as_secs_f64()
    );

    let server = Server::start(&db.url, key, &db.dir).await?;
    let client = ApiClient::login(&server.base, "bench.city", BENCH_PASSWORD).await?;
    let before = resident_mb(server.pid());
    let mut times = Vec::new();
    for &claim in &claims[..singles] {
        let started = Instant::now();
        upload(&client, claim, &photo).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    figures.push(Figure {
        name: "claims: phone photo uploaded, cleaned, thumbnailed",
        value: format!(
            "{:.0} ms (median of {}; {}×{}, {:.1} MB)",
            median(&times),
            times.len(),
            scale.photo.0,
            scale.photo.1,
            photo.len() as f64 / 1024.0 / 1024.0
        ),
        target: "≤ 300 ms",
    });

    let started = Instant::now();
    let mut tasks = Vec::new();
    for &claim in &claims[singles..] {
        let (client, photo) = (client.clone(), photo.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            upload(&client, claim, &photo).await?;
            anyhow::Ok(sent.elapsed())
        }));
    }
    let mut latencies = Latencies::default();
    for task in tasks {
        latencies.0.push(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    figures.push(Figure {
        name: "claims: photos uploaded at once, server memory",
        value: format!(
            "{} at once in {seconds:.1} s (slowest {:.0} ms); peak {:.0} MB (resident before {before:.0} MB)",
            scale.at_once,
            ms(latencies.percentile(100.0)),
            peak_memory_mb(server.pid())
        ),
        target: "< 200 MB",
    });
    Ok(())
}

/// Sends one photo as the paper "ID card" of `claim`, as the phone's form does.
async fn upload(client: &ApiClient, claim: i64, photo: &[u8]) -> anyhow::Result<()> {
    let boundary = format!("guanai-bench-{:016x}", rand::random::<u64>());
    let mut body = Vec::with_capacity(photo.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"paper\"\r\n\r\nid_card\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"IMG_0001.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = client
        .post(&format!("/api/v1/claims/{claim}/papers"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.as_u16() == 201, "upload answered {status}: {text}");
    Ok(())
}

/// A phone's photo: a JPEG of `width × height` with grain enough to weigh about `bytes`
/// (noise does not compress away). The grain is found on a sixteenth of the picture.
fn phone_photo((width, height): (u32, u32), bytes: usize) -> anyhow::Result<Vec<u8>> {
    let draw = |w: u32, h: u32, grain: u32| -> anyhow::Result<Vec<u8>> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let image = image::RgbImage::from_fn(w, h, |x, y| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = |shift: u32| (state >> shift) as u32 % (2 * grain + 1);
            let base = |v: u32| v.saturating_sub(grain);
            let r = base(80 + 120 * x / w) + noise(0);
            let g = base(90 + 100 * y / h) + noise(16);
            let b = base(140) + noise(32);
            image::Rgb([r.min(255) as u8, g.min(255) as u8, b.min(255) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode(
            image.as_raw(),
            w,
            h,
            image::ExtendedColorType::Rgb8,
        )?;
        Ok(out)
    };
    let (small_w, small_h) = (width / 4, height / 4);
    let mut grain = 1;
    while grain < 100 && draw(small_w, small_h, grain)?.len() * 16 < bytes {
        grain += 3;
    }
    draw(width, height, grain)
}

/// Resident memory (VmRSS) of a process, in MB; 0 where unknown.
fn resident_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
