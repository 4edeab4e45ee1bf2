//! Files the insurer returns, on the store's side.
//!
//! - What a returned file is checked against: the policies it names (also those outside
//!   the actor's scope, so a row can say why it is refused) and the policy numbers in use.
//! - The insurer's refusals (拒保): a submitted policy becomes cancelled with the insurer's
//!   reason, and its funding and cover slots are given back exactly as `cancel_policy` does.
//!
//! The lists sent the other way, and the other exports, are in `exports`.

use std::collections::HashMap;

use chrono::Utc;
use guanai_domain::{Fen, Permission};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};

use super::{PolicyNo, PolicyStatus};
use crate::audit::AuditEvent;
use crate::entities::{cover_slots, families, policies, policy_funding};
use crate::error::{stored, stored_policy_no};
use crate::{Actor, StoreError, StoreResult};

/// Ids looked up per query (well under every engine's parameter limit).
pub(crate) const CHUNK: usize = 500;

/// The rows of `E` whose `column` is one of `ids`, read `CHUNK` ids a query.
pub(crate) async fn rows_by_ids<E>(
    db: &impl sea_orm::ConnectionTrait,
    column: E::Column,
    ids: &[i64],
) -> StoreResult<Vec<E::Model>>
where
    E: EntityTrait,
{
    let mut rows = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        rows.extend(E::find().filter(column.is_in(chunk.iter().copied())).all(db).await?);
    }
    Ok(rows)
}

/// The prefix of a cancel reason written for an insurer's refusal.
pub const REFUSAL_PREFIX: &str = "保险公司拒保：";

/// The cancel reason stored for an insurer's refusal with `reason` (at most 200 characters).
pub fn refusal_reason(reason: &str) -> String {
    format!("{REFUSAL_PREFIX}{}", reason.trim()).chars().take(200).collect()
}

/// A policy a returned file names, as far as the actor may know it.
#[derive(Debug, Clone)]
pub struct ExchangePolicy {
    pub id: i64,
    pub cert_code: String,
    /// Outside the actor's scope: nothing else is told.
    pub in_scope: bool,
    pub status: PolicyStatus,
    pub policy_no: Option<PolicyNo>,
    pub cancel_reason: Option<String>,
    pub year: i32,
    /// Empty outside the actor's scope.
    pub head_name: crate::shown::ShownName,
}

impl crate::handles::Policies<'_> {
    /// The policies named by a returned file, by id or certificate code. Those outside the
    /// actor's scope come back with `in_scope: false` and nothing else, so a row can say
    /// why it is refused without telling whose policy it is.
    pub async fn exchange_policies(
        self,
        actor: &Actor,
        ids: &[i64],
        cert_codes: &[String],
    ) -> StoreResult<Vec<ExchangePolicy>> {
        self.require(actor, Permission::Underwrite).await?;
        let mut found: HashMap<i64, policies::Model> = HashMap::new();
        for row in rows_by_ids::<policies::Entity>(&self.db, policies::Column::Id, ids).await? {
            found.insert(row.id, row);
        }
        for chunk in cert_codes.chunks(CHUNK) {
            for row in policies::Entity::find()
                .filter(policies::Column::CertCode.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await?
            {
                found.insert(row.id, row);
            }
        }
        let family_ids: Vec<i64> = found.values().map(|r| r.family_id).collect();
        let mut heads: HashMap<i64, String> = HashMap::new();
        for chunk in family_ids.chunks(CHUNK) {
            let rows: Vec<(i64, String)> = families::Entity::find()
                .select_only()
                .column(families::Column::Id)
                .column(families::Column::HeadName)
                .filter(families::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            heads.extend(rows);
        }
        let seen = self.visibility(actor, family_ids.iter().copied()).await?;
        found
            .into_values()
            .map(|row| {
                let in_scope = actor.holds(&row.village_code);
                let head = heads.get(&row.family_id).map(String::as_str).unwrap_or_default();
                Ok(ExchangePolicy {
                    id: row.id,
                    cert_code: row.cert_code,
                    in_scope,
                    status: if in_scope {
                        stored("policies.status", &row.status)?
                    } else {
                        PolicyStatus::Draft
                    },
                    policy_no: row
                        .policy_no
                        .as_deref()
                        .filter(|_| in_scope)
                        .map(stored_policy_no)
                        .transpose()?,
                    cancel_reason: row.cancel_reason.filter(|_| in_scope),
                    year: if in_scope { row.year } else { 0 },
                    head_name: seen.name(row.family_id, if in_scope { head } else { "" }),
                })
            })
            .collect::<StoreResult<_>>()
    }

    /// Which of these policy numbers are taken, and by which policy.
    pub async fn policy_numbers_taken(
        self,
        actor: &Actor,
        numbers: &[String],
    ) -> StoreResult<HashMap<String, i64>> {
        self.require(actor, Permission::Underwrite).await?;
        let mut taken = HashMap::new();
        for chunk in numbers.chunks(CHUNK) {
            let rows: Vec<(i64, Option<String>)> = policies::Entity::find()
                .select_only()
                .column(policies::Column::Id)
                .column(policies::Column::PolicyNo)
                .filter(policies::Column::PolicyNo.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&self.db)
                .await?;
            taken.extend(rows.into_iter().filter_map(|(id, no)| Some((no?, id))));
        }
        Ok(taken)
    }

    /// The insurer refuses submitted policies (拒保), each with its reason: each becomes
    /// cancelled with the reason `保险公司拒保：…`, its funding goes back to its sources and
    /// its cover slots are freed, as `cancel_policy` does. All or nothing; returns how many
    /// were refused.
    pub async fn refuse_many(self, actor: &Actor, items: &[(i64, String)]) -> StoreResult<usize> {
        self.require(actor, Permission::Underwrite).await?;
        if let Some((id, _)) = items.iter().find(|(_, reason)| reason.trim().is_empty()) {
            return Err(StoreError::invalid(format!("保单 {id} 拒保须写明原因")));
        }
        let txn = self.db.begin().await?;
        for (id, reason) in items {
            let result = policies::Entity::update_many()
                .col_expr(policies::Column::Status, Expr::value(PolicyStatus::Cancelled.code()))
                .col_expr(policies::Column::CancelledAt, Expr::value(Utc::now()))
                .col_expr(policies::Column::CancelReason, Expr::value(refusal_reason(reason)))
                .filter(policies::Column::Id.eq(*id))
                .filter(policies::Column::Status.eq(PolicyStatus::Submitted.code()))
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .exec(&txn)
                .await?;
            if result.rows_affected != 1 {
                return Err(StoreError::Conflict(format!("保单 {id} 不是本辖区待承保的保单")));
            }
            let parts = policy_funding::Entity::find()
                .filter(policy_funding::Column::PolicyId.eq(*id))
                .all(&txn)
                .await?;
            for part in parts {
                self.release(&txn, part.source_id, Fen::new(part.amount_fen)).await?;
            }
            cover_slots::Entity::delete_many()
                .filter(cover_slots::Column::PolicyId.eq(*id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        for (id, reason) in items {
            self.audit(
                actor,
                AuditEvent::ok("policy.refuse", "保单", id.to_string()).with_detail(refusal_reason(reason)),
            )
            .await?;
        }
        Ok(items.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_reasons_carry_the_prefix_and_fit_the_column() {
        assert_eq!(refusal_reason(" 年龄超限 "), "保险公司拒保：年龄超限");
        assert_eq!(refusal_reason(&"长".repeat(300)).chars().count(), 200);
    }
}
