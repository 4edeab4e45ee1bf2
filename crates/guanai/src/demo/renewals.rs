//! The demo's renewal season: each policy of the history linked to the family's policy of
//! the year after (the demo enrols families again the ordinary way), so the renewal rates
//! since 2021 mean something; the season of every county scheme whose policies are due on
//! the day the demo is built (next year's packages, families already renewed, reminders
//! written and some sent); and every family whose policy lapsed within the last year made
//! a follow-up task of its village's agent.
//!
//! The county schemes start two months apart (`catalog::SCHEMES`), so on any day from 1
//! November of the demo year to 30 November of the year after, one of them is in season.

use chrono::{Days, NaiveDate};
use guanai_domain::{Clock, RegionLevel};
use guanai_store::outbox::OutboxSettings;
use guanai_store::regions::demo_city;
use guanai_store::renewals::{BatchQuery, SeasonSettings};
use guanai_store::{Actor, Store};

use super::catalog::{self, Scheme, SCHEMES};
use super::history;
use crate::outbox::{LogSender, Sender};

/// Reminders the demo sends (the rest stay queued for `guanai renew send`).
const SENT_REMINDERS: u64 = 100;

/// What the step made.
#[derive(Debug, Default, Clone, Copy)]
pub struct RenewalsReport {
    pub linked: usize,
    pub follow_ups: u64,
    /// Families renewed by the schemes in season.
    pub renewed: usize,
    pub reminders: u64,
    pub sent: u64,
}

/// Links the history's renewals, plays the season of the schemes due today (with `season`:
/// a demo with households) and opens the follow-ups of lapsed families; running it again
/// makes nothing new.
pub async fn renewal_history(store: &Store, system: &Actor, season: bool) -> anyhow::Result<RenewalsReport> {
    let mut report = RenewalsReport::default();
    for year in history::FIRST_YEAR..catalog::DEMO_YEAR {
        report.linked += store.renewals().link_enrolled_renewals(system, year).await?;
    }
    if season {
        in_season(store, system, &mut report).await?;
    }
    report.follow_ups = store.renewals().open_follow_ups(system, &SeasonSettings::default()).await?;
    if report.linked > 0 || report.follow_ups > 0 || report.renewed > 0 {
        tracing::info!(
            linked = report.linked,
            follow_ups = report.follow_ups,
            renewed = report.renewed,
            reminders = report.reminders,
            sent = report.sent,
            "demo: renewal season"
        );
    }
    Ok(report)
}

/// The last day of a scheme's `year`.
fn end_of(scheme: &Scheme, year: i32) -> NaiveDate {
    scheme.start(year + 1) - Days::new(1)
}

/// Each scheme whose policies are due today: next year's packages and funding, the fully
/// funded families renewed in one batch halfway between the season's opening and today,
/// the reminders of the days gone by written (the renewed left out), and a few sent.
async fn in_season(store: &Store, system: &Actor, report: &mut RenewalsReport) -> anyhow::Result<()> {
    let today = store.today();
    let season = SeasonSettings::default();
    let outbox = OutboxSettings::default();
    let (first, last) = season.due_ends(today);
    let set = demo_city();
    for scheme in &SCHEMES {
        for year in history::FIRST_YEAR..=catalog::DEMO_YEAR {
            let end = end_of(scheme, year);
            if end < first || end > last {
                continue;
            }
            catalog::scheme_packages(store, system, scheme, year + 1).await?;
            catalog::funding(store, system, &set, year + 1).await?;
            let opens = end - Days::new(u64::from(season.opens_days_before));
            let halfway = opens + Days::new(((today - opens).num_days().max(0) / 2) as u64);
            let on = store.with_clock(Clock::fixed_in_china(halfway, 10, 0));
            // County by county, the scheme's own: another scheme's policies in their grace
            // period that day are left to its own season.
            let counties = set
                .rows
                .iter()
                .filter(|r| r.code.level() == RegionLevel::County && Scheme::of(r.code.as_str()) == scheme);
            for county in counties {
                let query = BatchQuery { region: Some(county.code.clone()), ..Default::default() };
                let preview = on.renewals().batch_preview(system, &query).await?;
                if preview.households > 0 {
                    let expected = BatchQuery { expected: Some(preview.households), ..query };
                    report.renewed += on.renewals().batch_renew(system, &expected).await?.households;
                }
            }
            for days in &outbox.reminder_days.0 {
                let Some(day) = end.checked_sub_days(Days::new(u64::from(*days))) else { continue };
                if day <= today {
                    let on = store.with_clock(Clock::fixed_in_china(day, 10, 0));
                    report.reminders += on.outbox().queue_renewal_reminders(system, &outbox, &season).await?;
                }
            }
        }
    }
    if report.reminders > 0 {
        // Some sent, as the sender job would have (at noon today, outside the quiet hours).
        let noon = store.with_clock(Clock::fixed_in_china(today, 12, 0));
        let token = crate::outbox::new_token();
        let sender = LogSender { print: false };
        for message in noon.outbox().claim(&token, SENT_REMINDERS, &outbox).await? {
            let result = sender.send(&message).await;
            report.sent += u64::from(result.is_ok());
            noon.outbox().report(&token, &message, result).await?;
        }
    }
    Ok(())
}
