//! Year on year since 2021: the region's coverage figures (insured households and persons,
//! premium, renewals) and its funding by kind of source, one line a year, counted as the
//! coverage and funding reports count a year (the same grouped reads, grouped by year).

use std::collections::BTreeMap;

use guanai_domain::funding::FundingKind;
use guanai_domain::reports::Ratio;
use guanai_domain::{Fen, RegionCode};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;

use super::{GroupKey, FIRST_YEAR};
use crate::entities::funding_sources;
use crate::error::stored;
use crate::{Actor, Store, StoreResult};

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
        let txn = self.snapshot().await?;
        let lines = self.years_in(&txn, &region, FIRST_YEAR.min(year)..=year).await;
        txn.commit().await?;
        Ok(YearsReport { year, region, lines: lines? })
    }
}

impl Store {
    async fn years_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        years: std::ops::RangeInclusive<i32>,
    ) -> StoreResult<Vec<YearLine>> {
        // The region as one group.
        let key = GroupKey::Region(region.level());
        let kinds: BTreeMap<i64, FundingKind> = funding_sources::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|s| Ok((s.id, stored("funding_sources.kind", &s.kind)?)))
            .collect::<StoreResult<_>>()?;
        let mut lines = Vec::new();
        let mut last_households = None;
        for year in years {
            let one = |m: std::collections::HashMap<String, u64>| m.into_values().sum::<u64>();
            let insured = self.insured_groups(db, region, year, key).await?;
            let persons = one(self.person_groups(db, region, year, key, &insured).await?);
            let due = match last_households {
                Some(n) => n,
                None => {
                    self.insured_groups(db, region, year - 1, key).await?.values().map(|g| g.households).sum()
                }
            };
            let renewed = one(self.renewed_groups(db, region, year, key).await?);
            let mut funding = vec![Fen::new(0); FundingKind::ALL.len()];
            for (source, (amount, _)) in self.by_source(db, region, year).await? {
                if let Some(i) = kinds.get(&source).and_then(|k| FundingKind::ALL.iter().position(|x| x == k))
                {
                    funding[i] = Fen::new(funding[i].get() + amount);
                }
            }
            let households = insured.values().map(|g| g.households).sum();
            lines.push(YearLine {
                year,
                insured_households: households,
                insured_persons: persons,
                premium: Fen::new(insured.values().map(|g| g.premium).sum()),
                renewed_households: renewed,
                due_households: due,
                funding,
            });
            last_households = Some(households);
        }
        Ok(lines)
    }
}
