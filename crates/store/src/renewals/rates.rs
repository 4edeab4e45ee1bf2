//! The renewal rate: of a year's underwritten policies (due at their end), those renewed
//! (linked to next year's policy), in households and in persons (the persons insured by
//! the due policies, and by the policies that renewed them), per county, township and
//! village, ranked, and year on year since 2021. Four grouped queries a year, on the
//! index of policies by village and year.
//!
//! A family enrolled for next year the ordinary way (not through renewal) is linked by
//! `link_enrolled_renewals`, so the rate counts it as renewed too.

use std::collections::{BTreeMap, HashSet};

use guanai_domain::{Permission, RegionCode, RegionLevel};
use sea_orm::sea_query::{Alias, Condition, Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, Select};
use serde::Serialize;

use super::{RenewalCounts, RenewalLink};
use crate::entities::{policies, policy_members, renewals};
use crate::policies::PolicyStatus;
use crate::{Actor, Store, StoreResult};

/// The first scheme year the reports go back to.
pub const FIRST_YEAR: i32 = 2021;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateRow {
    pub region_code: String,
    pub counts: RenewalCounts,
    /// Renewed ÷ due households, in tenths of a percent.
    pub household_rate: Option<u64>,
    pub person_rate: Option<u64>,
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
    /// The same totals for every year since 2021, oldest first.
    pub by_year: Vec<RateRow>,
}

fn row(region_code: String, counts: RenewalCounts) -> RateRow {
    RateRow {
        household_rate: counts.household_rate(),
        person_rate: counts.person_rate(),
        region_code,
        counts,
    }
}

impl crate::handles::Renewals<'_> {
    /// The renewal rate of `year`'s policies within the actor's scope.
    pub async fn renewal_rates(self, actor: &Actor, year: i32) -> StoreResult<RateTable> {
        self.require(actor, Permission::ViewFamilies).await?;
        let villages = self.village_counts(actor, year).await?;
        let mut levels: [BTreeMap<String, RenewalCounts>; 2] = Default::default();
        let mut total = RenewalCounts::default();
        for (village, counts) in &villages {
            total.add(counts);
            for (at, level) in [RegionLevel::County, RegionLevel::Township].into_iter().enumerate() {
                let code = RegionCode::parse(village)
                    .ok()
                    .and_then(|v| v.at_level(level))
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| village.clone());
                levels[at].entry(code).or_default().add(counts);
            }
        }
        let ranked = |map: BTreeMap<String, RenewalCounts>| {
            let mut rows: Vec<RateRow> = map.into_iter().map(|(code, counts)| row(code, counts)).collect();
            rows.sort_by(|a, b| {
                b.household_rate.cmp(&a.household_rate).then(a.region_code.cmp(&b.region_code))
            });
            rows
        };
        let [counties, townships] = levels;
        let mut by_year = Vec::new();
        for past in FIRST_YEAR..year {
            let mut counts = RenewalCounts::default();
            for (_, c) in self.village_counts(actor, past).await? {
                counts.add(&c);
            }
            by_year.push(row(past.to_string(), counts));
        }
        by_year.push(row(year.to_string(), total));
        Ok(RateTable {
            year,
            total: row(actor.scope().to_string(), total),
            counties: ranked(counties),
            townships: ranked(townships),
            villages: ranked(villages),
            by_year,
        })
    }

    /// Links each underwritten policy of `year` within the actor's scope to its family's
    /// policy of the year after (not cancelled) when the family enrolled again the ordinary
    /// way: each policy linked once. Returns how many links were made.
    pub async fn link_enrolled_renewals(self, actor: &Actor, year: i32) -> StoreResult<usize> {
        self.require(actor, Permission::BatchRenew).await?;
        let next = Alias::new("next_policy");
        let col = |c: policies::Column| Expr::col((next.clone(), c));
        let linked_before =
            Query::select().column(renewals::Column::PreviousPolicyId).from(renewals::Entity).to_owned();
        let linked_after =
            Query::select().column(renewals::Column::PolicyId).from(renewals::Entity).to_owned();
        let query = Query::select()
            .column((policies::Entity, policies::Column::Id))
            .expr(col(policies::Column::Id))
            .expr(col(policies::Column::FamilyId))
            .expr(col(policies::Column::VillageCode))
            .from(policies::Entity)
            .join_as(
                JoinType::InnerJoin,
                policies::Entity,
                next.clone(),
                Condition::all()
                    .add(
                        col(policies::Column::FamilyId)
                            .equals((policies::Entity, policies::Column::FamilyId)),
                    )
                    .add(col(policies::Column::Year).eq(year + 1))
                    .add(col(policies::Column::Status).ne(PolicyStatus::Cancelled.code())),
            )
            .and_where(policies::Column::Year.eq(year))
            .and_where(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .cond_where(actor.scope_condition(policies::Column::VillageCode))
            .and_where(policies::Column::Id.not_in_subquery(linked_before))
            .and_where(col(policies::Column::Id).not_in_subquery(linked_after))
            .to_owned();
        let backend = self.db.get_database_backend();
        let rows = self.db.query_all(backend.build(&query)).await?;
        let (mut before, mut after) = (HashSet::new(), HashSet::new());
        let mut links = Vec::new();
        for r in rows {
            let previous: i64 = r.try_get_by_index(0)?;
            let policy: i64 = r.try_get_by_index(1)?;
            // A family with two policies in a year: each is linked once.
            if before.insert(previous) && after.insert(policy) {
                links.push(RenewalLink {
                    previous_policy_id: previous,
                    policy_id: policy,
                    family_id: r.try_get_by_index(2)?,
                    village_code: r.try_get_by_index(3)?,
                    year: year + 1,
                    created_by: actor.username().to_owned(),
                });
            }
        }
        let turn = self.write_gate.turn().await;
        super::link_renewals(&self.db, &links).await?;
        drop(turn);
        Ok(links.len())
    }
}

impl Store {
    /// Due and renewed households and persons of `year`'s policies, by village.
    async fn village_counts(&self, actor: &Actor, year: i32) -> StoreResult<BTreeMap<String, RenewalCounts>> {
        let due = |select: Select<policies::Entity>| {
            select
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .filter(policies::Column::Year.eq(year))
                .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
                .select_only()
                .column(policies::Column::VillageCode)
                .column_as(Expr::col((policies::Entity, policies::Column::Id)).count(), "n")
                .group_by(policies::Column::VillageCode)
        };
        let to_renewal = policies::Entity::belongs_to(renewals::Entity)
            .from(policies::Column::Id)
            .to(renewals::Column::PreviousPolicyId)
            .into();
        let households: Vec<(String, i64)> = due(policies::Entity::find()).into_tuple().all(&self.db).await?;
        let renewed: Vec<(String, i64)> = due(policies::Entity::find().join(JoinType::InnerJoin, to_renewal))
            .into_tuple()
            .all(&self.db)
            .await?;
        let members_of_due = policies::Entity::belongs_to(policy_members::Entity)
            .from(policies::Column::Id)
            .to(policy_members::Column::PolicyId)
            .into();
        let persons: Vec<(String, i64)> =
            due(policies::Entity::find().join(JoinType::InnerJoin, members_of_due))
                .into_tuple()
                .all(&self.db)
                .await?;
        // The persons of the renewing policies, by the due policy's village.
        let renewed_persons: Vec<(String, i64)> = due(policies::Entity::find()
            .join(
                JoinType::InnerJoin,
                policies::Entity::belongs_to(renewals::Entity)
                    .from(policies::Column::Id)
                    .to(renewals::Column::PreviousPolicyId)
                    .into(),
            )
            .join(
                JoinType::InnerJoin,
                renewals::Entity::belongs_to(policy_members::Entity)
                    .from(renewals::Column::PolicyId)
                    .to(policy_members::Column::PolicyId)
                    .into(),
            ))
        .into_tuple()
        .all(&self.db)
        .await?;
        let mut by_village: BTreeMap<String, RenewalCounts> = BTreeMap::new();
        let n = |v: i64| v.max(0) as u64;
        for (village, count) in households {
            by_village.entry(village).or_default().due_households = n(count);
        }
        for (village, count) in renewed {
            by_village.entry(village).or_default().renewed_households = n(count);
        }
        for (village, count) in persons {
            by_village.entry(village).or_default().due_persons = n(count);
        }
        for (village, count) in renewed_persons {
            by_village.entry(village).or_default().renewed_persons = n(count);
        }
        Ok(by_village)
    }
}
