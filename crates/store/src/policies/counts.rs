//! Policy counts for a home page: by status on the index of policies by village and year,
//! and who is insured from the reports' summary, whatever the size of the city.

use guanai_domain::{Fen, Permission};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::PolicyStatus;
use crate::entities::policies;
use crate::error::stored;
use crate::{Actor, StoreResult};

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

/// Who is insured by the underwritten policies of a year, within the scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InsuredCounts {
    pub households: u64,
    pub persons: u64,
}

impl crate::handles::Policies<'_> {
    /// The households and persons insured by underwritten policies of `year` within the
    /// actor's scope, as the reports count them (once in each village where insured): read
    /// from the reports' summary on one snapshot, the same figures as the dashboard's.
    pub async fn insured_counts(self, actor: &Actor, year: i32) -> StoreResult<InsuredCounts> {
        self.require(actor, Permission::ViewFamilies).await?;
        let txn = self.snapshot().await?;
        let insured = self.insured_in(&txn, actor.scope(), year).await;
        txn.commit().await?;
        let insured = insured?;
        Ok(InsuredCounts { households: insured.households, persons: insured.persons })
    }

    /// This year's policies within the actor's scope, by status.
    pub async fn policy_counts(self, actor: &Actor, year: i32) -> StoreResult<PolicyCounts> {
        self.require(actor, Permission::ViewFamilies).await?;
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
            let status = stored("policies.status", &status)?;
            match status {
                PolicyStatus::Draft => counts.draft = n,
                PolicyStatus::Submitted => counts.submitted = n,
                PolicyStatus::Underwritten => counts.underwritten = n,
                PolicyStatus::Cancelled => counts.cancelled = n,
            }
            if status != PolicyStatus::Cancelled {
                premium += sum.unwrap_or(0);
            }
        }
        counts.premium = Fen::new(premium);
        Ok(counts)
    }
}
