//! The sender's side of the outbox: claiming a batch of due messages (one conditional
//! UPDATE, so a message is held by one sender at a time) and reporting it sent or failed.

use chrono::{DateTime, Utc};
use guanai_domain::outbox::{retry_delay, templates, MessageState, MAX_ATTEMPTS};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{cancel_renewed_reminders, china, OutboxSettings, Outgoing};
use crate::entities::{message_opt_outs, outbox};
use crate::StoreResult;

/// The states a sender may claim a message in: queued, or held by a sender whose lease ran
/// out (`next_attempt_at` is the lease's end).
const CLAIMABLE: [MessageState; 2] = [MessageState::Queued, MessageState::Sending];

impl crate::handles::Outbox<'_> {
    /// Claims up to `limit` due messages for the sender `token` (nothing in the quiet
    /// hours): one conditional UPDATE, so a message is held by one sender at a time.
    pub async fn claim(
        self,
        token: &str,
        limit: u64,
        settings: &OutboxSettings,
    ) -> StoreResult<Vec<Outgoing>> {
        let now = self.clock().now();
        if settings.quiet.quiet(china(now)) {
            return Ok(Vec::new());
        }
        let claimable = || {
            Condition::all()
                .add(outbox::Column::State.is_in(CLAIMABLE.map(|state| state.code())))
                .add(outbox::Column::NextAttemptAt.lte(now))
        };
        // The first `limit` due messages of each claimable state, in the index's order
        // (`idx_outbox_state_next_id`), then the first `limit` of both: one read of both
        // states at once would sort every due message, once per batch.
        let mut due: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for state in CLAIMABLE {
            let first: Vec<(DateTime<Utc>, i64)> = outbox::Entity::find()
                .select_only()
                .column(outbox::Column::NextAttemptAt)
                .column(outbox::Column::Id)
                .filter(outbox::Column::State.eq(state.code()))
                .filter(outbox::Column::NextAttemptAt.lte(now))
                .order_by_asc(outbox::Column::NextAttemptAt)
                .order_by_asc(outbox::Column::Id)
                .limit(limit)
                .into_tuple()
                .all(&self.db)
                .await?;
            due.extend(first);
        }
        due.sort_unstable();
        let ids: Vec<i64> = due.into_iter().take(limit as usize).map(|(_, id)| id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // A reminder queued just before its policy was renewed is not sent, nor a message to
        // a family that opted out since it was queued (both among these ids only: the
        // queue may hold a city's reminders). A message to the family's agent (missing
        // claim papers) goes whatever the family opted out of.
        cancel_renewed_reminders(&self.db, Some(&ids)).await?;
        let opted = Query::select()
            .column(message_opt_outs::Column::FamilyId)
            .from(message_opt_outs::Entity)
            .to_owned();
        outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(MessageState::OptedOut.code()))
            .filter(outbox::Column::Id.is_in(ids.iter().copied()))
            .filter(outbox::Column::State.eq(MessageState::Queued.code()))
            .filter(outbox::Column::Template.ne(templates::CLAIM_PAPERS))
            .filter(outbox::Column::FamilyId.in_subquery(opted))
            .exec(&self.db)
            .await?;
        outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(MessageState::Sending.code()))
            .col_expr(outbox::Column::ClaimToken, Expr::value(token))
            .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + settings.lease))
            .filter(outbox::Column::Id.is_in(ids.iter().copied()))
            .filter(claimable())
            .exec(&self.db)
            .await?;
        let claimed = outbox::Entity::find()
            .filter(outbox::Column::Id.is_in(ids))
            .filter(outbox::Column::ClaimToken.eq(token))
            .filter(outbox::Column::State.eq(MessageState::Sending.code()))
            .all(&self.db)
            .await?;
        claimed
            .into_iter()
            .map(|m| {
                Ok(Outgoing {
                    id: m.id,
                    channel: crate::error::stored("outbox.channel", &m.channel)?,
                    phone: self.keys.open(&m.recipient_enc)?,
                    body: m.body,
                    attempts: m.attempts,
                })
            })
            .collect()
    }

    /// The sender `token` reports a message sent (`Ok`) or not (`Err`, the gateway's
    /// answer): sent, tried again after a back-off, or given up after the last attempt.
    /// Only the holder of the claim may report it.
    pub async fn report(
        self,
        token: &str,
        message: &Outgoing,
        result: Result<(), String>,
    ) -> StoreResult<()> {
        self.report_many(token, vec![(message, result)]).await
    }

    /// [`Self::report`] for a whole claimed batch: the messages sent in one statement
    /// (per 500), each failure in one of its own.
    pub async fn report_many(
        self,
        token: &str,
        results: Vec<(&Outgoing, Result<(), String>)>,
    ) -> StoreResult<()> {
        let now = self.clock().now();
        let held = || {
            Condition::all()
                .add(outbox::Column::ClaimToken.eq(token))
                .add(outbox::Column::State.eq(MessageState::Sending.code()))
        };
        let (sent, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, result)| result.is_ok());
        let sent: Vec<i64> = sent.iter().map(|(message, _)| message.id).collect();
        for chunk in sent.chunks(500) {
            outbox::Entity::update_many()
                .col_expr(outbox::Column::State, Expr::value(MessageState::Sent.code()))
                .col_expr(outbox::Column::SentAt, Expr::value(now))
                .col_expr(outbox::Column::Error, Expr::value(Option::<String>::None))
                .col_expr(outbox::Column::ClaimToken, Expr::value(Option::<String>::None))
                .filter(outbox::Column::Id.is_in(chunk.iter().copied()))
                .filter(held())
                .exec(&self.db)
                .await?;
        }
        for (message, result) in failed {
            let Err(error) = result else { continue };
            let error: String = error.chars().take(300).collect();
            let (state, next) = if message.attempts >= MAX_ATTEMPTS {
                (MessageState::Failed, now)
            } else {
                (MessageState::Queued, now + retry_delay(message.attempts))
            };
            outbox::Entity::update_many()
                .col_expr(outbox::Column::State, Expr::value(state.code()))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(next))
                .col_expr(outbox::Column::Error, Expr::value(error))
                .col_expr(outbox::Column::ClaimToken, Expr::value(Option::<String>::None))
                .filter(outbox::Column::Id.eq(message.id))
                .filter(held())
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }
}
