//! Reports, dashboards and the bulletin's figures, live: every figure is exact to the last
//! enrolment. They are added up from the reports' summary (`summary/`: per year and
//! village, rolled up per township (`townships.rs`), kept by triggers and a refresher, stale
//! villages counted live on the report's own snapshot), summed in SQL to the grain a report
//! shows, so that a city's dashboard reads a few hundred rows, not millions. Every ratio is
//! kept as its two counts (`domain::reports::Ratio`).
//!
//! Definitions (the same on every page, export and the bulletin):
//! - insured households / persons: the families / persons of the year's underwritten
//!   policies, counted in the village of the policy (once in each village where insured);
//! - eligible households (the coverage base): per village, the base entered (`targets`),
//!   else the families registered there;
//! - renewal rate: of last year's insured households, those insured again this year
//!   (renewed ÷ due). The renewals feature's due lists will refine "due" (lapses excluded
//!   by rule); its figures slot in at [`CoverageRow::renewal`].
//! - claims: counted per county by `claims/measures.rs`, beside the same premium and insured
//!   persons read here ([`CoverageRow::premium`] is the loss ratio's denominator), for a
//!   year and year on year since 2021 (`claims.rs`).

mod changes;
mod claims;
mod count;
mod coverage;
mod funding;
mod refresh;
mod season;
pub(crate) mod summary;
mod townships;
mod years;

pub use claims::{ClaimsReport, FIRST_YEAR};
pub(crate) use coverage::Key as GroupKey;
pub use coverage::{CoverageReport, CoverageRow};
pub use funding::{FundingReport, KindRow, SourceRow};
pub use refresh::{CountedRefresh, MARKS_PER_REFRESH};
pub use season::{SeasonCurve, SeasonPoint};
pub use years::{YearLine, YearsReport};

// `summary_in` reads a region's summary, at a grain, on a snapshot; `coverage_in`, `funding_in`,
// `season_of` make each report from it.

use guanai_domain::reports::Dimension;
use guanai_domain::{Permission, RegionCode, RegionLevel};

use sea_orm::{AccessMode, DatabaseTransaction, IsolationLevel, TransactionTrait};

use crate::claims::ClaimMeasures;
use crate::{Actor, Engine, Store, StoreResult};

/// What a report is asked for: a year, a region within the actor's scope (the scope when
/// absent), and how it breaks its figures down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub year: i32,
    pub region: Option<RegionCode>,
    pub by: Dimension,
}

/// What the home page's dashboard shows, read on one snapshot.
#[derive(Debug, Clone)]
pub struct Overview {
    pub coverage: CoverageReport,
    pub season: SeasonCurve,
    pub funding: FundingReport,
    /// The year's claims per county (the coverage's premium and persons beside them).
    pub claims: ClaimMeasures,
}

impl crate::handles::Reports<'_> {
    /// The coverage (by region), the season's curve, the funding and the claims of the
    /// actor's scope for `year`, all of one moment.
    pub async fn overview(self, actor: &Actor, year: i32) -> StoreResult<Overview> {
        let region = self.report_region(actor, None).await?;
        let set = self.targets().targets_under(actor, &region, year).await?;
        let query = ReportQuery { year, region: Some(region.clone()), by: Dimension::Region };
        let txn = self.snapshot().await?;
        let read = self.overview_in(&txn, &region, &query, &set).await;
        txn.commit().await?;
        read
    }
}

impl Store {
    async fn overview_in(
        &self,
        txn: &DatabaseTransaction,
        region: &RegionCode,
        query: &ReportQuery,
        set: &[crate::targets::Target],
    ) -> StoreResult<Overview> {
        let year = query.year;
        let summary = self.summary_in(txn, region, year - 1..=year, summary::region_grain(region)).await?;
        let coverage = self.coverage_in(txn, &summary, region, query, set).await?;
        let funding = self.funding_in(txn, &summary, region, year).await?;
        let claims = self.measures_in(txn, region, year, claims::county_base_of(&coverage)).await?;
        Ok(Overview { season: season::season_of(&summary, region, year), coverage, funding, claims })
    }
}

/// What the bulletin says: the coverage by region and the year's claims, of one moment.
#[derive(Debug, Clone)]
pub struct BulletinFigures {
    pub coverage: CoverageReport,
    pub claims: ClaimMeasures,
}

impl crate::handles::Reports<'_> {
    /// The bulletin's figures of `region` (the scope when absent) for `year`.
    pub async fn bulletin(
        self,
        actor: &Actor,
        region: Option<&RegionCode>,
        year: i32,
    ) -> StoreResult<BulletinFigures> {
        let region = self.report_region(actor, region).await?;
        let set = self.targets().targets_under(actor, &region, year).await?;
        let query = ReportQuery { year, region: Some(region.clone()), by: Dimension::Region };
        let txn = self.snapshot().await?;
        let read = async {
            let grain = summary::region_grain(&region);
            let summary = self.summary_in(&txn, &region, year - 1..=year, grain).await?;
            let coverage = self.coverage_in(&txn, &summary, &region, &query, &set).await?;
            let claims = self.measures_in(&txn, &region, year, claims::county_base_of(&coverage)).await?;
            Ok(BulletinFigures { coverage, claims })
        }
        .await;
        txn.commit().await?;
        read
    }
}

impl Store {
    /// A read-only transaction whose reads all see one moment: on SQLite a deferred
    /// transaction (its snapshot is taken at the first read, WAL keeps it), elsewhere
    /// REPEATABLE READ. A report's figures are read on it one after the other, so that
    /// an enrolment arriving meanwhile is in all of them or in none.
    pub(crate) async fn snapshot(&self) -> StoreResult<DatabaseTransaction> {
        Ok(match self.engine() {
            Engine::Sqlite => self.db.begin().await?,
            _ => {
                self.db
                    .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                    .await?
            }
        })
    }

    /// The region a report covers: the one asked for, which must lie within the actor's
    /// scope (an attempt outside is audited and answers "not found"), or the scope.
    pub(crate) async fn report_region(
        &self,
        actor: &Actor,
        region: Option<&RegionCode>,
    ) -> StoreResult<RegionCode> {
        self.require(actor, Permission::ViewReports).await?;
        match region {
            None => Ok(actor.scope().clone()),
            Some(r) if actor.sees(r) => Ok(r.clone()),
            Some(r) => Err(self.deny(actor, "report.view", "区划", r.as_str()).await),
        }
    }
}

/// The level a report of `region` breaks down to: the level below, or the village itself.
pub(crate) fn child_level(region: &RegionCode) -> RegionLevel {
    region.level().child().unwrap_or(RegionLevel::Village)
}

/// A count read from a query, never negative.
pub(crate) fn tally(n: i64) -> u64 {
    n.max(0) as u64
}
