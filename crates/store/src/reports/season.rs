//! Enrolment through the season, day by day: how many households were insured by each day
//! (a family counts from the day its first policy of the year was underwritten), this year
//! and last, against the target.

use chrono::{Datelike, NaiveDate};
use guanai_domain::RegionCode;
use serde::Serialize;

use super::summary::Summary;
use crate::{Actor, StoreResult};

/// One day on which households were insured: how many that day, and how many by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeasonPoint {
    pub day: NaiveDate,
    pub households: u64,
    pub cumulative: u64,
}

/// The season's curve of a region: this year's days and last year's.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeasonCurve {
    pub year: i32,
    pub region: RegionCode,
    pub this_year: Vec<SeasonPoint>,
    pub last_year: Vec<SeasonPoint>,
}

impl SeasonCurve {
    /// Households insured by `day` this year (0 before the first).
    pub fn by(&self, day: NaiveDate) -> u64 {
        by(&self.this_year, day)
    }

    /// Households insured by the same calendar day one year earlier.
    pub fn last_year_by(&self, day: NaiveDate) -> u64 {
        let earlier = day.with_year(day.year() - 1).or_else(|| day.pred_opt()?.with_year(day.year() - 1));
        earlier.map_or(0, |d| by(&self.last_year, d))
    }
}

fn by(points: &[SeasonPoint], day: NaiveDate) -> u64 {
    points.iter().take_while(|p| p.day <= day).last().map_or(0, |p| p.cumulative)
}

impl crate::handles::Reports<'_> {
    /// The season's curve of `region` (the scope when absent) for `year` and the year before.
    pub async fn season(
        self,
        actor: &Actor,
        region: Option<&RegionCode>,
        year: i32,
    ) -> StoreResult<SeasonCurve> {
        let region = self.report_region(actor, region).await?;
        let txn = self.snapshot().await?;
        let summary = self.summary_in(&txn, &region, year - 1..=year, region.level()).await;
        txn.commit().await?;
        Ok(season_of(&summary?, &region, year))
    }
}

/// The curve of `year` and the year before from `summary` (of both years): a family counts
/// from the China day of its first underwriting of the year in the village.
pub(crate) fn season_of(summary: &Summary, region: &RegionCode, year: i32) -> SeasonCurve {
    let points = |year| {
        let mut cumulative = 0;
        summary
            .curve(year)
            .into_iter()
            .map(|(day, households)| {
                cumulative += households;
                SeasonPoint { day, households, cumulative }
            })
            .collect()
    };
    SeasonCurve { year, region: region.clone(), this_year: points(year), last_year: points(year - 1) }
}
