//! Step 1 of the suite: the roster import into an empty database, and beside it the
//! yardstick it is compared with (a plain bulk insert of as many unique keys).

use std::time::Instant;

use guanai_store::{DatabaseTarget, Keys, Store};

use super::stats::{median, tenth_rates};
use super::{hex_key, server, BenchSize, Figure, Figures, Target};
use crate::demo;

/// Rows per transaction of the yardstick insert: about the persons of one import batch
/// (`COMMIT_BATCH` households).
const REFERENCE_ROWS_PER_TRANSACTION: usize = 160_000;

/// Step 1: the roster import into an empty database, by `guanai import roster` in a
/// process of its own (as an administrator runs it), so that its memory is measured alone.
pub(super) async fn import_roster(
    size: &BenchSize,
    target: &Target,
    set: &guanai_store::regions::DivisionSet,
    today: chrono::NaiveDate,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let folder = std::env::temp_dir().join(format!("guanai-bench-roster-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&folder)?;
    let file = folder.join("roster.csv");
    let persons = {
        let roster = demo::households::roster_csv(set, size.roster_households, 7, today);
        std::fs::write(&file, &roster)?;
        roster.lines().count().saturating_sub(3)
    };
    let mut seconds = Vec::new();
    let mut memory = Vec::new();
    let (mut first_tenth, mut last_tenth, mut batches) = (Vec::new(), Vec::new(), 0);
    for run in 0..size.runs {
        let db = target.fresh(&format!("import{run}")).await?;
        let key = hex_key();
        let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::from_hex(&key)?).await?;
        store.regions().import_regions(set).await?;
        store.close().await?;
        let run = server::import_roster(&db.url, &key, &db.dir, &file, None).await?;
        println!("  (planned in {:.1} s, written in {:.1} s)", run.planned, run.seconds - run.planned);
        seconds.push(run.seconds);
        memory.push(run.peak_mb);
        // Persons per second: the file's persons per household times households per second.
        if let Some((first, last)) = tenth_rates(&run.progress) {
            let households = run.progress.last().map_or(1, |p| p.1) as f64;
            first_tenth.push(first * persons as f64 / households);
            last_tenth.push(last * persons as f64 / households);
            batches = run.progress.len() - 1;
        }
        db.remove().await;
    }
    let import = median(&seconds);
    figures.push(Figure {
        name: "roster import",
        value: format!("{persons} persons in {import:.1} s ({:.0} persons/s)", persons as f64 / import),
        target: "< 15 s for 1,000,000",
    });
    if !first_tenth.is_empty() {
        let (first, last) = (median(&first_tenth), median(&last_tenth));
        figures.push(Figure {
            name: "  import rate, first → last tenth",
            value: format!(
                "{first:.0} → {last:.0} persons/s (last ÷ first {:.2}; {batches} batch{})",
                last / first,
                if batches == 1 { "" } else { "es" }
            ),
            target: "≥ 0.7",
        });
    }
    // The yardstick, run beside it: a plain bulk insert of as many random 32-byte keys
    // under a unique index, in transactions as large as the import's.
    let reference = reference_insert(size, target, persons).await?;
    figures.push(Figure {
        name: "  plain insert of as many unique keys",
        value: format!(
            "{reference:.1} s ({:.0} rows/s); the import takes {:.1}× as long",
            persons as f64 / reference,
            import / reference
        ),
        target: "(yardstick)",
    });
    figures.push(Figure {
        name: "  peak memory of the import process",
        value: format!("{:.0} MB", median(&memory)),
        target: "< 500 MB",
    });
    let _ = std::fs::remove_dir_all(&folder);
    Ok(())
}

/// The median seconds of the yardstick insert of `rows` keys on fresh databases.
async fn reference_insert(size: &BenchSize, target: &Target, rows: usize) -> anyhow::Result<f64> {
    let mut seconds = Vec::new();
    for run in 0..size.runs {
        let db = target.fresh(&format!("reference{run}")).await?;
        let store = Store::open(&DatabaseTarget::Url(db.url.clone()), Keys::random()).await?;
        let bulk = store.bulk().await?;
        let started = Instant::now();
        bulk.reference_insert(rows, REFERENCE_ROWS_PER_TRANSACTION).await?;
        seconds.push(started.elapsed().as_secs_f64());
        bulk.finish_bulk().await?;
        store.close().await?;
        db.remove().await;
    }
    Ok(median(&seconds))
}
