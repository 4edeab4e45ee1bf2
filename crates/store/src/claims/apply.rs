//! Decisions and payments applied in one transaction: the one of a claim's page, or every
//! decision and payment of an insurer's file (the claims exchange), all or nothing. The
//! rules are those of `decide.rs` (`decide_in`, `pay_in`), run in the transaction, so a
//! file's payment sees the decision an earlier row of it made, and a decision sees what
//! earlier rows took from the family's shared limits (`ledger.rs`). The first change
//! refused rolls everything back and is named by its place in the batch.
//!
//! Everything that needs no transaction is read before it (the claims in scope, the
//! calendar, each decided claim's cover); the transaction then writes first (each claim's
//! row touched: SQLite's write lock, the claims' row locks elsewhere) and reads after, all
//! in itself. On SQLite it waits for its turn at the store's write gate.

use std::collections::HashMap;

use guanai_domain::claims::ClockSettings;
use guanai_domain::Permission;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::ledger::CoverTerms;
use super::{Decision, NewPayment, CLAIM};
use crate::audit::AuditEvent;
use crate::entities::claims;
use crate::policies::{rows_by_ids, CHUNK};
use crate::{Actor, StoreError, StoreResult};

/// A decision or a payment of one claim.
#[derive(Debug, Clone)]
pub enum ClaimChange {
    Decide { claim_id: i64, decision: Decision },
    Pay { claim_id: i64, payment: NewPayment },
}

impl ClaimChange {
    pub fn claim_id(&self) -> i64 {
        match self {
            ClaimChange::Decide { claim_id, .. } | ClaimChange::Pay { claim_id, .. } => *claim_id,
        }
    }
}

/// Why a batch of changes wrote nothing: the change refused (its index in the batch), or
/// none when the batch as a whole failed (no permission, the database).
#[derive(Debug)]
pub struct ChangeFailed {
    pub index: Option<usize>,
    pub error: StoreError,
}

impl From<StoreError> for ChangeFailed {
    fn from(error: StoreError) -> Self {
        ChangeFailed { index: None, error }
    }
}

fn at(index: usize) -> impl FnOnce(StoreError) -> ChangeFailed {
    move |error| ChangeFailed { index: Some(index), error }
}

impl crate::handles::Claims<'_> {
    /// Applies `changes` in their order, in one transaction: every one of them, with an
    /// audit entry each (and `summary`, if any, for the batch), or, when one is refused,
    /// nothing at all.
    pub async fn apply_changes(
        self,
        actor: &Actor,
        changes: Vec<ClaimChange>,
        summary: Option<AuditEvent>,
    ) -> Result<(), ChangeFailed> {
        self.require(actor, Permission::DecideClaims).await?;
        let mut ids: Vec<i64> = changes.iter().map(ClaimChange::claim_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows: HashMap<i64, claims::Model> =
            rows_by_ids::<claims::Entity>(&self.db, claims::Column::Id, &ids)
                .await?
                .into_iter()
                .map(|row| (row.id, row))
                .collect();
        // Each claim's scope checked once, at its first change (outside it: "not found",
        // the attempt audited); the cover of each claim decided read once.
        let mut terms: HashMap<i64, Result<CoverTerms, String>> = HashMap::new();
        let mut checked = std::collections::HashSet::new();
        for (index, change) in changes.iter().enumerate() {
            let id = change.claim_id();
            let row = rows.get(&id);
            if checked.insert(id) {
                self.check_scope(actor, CLAIM, id, row.map(|r| r.village_code.as_str()))
                    .await
                    .map_err(at(index))?;
            }
            if let (ClaimChange::Decide { .. }, Some(row)) = (change, row) {
                if let std::collections::hash_map::Entry::Vacant(slot) = terms.entry(id) {
                    slot.insert(self.cover_terms(row).await.map_err(at(index))?);
                }
            }
        }
        let (calendar, settings) = (self.work_calendar().await?, ClockSettings::default());
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await.map_err(StoreError::from)?;
        lock_claims(&txn, &ids).await?;
        let mut events = Vec::with_capacity(changes.len() + 1);
        for (index, change) in changes.into_iter().enumerate() {
            let id = change.claim_id();
            let row = claims::Entity::find_by_id(id)
                .one(&txn)
                .await
                .map_err(StoreError::from)
                .and_then(|row| row.ok_or_else(|| StoreError::not_found(format!("找不到理赔案件“{id}”"))))
                .map_err(at(index))?;
            let event = match change {
                ClaimChange::Decide { decision, .. } => {
                    let terms = terms.get(&id).expect("read for every claim decided");
                    self.decide_in(&txn, actor, &row, decision, terms, &calendar, &settings).await
                }
                ClaimChange::Pay { payment, .. } => {
                    self.pay_in(&txn, &row, payment, &calendar, &settings).await
                }
            };
            events.push((actor, event.map_err(at(index))?));
        }
        events.extend(summary.map(|event| (actor, event)));
        self.audit_many_in(&txn, events).await?;
        txn.commit().await.map_err(StoreError::from)?;
        drop(turn);
        Ok(())
    }
}

/// The transaction's first write: each claim's row touched (nothing changes), so SQLite's
/// write lock is taken before anything is read, and elsewhere the claims are locked
/// against another decider until the transaction ends.
async fn lock_claims(db: &impl ConnectionTrait, ids: &[i64]) -> StoreResult<()> {
    for chunk in ids.chunks(CHUNK) {
        claims::Entity::update_many()
            .col_expr(claims::Column::Status, Expr::col(claims::Column::Status).into())
            .filter(claims::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}
