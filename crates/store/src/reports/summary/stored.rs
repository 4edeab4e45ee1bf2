//! The summary's stored rows as a report reads them: summed in SQL to the report's grain,
//! the entered bases beside them, and the rows of stale villages as they are (to be taken
//! back out).

use chrono::NaiveDate;
use guanai_domain::{RegionCode, RegionLevel};
use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::super::townships::{TOWNSHIP_CELLS, TOWNSHIP_REGISTRY};
use super::{stale_by_year, Cell, Day, Part, Registered, Stale, Summary, VillageRows, VILLAGES_PER_READ};
use crate::access::{within_region, within_region_named};
use crate::entities::{report_cells, report_days, report_funding, report_registry, targets};
use crate::reports::tally;
use crate::{Store, StoreResult};

/// Where a report reads the stored cells and registry of its grain: the villages' rows, or
/// their townships' roll-ups (migration 000027) for a township or coarser.
struct Rows {
    cells: &'static str,
    registry: &'static str,
    /// The column of their region code.
    code: &'static str,
}

impl Rows {
    fn of(grain: RegionLevel) -> Rows {
        if grain <= RegionLevel::Township {
            Rows { cells: TOWNSHIP_CELLS, registry: TOWNSHIP_REGISTRY, code: "township_code" }
        } else {
            Rows { cells: "report_cells", registry: "report_registry", code: "village_code" }
        }
    }

    /// The code's first `grain` digits: the region of that level a row lies in.
    fn grained(&self, grain: RegionLevel) -> SimpleExpr {
        Expr::cust(format!("SUBSTR({}, 1, {})", self.code, grain.code_len()))
    }
}

impl Store {
    /// The entered eligible bases of `region`'s villages for `years`, and the families
    /// registered (as stored) in each of those villages.
    pub(super) async fn read_bases(
        &self,
        db: &impl ConnectionTrait,
        summary: &mut Summary,
        region: &RegionCode,
        years: &[i32],
    ) -> StoreResult<()> {
        let bases: Vec<(i32, String, Option<i64>)> = targets::Entity::find()
            .select_only()
            .column(targets::Column::Year)
            .column(targets::Column::RegionCode)
            .column(targets::Column::EligibleHouseholds)
            .filter(within_region(targets::Column::RegionCode, region.as_str()))
            .filter(targets::Column::Year.is_in(years.iter().copied()))
            .filter(targets::Column::EligibleHouseholds.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        for (year, village, base) in bases {
            if village.len() == RegionLevel::Village.code_len() {
                summary.registered_in_based.insert(village.clone(), 0);
                summary.bases.insert((year, village), base.map_or(0, tally));
            }
        }
        let villages: Vec<String> = summary.registered_in_based.keys().cloned().collect();
        for chunk in villages.chunks(VILLAGES_PER_READ) {
            let rows: Vec<(String, i64)> = report_registry::Entity::find()
                .select_only()
                .column(report_registry::Column::VillageCode)
                .column_as(self.sum_i64(report_registry::Column::Families), "families")
                .filter(report_registry::Column::VillageCode.is_in(chunk.iter().cloned()))
                .group_by(report_registry::Column::VillageCode)
                .into_tuple()
                .all(db)
                .await?;
            summary.registered_in_based.extend(rows);
        }
        Ok(())
    }

    /// Adds the stored rows of `region` and `years`, summed in SQL to the summary's grain.
    pub(super) async fn add_stored(
        &self,
        db: &impl ConnectionTrait,
        summary: &mut Summary,
        region: &RegionCode,
        years: &[i32],
    ) -> StoreResult<()> {
        let rows = Rows::of(summary.grain);
        let grained = rows.grained(summary.grain);
        let mut cells = Query::select();
        cells
            .column(Alias::new("year"))
            .expr(grained.clone())
            .columns([Alias::new("category"), Alias::new("poverty")]);
        for sum in ["households", "persons", "premium_fen", "renewed"] {
            cells.expr(self.sum_i64(Alias::new(sum)));
        }
        cells
            .from(Alias::new(rows.cells))
            .and_where(Expr::col(Alias::new("year")).is_in(years.iter().copied()))
            .cond_where(within_region_named(rows.code, region.as_str()))
            .add_group_by([Expr::col(Alias::new("year")).into(), grained.clone()])
            .add_group_by([
                Expr::col(Alias::new("category")).into(),
                Expr::col(Alias::new("poverty")).into(),
            ]);
        for row in db.query_all(db.get_database_backend().build(&cells)).await? {
            let key = (
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
                row.try_get_by_index(3)?,
            );
            let sums = [
                row.try_get_by_index(4)?,
                row.try_get_by_index(5)?,
                row.try_get_by_index(6)?,
                row.try_get_by_index(7)?,
            ];
            summary.cells.insert(key, sums);
        }
        let days: Vec<(i32, NaiveDate, i64)> = report_days::Entity::find()
            .select_only()
            .column(report_days::Column::Year)
            .column(report_days::Column::Day)
            .column_as(self.sum_i64(report_days::Column::Households), "households")
            .filter(report_days::Column::Year.is_in(years.iter().copied()))
            .filter(within_region(report_days::Column::VillageCode, region.as_str()))
            .group_by(report_days::Column::Year)
            .group_by(report_days::Column::Day)
            .into_tuple()
            .all(db)
            .await?;
        summary.days.extend(days.into_iter().map(|(year, day, n)| ((year, day), n)));
        let parts: Vec<(i32, i64, i64, i64)> = report_funding::Entity::find()
            .select_only()
            .column(report_funding::Column::Year)
            .column(report_funding::Column::SourceId)
            .column_as(self.sum_i64(report_funding::Column::AmountFen), "amount")
            .column_as(self.sum_i64(report_funding::Column::Policies), "policies")
            .filter(report_funding::Column::Year.is_in(years.iter().copied()))
            .filter(within_region(report_funding::Column::VillageCode, region.as_str()))
            .group_by(report_funding::Column::Year)
            .group_by(report_funding::Column::SourceId)
            .into_tuple()
            .all(db)
            .await?;
        summary
            .parts
            .extend(parts.into_iter().map(|(year, source, amount, n)| ((year, source), [amount, n])));
        let mut registry = Query::select();
        registry
            .expr(grained.clone())
            .columns([Alias::new("category"), Alias::new("poverty")])
            .expr(self.sum_i64(Alias::new("families")))
            .from(Alias::new(rows.registry))
            .cond_where(within_region_named(rows.code, region.as_str()))
            .add_group_by([
                grained,
                Expr::col(Alias::new("category")).into(),
                Expr::col(Alias::new("poverty")).into(),
            ]);
        for row in db.query_all(db.get_database_backend().build(&registry)).await? {
            let key = (row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?);
            summary.registry.insert(key, row.try_get_by_index(3)?);
        }
        Ok(())
    }

    /// The stored rows of every `stale` year and village, as they are.
    pub(crate) async fn stored_rows(
        &self,
        db: &impl ConnectionTrait,
        stale: &[Stale],
    ) -> StoreResult<VillageRows> {
        let mut rows = VillageRows::default();
        for (year, villages) in stale_by_year(stale) {
            for chunk in villages.chunks(VILLAGES_PER_READ) {
                let chunk = chunk.iter().cloned();
                if year == 0 {
                    let registry = report_registry::Entity::find()
                        .filter(report_registry::Column::VillageCode.is_in(chunk))
                        .all(db)
                        .await?;
                    rows.registry.extend(registry.into_iter().map(|m| Registered {
                        village: m.village_code,
                        category: m.category,
                        poverty: m.poverty,
                        families: tally(m.families),
                    }));
                    continue;
                }
                let cells = report_cells::Entity::find()
                    .filter(report_cells::Column::Year.eq(year))
                    .filter(report_cells::Column::VillageCode.is_in(chunk.clone()))
                    .all(db)
                    .await?;
                rows.cells.extend(cells.into_iter().map(|m| Cell {
                    year: m.year,
                    village: m.village_code,
                    category: m.category,
                    poverty: m.poverty,
                    households: tally(m.households),
                    persons: tally(m.persons),
                    premium: m.premium_fen,
                    renewed: tally(m.renewed),
                }));
                let days = report_days::Entity::find()
                    .filter(report_days::Column::Year.eq(year))
                    .filter(report_days::Column::VillageCode.is_in(chunk.clone()))
                    .all(db)
                    .await?;
                rows.days.extend(days.into_iter().map(|m| Day {
                    year: m.year,
                    village: m.village_code,
                    day: m.day,
                    households: tally(m.households),
                }));
                let parts = report_funding::Entity::find()
                    .filter(report_funding::Column::Year.eq(year))
                    .filter(report_funding::Column::VillageCode.is_in(chunk))
                    .all(db)
                    .await?;
                rows.parts.extend(parts.into_iter().map(|m| Part {
                    year: m.year,
                    village: m.village_code,
                    source_id: m.source_id,
                    amount: m.amount_fen,
                    policies: tally(m.policies),
                }));
            }
        }
        Ok(rows)
    }
}
