//! The demo's policy history: one scheme year after another, with renewals, lapses,
//! newcomers and gifts, so that year-on-year figures mean something.

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

use futures_util::StreamExt;
use guanai_domain::policies::PolicyNoError;
use guanai_store::families::FamilyQuery;
use guanai_store::policies::{Channel, GiftRequest, GiftSelection, PolicyNo};
use guanai_store::regions::DivisionSet;
use guanai_store::{Actor, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::catalog::{Scheme, SCHEMES};
use super::{catalog, demo_city, households, PopulateReport, DEMO_COUNTY};

/// The first scheme year of the demo's history (the city's programme ran before; the
/// year-on-year reports start here).
pub const FIRST_YEAR: i32 = 2021;

/// Of last year's families, how many renew.
const RENEWAL_RATE: f64 = 0.85;
/// Of the others, how many join in a year (the first year: how many start).
const NEWCOMER_RATE: f64 = 0.15;
const FIRST_YEAR_RATE: f64 = 0.5;

/// Picks the package: 60 % base only, 30 % with the allowance, 10 % 1+2.
fn package_index(rng: &mut StdRng, packages: usize) -> usize {
    let roll = rng.gen_range(0..10);
    let index = if roll < 6 {
        0
    } else if roll < 9 {
        1
    } else {
        2
    };
    index.min(packages.saturating_sub(1))
}

/// [`super::populate`] for chosen years (the benchmark builds the demo year alone).
pub async fn populate_years(
    store: &Store,
    households: usize,
    seed: u64,
    years: RangeInclusive<i32>,
) -> anyhow::Result<PopulateReport> {
    let set = demo_city();
    let system = Actor::system(set.city.clone());
    let existing =
        store.families().search_families(&system, &FamilyQuery { per_page: 1, ..Default::default() }).await?;
    let mut report = PopulateReport {
        years: (*years.start(), *years.end()),
        households: 0,
        persons: 0,
        policies: 0,
        underwritten: 0,
    };
    if existing.total > 0 || households == 0 {
        return Ok(report);
    }
    // The whole population goes through one bulk connection (on SQLite: a large page cache,
    // one checkpoint at the end), as a roster import does.
    let bulk = store.bulk().await?;
    let built = populate_into(&bulk, &set, households, seed, years, &mut report).await;
    bulk.finish_bulk().await?;
    built?;
    Ok(report)
}

/// The days before a scheme's start the demo enrols and underwrites on (for the city's
/// scheme of 1 September: 10 and 25 August).
const ENROLMENT_DAYS_BEFORE: u64 = 22;
const UNDERWRITING_DAYS_BEFORE: u64 = 7;

/// A clock standing at 10:00 China time `days_before` the scheme's start of `year`.
fn season_clock(scheme: &Scheme, year: i32, days_before: u64) -> guanai_domain::Clock {
    let date = scheme.start(year) - chrono::Days::new(days_before);
    guanai_domain::Clock::fixed_in_china(date, 10, 0)
}

/// Registration batches: households per transaction (and per audit entry).
const REGISTER_BATCH: usize = 20_000;

async fn populate_into(
    store: &Store,
    set: &DivisionSet,
    households: usize,
    seed: u64,
    years: RangeInclusive<i32>,
    report: &mut PopulateReport,
) -> anyhow::Result<()> {
    let system = Actor::system(set.city.clone());
    let started = std::time::Instant::now();
    let today = chrono::NaiveDate::from_ymd_opt(catalog::DEMO_YEAR, 11, 30).expect("valid date");
    // Households are made on a thread of their own while the last batch is written.
    let mut generator = households::Generator::new(set, seed, today);
    let (sender, batches) = tokio::sync::mpsc::channel(1);
    let making = tokio::task::spawn_blocking(move || {
        let mut remaining = households;
        while remaining > 0 {
            let batch: Vec<_> = (0..remaining.min(REGISTER_BATCH)).map(|_| generator.household()).collect();
            remaining -= batch.len();
            if sender.blocking_send(batch).is_err() {
                break; // the writer stopped
            }
        }
    });
    let mut families = Vec::with_capacity(households);
    let mut in_jizhou = HashSet::new();
    // Each family's scheme (by its county), as an index into `SCHEMES`.
    let mut scheme_of: HashMap<i64, usize> = HashMap::new();
    // On PostgreSQL and MySQL two batches are written at once (`Store::bulk_writers`), in
    // the generator's order.
    let batches =
        futures_util::stream::unfold(batches, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    let system_ref = &system;
    let mut registered = std::pin::pin!(batches
        .map(|batch| async move {
            let ids = store.families().register_households(system_ref, &batch).await?;
            anyhow::Ok((batch, ids))
        })
        .buffered(store.bulk_writers()));
    while let Some(written) = registered.next().await {
        let (batch, ids) = written?;
        report.persons += batch.iter().map(|h| h.members.len()).sum::<usize>();
        for (id, household) in ids.iter().zip(&batch) {
            if household.village.as_str().starts_with(DEMO_COUNTY) {
                in_jizhou.insert(*id);
            }
            let scheme = Scheme::of(household.village.as_str());
            scheme_of.insert(*id, SCHEMES.iter().position(|s| s == scheme).unwrap_or(SCHEMES.len() - 1));
        }
        families.extend(ids);
    }
    making.await?;
    report.households = families.len();
    // The years' reads (members, consents, cover slots by family) are planned for the
    // tables as they now are, not as they were before the first batch.
    store.refresh_statistics().await?;
    tracing::info!(
        households = report.households,
        persons = report.persons,
        seconds = started.elapsed().as_secs_f64(),
        "demo: households registered"
    );

    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let insurer = system.clone().acting_as(guanai_domain::Role::InsurerCity);
    let mut last_year: HashMap<i64, usize> = HashMap::new();
    for year in years {
        catalog::funding(store, &system, set, year).await?;
        let first = last_year.is_empty();
        let mut this_year = HashMap::new();
        // Each scheme's season on a clock of its own: families enrol in the weeks before
        // the scheme starts, so their cover starts with it (nothing is sold for the past).
        // The city's scheme (1 September) comes last, with the gifts.
        for (index, scheme) in SCHEMES.iter().enumerate() {
            let ids = catalog::scheme_packages(store, &system, scheme, year).await?;
            let season = store.with_clock(season_clock(scheme, year, ENROLMENT_DAYS_BEFORE));
            let store = &season;
            let packages: Vec<_> = store
                .products()
                .packages(Some(year))
                .await?
                .into_iter()
                .filter(|p| ids.contains(&p.id))
                .collect();
            let mut by_package: Vec<Vec<i64>> = vec![Vec::new(); packages.len()];
            for id in families.iter().filter(|id| scheme_of.get(id) == Some(&index)) {
                let choice = match last_year.get(id) {
                    Some(index) if rng.gen_bool(RENEWAL_RATE) => Some(*index),
                    Some(_) => None,
                    None if rng.gen_bool(if first { FIRST_YEAR_RATE } else { NEWCOMER_RATE }) => {
                        Some(package_index(&mut rng, packages.len()))
                    }
                    None => None,
                };
                if let Some(index) = choice {
                    by_package[index].push(*id);
                }
            }
            for (index, (package, chosen)) in packages.iter().zip(by_package).enumerate() {
                let outcome = store
                    .policies()
                    .enrol_families(&system, package.id, &chosen, Channel::Staff, true)
                    .await?;
                report.policies += outcome.created;
                let skipped: HashSet<i64> = outcome.skipped.iter().map(|s| s.family_id).collect();
                this_year.extend(chosen.into_iter().filter(|id| !skipped.contains(id)).map(|id| (id, index)));
            }
            let city_scheme = scheme.suffix.is_empty();
            if city_scheme {
                report.policies += gift(store, &system, year, &families, &in_jizhou, &mut this_year).await?;
            }
            tracing::info!(
                year,
                month = scheme.month,
                policies = report.policies,
                seconds = started.elapsed().as_secs_f64(),
                "demo: enrolled"
            );
            // Underwriting reads and updates the policies just enrolled, 500 and 100 ids a
            // statement: on PostgreSQL, planned for the table as it was before this season's
            // enrolment, the city's 75,000 took 247 s (0.3 s a statement).
            store.refresh_statistics().await?;
            // The county schemes' policies all underwritten; of the city's, four in five of
            // the current year's.
            let all = year < catalog::DEMO_YEAR || !city_scheme;
            store.clock().set(season_clock(scheme, year, UNDERWRITING_DAYS_BEFORE).now());
            report.underwritten += underwrite(store, &insurer, year, all).await?;
            tracing::info!(
                year,
                month = scheme.month,
                underwritten = report.underwritten,
                seconds = started.elapsed().as_secs_f64(),
                "demo: underwritten"
            );
        }
        last_year = this_year;
        // Next year's renewals read this year's policies and cover slots.
        store.refresh_statistics().await?;
    }
    Ok(())
}

/// The 吉州区 company gifts the base package to families of 吉州区 without a policy this
/// year, as far as its budget goes.
async fn gift(
    store: &Store,
    system: &Actor,
    year: i32,
    families: &[i64],
    in_jizhou: &HashSet<i64>,
    this_year: &mut HashMap<i64, usize>,
) -> anyhow::Result<usize> {
    let Some(source) =
        store.funding().sources(system, Some(year)).await?.into_iter().find(|s| s.region_code == DEMO_COUNTY)
    else {
        return Ok(0);
    };
    let Some(base) = store.products().packages(Some(year)).await?.into_iter().find(|p| p.code == "P1") else {
        return Ok(0);
    };
    // At most half the company's budget, at about 100 元 a family.
    let room = (source.remaining.get() / 2 / 10_000).max(0) as usize;
    let chosen: Vec<i64> = families
        .iter()
        .filter(|id| in_jizhou.contains(id) && !this_year.contains_key(id))
        .take(room.min(families.len() / 50))
        .copied()
        .collect();
    if chosen.is_empty() {
        return Ok(0);
    }
    let request =
        GiftRequest { source_id: source.id, package_id: base.id, selection: GiftSelection::Families(chosen) };
    let preview = store.policies().gift_preview(system, &request).await?;
    if preview.eligible == 0 || preview.coverable < preview.eligible {
        return Ok(0);
    }
    let outcome = store.policies().gift(system, &request).await?;
    let skipped: HashSet<i64> = preview.skipped.iter().map(|s| s.family_id).collect();
    if let GiftSelection::Families(ids) = &request.selection {
        this_year.extend(ids.iter().filter(|id| !skipped.contains(id)).map(|id| (*id, 0)));
    }
    Ok(outcome.created)
}

/// The insurer underwrites a year's submitted policies: all of a past year, four in five of
/// the current one. Newest first, a page at a time (a twentieth of the year, at least 10
/// and at most 1,000 policies; one batch, one audit entry), every fifth page left to do;
/// the policy numbers are `PJA<year><id>`.
async fn underwrite(store: &Store, insurer: &Actor, year: i32, all: bool) -> anyhow::Result<usize> {
    let waiting = store.policies().submitted_policy_ids(insurer, year).await?;
    let mut done = 0;
    for page in pages_to_underwrite(&waiting, all) {
        let items = page
            .iter()
            .map(|id| Ok((*id, PolicyNo::parse(&format!("PJA{year}{id:08}"))?)))
            .collect::<Result<Vec<_>, PolicyNoError>>()?;
        done += store.policies().underwrite_many(insurer, &items).await?;
    }
    Ok(done)
}

/// The pages of the waiting ids (newest first) that are underwritten: all, or all but every
/// fifth.
fn pages_to_underwrite(waiting: &[i64], all: bool) -> impl Iterator<Item = &[i64]> {
    let per_page = (waiting.len() / 20).clamp(10, 1_000);
    waiting.chunks(per_page).enumerate().filter(move |(index, _)| all || (index + 1) % 5 != 0).map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fifth_page_is_left_to_do_unless_all_are_underwritten() {
        let waiting: Vec<i64> = (1..=250).rev().collect();
        let chosen = |all| pages_to_underwrite(&waiting, all).flatten().copied().collect::<Vec<_>>();
        assert_eq!(chosen(true), waiting);
        // 250 / 20 = 12 a page: pages 5, 10, 15 and 20 (of 21) are left.
        let some = chosen(false);
        let left: Vec<i64> = waiting.iter().copied().filter(|id| !some.contains(id)).collect();
        assert_eq!(left.len(), 4 * 12);
        assert_eq!(&left[..12], &waiting[48..60]);
        assert_eq!(&left[12..24], &waiting[108..120]);
        assert!(pages_to_underwrite(&waiting, false).all(|page| page.len() == 12 || page.len() == 10));
        // A small year: pages of 10, and the fifth (the last 5) is left.
        let few: Vec<i64> = (1..=45).rev().collect();
        assert_eq!(pages_to_underwrite(&few, false).flatten().count(), 40);
        assert!(pages_to_underwrite(&few, false).flatten().all(|id| *id > 5));
    }
}
