//! The demo's policy history: one scheme year after another, with renewals, lapses,
//! newcomers and gifts, so that year-on-year figures mean something.

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

use guanai_store::families::FamilyQuery;
use guanai_store::policies::{Channel, GiftRequest, GiftSelection, PolicyQuery, PolicyStatus};
use guanai_store::{Actor, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
    let existing = store.search_families(&system, &FamilyQuery { per_page: 1, ..Default::default() }).await?;
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
    let started = std::time::Instant::now();
    let today = chrono::NaiveDate::from_ymd_opt(catalog::DEMO_YEAR, 11, 30).expect("valid date");
    let mut generator = households::Generator::new(&set, seed, today);
    let mut families = Vec::with_capacity(households);
    let mut in_jizhou = HashSet::new();
    let mut remaining = households;
    while remaining > 0 {
        let batch: Vec<_> = (0..remaining.min(2_000)).map(|_| generator.household()).collect();
        remaining -= batch.len();
        report.persons += batch.iter().map(|h| h.members.len()).sum::<usize>();
        let ids = store.register_households(&system, &batch).await?;
        for (id, household) in ids.iter().zip(&batch) {
            if household.village.as_str().starts_with(DEMO_COUNTY) {
                in_jizhou.insert(*id);
            }
        }
        families.extend(ids);
    }
    report.households = families.len();
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
        catalog::products_and_packages(store, &system, year).await?;
        catalog::funding(store, &system, &set, year).await?;
        let packages = store.packages(Some(year)).await?;
        let mut by_package: Vec<Vec<i64>> = vec![Vec::new(); packages.len()];
        for id in &families {
            let choice = match last_year.get(id) {
                Some(index) if rng.gen_bool(RENEWAL_RATE) => Some(*index),
                Some(_) => None,
                None if rng.gen_bool(if last_year.is_empty() { FIRST_YEAR_RATE } else { NEWCOMER_RATE }) => {
                    Some(package_index(&mut rng, packages.len()))
                }
                None => None,
            };
            if let Some(index) = choice {
                by_package[index].push(*id);
            }
        }
        let mut this_year = HashMap::new();
        for (index, (package, chosen)) in packages.iter().zip(by_package).enumerate() {
            let outcome = store.enrol_families(&system, package.id, &chosen, Channel::Staff, true).await?;
            report.policies += outcome.created;
            let skipped: HashSet<i64> = outcome.skipped.iter().map(|s| s.family_id).collect();
            this_year.extend(chosen.into_iter().filter(|id| !skipped.contains(id)).map(|id| (id, index)));
        }
        report.policies += gift(store, &system, year, &families, &in_jizhou, &mut this_year).await?;
        tracing::info!(
            year,
            policies = report.policies,
            seconds = started.elapsed().as_secs_f64(),
            "demo: enrolled"
        );
        let past = year < catalog::DEMO_YEAR;
        report.underwritten += underwrite(store, &insurer, year, past).await?;
        tracing::info!(
            year,
            underwritten = report.underwritten,
            seconds = started.elapsed().as_secs_f64(),
            "demo: underwritten"
        );
        last_year = this_year;
    }
    Ok(report)
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
        store.sources(system, Some(year)).await?.into_iter().find(|s| s.region_code == DEMO_COUNTY)
    else {
        return Ok(0);
    };
    let Some(base) = store.packages(Some(year)).await?.into_iter().next() else { return Ok(0) };
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
    let preview = store.gift_preview(system, &request).await?;
    if preview.eligible == 0 || preview.coverable < preview.eligible {
        return Ok(0);
    }
    let outcome = store.gift(system, &request).await?;
    let skipped: HashSet<i64> = preview.skipped.iter().map(|s| s.family_id).collect();
    if let GiftSelection::Families(ids) = &request.selection {
        this_year.extend(ids.iter().filter(|id| !skipped.contains(id)).map(|id| (*id, 0)));
    }
    Ok(outcome.created)
}

/// The insurer underwrites a year's submitted policies: all of a past year, four in five of
/// the current one (every fifth page of the list is left to do).
///
/// Newest first, a page at a time: what is underwritten leaves the list of submitted
/// policies, so the next page is read from the top again, past the pages left to do. (Deep
/// offsets through a city's policies were read again and again; listing them township by
/// township was slower still, as the database then reads every submitted policy for each.)
async fn underwrite(store: &Store, insurer: &Actor, year: i32, all: bool) -> anyhow::Result<usize> {
    let query = |page: u64, per_page: u64| PolicyQuery {
        year: Some(year),
        status: Some(PolicyStatus::Submitted),
        page,
        per_page,
        ..Default::default()
    };
    let total = store.search_policies(insurer, &query(0, 1)).await?.total;
    // A twentieth of the year a page, so that a small demo leaves a fifth to do too.
    let per_page = (total / 20).clamp(10, 1_000);
    let mut left_pages = 0;
    let mut done = 0;
    for turn in 1.. {
        let found = store.search_policies(insurer, &query(left_pages, per_page)).await?;
        if found.policies.is_empty() {
            break;
        }
        if !all && turn % 5 == 0 {
            left_pages += 1;
            continue;
        }
        let chosen: Vec<(i64, String)> =
            found.policies.iter().map(|p| (p.id, format!("PJA{year}{:08}", p.id))).collect();
        done += store.underwrite_many(insurer, &chosen).await?;
    }
    Ok(done)
}
