//! Committing a planned return: the underwritings and refusals, and the audit entry.

use guanai_store::{Actor, Store};

use super::{Decision, ReturnOutcome, ReturnPlan};
use crate::ImportError;

impl ReturnPlan {
    /// Underwrites and refuses as planned (each all or nothing), and notes the import in
    /// the audit log. Running it again for the same file finds nothing left to do.
    pub async fn commit(&self, store: &Store, actor: &Actor) -> Result<ReturnOutcome, ImportError> {
        let mut underwrite = Vec::new();
        let mut refuse = Vec::new();
        for decision in &self.decisions {
            match decision {
                Decision::Underwrite { policy_id, policy_no } => {
                    underwrite.push((*policy_id, policy_no.clone()))
                }
                Decision::Refuse { policy_id, reason } => refuse.push((*policy_id, reason.clone())),
            }
        }
        let mut outcome = ReturnOutcome::default();
        if !underwrite.is_empty() {
            outcome.underwritten = store.policies().underwrite_many(actor, &underwrite).await?;
        }
        if !refuse.is_empty() {
            outcome.refused = store.policies().refuse_many(actor, &refuse).await?;
        }
        let detail = format!(
            "承保{}份，拒保{}份，无变化{}份，未导入{}行",
            outcome.underwritten, outcome.refused, self.totals.unchanged, self.totals.rejected_rows
        );
        store
            .audit(
                actor,
                guanai_store::audit::AuditEvent::ok(
                    "policy.import_return",
                    "承保回传",
                    format!("{}行", self.totals.rows),
                )
                .with_detail(detail),
            )
            .await?;
        Ok(outcome)
    }
}
