//! The renewal rate: of a year's underwritten policies (due at their end), those renewed
//! (linked to next year's policy), in households and in persons (the persons insured by
//! the due policies, and by the policies that renewed them), per county, township, village
//! and agent, ranked; the day-by-day curve through the season (each renewal on the China
//! date it was made); year on year since 2021, in total and per county; and beside each
//! region the renewal target the reports set for the year renewed into
//! (`targets.renewal_permille` of `year + 1`). Three grouped queries a year (due, renewed,
//! renewed but cancelled since), each one range of a covering index; two for the curve, two
//! for the agents (one after the other), one for the targets. The year's counts, the curve,
//! the agents, the targets and the past years (one year after another) are read side by
//! side, two reads at a time (`Lanes`).
//!
//! A family enrolled for next year the ordinary way (not through renewal) is linked by
//! `link_enrolled_renewals`, so the rate counts it as renewed too (on the day its new
//! policy was underwritten).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::renewals::permille;
use guanai_domain::{Permission, RegionCode, RegionLevel};
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Serialize;

use super::{RenewalCounts, RenewalLink};
use crate::entities::{agent_villages, agents, policies, renewals, targets};
use crate::policies::PolicyStatus;
use crate::{Actor, Store, StoreResult};

/// The first scheme year the reports go back to.
pub const FIRST_YEAR: i32 = 2021;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateRow {
    /// The region's code (in `by_year` and `county_years`: the year).
    pub region_code: String,
    pub counts: RenewalCounts,
    /// Renewed ÷ due households, in tenths of a percent.
    pub household_rate: Option<u64>,
    pub person_rate: Option<u64>,
    /// The renewal rate to reach (households), in tenths of a percent, where the reports
    /// set one for the region and the year renewed into.
    pub target_permille: Option<u32>,
}

/// An agent's families: those of the villages the agent serves now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRate {
    pub agent_id: i64,
    pub name: String,
    pub township_code: String,
    pub villages: u32,
    pub counts: RenewalCounts,
    pub household_rate: Option<u64>,
    pub person_rate: Option<u64>,
}

/// One day of the season on which families renewed: how many that day, how many by then,
/// and the rate by then (of all the year's due households).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatePoint {
    pub day: NaiveDate,
    pub renewed: u64,
    pub cumulative: u64,
    pub household_rate: Option<u64>,
}

/// A county's rate year by year.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionYears {
    pub region_code: String,
    /// Oldest first; each row's `region_code` is its year.
    pub years: Vec<RateRow>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateTable {
    /// The year whose policies were due.
    pub year: i32,
    pub total: RateRow,
    /// Ranked by household rate, highest first.
    pub counties: Vec<RateRow>,
    pub townships: Vec<RateRow>,
    pub villages: Vec<RateRow>,
    /// The agents serving villages of the scope, ranked like the regions.
    pub agents: Vec<AgentRate>,
    /// The season day by day: the days families renewed, oldest first.
    pub curve: Vec<RatePoint>,
    /// The same totals for every year since 2021, oldest first.
    pub by_year: Vec<RateRow>,
    /// Each county's rate for every year since 2021.
    pub county_years: Vec<RegionYears>,
}

/// A policy of the next year a renewal may link: its id, village, persons and underwriting
/// time.
type NextPolicy = (i64, String, i32, Option<DateTime<Utc>>);

fn row(region_code: String, counts: RenewalCounts, target_permille: Option<u32>) -> RateRow {
    RateRow {
        household_rate: counts.household_rate(),
        person_rate: counts.person_rate(),
        region_code,
        counts,
        target_permille,
    }
}

/// Village counts summed to a level (county or township).
fn at_level(
    villages: &BTreeMap<String, RenewalCounts>,
    level: RegionLevel,
) -> BTreeMap<String, RenewalCounts> {
    let mut sums: BTreeMap<String, RenewalCounts> = BTreeMap::new();
    for (village, counts) in villages {
        let code = RegionCode::parse(village)
            .ok()
            .and_then(|v| v.at_level(level))
            .map(|c| c.to_string())
            .unwrap_or_else(|| village.clone());
        sums.entry(code).or_default().add(counts);
    }
    sums
}

fn sum(villages: &BTreeMap<String, RenewalCounts>) -> RenewalCounts {
    let mut total = RenewalCounts::default();
    for counts in villages.values() {
        total.add(counts);
    }
    total
}

/// Highest household rate first; ties by code.
fn ranked(rows: &mut [RateRow]) {
    rows.sort_by(|a, b| b.household_rate.cmp(&a.household_rate).then(a.region_code.cmp(&b.region_code)));
}

/// Reads of one rate table at once: its reads are independent and run side by side, but
/// no more than two (two cores), so that one table never holds all of SQLite's four pooled
/// connections while writers wait for one.
const READS_AT_ONCE: usize = 2;

/// The rate table's reads, taking turns for [`READS_AT_ONCE`] connections.
struct Lanes(tokio::sync::Semaphore);

impl Lanes {
    fn new() -> Lanes {
        Lanes(tokio::sync::Semaphore::new(READS_AT_ONCE))
    }

    /// Runs one read when a lane is free.
    async fn run<T>(&self, read: impl std::future::Future<Output = T>) -> T {
        let _lane = self.0.acquire().await.expect("the semaphore is never closed");
        read.await
    }
}

/// A village's households and persons (summed `persons`, none without rows).
type VillageSums = (String, i64, Option<i64>);

/// The agents serving villages of the scope: (id, name, township), and (agent, village)
/// for each village served.
struct AgentsServing {
    agents: Vec<(i64, String, String)>,
    served: Vec<(i64, String)>,
}

/// Renewals made on a day.
type DayCount = (NaiveDate, i64);

/// Renewals by the day they were made, and those of policies cancelled since.
struct RenewalDays {
    by_day: Vec<DayCount>,
    withdrawn: HashMap<NaiveDate, i64>,
}

/// Each agent with the counts of the villages they serve; ranked by household rate.
fn agent_rates(serving: AgentsServing, villages: &BTreeMap<String, RenewalCounts>) -> Vec<AgentRate> {
    let AgentsServing { agents, served } = serving;
    let mut by_agent: HashMap<i64, Vec<&String>> = HashMap::new();
    for (agent, village) in &served {
        by_agent.entry(*agent).or_default().push(village);
    }
    let mut rates: Vec<AgentRate> = agents
        .into_iter()
        .map(|(agent_id, name, township_code)| {
            let mine = by_agent.get(&agent_id).map(Vec::as_slice).unwrap_or_default();
            let mut counts = RenewalCounts::default();
            for village in mine {
                if let Some(c) = villages.get(*village) {
                    counts.add(c);
                }
            }
            AgentRate {
                agent_id,
                name,
                township_code,
                villages: mine.len() as u32,
                household_rate: counts.household_rate(),
                person_rate: counts.person_rate(),
                counts,
            }
        })
        .collect();
    rates.sort_by(|a, b| b.household_rate.cmp(&a.household_rate).then(a.agent_id.cmp(&b.agent_id)));
    rates
}

/// The season day by day, with the running total and rate (of `due` households); days
/// whose renewals were all withdrawn are left out.
fn rate_curve(days: RenewalDays, due: u64) -> Vec<RatePoint> {
    let mut cumulative = 0;
    let mut points = Vec::with_capacity(days.by_day.len());
    for (day, n) in days.by_day {
        let renewed = (n - days.withdrawn.get(&day).copied().unwrap_or(0)).max(0) as u64;
        if renewed == 0 {
            continue;
        }
        cumulative += renewed;
        points.push(RatePoint { day, renewed, cumulative, household_rate: permille(cumulative, due) });
    }
    points
}

impl crate::handles::Renewals<'_> {
    /// The renewal rate of `year`'s policies within the actor's scope. Its reads are
    /// independent of each other and run side by side, two at a time.
    pub async fn renewal_rates(self, actor: &Actor, year: i32) -> StoreResult<RateTable> {
        self.require(actor, Permission::ViewFamilies).await?;
        let lanes = Lanes::new();
        let past_years = async {
            let mut found = Vec::new();
            for past in FIRST_YEAR..year {
                found.push(self.village_counts(actor, past, &lanes).await?);
            }
            StoreResult::Ok(found)
        };
        let (goals, villages, days, served, past) = tokio::try_join!(
            lanes.run(self.renewal_targets(actor, year)),
            self.village_counts(actor, year, &lanes),
            self.renewals_by_day(actor, year, &lanes),
            lanes.run(self.agents_serving(actor)),
            past_years,
        )?;
        let goal = |code: &str, y: i32| goals.get(&(code.to_owned(), y + 1)).copied();
        let total = sum(&villages);
        let rows = |map: BTreeMap<String, RenewalCounts>| {
            let mut rows: Vec<RateRow> = map
                .into_iter()
                .map(|(code, counts)| {
                    let target = goal(&code, year);
                    row(code, counts, target)
                })
                .collect();
            ranked(&mut rows);
            rows
        };
        let counties = rows(at_level(&villages, RegionLevel::County));
        let townships = rows(at_level(&villages, RegionLevel::Township));
        let agents = agent_rates(served, &villages);
        let curve = rate_curve(days, total.due_households);
        let scope = actor.scope().to_string();
        let mut by_year = Vec::new();
        let mut per_county: BTreeMap<String, BTreeMap<i32, RenewalCounts>> = BTreeMap::new();
        for (past, found) in (FIRST_YEAR..=year).zip(past.iter().chain([&villages])) {
            by_year.push(row(past.to_string(), sum(found), goal(&scope, past)));
            for (county, counts) in at_level(found, RegionLevel::County) {
                per_county.entry(county).or_default().insert(past, counts);
            }
        }
        // Every year for every county, a year without policies there at zero.
        let county_years = per_county
            .into_iter()
            .map(|(region_code, found)| {
                let years = (FIRST_YEAR..=year)
                    .map(|y| {
                        row(y.to_string(), found.get(&y).copied().unwrap_or_default(), goal(&region_code, y))
                    })
                    .collect();
                RegionYears { region_code, years }
            })
            .collect();
        let villages = rows(villages);
        Ok(RateTable {
            year,
            total: row(scope.clone(), total, goal(&scope, year)),
            counties,
            townships,
            villages,
            agents,
            curve,
            by_year,
            county_years,
        })
    }

    /// Links each underwritten policy of `year` within the actor's scope to its family's
    /// policy of the year after (not cancelled) when the family enrolled again the ordinary
    /// way: each policy linked once. Returns how many links were made.
    pub async fn link_enrolled_renewals(self, actor: &Actor, year: i32) -> StoreResult<usize> {
        self.require(actor, Permission::BatchRenew).await?;
        // Two reads, each one range of an index with an anti-join on a unique key of
        // `renewals`, matched by family here: a self-join of `policies` let SQLite (without
        // statistics) scan next year's policies once per policy of this year.
        let backend = self.db.get_database_backend();
        let linked_before = Alias::new("linked_before");
        let previous_query = Query::select()
            .column((policies::Entity, policies::Column::Id))
            .column((policies::Entity, policies::Column::FamilyId))
            .column((policies::Entity, policies::Column::VillageCode))
            .from(policies::Entity)
            .join_as(
                JoinType::LeftJoin,
                renewals::Entity,
                linked_before.clone(),
                Expr::col((linked_before.clone(), renewals::Column::PreviousPolicyId))
                    .equals((policies::Entity, policies::Column::Id)),
            )
            .and_where(policies::Column::Year.eq(year))
            .and_where(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .cond_where(actor.scope_condition(policies::Column::VillageCode))
            .and_where(Expr::col((linked_before, renewals::Column::Id)).is_null())
            .order_by((policies::Entity, policies::Column::Id), Order::Asc)
            .to_owned();
        let mut unlinked_previous: Vec<(i64, i64, String)> = Vec::new();
        for r in self.db.query_all(backend.build(&previous_query)).await? {
            unlinked_previous.push((r.try_get_by_index(0)?, r.try_get_by_index(1)?, r.try_get_by_index(2)?));
        }
        let families: HashSet<i64> = unlinked_previous.iter().map(|(_, f, _)| *f).collect();
        // Next year's policies not linked yet (one range of `idx_policies_year_status_village_persons`:
        // a family may have moved out of the actor's scope since), of those families, by
        // family, oldest first.
        let linked_after = Alias::new("linked_after");
        let next_query = Query::select()
            .column((policies::Entity, policies::Column::Id))
            .column((policies::Entity, policies::Column::FamilyId))
            .column((policies::Entity, policies::Column::VillageCode))
            .column((policies::Entity, policies::Column::Persons))
            .column((policies::Entity, policies::Column::UnderwrittenAt))
            .from(policies::Entity)
            .join_as(
                JoinType::LeftJoin,
                renewals::Entity,
                linked_after.clone(),
                Expr::col((linked_after.clone(), renewals::Column::PolicyId))
                    .equals((policies::Entity, policies::Column::Id)),
            )
            .and_where(policies::Column::Year.eq(year + 1))
            .and_where(policies::Column::Status.ne(PolicyStatus::Cancelled.code()))
            .and_where(Expr::col((linked_after, renewals::Column::Id)).is_null())
            .order_by((policies::Entity, policies::Column::Id), Order::Asc)
            .to_owned();
        let mut next_by_family: HashMap<i64, Vec<NextPolicy>> = HashMap::new();
        for r in self.db.query_all(backend.build(&next_query)).await? {
            let family: i64 = r.try_get_by_index(1)?;
            if families.contains(&family) {
                let next = (
                    r.try_get_by_index(0)?,
                    r.try_get_by_index(2)?,
                    r.try_get_by_index(3)?,
                    r.try_get_by_index(4)?,
                );
                next_by_family.entry(family).or_default().push(next);
            }
        }
        let now = self.clock().now();
        let mut links = Vec::new();
        for (previous, family, previous_village_code) in unlinked_previous {
            // A family with two policies in a year: each is linked once, in order.
            let Some(next) = next_by_family.get_mut(&family).filter(|n| !n.is_empty()) else { continue };
            let (policy, village_code, persons, underwritten_at) = next.remove(0);
            links.push(RenewalLink {
                previous_policy_id: previous,
                previous_village_code,
                policy_id: policy,
                family_id: family,
                village_code,
                year: year + 1,
                persons,
                created_by: actor.username().to_owned(),
                // Renewed when the new policy was underwritten (or now, if not yet).
                at: underwritten_at.unwrap_or(now),
                // Families that enrolled again long ago are not sent a renewal's message.
                confirm: None,
            });
        }
        let turn = self.write_gate.turn().await;
        super::link_renewals(turn.db, &links).await?;
        drop(turn);
        Ok(links.len())
    }
}

impl Store {
    /// The renewal targets (‰) set within the actor's scope for the years renewed into
    /// since 2021, by region and year.
    async fn renewal_targets(&self, actor: &Actor, year: i32) -> StoreResult<HashMap<(String, i32), u32>> {
        let rows: Vec<(String, i32, Option<i32>)> = targets::Entity::find()
            .select_only()
            .column(targets::Column::RegionCode)
            .column(targets::Column::Year)
            .column(targets::Column::RenewalPermille)
            .filter(actor.scope_condition(targets::Column::RegionCode))
            .filter(targets::Column::Year.between(FIRST_YEAR + 1, year + 1))
            .filter(targets::Column::RenewalPermille.is_not_null())
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(|(code, y, p)| Some(((code, y), u32::try_from(p?).ok()?))).collect())
    }

    /// The agents serving villages of the scope now (not left), each with those villages.
    async fn agents_serving(&self, actor: &Actor) -> StoreResult<AgentsServing> {
        let served: Vec<(i64, String)> = agent_villages::Entity::find()
            .select_only()
            .column(agent_villages::Column::AgentId)
            .column(agent_villages::Column::VillageCode)
            .filter(actor.scope_condition(agent_villages::Column::VillageCode))
            .filter(agent_villages::Column::UntilOn.is_null())
            .into_tuple()
            .all(&self.db)
            .await?;
        let ids: HashSet<i64> = served.iter().map(|(a, _)| *a).collect();
        let mut agents: Vec<(i64, String, String)> = Vec::new();
        let ids: Vec<i64> = ids.into_iter().collect();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i64, String, String)> = agents::Entity::find()
                .select_only()
                .column(agents::Column::Id)
                .column(agents::Column::Name)
                .column(agents::Column::TownshipCode)
                .filter(agents::Column::Id.is_in(chunk.iter().copied()))
                .filter(agents::Column::LeftOn.is_null())
                .into_tuple()
                .all(&self.db)
                .await?;
            agents.extend(rows);
        }
        Ok(AgentsServing { agents, served })
    }

    /// The renewals of `year`'s due policies in the scope by the China date they were
    /// made (one range of `idx_renewals_year_previous_village`), and those of policies
    /// cancelled since, by day.
    async fn renewals_by_day(&self, actor: &Actor, year: i32, lanes: &Lanes) -> StoreResult<RenewalDays> {
        let by_day = renewals::Entity::find()
            .select_only()
            .column(renewals::Column::RenewedOn)
            .column_as(renewals::Column::Id.count(), "n")
            .filter(renewals::Column::Year.eq(year + 1))
            .filter(actor.scope_condition(renewals::Column::PreviousVillageCode))
            .group_by(renewals::Column::RenewedOn)
            .order_by_asc(renewals::Column::RenewedOn)
            .into_tuple()
            .all(&self.db);
        let withdrawn = self
            .renewals_of_cancelled(actor, year)
            .select_only()
            .column(renewals::Column::RenewedOn)
            .column_as(renewals::Column::Id.count(), "n")
            .group_by(renewals::Column::RenewedOn)
            .into_tuple()
            .all(&self.db);
        let (by_day, withdrawn): (Vec<DayCount>, Vec<DayCount>) =
            tokio::try_join!(lanes.run(by_day), lanes.run(withdrawn))?;
        Ok(RenewalDays { by_day, withdrawn: withdrawn.into_iter().collect() })
    }

    /// The renewals of `year`'s policies in the scope whose renewed policy was cancelled
    /// since (the rate counts underwritten policies only): few, found from the cancelled
    /// policies' index range.
    fn renewals_of_cancelled(&self, actor: &Actor, year: i32) -> Select<renewals::Entity> {
        renewals::Entity::find()
            .join(
                JoinType::InnerJoin,
                renewals::Entity::belongs_to(policies::Entity)
                    .from(renewals::Column::PreviousPolicyId)
                    .to(policies::Column::Id)
                    .into(),
            )
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(PolicyStatus::Cancelled.code()))
            .filter(actor.scope_condition(policies::Column::VillageCode))
    }

    /// Due and renewed households and persons of `year`'s policies, by village: the due
    /// from one range of `idx_policies_year_status_village_persons` (persons summed from
    /// `policies.persons`), the renewed from one range of
    /// `idx_renewals_year_previous_village` less the renewals of policies cancelled since.
    async fn village_counts(
        &self,
        actor: &Actor,
        year: i32,
        lanes: &Lanes,
    ) -> StoreResult<BTreeMap<String, RenewalCounts>> {
        let due = policies::Entity::find()
            .select_only()
            .column(policies::Column::VillageCode)
            .column_as(policies::Column::Id.count(), "n")
            .column_as(self.sum_i64((policies::Entity, policies::Column::Persons)), "persons")
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .group_by(policies::Column::VillageCode)
            .into_tuple()
            .all(&self.db);
        let renewed_in = |select: Select<renewals::Entity>, village: renewals::Column| {
            select
                .select_only()
                .column(village)
                .column_as(renewals::Column::Id.count(), "n")
                .column_as(self.sum_i64((renewals::Entity, renewals::Column::Persons)), "persons")
                .group_by(village)
        };
        let renewed = renewed_in(
            renewals::Entity::find()
                .filter(renewals::Column::Year.eq(year + 1))
                .filter(actor.scope_condition(renewals::Column::PreviousVillageCode)),
            renewals::Column::PreviousVillageCode,
        )
        .into_tuple()
        .all(&self.db);
        let withdrawn =
            renewed_in(self.renewals_of_cancelled(actor, year), renewals::Column::PreviousVillageCode)
                .into_tuple()
                .all(&self.db);
        let (due, renewed, withdrawn): (Vec<VillageSums>, Vec<VillageSums>, Vec<VillageSums>) =
            tokio::try_join!(lanes.run(due), lanes.run(renewed), lanes.run(withdrawn))?;
        let mut by_village: BTreeMap<String, RenewalCounts> = BTreeMap::new();
        let n = |v: i64| v.max(0) as u64;
        for (village, households, persons) in due {
            let counts = by_village.entry(village).or_default();
            counts.due_households = n(households);
            counts.due_persons = n(persons.unwrap_or(0));
        }
        for (village, households, persons) in renewed {
            let counts = by_village.entry(village).or_default();
            counts.renewed_households = n(households);
            counts.renewed_persons = n(persons.unwrap_or(0));
        }
        for (village, households, persons) in withdrawn {
            let counts = by_village.entry(village).or_default();
            counts.renewed_households = counts.renewed_households.saturating_sub(n(households));
            counts.renewed_persons = counts.renewed_persons.saturating_sub(n(persons.unwrap_or(0)));
        }
        // A village with renewals but no due policy left (all cancelled) shows nothing.
        by_village.retain(|_, c| c.due_households > 0 || c.renewed_households > 0);
        Ok(by_village)
    }
}
