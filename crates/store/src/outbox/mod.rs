//! The outbox: messages to families' phones, each written once (its dedup key is unique,
//! e.g. `renewal:<policy>:<days before>`), the recipient sealed as the family's phone is.
//! A sender claims a batch with one conditional UPDATE (queued, or a lease run out, and
//! due), so two senders never hold the same message; it reports each one sent or failed,
//! and a failure is tried again after a back-off until the last attempt. Nothing is
//! claimed in the quiet hours, and a family that opted out gets nothing.
//!
//! A message is written in the same transaction as what causes it (`write_messages`): the
//! reminders with the reading of the due policies, a renewal's confirmation with the new
//! policy and its link (`renewals::link_renewals`, which also cancels the old policy's
//! queued reminders), a lapse notice with the follow-up task (`renewals/lapses.rs`). A
//! change that fails leaves no message, and no message is written for a change that was
//! not made.
//!
//! Every moment here is the store's clock, so the tests move time through it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use guanai_domain::identity::mask_name;
use guanai_domain::outbox::{
    renewal_reminder, templates, MessageChannel, MessageState, QuietHours, ReminderDays,
};
use guanai_domain::renewals::SeasonSettings;
use guanai_domain::Permission;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::crypto::Sealed;
use crate::entities::{families, message_opt_outs, outbox, policies, renewals};
use crate::policies::PolicyStatus;
use crate::{absent_from, Actor, Store, StoreError, StoreResult};

pub use guanai_domain::outbox::{MessageChannel as Channel, MessageState as State};

mod sending;

/// How reminders are written and sent.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub channel: MessageChannel,
    pub reminder_days: ReminderDays,
    pub quiet: QuietHours,
    /// How long a claimed message is held by its sender before another may take it.
    pub lease: TimeDelta,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            channel: MessageChannel::Sms,
            reminder_days: ReminderDays::default(),
            quiet: QuietHours::default(),
            lease: TimeDelta::minutes(10),
        }
    }
}

/// A message claimed for sending, the recipient opened.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub channel: MessageChannel,
    pub phone: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// A message as the outbox's page and API show it (the phone masked).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: i64,
    pub family_id: i64,
    pub policy_id: Option<i64>,
    pub recipient: String,
    pub channel: MessageChannel,
    pub body: String,
    pub state: MessageState,
    pub attempts: i32,
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateCount {
    pub state: MessageState,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxState {
    /// Messages by state, within the caller's scope.
    pub counts: Vec<StateCount>,
    /// The newest 100.
    pub messages: Vec<Message>,
}

/// A due policy's reminder: policy, family, village, sealed and masked phone, head, end.
type ReminderRow = (i64, i64, String, Option<Sealed>, Option<String>, String, NaiveDate);

fn china(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    now.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8")).naive_local()
}

fn utc_of_china(local: chrono::NaiveDateTime) -> DateTime<Utc> {
    (local - TimeDelta::hours(8)).and_utc()
}

/// Reminders written at once from which the outbox's statistics are refreshed.
const REFRESH_AFTER: u64 = 1_000;

impl crate::handles::Outbox<'_> {
    /// Writes today's renewal reminders of the actor's scope: each due, not renewed,
    /// underwritten policy ending in one of the reminder days, to the family's phone, once
    /// per policy and day (running it again writes nothing). Families without a phone or
    /// who opted out get none. Returns how many were written.
    ///
    /// One transaction: the policies are read in it after its first write (queued
    /// reminders of policies renewed since are cancelled), so a policy renewed meanwhile
    /// either is left out or has its new reminder cancelled by the renewal's own
    /// transaction; a reminder is never written for a renewed policy.
    pub async fn queue_renewal_reminders(
        self,
        actor: &Actor,
        settings: &OutboxSettings,
        _season: &SeasonSettings,
    ) -> StoreResult<u64> {
        self.require(actor, Permission::BatchRenew).await?;
        let today = self.today();
        let now = self.clock().now();
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        // The outbox grows by a season's reminders inside this one transaction, and each
        // chunk asks which of its keys are there already. PostgreSQL kept the generic plan it
        // made while the outbox looked empty, a sequential scan, for the rest of the
        // transaction (0.4 s a chunk, 77 s for a city).
        crate::connect::plan_for_tables_as_they_are(self.engine, &txn).await?;
        // Write first (SQLite's write lock), so what is read next is the latest.
        cancel_renewed_reminders(&txn, None).await?;
        let mut rows = Vec::new();
        for (days, end) in settings.reminder_days.ends_on(today) {
            let renewed = absent_from(
                renewals::Entity,
                renewals::Column::PreviousPolicyId,
                (policies::Entity, policies::Column::Id),
                Condition::all(),
            );
            let opted = absent_from(
                message_opt_outs::Entity,
                message_opt_outs::Column::FamilyId,
                (policies::Entity, policies::Column::FamilyId),
                Condition::all(),
            );
            let found: Vec<ReminderRow> = policies::Entity::find()
                .select_only()
                .column(policies::Column::Id)
                .column(policies::Column::FamilyId)
                .column(policies::Column::VillageCode)
                .column(families::Column::PhoneEnc)
                .column(families::Column::PhoneMasked)
                .column(families::Column::HeadName)
                .column(policies::Column::EndDate)
                .join(
                    sea_orm::JoinType::InnerJoin,
                    policies::Entity::belongs_to(families::Entity)
                        .from(policies::Column::FamilyId)
                        .to(families::Column::Id)
                        .into(),
                )
                .filter(actor.scope_condition(policies::Column::VillageCode))
                .filter(policies::Column::Status.eq(PolicyStatus::Underwritten.code()))
                .filter(policies::Column::EndDate.eq(end))
                .filter(renewed)
                .filter(opted)
                .filter(families::Column::PhoneEnc.is_not_null())
                .into_tuple()
                .all(&txn)
                .await?;
            for (policy, family, village, phone, masked, head, end) in found {
                let Some(phone) = phone else { continue };
                let recipient =
                    Recipient { phone_enc: phone, phone_masked: masked.unwrap_or_default(), head };
                rows.push(NewMessage {
                    at: now,
                    dedup_key: format!("renewal:{policy}:{days}"),
                    family_id: family,
                    policy_id: Some(policy),
                    village_code: village,
                    template: templates::REMINDER,
                    body: renewal_reminder(&recipient.head_as(settings), end, days, None),
                    recipient,
                });
            }
        }
        let written = write_messages(&txn, settings, rows).await?;
        txn.commit().await?;
        drop(turn);
        if written > 0 {
            self.audit(
                actor,
                AuditEvent::ok("outbox.remind", "区域", actor.scope().to_string())
                    .with_detail(format!("写入续保提醒{written}条")),
            )
            .await?;
        }
        if written >= REFRESH_AFTER {
            // A season's reminders are a bulk load of the outbox. Planned from statistics
            // taken while it was nearly empty, a batch renewal's look-up of the renewed
            // policies' reminders (`cancel_reminders_of`) scanned the whole outbox on
            // PostgreSQL for every 500 policies: 4.9 s for a city (docs/BENCHMARKS.md,
            // twenty-fifth session). Statistics not refreshed undo nothing written.
            if let Err(error) = self.refresh_statistics_of(&["outbox"]).await {
                tracing::warn!(%error, "the outbox's statistics were not refreshed");
            }
        }
        Ok(written)
    }

    /// Records that a family wants no more messages; its queued ones are not sent.
    pub async fn opt_out(self, actor: &Actor, family_id: i64) -> StoreResult<()> {
        self.require(actor, Permission::ManageFamilies).await?;
        self.family_row(actor, family_id).await?;
        let exists = message_opt_outs::Entity::find_by_id(family_id).one(&self.db).await?.is_some();
        if !exists {
            message_opt_outs::Entity::insert(message_opt_outs::ActiveModel {
                family_id: Set(family_id),
                recorded_by: Set(actor.username().to_owned()),
                recorded_at: Set(Utc::now()),
            })
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "该家庭已经退订"))?;
        }
        self.audit(actor, AuditEvent::ok("outbox.opt_out", "家庭", family_id.to_string())).await
    }

    /// The outbox within the actor's scope: counts by state and the newest messages.
    pub async fn state(self, actor: &Actor) -> StoreResult<OutboxState> {
        self.require(actor, Permission::ViewFamilies).await?;
        let counts: Vec<(String, i64)> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::State)
            .column_as(outbox::Column::Id.count(), "n")
            .filter(actor.scope_condition(outbox::Column::VillageCode))
            .group_by(outbox::Column::State)
            .into_tuple()
            .all(&self.db)
            .await?;
        let rows = outbox::Entity::find()
            .filter(actor.scope_condition(outbox::Column::VillageCode))
            .order_by_desc(outbox::Column::Id)
            .limit(100)
            .all(&self.db)
            .await?;
        let counts = counts
            .into_iter()
            .map(|(state, n)| {
                Ok(StateCount {
                    state: crate::error::stored("outbox.state", &state)?,
                    count: n.max(0) as u64,
                })
            })
            .collect::<StoreResult<_>>()?;
        let messages = rows
            .into_iter()
            .map(|m| {
                Ok(Message {
                    id: m.id,
                    family_id: m.family_id,
                    policy_id: m.policy_id,
                    recipient: m.recipient_masked,
                    channel: crate::error::stored("outbox.channel", &m.channel)?,
                    body: m.body,
                    state: crate::error::stored("outbox.state", &m.state)?,
                    attempts: m.attempts,
                    due_at: m.due_at,
                    sent_at: m.sent_at,
                    error: m.error,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(OutboxState { counts, messages })
    }
}

/// Where a message goes: the family's sealed phone (copied sealed, never opened to be
/// written), its masked form, and the head's name.
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub phone_enc: Sealed,
    pub phone_masked: String,
    pub head: String,
}

impl Recipient {
    /// The head's name as the channel may show it (masked where it is not private).
    pub fn head_as(&self, settings: &OutboxSettings) -> String {
        if settings.channel.private() {
            self.head.clone()
        } else {
            mask_name(&self.head)
        }
    }
}

/// A message to write in the transaction of what causes it.
#[derive(Debug, Clone)]
pub(crate) struct NewMessage {
    /// When it was caused (the store's clock): it is due from then, after the quiet hours.
    pub at: DateTime<Utc>,
    pub dedup_key: String,
    pub family_id: i64,
    pub policy_id: Option<i64>,
    pub village_code: String,
    pub template: &'static str,
    pub body: String,
    pub recipient: Recipient,
}

/// The recipients of `families` in `db` (the caller's transaction): those with a phone who
/// did not opt out.
pub(crate) async fn recipients(
    db: &impl ConnectionTrait,
    families: &[i64],
) -> StoreResult<HashMap<i64, Recipient>> {
    let mut found = HashMap::new();
    for chunk in families.chunks(500) {
        let rows: Vec<(i64, Option<Sealed>, Option<String>, String)> = families::Entity::find()
            .select_only()
            .column(families::Column::Id)
            .column(families::Column::PhoneEnc)
            .column(families::Column::PhoneMasked)
            .column(families::Column::HeadName)
            .filter(families::Column::Id.is_in(chunk.iter().copied()))
            .filter(families::Column::PhoneEnc.is_not_null())
            .filter(crate::absent_from(
                message_opt_outs::Entity,
                message_opt_outs::Column::FamilyId,
                (families::Entity, families::Column::Id),
                sea_orm::Condition::all(),
            ))
            .into_tuple()
            .all(db)
            .await?;
        for (id, phone, masked, head) in rows {
            let Some(phone_enc) = phone else { continue };
            found.insert(id, Recipient { phone_enc, phone_masked: masked.unwrap_or_default(), head });
        }
    }
    Ok(found)
}

/// Writes `messages` in `db`, the transaction of the change that causes them, so that both
/// are committed or neither is: keys already in the outbox are left out (a second writer
/// racing this one is refused by the unique key, and its whole change with it). Due after
/// the quiet hours. Returns how many were written.
pub(crate) async fn write_messages(
    db: &impl ConnectionTrait,
    settings: &OutboxSettings,
    messages: Vec<NewMessage>,
) -> StoreResult<u64> {
    let due = |at: DateTime<Utc>| utc_of_china(settings.quiet.next_allowed(china(at)));
    let mut written = 0;
    for chunk in messages.chunks(200) {
        let keys: Vec<String> = chunk.iter().map(|m| m.dedup_key.clone()).collect();
        let taken: HashSet<String> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::DedupKey)
            .filter(outbox::Column::DedupKey.is_in(keys))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let rows: Vec<outbox::ActiveModel> = chunk
            .iter()
            .filter(|m| !taken.contains(&m.dedup_key))
            .map(|m| outbox::ActiveModel {
                id: NotSet,
                dedup_key: Set(m.dedup_key.clone()),
                family_id: Set(m.family_id),
                policy_id: Set(m.policy_id),
                village_code: Set(m.village_code.clone()),
                recipient_enc: Set(m.recipient.phone_enc.clone()),
                recipient_masked: Set(m.recipient.phone_masked.clone()),
                channel: Set(settings.channel.code().to_owned()),
                template: Set(m.template.to_owned()),
                body: Set(m.body.clone()),
                due_at: Set(due(m.at)),
                state: Set(MessageState::Queued.code().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(due(m.at)),
                claim_token: Set(None),
                sent_at: Set(None),
                error: Set(None),
                created_at: Set(m.at),
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        written += rows.len() as u64;
        outbox::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .map_err(|e| StoreError::from_write(e, "提醒消息已由另一个任务写入，请稍后再试"))?;
    }
    Ok(written)
}

/// Cancels the queued reminders of renewed policies: of `policies` (previous policies just
/// renewed, in the renewal's transaction), or among the messages `ids`, or all of them.
pub(crate) async fn cancel_renewed_reminders(
    db: &impl ConnectionTrait,
    ids: Option<&[i64]>,
) -> StoreResult<u64> {
    let renewed =
        Query::select().column(renewals::Column::PreviousPolicyId).from(renewals::Entity).to_owned();
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(MessageState::Cancelled.code()))
        .filter(outbox::Column::State.eq(MessageState::Queued.code()))
        .filter(outbox::Column::Template.eq(templates::REMINDER))
        .filter(outbox::Column::PolicyId.in_subquery(renewed));
    if let Some(ids) = ids {
        update = update.filter(outbox::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Cancels the queued reminders of `policies`, renewed in the caller's transaction.
///
/// The policies' messages are found by `idx_outbox_policy` first and updated by id: with
/// the state in the same statement, SQLite would read every queued message of the outbox
/// instead (a season's reminders and the renewals' own messages), once per statement.
pub(crate) async fn cancel_reminders_of(db: &impl ConnectionTrait, policies: &[i64]) -> StoreResult<()> {
    for chunk in policies.chunks(500) {
        let found: Vec<(i64, String, String)> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .column(outbox::Column::State)
            .column(outbox::Column::Template)
            .filter(outbox::Column::PolicyId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        let queued: Vec<i64> = found
            .into_iter()
            .filter(|(_, state, template)| {
                state == MessageState::Queued.code() && template == templates::REMINDER
            })
            .map(|(id, _, _)| id)
            .collect();
        if queued.is_empty() {
            continue;
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(MessageState::Cancelled.code()))
            .filter(outbox::Column::Id.is_in(queued))
            .filter(outbox::Column::State.eq(MessageState::Queued.code()))
            .exec(db)
            .await?;
    }
    Ok(())
}

impl Store {
    /// How many reminders were sent for each of `policies`.
    pub(crate) async fn reminders_sent(&self, policies: &[i64]) -> StoreResult<HashMap<i64, u32>> {
        let mut sent = HashMap::new();
        for chunk in policies.chunks(500) {
            let rows: Vec<(Option<i64>, i64)> = outbox::Entity::find()
                .select_only()
                .column(outbox::Column::PolicyId)
                .column_as(outbox::Column::Id.count(), "n")
                .filter(outbox::Column::PolicyId.is_in(chunk.iter().copied()))
                .filter(outbox::Column::State.eq(MessageState::Sent.code()))
                .group_by(outbox::Column::PolicyId)
                .into_tuple()
                .all(&self.db)
                .await?;
            sent.extend(rows.into_iter().filter_map(|(p, n)| Some((p?, n.max(0) as u32))));
        }
        Ok(sent)
    }
}
