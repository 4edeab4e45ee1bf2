//! 4. The renewal season at city scale, in process on the city database, a year on (1
//!    August of the next year, 30 days before the demo year's policies end): the due list
//!    of one county (first page), the city's renewal-rate table, every due family's
//!    reminder written to the outbox and sent through the log sender, one-step renewals
//!    over HTTP by 32 clients, and a batch renewal of every other due policy of the city
//!    (next year's premium paid in full by a fund, so every family is in the batch).
//!
//!    The one-step renewals are served in this process (the router on a loopback port),
//!    not by a `guanai serve` of its own as the enrolment is: the season needs the store's
//!    clock standing on 1 August of the next year, which only the process that holds the
//!    store can set. Clients and server share the two cores; the summary's refresher runs
//!    beside the server, as in `guanai serve`.

use std::time::Instant;

use guanai_domain::funding::{FundingKind, RuleScope, SubsidyAmount};
use guanai_domain::outbox::ReminderDays;
use guanai_domain::{Fen, RegionCode};
use guanai_store::funding::{NewRule, NewSource};
use guanai_store::outbox::OutboxSettings;
use guanai_store::renewals::{BatchQuery, DueQuery, SeasonSettings};
use guanai_store::{Actor, Store};

use super::load::post_all;
use super::server::ApiClient;
use super::stats::median;
use super::{ms, BenchSize, Figure, Figures, BENCH_PASSWORD};
use crate::demo::catalog::{self, DEMO_YEAR};
use crate::outbox::{send_due, LogSender};

pub(super) async fn renewals(
    store: &Store,
    set: &guanai_store::regions::DivisionSet,
    size: &BenchSize,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let city: &RegionCode = &set.city;
    let system = Actor::system(city.clone());
    let next = DEMO_YEAR + 1;
    catalog::products_and_packages(store, &system, next).await?;
    catalog::funding(store, &system, set, next).await?;
    let fund = store
        .funding()
        .create_source(
            &system,
            NewSource {
                name: format!("压测续保基金 {}", rand::random::<u32>()),
                kind: FundingKind::Donation,
                payer: "压测".to_owned(),
                uscc: None,
                year: next,
                region: city.clone(),
                pledged: Fen::from_yuan(1_000_000_000),
            },
        )
        .await?;
    let rule = NewRule {
        source_id: fund,
        name: "续保全额".to_owned(),
        priority: 0,
        scope: RuleScope::default(),
        amount: SubsidyAmount::All,
    };
    store.funding().create_rule(&system, rule).await?;
    let day = chrono::NaiveDate::from_ymd_opt(next, 8, 1).expect("a valid day");
    let store = store.with_clock(guanai_domain::Clock::fixed_in_china(day, 10, 0));

    let county = DueQuery {
        region: Some(RegionCode::parse(crate::demo::DEMO_COUNTY)?),
        per_page: 50,
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut total = 0;
    for _ in 0..(size.runs * 5) {
        let started = Instant::now();
        total = store.renewals().due_list(&system, &county).await?.total;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    figures.push(Figure {
        name: "due list of one county, first page",
        value: format!("{:.1} ms (median of {}; {total} due)", median(&times), times.len()),
        target: "≤ 50 ms",
    });

    let settings = OutboxSettings { reminder_days: ReminderDays(vec![30]), ..Default::default() };
    let started = Instant::now();
    let queued =
        store.outbox().queue_renewal_reminders(&system, &settings, &SeasonSettings::default()).await?;
    let queue_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let sent = send_due(&store, &LogSender { print: false }, &settings, "bench").await?;
    figures.push(Figure {
        name: "reminders: written / sent through the log sender",
        value: format!(
            "{queued} written in {queue_seconds:.2} s; {} sent in {:.2} s",
            sent.sent,
            started.elapsed().as_secs_f64()
        ),
        target: "100,000 sent ≤ 10 s",
    });

    renew_over_http(&store, &system, size, figures).await?;

    let whole = BatchQuery::default();
    let started = Instant::now();
    let preview = store.renewals().batch_preview(&system, &whole).await?;
    let preview_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let done = store
        .renewals()
        .batch_renew(&system, &BatchQuery { expected: Some(preview.households), ..whole })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    figures.push(Figure {
        name: "batch renewal of the city's due policies",
        value: format!(
            "{} households, {} persons in {seconds:.1} s (preview {preview_seconds:.1} s); {:.2} s per 1,000 (the peer: 9.5 s)",
            done.households,
            done.persons,
            seconds * 1000.0 / done.households.max(1) as f64
        ),
        target: "≤ 10 s",
    });

    let mut times = Vec::new();
    for _ in 0..(size.runs * 3) {
        let started = Instant::now();
        store.renewals().renewal_rates(&system, DEMO_YEAR).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    figures.push(Figure {
        name: "renewal-rate table of the city",
        value: format!("{:.0} ms (median of {})", median(&times), times.len()),
        target: "≤ 100 ms",
    });
    Ok(())
}

/// One-step renewals through `POST /api/v1/renewals/due/{id}/renew`, as an agent's phone
/// sends them, of `size.enrolments` due policies (the first pages of the city's due list),
/// by `size.clients` clients at once.
async fn renew_over_http(
    store: &Store,
    system: &Actor,
    size: &BenchSize,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let mut due = Vec::with_capacity(size.enrolments);
    for page in 0.. {
        let query = DueQuery { open: Some(true), per_page: 1000, page, ..Default::default() };
        let found = store.renewals().due_list(system, &query).await?;
        if found.policies.is_empty() || due.len() >= size.enrolments {
            break;
        }
        due.extend(found.policies.iter().filter(|p| p.next.is_some()).map(|p| p.policy_id));
    }
    due.truncate(size.enrolments);
    let requests =
        due.iter().map(|id| (format!("/api/v1/renewals/due/{id}/renew"), serde_json::json!({}))).collect();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = guanai_web::router(guanai_web::AppState::new(store.clone(), guanai_web::WebConfig::default()));
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    // The summary's refresher, as `guanai serve` runs it: each renewal marks its village.
    // It starts caught up (the enrolments of the city step marked their villages), as on a
    // server that has been running: the renewals' own marks are what it works on.
    store.reports().refresh_whole_summary().await?;
    let refresher = tokio::spawn(crate::jobs::report_summary(store.clone()));
    let client = ApiClient::login(&base, "bench.city", BENCH_PASSWORD).await?;
    let outcome = post_all(&client, requests, size.clients, "renewal").await;
    server.abort();
    refresher.abort();
    let (rate, latencies) = outcome?;
    figures.push(Figure {
        name: "one-step renewal via HTTP API",
        value: format!(
            "{} policies, {rate:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({} clients)",
            latencies.0.len(),
            ms(latencies.percentile(50.0)),
            ms(latencies.percentile(99.0)),
            size.clients
        ),
        target: "≥ 1,000/s, p99 ≤ 50 ms",
    });
    Ok(())
}
