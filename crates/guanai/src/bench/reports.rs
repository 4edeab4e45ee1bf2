//! Step 4: the dashboard and the reports on a city with its history since 2021: the city
//! administrator's dashboard (`store.reports().overview`: coverage by county, the season's
//! curve, funding and the claims, on one snapshot), the coverage report by region, family
//! category and poverty status, the funding report, the curve, the claims report (every
//! year since 2021) and the bulletin's .docx, each `runs × 5` times, medians.
//!
//! The city is the demo's (`guanai demo --households city`, six years of policies): kept
//! in `GUANAI_BENCH_REPORTS_DIR` (its `guanai.db` and `guanai.key`) when set, SQLite only;
//! on a server, a database kept from an earlier run named by `GUANAI_BENCH_REPORTS_URL`
//! with `--server` (the step prints the name of each one it builds; reports read nothing
//! sealed, so any key opens it); built fresh otherwise (on the server of `--server`).

use std::time::Instant;

use guanai_domain::reports::Dimension;
use guanai_domain::RegionCode;
use guanai_store::reports::ReportQuery;
use guanai_store::{Actor, DatabaseTarget, Keys, Store};

use super::stats::median;
use super::{BenchSize, Figure, Figures, Target};
use crate::demo;

/// Times `f` `n` times; the median and the slowest, in milliseconds.
async fn timed<F, Fut, T>(n: usize, mut f: F) -> anyhow::Result<(f64, f64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f().await?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let worst = ms.iter().copied().fold(0.0, f64::max);
    Ok((median(&ms), worst))
}

pub(super) async fn bench(size: &BenchSize, target: &Target, figures: &mut Figures) -> anyhow::Result<()> {
    let kept = match &target.server_url {
        None => std::env::var_os("GUANAI_BENCH_REPORTS_DIR").map(|dir| {
            let dir = std::path::PathBuf::from(dir);
            (format!("sqlite://{}?mode=rwc", dir.join("guanai.db").display()), Some(dir.join("guanai.key")))
        }),
        Some(_) => std::env::var("GUANAI_BENCH_REPORTS_URL").ok().map(|url| (url, None)),
    };
    let (store, fresh) = match kept {
        Some((url, key_file)) => {
            let keys = match key_file {
                Some(file) => Keys::load_or_create(&file)?,
                None => Keys::from_hex(&super::hex_key())?,
            };
            (Store::open(&DatabaseTarget::Url(url), keys).await?, None)
        }
        None => {
            let db = target.fresh("reports").await?;
            let key = super::hex_key();
            let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::from_hex(&key)?).await?;
            let built = Instant::now();
            demo::setup(&store, &db.dir).await?;
            let report = demo::populate(&store, size.city_households, 2026).await?;
            if target.server_url.is_some() {
                println!("  reports: the city is kept as GUANAI_BENCH_REPORTS_URL={}", db.url);
            }
            figures.push(Figure {
                name: "reports: city with history built",
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
            (store, Some(db))
        }
    };
    let reports = store.reports();
    // A city kept from before the summary existed is marked whole by its migration: the
    // first refresh fills the summary (a server's refresher would, in the background).
    let started = Instant::now();
    let taken = reports.refresh_whole_summary().await?;
    figures.push(Figure {
        name: "reports: summary brought up to date",
        value: format!("{taken} marks in {:.1} s", started.elapsed().as_secs_f64()),
        target: "—",
    });
    let city = RegionCode::parse("3608")?;
    let admin = Actor::system(city.clone());
    let year = demo::catalog::DEMO_YEAR;
    let n = size.runs * 5;
    // One call first, so that each figure is of a warm cache, as a server's would be.
    let overview = reports.overview(&admin, year).await?;
    figures.push(Figure {
        name: "reports: the city's figures",
        value: format!(
            "{} households, {} persons insured in {year}; {} policies on the curve's last day",
            overview.coverage.total.insured_households,
            overview.coverage.total.insured_persons,
            overview.season.this_year.last().map_or(0, |p| p.cumulative)
        ),
        target: "—",
    });
    let (m, worst) = timed(n, || async { Ok(reports.overview(&admin, year).await?) }).await?;
    figures.push(Figure {
        name: "reports: city dashboard (overview)",
        value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
        target: "≤ 100 ms",
    });
    for (name, by) in [
        ("reports: coverage by county", Dimension::Region),
        ("reports: coverage by category", Dimension::Category),
        ("reports: coverage by poverty", Dimension::Poverty),
    ] {
        let query = ReportQuery { year, region: None, by };
        let (m, worst) = timed(n, || async { Ok(reports.coverage(&admin, &query).await?) }).await?;
        figures.push(Figure {
            name,
            value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
            target: "≤ 200 ms",
        });
    }
    let (m, worst) = timed(n, || async { Ok(reports.funding(&admin, None, year).await?) }).await?;
    figures.push(Figure {
        name: "reports: funding",
        value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
        target: "≤ 200 ms",
    });
    let (m, worst) = timed(n, || async { Ok(reports.season(&admin, None, year).await?) }).await?;
    figures.push(Figure {
        name: "reports: season curve",
        value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
        target: "≤ 200 ms",
    });
    let (m, worst) = timed(n, || async { Ok(reports.claims(&admin, None, year).await?) }).await?;
    figures.push(Figure {
        name: "reports: claims, 2021 to this year",
        value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
        target: "≤ 200 ms",
    });
    let state = guanai_web::AppState::new(store.clone(), guanai_web::WebConfig::default());
    let (m, worst) = timed(n, || async {
        let (_, _, bytes) = guanai_web::bulletin_document(&state, &admin, None, year)
            .await
            .map_err(|e| anyhow::anyhow!("the bulletin: {e:?}"))?;
        anyhow::ensure!(bytes.starts_with(b"PK"), "the bulletin is a .docx (a zip)");
        Ok(bytes.len())
    })
    .await?;
    figures.push(Figure {
        name: "reports: bulletin .docx",
        value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
        target: "≤ 1 s",
    });
    let query = ReportQuery { year: 2023, region: None, by: Dimension::Region };
    let (m, worst) = timed(n, || async { Ok(reports.coverage(&admin, &query).await?) }).await?;
    figures.push(Figure {
        name: "reports: coverage by county, 2023",
        value: format!("median {m:.0} ms, slowest {worst:.0} ms"),
        target: "≤ 200 ms",
    });
    // While changes arrive faster than the refresher takes them: villages marked stale are
    // counted live by the dashboard.
    for villages in [100, 1_000] {
        let marked = store.mark_villages_for_bench(year, villages).await?;
        let (m, worst) = timed(n, || async { Ok(reports.overview(&admin, year).await?) }).await?;
        figures.push(Figure {
            name: if villages == 100 {
                "reports: city dashboard, 100 villages stale"
            } else {
                "reports: city dashboard, 1,000 villages stale"
            },
            value: format!("{marked} marked: median {m:.0} ms, slowest {worst:.0} ms"),
            target: "—",
        });
        let started = Instant::now();
        reports.refresh_whole_summary().await?;
        figures.push(Figure {
            name: "reports: those villages refreshed",
            value: format!("{:.0} ms", started.elapsed().as_secs_f64() * 1000.0),
            target: "—",
        });
    }
    store.close().await?;
    if let Some(db) = fresh {
        db.remove().await;
    }
    Ok(())
}
