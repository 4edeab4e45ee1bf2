//! Background work of a running server: expired sessions and login failure streaks idle
//! for a day out every hour; once a day, audit entries past retention out and the files of
//! ended imports past theirs; every second, the reports' summary brought up to date. Several
//! instances may run it at once; every deletion is idempotent, and refreshers take turns.

use std::time::Duration;

use guanai_store::Store;

pub async fn maintenance(store: Store, audit_retention_days: u32, import_file_retention_days: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    let mut hours = 0u32;
    loop {
        tick.tick().await;
        match store.sessions().purge_expired_sessions().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions purged"),
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "purging sessions failed"),
        }
        if let Err(err) = store.users().purge_stale_login_failures(chrono::Duration::days(1)).await {
            tracing::warn!(%err, "purging login failures failed");
        }
        if hours.is_multiple_of(24) {
            daily(&store, audit_retention_days, import_file_retention_days).await;
        }
        hours = hours.wrapping_add(1);
    }
}

/// Every second, the reports' summary counted again where changes marked it (a report is
/// exact without it, but counts what is marked live, so the fewer marks the faster).
///
/// While changes stream in (an enrolment drive, a renewal season), the refresher rests
/// three times as long as each refresh took: counting a batch of villages keeps a core
/// busy for a while, and the requests that make the marks come first. The summary then
/// lags behind, and reports count the difference live.
pub async fn report_summary(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            let started = std::time::Instant::now();
            match store.reports().refresh_summary().await {
                Ok(0) => break,
                Ok(_) => tokio::time::sleep((started.elapsed() * 3).max(Duration::from_millis(20))).await,
                Err(err) => {
                    tracing::warn!(%err, "refreshing the reports' summary failed");
                    break;
                }
            }
        }
    }
}

/// The daily part: the audit log pruned, and uploaded files deleted once their import has
/// ended `import_file_retention_days` ago (or was left unconfirmed that long).
pub async fn daily(store: &Store, audit_retention_days: u32, import_file_retention_days: u32) {
    match store.audit_log().prune_audit(audit_retention_days).await {
        Ok(n) => tracing::info!(removed = n, retention_days = audit_retention_days, "audit log pruned"),
        Err(err) => tracing::warn!(%err, "pruning the audit log failed"),
    }
    match store.imports().purge_import_files(import_file_retention_days).await {
        Ok(n) => {
            tracing::info!(removed = n, retention_days = import_file_retention_days, "import files deleted")
        }
        Err(err) => tracing::warn!(%err, "deleting old import files failed"),
    }
}
