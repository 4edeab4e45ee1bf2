//! Enrolment through the season, day by day: how many households were insured by each day
//! (a family counts from the day its first policy of the year was underwritten), this year
//! and last, against the target.

use chrono::{Datelike, NaiveDate};
use guanai_domain::RegionCode;
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use serde::Serialize;

use super::count;
use crate::access::within_region;
use crate::entities::policies;
use crate::policies::PolicyStatus;
use crate::{Actor, Store, StoreResult};

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
        let curve = self.season_in(&txn, &region, year).await;
        txn.commit().await?;
        curve
    }
}

impl Store {
    pub(crate) async fn season_in(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
    ) -> StoreResult<SeasonCurve> {
        let this_year = self.curve(db, region, year).await?;
        let last_year = self.curve(db, region, year - 1).await?;
        Ok(SeasonCurve { year, region: region.clone(), this_year, last_year })
    }

    async fn curve(
        &self,
        db: &impl ConnectionTrait,
        region: &RegionCode,
        year: i32,
    ) -> StoreResult<Vec<SeasonPoint>> {
        // Each family's first underwriting of the year …
        let first = policies::Entity::find()
            .select_only()
            .column(policies::Column::FamilyId)
            .column_as(policies::Column::UnderwrittenAt.min(), "first_at")
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
            .filter(within_region(policies::Column::VillageCode, region.as_str()))
            .group_by(policies::Column::FamilyId)
            .into_query();
        // … counted by its day in China.
        let day = self.china_date("f", "first_at");
        let mut outer = Query::select();
        outer
            .expr_as(day.clone(), Alias::new("day"))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(first, Alias::new("f"))
            .and_where(Expr::cust("f.first_at IS NOT NULL"))
            .add_group_by([day.clone()])
            .order_by_expr(day, Order::Asc);
        let rows = db.query_all(db.get_database_backend().build(&outer)).await?;
        let mut cumulative = 0;
        let mut points = Vec::with_capacity(rows.len());
        for row in rows {
            let day: NaiveDate = row.try_get("", "day")?;
            let n: i64 = row.try_get("", "n")?;
            cumulative += count(n);
            points.push(SeasonPoint { day, households: count(n), cumulative });
        }
        Ok(points)
    }
}
