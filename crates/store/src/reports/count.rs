//! The summary counted from the rows it summarises (policies, their members, premium parts,
//! families), for some years and villages: live by a report for what a mark says is stale,
//! and by the refresher (`refresh.rs`), which writes what it counted and removes the marks
//! it read.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::clock::china_date;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};

use super::summary::{stale_by_year, Cell, Day, Part, Registered, Stale, VillageRows, VILLAGES_PER_READ};
use super::tally;
use crate::entities::{families, policies, policy_funding, policy_members};
use crate::policies::PolicyStatus;
use crate::{Store, StoreResult};

type CellKey = (i32, String, String, String);

/// A family's underwritten policies of a year in a village: village, family, category,
/// poverty status, first underwriting, premium.
type FamilyInVillage = (String, i64, String, String, Option<DateTime<Utc>>, Option<i64>);

fn policy_family() -> sea_orm::RelationDef {
    policies::Entity::belongs_to(families::Entity)
        .from(policies::Column::FamilyId)
        .to(families::Column::Id)
        .into()
}

fn policy_col(c: policies::Column) -> Expr {
    Expr::col((policies::Entity, c))
}

fn family_col(c: families::Column) -> Expr {
    Expr::col((families::Entity, c))
}

impl Store {
    /// Counts the summary's rows of every `stale` year and village from the tables.
    pub(crate) async fn count_summary(
        &self,
        db: &impl ConnectionTrait,
        stale: &[Stale],
    ) -> StoreResult<VillageRows> {
        let mut rows = VillageRows::default();
        for (year, villages) in stale_by_year(stale) {
            for chunk in villages.chunks(VILLAGES_PER_READ) {
                if year == 0 {
                    rows.registry.extend(self.count_registry(db, chunk).await?);
                } else {
                    let (cells, days) = self.count_cells(db, year, chunk).await?;
                    rows.cells.extend(cells);
                    rows.days.extend(days);
                    rows.parts.extend(self.count_parts(db, year, chunk).await?);
                }
            }
        }
        Ok(rows)
    }

    async fn count_cells(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
        villages: &[String],
    ) -> StoreResult<(Vec<Cell>, Vec<Day>)> {
        let underwritten = PolicyStatus::Underwritten.code();
        let mut cells: HashMap<CellKey, Cell> = HashMap::new();
        let mut days: BTreeMap<(String, NaiveDate), u64> = BTreeMap::new();
        // Each family's underwritten policies of the year in each village: its premium and
        // its first underwriting.
        let families: Vec<FamilyInVillage> = policies::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(policy_col(policies::Column::FamilyId), "family")
            .column_as(family_col(families::Column::Category), "category")
            .column_as(family_col(families::Column::Poverty), "poverty")
            .column_as(policy_col(policies::Column::UnderwrittenAt).min(), "first_at")
            .column_as(self.sum_i64((policies::Entity, policies::Column::PremiumFen)), "premium")
            .join(JoinType::InnerJoin, policy_family())
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(policy_col(policies::Column::FamilyId))
            .group_by(family_col(families::Column::Category))
            .group_by(family_col(families::Column::Poverty))
            .into_tuple()
            .all(db)
            .await?;
        for (village, _, category, poverty, first_at, premium) in families {
            if let Some(at) = first_at {
                *days.entry((village.clone(), china_date(at))).or_default() += 1;
            }
            let c = cell(&mut cells, year, village, category, poverty);
            c.households += 1;
            c.premium += premium.unwrap_or(0);
        }
        let persons: Vec<(String, String, String, i64)> = policy_members::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(family_col(families::Column::Category), "category")
            .column_as(family_col(families::Column::Poverty), "poverty")
            .column_as(
                Expr::col((policy_members::Entity, policy_members::Column::PersonId)).count_distinct(),
                "n",
            )
            .join(
                JoinType::InnerJoin,
                policy_members::Entity::belongs_to(policies::Entity)
                    .from(policy_members::Column::PolicyId)
                    .to(policies::Column::Id)
                    .into(),
            )
            .join(JoinType::InnerJoin, policy_family())
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(family_col(families::Column::Category))
            .group_by(family_col(families::Column::Poverty))
            .into_tuple()
            .all(db)
            .await?;
        for (village, category, poverty, n) in persons {
            cell(&mut cells, year, village, category, poverty).persons = tally(n);
        }
        // Of the families insured here the year before, those with an underwritten policy
        // this year: one probe each on the index by family and year.
        let again = Expr::cust(format!(
            "EXISTS (SELECT 1 FROM policies q WHERE q.family_id = policies.family_id \
             AND q.year = {year} AND q.status = '{underwritten}')"
        ));
        let renewed: Vec<(String, String, String, i64)> = policies::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(family_col(families::Column::Category), "category")
            .column_as(family_col(families::Column::Poverty), "poverty")
            .column_as(policy_col(policies::Column::FamilyId).count_distinct(), "n")
            .join(JoinType::InnerJoin, policy_family())
            .filter(policies::Column::Year.eq(year - 1))
            .filter(policies::Column::Status.eq(underwritten))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .filter(again)
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(family_col(families::Column::Category))
            .group_by(family_col(families::Column::Poverty))
            .into_tuple()
            .all(db)
            .await?;
        for (village, category, poverty, n) in renewed {
            cell(&mut cells, year, village, category, poverty).renewed = tally(n);
        }
        let days = days
            .into_iter()
            .map(|((village, day), households)| Day { year, village, day, households })
            .collect();
        Ok((cells.into_values().collect(), days))
    }

    async fn count_parts(
        &self,
        db: &impl ConnectionTrait,
        year: i32,
        villages: &[String],
    ) -> StoreResult<Vec<Part>> {
        let rows: Vec<(String, i64, Option<i64>, i64)> = policy_funding::Entity::find()
            .select_only()
            .column_as(policy_col(policies::Column::VillageCode), "village")
            .column_as(Expr::col((policy_funding::Entity, policy_funding::Column::SourceId)), "source")
            .column_as(self.sum_i64((policy_funding::Entity, policy_funding::Column::AmountFen)), "amount")
            .column_as(
                Expr::col((policy_funding::Entity, policy_funding::Column::PolicyId)).count_distinct(),
                "n",
            )
            .join(
                JoinType::InnerJoin,
                policy_funding::Entity::belongs_to(policies::Entity)
                    .from(policy_funding::Column::PolicyId)
                    .to(policies::Column::Id)
                    .into(),
            )
            .filter(policies::Column::Year.eq(year))
            .filter(policies::Column::Status.ne(PolicyStatus::Cancelled.code()))
            .filter(policies::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(policy_col(policies::Column::VillageCode))
            .group_by(Expr::col((policy_funding::Entity, policy_funding::Column::SourceId)))
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(village, source_id, amount, n)| Part {
                year,
                village,
                source_id,
                amount: amount.unwrap_or(0),
                policies: tally(n),
            })
            .collect())
    }

    async fn count_registry(
        &self,
        db: &impl ConnectionTrait,
        villages: &[String],
    ) -> StoreResult<Vec<Registered>> {
        let rows: Vec<(String, String, String, i64)> = families::Entity::find()
            .select_only()
            .column(families::Column::VillageCode)
            .column(families::Column::Category)
            .column(families::Column::Poverty)
            .column_as(families::Column::Id.count(), "n")
            .filter(families::Column::VillageCode.is_in(villages.iter().cloned()))
            .group_by(families::Column::VillageCode)
            .group_by(families::Column::Category)
            .group_by(families::Column::Poverty)
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(village, category, poverty, n)| Registered {
                village,
                category,
                poverty,
                families: tally(n),
            })
            .collect())
    }
}

/// The cell of (`year`, `village`, `category`, `poverty`), made empty when new.
fn cell(
    cells: &mut HashMap<CellKey, Cell>,
    year: i32,
    village: String,
    category: String,
    poverty: String,
) -> &mut Cell {
    cells.entry((year, village.clone(), category.clone(), poverty.clone())).or_insert_with(|| Cell {
        year,
        village,
        category,
        poverty,
        ..Default::default()
    })
}
