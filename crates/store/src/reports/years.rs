//! Year on year since 2021: the region's coverage figures (insured households and persons,
//! premium, renewals) and its funding by kind of source, one line a year, counted as the
//! coverage and funding reports count a year (the same grouped reads, grouped by year).

use std::collections::BTreeMap;

use guanai_domain::funding::FundingKind;
use guanai_domain::reports::Ratio;
use guanai_domain::{Fen, RegionCode};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;

use super::summary::{Insured, Summary};
use super::{GroupKey, FIRST_YEAR};
use crate::entities::funding_sources;
use crate::error::stored;
use crate::{Actor, StoreResult};

/// One year's figures of a region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YearLine {
    pub year: i32,
    pub insured_households: u64,
    pub insured_persons: u64,
    pub premium: Fen,
    /// Of last year's insured households, those insured again this year.
    pub renewed_households: u64,
    /// Last year's insured households.
    pub due_households: u64,
    /// What each kind of source pays of the year's policies (not cancelled), in the order
    /// of `FundingKind::ALL`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub funding: Vec<Fen>,
}

impl YearLine {
    pub fn renewal(&self) -> Ratio {
        Ratio::new(self.renewed_households, self.due_households)
    }
}

/// A region's figures year on year, from 2021 to the year asked for.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YearsReport {
    pub year: i32,
    pub region: RegionCode,
    pub lines: Vec<YearLine>,
}

impl crate::handles::Reports<'_> {
    /// The figures of `region` (the scope when absent) for every year from 2021 to
    /// `year`, on one snapshot.
    pub async fn years(
        self,
        actor: &Actor,
        region: Option<&RegionCode>,
        year: i32,
    ) -> StoreResult<YearsReport> {
        let region = self.report_region(actor, region).await?;
        let first = FIRST_YEAR.min(year);
        let txn = self.snapshot().await?;
        let summary = self.summary_in(&txn, &region, first - 1..=year, region.level()).await;
        let kinds = match summary {
            Ok(_) => source_kinds(&txn).await,
            Err(_) => Ok(BTreeMap::new()),
        };
        txn.commit().await?;
        let lines = years_of(&summary?, &kinds?, &region, first..=year);
        Ok(YearsReport { year, region, lines })
    }
}

/// Every source's kind.
async fn source_kinds(db: &impl ConnectionTrait) -> StoreResult<BTreeMap<i64, FundingKind>> {
    funding_sources::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| Ok((s.id, stored("funding_sources.kind", &s.kind)?)))
        .collect()
}

/// A line a year from `summary` (which holds the year before the first too).
fn years_of(
    summary: &Summary,
    kinds: &BTreeMap<i64, FundingKind>,
    region: &RegionCode,
    years: std::ops::RangeInclusive<i32>,
) -> Vec<YearLine> {
    // The region as one group.
    let key = GroupKey::Region(region.level());
    let one = |year: i32| {
        summary.insured(year, key).into_values().fold(Insured::default(), |a, g| Insured {
            households: a.households + g.households,
            premium: a.premium + g.premium,
            persons: a.persons + g.persons,
        })
    };
    years
        .map(|year| {
            let insured = one(year);
            let mut funding = vec![Fen::new(0); FundingKind::ALL.len()];
            for (source, (amount, _)) in summary.by_source(year) {
                if let Some(i) = kinds.get(&source).and_then(|k| FundingKind::ALL.iter().position(|x| x == k))
                {
                    funding[i] = Fen::new(funding[i].get() + amount);
                }
            }
            YearLine {
                year,
                insured_households: insured.households,
                insured_persons: insured.persons,
                premium: Fen::new(insured.premium),
                renewed_households: summary.renewed(year, key).into_values().sum(),
                due_households: one(year - 1).households,
                funding,
            }
        })
        .collect()
}
