//! Reports, dashboards and the bulletin's figures, live: every figure is counted from the
//! same tables the lists read (policies, their members, families, the premium split), in
//! grouped queries on indexes, at the moment it is asked for — no summary table that could
//! lag behind an enrolment. Every ratio is kept as its two counts (`domain::reports::Ratio`).
//!
//! Definitions (the same on every page, export and the bulletin):
//! - insured households / persons: distinct families / persons of the year's underwritten
//!   policies, counted in the village of the policy;
//! - eligible households (the coverage base): per village, the base entered (`targets`),
//!   else the families registered there;
//! - renewal rate: of last year's insured households, those insured again this year
//!   (renewed ÷ due). The renewals feature's due lists will refine "due" (lapses excluded
//!   by rule); its figures slot in at [`CoverageRow::renewal`].
//! - claims: counted per county by `claims/measures.rs`, beside the same premium and insured
//!   persons read here ([`CoverageRow::premium`] is the loss ratio's denominator), for a
//!   year and year on year since 2021 (`claims.rs`).
//! - insured persons: the policies' `persons` added up where no person can be on two
//!   policies of the year (`Store::one_policy_per_person`), else distinct members counted.

mod claims;
mod coverage;
mod funding;
mod season;
mod years;

pub use claims::{ClaimsReport, FIRST_YEAR};
pub(crate) use coverage::Key as GroupKey;
pub use coverage::{CoverageReport, CoverageRow};
pub use funding::{FundingReport, KindRow, SourceRow};
pub use season::{SeasonCurve, SeasonPoint};
pub use years::{YearLine, YearsReport};

// `coverage_in`, `season_in`, `funding_in`: each report read on a given snapshot.

use guanai_domain::reports::Dimension;
use guanai_domain::{Permission, RegionCode, RegionLevel};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{AccessMode, DatabaseTransaction, IsolationLevel, TransactionTrait};

use crate::claims::ClaimMeasures;
use crate::{Actor, Engine, Store, StoreError, StoreResult};

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
        let coverage = self.coverage_in(&txn, &region, &query, &set).await;
        let season = self.season_in(&txn, &region, year).await;
        let funding = self.funding_in(&txn, &region, year).await;
        let claims = match &coverage {
            Ok(report) => self.measures_in(&txn, &region, year, claims::county_base_of(report)).await,
            // Not read: the coverage's own error is the one returned below.
            Err(_) => Err(StoreError::Corrupt("the coverage was not read".to_owned())),
        };
        txn.commit().await?;
        Ok(Overview { coverage: coverage?, season: season?, funding: funding?, claims: claims? })
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
        let coverage = self.coverage_in(&txn, &region, &query, &set).await;
        let claims = match &coverage {
            Ok(report) => self.measures_in(&txn, &region, year, claims::county_base_of(report)).await,
            Err(_) => Err(StoreError::Corrupt("the coverage was not read".to_owned())),
        };
        txn.commit().await?;
        Ok(BulletinFigures { coverage: coverage?, claims: claims? })
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

    /// A village's or any column's region code cut to `level`'s length: the group of a
    /// report broken down by region.
    pub(crate) fn region_prefix(table: &str, column: &str, level: RegionLevel) -> SimpleExpr {
        Expr::cust(format!("SUBSTR({table}.{column}, 1, {})", level.code_len()))
    }

    /// The China date (UTC+8) of a timestamp column, each engine's way (the only place the
    /// reports say something per engine).
    pub(crate) fn china_date(&self, table: &str, column: &str) -> SimpleExpr {
        Expr::cust(match self.engine() {
            Engine::Sqlite => format!("date({table}.{column}, '+8 hours')"),
            Engine::Postgres => {
                format!("CAST(({table}.{column} AT TIME ZONE 'UTC') + INTERVAL '8 hours' AS DATE)")
            }
            Engine::MySql => format!("DATE(DATE_ADD({table}.{column}, INTERVAL 8 HOUR))"),
        })
    }
}

/// The level a report of `region` breaks down to: the level below, or the village itself.
pub(crate) fn child_level(region: &RegionCode) -> RegionLevel {
    region.level().child().unwrap_or(RegionLevel::Village)
}

/// A count read from a query, never negative.
pub(crate) fn count(n: i64) -> u64 {
    n.max(0) as u64
}

pub(crate) fn corrupt_region(raw: &str) -> StoreError {
    StoreError::Corrupt(format!("bad region code '{raw}' in a report group"))
}
