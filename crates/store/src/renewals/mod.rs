//! Renewal season (续保): the due lists (`due`), renewing one family (`renew`, through the
//! enrolment writer, the new policy linked to last year's in the same transaction), batch
//! renewal of fully funded families (`batch`), the follow-ups of lapsed families (`lapses`)
//! and the renewal rate (`rates`).
//!
//! Renewal takes next year's package (same code, the year after) with next year's terms
//! and subsidy rules; a policy is renewed at most once (`renewals.previous_policy_id` is
//! unique), whatever the number of servers.

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
pub use rates::{RateRow, RateTable};
pub use renew::{RenewRequest, RenewalQuote, Renewed};

use chrono::Utc;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entities::renewals;
use crate::{StoreError, StoreResult};

/// A renewed policy's link to last year's, written with it.
#[derive(Debug, Clone)]
pub(crate) struct RenewalLink {
    pub previous_policy_id: i64,
    pub policy_id: i64,
    pub family_id: i64,
    pub village_code: String,
    pub year: i32,
    pub created_by: String,
}

/// Writes the links in the caller's transaction. A policy renewed already fails them all
/// with a conflict (the unique previous policy), so nothing of the caller's write stays.
pub(crate) async fn link_renewals(db: &impl ConnectionTrait, links: &[RenewalLink]) -> StoreResult<()> {
    if links.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    for chunk in links.chunks(500) {
        let rows = chunk.iter().map(|l| renewals::ActiveModel {
            id: NotSet,
            previous_policy_id: Set(l.previous_policy_id),
            policy_id: Set(l.policy_id),
            family_id: Set(l.family_id),
            village_code: Set(l.village_code.clone()),
            year: Set(l.year),
            created_by: Set(l.created_by.clone()),
            created_at: Set(now),
        });
        renewals::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .map_err(|e| StoreError::from_write(e, "该家庭上一年度的保单已经续保，不能重复续保"))?;
    }
    Ok(())
}
