//! Claims in the reports: the claims' measures, counted by `claims/measures.rs` (the one
//! place that counts them), per county for a year and year on year since 2021, each year
//! beside its premium and insured persons as the coverage report counts them.

use std::ops::RangeInclusive;

use guanai_domain::{Fen, RegionCode, RegionLevel};
use sea_orm::ConnectionTrait;
use serde::Serialize;

use super::CoverageReport;
use crate::claims::{ClaimMeasures, CountyBase};
use crate::{Actor, Store, StoreResult};

/// The first year the reports go back to (the programme's records since 2021).
pub const FIRST_YEAR: i32 = 2021;

/// The claims report of a region: each year's measures per county, since 2021.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimsReport {
    pub year: i32,
    pub region: RegionCode,
    pub region_name: String,
    /// Every year from 2021 to `year`, oldest first; the last is `year`'s own.
    pub years: Vec<ClaimMeasures>,
}

impl ClaimsReport {
    /// The measures of the year asked for.
    pub fn this_year(&self) -> Option<&ClaimMeasures> {
        self.years.last()
    }
}

impl crate::handles::Reports<'_> {
    /// The claims report of `region` (the scope when absent): per county, every year
    /// from 2021 to `year`, on one snapshot.
    pub async fn claims(
        self,
        actor: &Actor,
        region: Option<&RegionCode>,
        year: i32,
    ) -> StoreResult<ClaimsReport> {
        let region = self.report_region(actor, region).await?;
        let names = self.regions().region_names(&[region.as_str()]).await?;
        let years = FIRST_YEAR.min(year)..=year;
        let txn = self.snapshot().await?;
        let measures = self.claims_in(&txn, &region, years).await;
        txn.commit().await?;
        Ok(ClaimsReport {
            year,
            region_name: names.get(region.as_str()).cloned().unwrap_or_else(|| region.to_string()),
            region,
            years: measures?,
        })
    }
}

impl Store {
    /// Each year's measures within `region`, the counties' premium and persons of all
    /// the years read in one pass.
    async fn claims_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        years: RangeInclusive<i32>,
    ) -> StoreResult<Vec<ClaimMeasures>> {
        let mut bases = self.county_bases(db, region, years.clone()).await?;
        let mut out = Vec::new();
        for year in years {
            let base = bases.remove(&year).unwrap_or_default();
            out.push(self.measures_in(db, region, year, Some(base)).await?);
        }
        Ok(out)
    }
}

/// The counties' premium and insured persons as a coverage report by region has them
/// already: its rows when they are counties, its total when it is one county or below;
/// none for a region above the city (read apart).
pub(crate) fn county_base_of(report: &CoverageReport) -> Option<CountyBase> {
    let pair = |r: &super::CoverageRow| (r.premium, r.insured_persons);
    let keep = |(_, (premium, persons)): &(String, (Fen, u64))| premium.get() != 0 || *persons != 0;
    match report.region.level() {
        RegionLevel::City => {
            Some(report.rows.iter().map(|r| (r.key.clone(), pair(r))).filter(keep).collect())
        }
        RegionLevel::Province => None,
        _ => {
            let county = report.region.as_str().get(..RegionLevel::County.code_len())?.to_owned();
            Some([(county, pair(&report.total))].into_iter().filter(keep).collect())
        }
    }
}
