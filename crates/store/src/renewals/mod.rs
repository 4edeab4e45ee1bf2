//! Renewal season (续保): the due lists (`due`), renewing one family (`renew`, through the
//! enrolment writer, the new policy linked to last year's in the same transaction), batch
//! renewal of fully funded families (`batch`), the follow-ups of lapsed families (`lapses`)
//! and the renewal rate (`rates`).
//!
//! Renewal takes next year's package (same code, the year after) with next year's terms
//! and subsidy rules; a policy is renewed at most once (`renewals.previous_policy_id` is
//! unique), whatever the number of servers. Each renewal tells the family in a message
//! written in the renewal's own transaction (`link_renewals`); a lapse's notice is written
//! with its follow-up task (`lapses`).

mod batch;
mod due;
mod lapses;
mod rates;
mod renew;

pub use batch::{BatchPreview, BatchQuery, BatchRenewed, SourceTotal};
pub use due::{DueMember, DuePage, DuePolicy, DueQuery, NextTerms};
pub use guanai_domain::renewals::{
    FollowUpStatus, LapseOutcome, MemberChange, RenewalCounts, RenewalState, SeasonSettings,
};
pub use lapses::FollowUp;
pub use rates::{AgentRate, RatePoint, RateRow, RateTable, RegionYears};
pub use renew::{RenewRequest, RenewalQuote, Renewed};

use chrono::{DateTime, NaiveDate, Utc};
use guanai_domain::outbox::{renewal_confirmed, templates};
use guanai_domain::Fen;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entities::renewals;
use crate::outbox::{cancel_reminders_of, recipients, write_messages, NewMessage, OutboxSettings};
use crate::{StoreError, StoreResult};

/// Last year's policy an enrolment renews, as the enrolment writer links it.
#[derive(Debug, Clone)]
pub(crate) struct Renewing {
    pub previous_policy_id: i64,
    pub previous_village_code: String,
    /// The new policy goes to the insurer as it is written (the family's consents were
    /// checked); otherwise it stays a draft.
    pub submit: bool,
}

/// A renewed policy's link to last year's, written with it.
#[derive(Debug, Clone)]
pub(crate) struct RenewalLink {
    pub previous_policy_id: i64,
    /// The renewed policy's village: the rate counts each renewal there.
    pub previous_village_code: String,
    pub policy_id: i64,
    pub family_id: i64,
    pub village_code: String,
    pub year: i32,
    /// The persons the new policy insures.
    pub persons: i32,
    pub created_by: String,
    /// When the family renewed (the store's clock): the day it counts on the season's curve.
    pub at: DateTime<Utc>,
    /// The new policy's terms, which the family's message confirming the renewal states;
    /// none: no message (a family that enrolled again the ordinary way long ago).
    pub confirm: Option<RenewedTerms>,
}

/// What a renewal's message tells the family: next year's cover and the family's part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenewedTerms {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub family_part: Fen,
}

/// Writes the links in the caller's transaction, after the renewed policies. Each link
/// with terms to confirm tells its family of the renewal by a message written in the same
/// transaction (due after the quiet hours from the link's `at`), before the links: a link
/// refused rolls the message back with everything else; and the old policies' queued
/// reminders are cancelled. A policy renewed already fails them all with a conflict (the
/// unique previous policy), so nothing of the caller's write stays, its messages included.
pub(crate) async fn link_renewals(db: &impl ConnectionTrait, links: &[RenewalLink]) -> StoreResult<()> {
    if links.is_empty() {
        return Ok(());
    }
    confirm_renewals(db, links).await?;
    for chunk in links.chunks(500) {
        let rows = chunk.iter().map(|l| renewals::ActiveModel {
            id: NotSet,
            previous_policy_id: Set(l.previous_policy_id),
            policy_id: Set(l.policy_id),
            family_id: Set(l.family_id),
            village_code: Set(l.village_code.clone()),
            year: Set(l.year),
            created_by: Set(l.created_by.clone()),
            created_at: Set(l.at),
            persons: Set(l.persons),
            previous_village_code: Set(l.previous_village_code.clone()),
            renewed_on: Set(guanai_domain::clock::china_date(l.at)),
        });
        renewals::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .map_err(|e| StoreError::from_write(e, "该家庭上一年度的保单已经续保，不能重复续保"))?;
    }
    let previous: Vec<i64> = links.iter().map(|l| l.previous_policy_id).collect();
    cancel_reminders_of(db, &previous).await
}

/// The renewal's message to each family whose link has terms to confirm: next year's
/// cover and what the family pays.
async fn confirm_renewals(db: &impl ConnectionTrait, links: &[RenewalLink]) -> StoreResult<()> {
    let confirmed: Vec<(&RenewalLink, RenewedTerms)> =
        links.iter().filter_map(|l| Some((l, l.confirm?))).collect();
    if confirmed.is_empty() {
        return Ok(());
    }
    let settings = OutboxSettings::default();
    let families: Vec<i64> = confirmed.iter().map(|(l, _)| l.family_id).collect();
    let to = recipients(db, &families).await?;
    let messages = confirmed
        .into_iter()
        .filter_map(|(l, terms)| {
            let recipient = to.get(&l.family_id)?.clone();
            Some(NewMessage {
                at: l.at,
                dedup_key: format!("renewed:{}", l.policy_id),
                family_id: l.family_id,
                policy_id: Some(l.policy_id),
                village_code: l.village_code.clone(),
                template: templates::RENEWED,
                body: renewal_confirmed(
                    &recipient.head_as(&settings),
                    terms.start_date,
                    terms.end_date,
                    terms.family_part,
                ),
                recipient,
            })
        })
        .collect();
    write_messages(db, &settings, messages).await?;
    Ok(())
}
