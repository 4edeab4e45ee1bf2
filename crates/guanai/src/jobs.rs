//! Background work of a running server: expired sessions and login failure streaks idle
//! for a day out every hour, audit entries past retention out once a day. Several instances may run it at once; both deletions are
//! idempotent.

use std::time::Duration;

use guanai_store::Store;

pub async fn maintenance(store: Store, audit_retention_days: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    let mut hours = 0u32;
    loop {
        tick.tick().await;
        match store.purge_expired_sessions().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions purged"),
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "purging sessions failed"),
        }
        if let Err(err) = store.purge_stale_login_failures(chrono::Duration::days(1)).await {
            tracing::warn!(%err, "purging login failures failed");
        }
        if hours.is_multiple_of(24) {
            match store.prune_audit(audit_retention_days).await {
                Ok(n) => {
                    tracing::info!(removed = n, retention_days = audit_retention_days, "audit log pruned")
                }
                Err(err) => tracing::warn!(%err, "pruning the audit log failed"),
            }
        }
        hours = hours.wrapping_add(1);
    }
}
