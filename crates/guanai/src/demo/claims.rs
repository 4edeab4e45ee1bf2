//! The demo's claims: for every scheme year, a few in a hundred insured persons claim
//! (more in some counties than others, so loss ratios differ), of every kind; most are
//! paid in time, some refused, a few late; the current year's last claims are still open
//! with their clocks running. Each step runs on a clock standing on its own day, through
//! the same store calls the pages make. The papers of a sample of claims are drawn photos
//! (`papers.rs`), the others only ticked. Deterministic for a seed; nothing when claims
//! exist already.

use chrono::{Days, NaiveDate};
use guanai_domain::claims::{
    BankAccount, ClaimKind, ClaimStatus, Paper, PaperChecklist, RefusalReason, ReportChannel,
};
use guanai_domain::{Clock, Fen, Role};
use guanai_store::claims::{ClaimQuery, Decision, NewClaim, NewPayment};
use guanai_store::policies::{PolicyQuery, PolicyStatus};
use guanai_store::{Actor, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{catalog, papers};

/// The most policies a year's claims are drawn from (the demo stays quick at city size).
const POLICIES_PER_YEAR: u64 = 2_000;

fn at(store: &Store, day: NaiveDate) -> Store {
    store.with_clock(Clock::fixed_in_china(day, 10, 0))
}

fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

/// A claim's kind and figures: mostly outpatient and inpatient, some allowances, few
/// disabilities and deaths.
fn kind_and_figures(rng: &mut StdRng, person: i64, incident: NaiveDate) -> NewClaim {
    let roll = rng.gen_range(0..100);
    let (kind, expenses, days, grade) = match roll {
        0..=54 => (ClaimKind::AccidentOutpatient, rng.gen_range(200..3_000), None, None),
        55..=84 => (ClaimKind::AccidentInpatient, rng.gen_range(2_000..20_000), None, None),
        85..=93 => (ClaimKind::HospitalAllowance, 0, Some(rng.gen_range(2..25)), None),
        94..=98 => (ClaimKind::AccidentalDisability, 0, None, Some(rng.gen_range(5..=10))),
        _ => (ClaimKind::AccidentalDeath, 0, None, None),
    };
    let expenses = (expenses > 0).then(|| Fen::from_yuan(expenses));
    NewClaim {
        person_id: person,
        kind,
        incident_date: incident,
        place: ["村道", "自家院子", "田间", "集镇", "工地"][rng.gen_range(0..5)].to_owned(),
        description: ["骑电动车摔伤", "干农活被划伤", "雨天滑倒骨折", "被狗咬伤", "交通事故受伤"]
            [rng.gen_range(0..5)]
        .to_owned(),
        claimed: expenses.unwrap_or(Fen::ZERO),
        expenses,
        other_paid: expenses.filter(|_| rng.gen_bool(0.3)).map(|e| Fen::new(e.get() / 2)),
        days,
        grade,
        channel: if rng.gen_bool(0.7) { ReportChannel::Agent } else { ReportChannel::Association },
    }
}

/// Claims for every year of `years` up to `today`; how many were reported.
pub async fn populate_claims(
    store: &Store,
    system: &Actor,
    seed: u64,
    years: std::ops::RangeInclusive<i32>,
    today: NaiveDate,
) -> anyhow::Result<usize> {
    if store.claims().claims(system, &ClaimQuery { per_page: 1, ..Default::default() }).await?.total > 0 {
        return Ok(0);
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0xC1A1);
    let insurer = system.clone().acting_as(Role::InsurerCity);
    let mut reported = 0;
    for year in years {
        let query = PolicyQuery {
            year: Some(year),
            status: Some(PolicyStatus::Underwritten),
            per_page: POLICIES_PER_YEAR,
            ..Default::default()
        };
        for summary in store.policies().search_policies(system, &query).await?.policies {
            // Counties claim at different rates: loss ratios from about half to nearly all.
            let county = summary.village_code.get(4..6).and_then(|c| c.parse::<u32>().ok()).unwrap_or(0);
            let rate = 0.05 + 0.02 * f64::from(county % 5);
            if !rng.gen_bool(rate) {
                continue;
            }
            let last = summary.end_date.min(today.pred_opt().unwrap_or(today));
            let span = (last - summary.start_date).num_days();
            if span < 1 {
                continue;
            }
            let incident = plus(summary.start_date, rng.gen_range(0..span as u64));
            let detail = store.policies().policy(system, summary.id).await?;
            let person = detail.members[rng.gen_range(0..detail.members.len())].person_id;
            let on = plus(incident, rng.gen_range(0..4)).min(today);
            let new = kind_and_figures(&mut rng, person, incident);
            let kind = new.kind;
            let Ok(done) = at(store, on).claims().report_claim(system, new).await else { continue };
            let drawn = papers::drawn(store, reported, on, today);
            reported += 1;
            walk(store, system, &insurer, &mut rng, (done.id, drawn), kind, on, today).await?;
        }
    }
    Ok(reported)
}

/// The agent hands in `list` for claim `id` on `day`: as drawn photos, or only ticked.
async fn receive(
    store: &Store,
    agent: &Actor,
    (id, drawn): (i64, bool),
    list: &[Paper],
    day: NaiveDate,
) -> anyhow::Result<()> {
    if drawn {
        papers::attach(&at(store, day), agent, id, list).await
    } else {
        at(store, day).claims().add_papers(agent, id, list).await?;
        Ok(())
    }
}

/// Takes one claim (its id, and whether its papers are drawn) as far as its dates before
/// `today` allow.
#[allow(clippy::too_many_arguments)]
async fn walk(
    store: &Store,
    agent: &Actor,
    insurer: &Actor,
    rng: &mut StdRng,
    claim: (i64, bool),
    kind: ClaimKind,
    reported: NaiveDate,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let id = claim.0;
    let papers = PaperChecklist::default().required(kind).to_vec();
    receive(store, agent, claim, &papers[..2], reported).await?;
    // The insurer asks for the rest: usually the next day, sometimes late.
    let asked = plus(reported, if rng.gen_bool(0.9) { rng.gen_range(0..2) } else { rng.gen_range(3..8) });
    if asked > today {
        return Ok(());
    }
    at(store, asked).claims().request_missing_papers(insurer, id).await?;
    let complete = plus(asked, rng.gen_range(1..12));
    if complete > today {
        return Ok(());
    }
    receive(store, agent, claim, &papers[2..], complete).await?;
    let decided =
        plus(complete, if rng.gen_bool(0.93) { rng.gen_range(1..20) } else { rng.gen_range(31..50) });
    if decided > today {
        return Ok(());
    }
    let refuse = rng.gen_bool(0.08);
    let decision = Decision {
        status: if refuse { ClaimStatus::Refused } else { ClaimStatus::Approved },
        expenses: None,
        other_paid: None,
        days: None,
        grade: None,
        amount: None,
        reason: if refuse {
            "经调查，事故不属于意外伤害保险责任".to_owned()
        } else {
            String::new()
        },
        refusal_reasons: if refuse { vec![RefusalReason::NotAccident] } else { Vec::new() },
    };
    if at(store, decided).claims().decide(insurer, id, decision).await.is_err() || refuse {
        return Ok(()); // nothing left of a shared limit, or refused
    }
    let paid = plus(decided, if rng.gen_bool(0.95) { rng.gen_range(1..8) } else { rng.gen_range(11..20) });
    if paid > today {
        return Ok(());
    }
    let claim = store.claims().claim(insurer, id).await?;
    let payment = NewPayment {
        beneficiary: claim.summary.person_name.to_string(),
        account: BankAccount::parse(&format!("62220212{:011}", id))?,
        amount: claim.summary.approved.unwrap_or(Fen::ZERO),
        paid_on: paid,
        reference: format!("ZF{}{id:06}", paid.format("%Y%m%d")),
    };
    at(store, paid).claims().pay(insurer, id, payment).await?;
    if rng.gen_bool(0.6) {
        let score = if rng.gen_bool(0.8) { 5 } else { rng.gen_range(3..5) };
        at(store, paid).claims().record_satisfaction(agent, id, score, "").await?;
    }
    Ok(())
}

/// The demo's claims up to the demo's "today" (30 November of the demo year).
pub async fn demo_claims(store: &Store, system: &Actor, seed: u64, first_year: i32) -> anyhow::Result<usize> {
    let today = NaiveDate::from_ymd_opt(catalog::DEMO_YEAR, 11, 30).expect("a valid date");
    populate_claims(store, system, seed, first_year..=catalog::DEMO_YEAR, today).await
}
