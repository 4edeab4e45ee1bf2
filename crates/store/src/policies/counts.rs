//! Policy counts for a home page.

use guanai_domain::{Fen, Permission};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::PolicyStatus;
use crate::entities::policies;
use crate::{Actor, Store, StoreResult};

/// Counts for a home page: policies of a year by status, within the scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyCounts {
    pub draft: u64,
    pub submitted: u64,
    pub underwritten: u64,
    pub cancelled: u64,
    /// Premium of the policies not cancelled.
    pub premium: Fen,
}

impl Store {
    pub async fn policy_counts(&self, actor: &Actor, year: i32) -> StoreResult<PolicyCounts> {
        actor.require(Permission::ViewFamilies)?;
        let rows: Vec<(String, i64, Option<i64>)> = policies::Entity::find()
            .select_only()
            .column(policies::Column::Status)
            .column_as(policies::Column::Id.count(), "n")
            .column_as(self.sum_i64(policies::Column::PremiumFen), "premium")
            .filter(actor.scope_condition(policies::Column::VillageCode))
            .filter(policies::Column::Year.eq(year))
            .group_by(policies::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut counts = PolicyCounts::default();
        let mut premium = 0i64;
        for (status, n, sum) in rows {
            let n = n.max(0) as u64;
            match PolicyStatus::parse(&status) {
                Some(PolicyStatus::Draft) => counts.draft = n,
                Some(PolicyStatus::Submitted) => counts.submitted = n,
                Some(PolicyStatus::Underwritten) => counts.underwritten = n,
                Some(PolicyStatus::Cancelled) => counts.cancelled = n,
                None => {}
            }
            if status != PolicyStatus::Cancelled.as_str() {
                premium += sum.unwrap_or(0);
            }
        }
        counts.premium = Fen::new(premium);
        Ok(counts)
    }
}
