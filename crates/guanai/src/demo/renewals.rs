//! The demo's renewal season: each policy of the history linked to the family's policy of
//! the year after (the demo enrols families again the ordinary way), so the renewal rates
//! since 2021 mean something; and every family whose policy lapsed within the last year
//! made a follow-up task of its village's agent.

use guanai_store::renewals::SeasonSettings;
use guanai_store::{Actor, Store};

use super::{catalog, history};

/// What the step made.
#[derive(Debug, Default, Clone, Copy)]
pub struct RenewalsReport {
    pub linked: usize,
    pub follow_ups: u64,
}

/// Links the history's renewals and opens the follow-ups of lapsed families; running it
/// again makes nothing new.
pub async fn renewal_history(store: &Store, system: &Actor) -> anyhow::Result<RenewalsReport> {
    let mut report = RenewalsReport::default();
    for year in history::FIRST_YEAR..catalog::DEMO_YEAR {
        report.linked += store.renewals().link_enrolled_renewals(system, year).await?;
    }
    report.follow_ups = store.renewals().open_follow_ups(system, &SeasonSettings::default()).await?;
    if report.linked > 0 || report.follow_ups > 0 {
        tracing::info!(linked = report.linked, follow_ups = report.follow_ups, "demo: renewal history");
    }
    Ok(report)
}
