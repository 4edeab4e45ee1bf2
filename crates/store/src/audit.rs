//! The audit log: append-only. This module offers writing, searching and pruning past the
//! retention period; there is no update and no delete of single entries anywhere.
//!
//! Entries are written by one task per store ([`AuditQueue`]), many to a statement: the
//! entries of every request that arrived while the last batch was being written go in
//! together, one write instead of one each (on SQLite, whose single writer is the limit of
//! every audited read). A caller still returns only once its own entry is committed, and
//! gets the error if it could not be; nothing is written later or dropped.

use chrono::{DateTime, Utc};
pub use guanai_domain::audit::Outcome;
use guanai_domain::{Permission, RegionLevel};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::connect::WriteGate;
use crate::entities::audit_log;
use crate::{Actor, Store, StoreError, StoreResult};

/// One thing to write down.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: String,
    /// Whose personal data was viewed, exported or changed, if anyone's.
    pub subject: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
}

impl AuditEvent {
    pub fn ok(action: &'static str, target_kind: &'static str, target_id: impl Into<String>) -> Self {
        AuditEvent {
            action,
            target_kind,
            target_id: target_id.into(),
            subject: None,
            outcome: Outcome::Ok,
            detail: String::new(),
        }
    }

    pub fn denied(action: &'static str, target_kind: &'static str, target_id: impl Into<String>) -> Self {
        AuditEvent { outcome: Outcome::Denied, ..Self::ok(action, target_kind, target_id) }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

/// An entry as auditors read it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The account; none for the system actor and for someone not logged in.
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub actor_region: Option<String>,
    pub ip: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub subject: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
}

impl AuditEntry {
    /// What the action was, in Chinese (see `audit_labels`).
    pub fn action_label(&self) -> &'static str {
        crate::audit_labels::action_label(&self.action)
    }

    /// Whether the action has a label of its own; pages show the code beside one that has
    /// not.
    pub fn action_known(&self) -> bool {
        crate::audit_labels::is_known_action(&self.action)
    }

    /// Who acted: the user name, or the system actor by its Chinese label (someone not
    /// logged in keeps the name typed, which has no account and no region).
    pub fn actor_label(&self) -> &str {
        if self.actor_id.is_none() && self.actor_region.is_some() {
            crate::audit_labels::shown_username(&self.actor_name)
        } else {
            &self.actor_name
        }
    }

    /// Whose personal data it concerns, in Chinese (家庭 12); empty for none.
    pub fn subject_label(&self) -> String {
        self.subject.as_deref().map(crate::audit_labels::shown_subject).unwrap_or_default()
    }

    /// From where: the address, or the command line by its Chinese label.
    pub fn ip_label(&self) -> &str {
        crate::audit_labels::shown_address(&self.ip)
    }
}

/// Filters of the audit search page; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor_name: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page: u64,
    pub per_page: u64,
}

pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: u64,
}

/// Entries are kept at least this long (network security law: six months).
pub const MIN_RETENTION_DAYS: u32 = 180;

fn to_entry(row: audit_log::Model) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.id,
        at: row.at,
        actor_id: row.actor_id,
        actor_name: row.actor_name,
        actor_region: row.actor_region,
        ip: row.ip,
        action: row.action,
        target_kind: row.target_kind,
        target_id: row.target_id,
        subject: row.subject,
        outcome: crate::error::stored("audit_log.outcome", &row.outcome)?,
        detail: row.detail,
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

fn entry(
    actor_id: Option<i64>,
    actor_name: &str,
    actor_region: Option<&str>,
    ip: &str,
    event: AuditEvent,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        id: NotSet,
        at: Set(Utc::now()),
        actor_id: Set(actor_id),
        actor_name: Set(truncate(actor_name, 64)),
        actor_region: Set(actor_region.map(str::to_owned)),
        ip: Set(truncate(ip, 64)),
        action: Set(event.action.to_owned()),
        target_kind: Set(event.target_kind.to_owned()),
        target_id: Set(truncate(&event.target_id, 128)),
        subject: Set(event.subject.map(|s| truncate(&s, 128))),
        outcome: Set(event.outcome.code().to_owned()),
        detail: Set(truncate(&event.detail, 1000)),
    }
}

/// Most entries one statement writes: 12 values each, far below every engine's limit of
/// parameters per statement.
const MAX_BATCH: usize = 256;

/// Entries waiting for the writer; a full queue makes callers wait (back pressure).
const MAX_QUEUED: usize = 4096;

/// An entry and the caller waiting for it to be committed.
struct Queued {
    row: audit_log::ActiveModel,
    done: oneshot::Sender<StoreResult<()>>,
}

/// The way to the store's audit writer task (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct AuditQueue {
    sender: Option<mpsc::Sender<Queued>>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queued").finish_non_exhaustive()
    }
}

enum Submitted {
    Done(StoreResult<()>),
    NoWriter(Box<audit_log::ActiveModel>),
}

impl AuditQueue {
    /// Starts the writer task on the current Tokio runtime; outside one, entries are
    /// written directly by their callers.
    pub(crate) fn start(gate: WriteGate) -> AuditQueue {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return AuditQueue { sender: None };
        };
        let (sender, receiver) = mpsc::channel(MAX_QUEUED);
        runtime.spawn(write_batches(gate, receiver));
        AuditQueue { sender: Some(sender) }
    }

    async fn submit(&self, row: audit_log::ActiveModel) -> Submitted {
        let Some(sender) = &self.sender else {
            return Submitted::NoWriter(Box::new(row));
        };
        let (done, committed) = oneshot::channel();
        if let Err(refused) = sender.send(Queued { row, done }).await {
            return Submitted::NoWriter(Box::new(refused.0.row));
        }
        match committed.await {
            Ok(result) => Submitted::Done(result),
            // The writer stopped with the entry taken but unanswered: whether it was
            // written is unknown, so the action it records must not count as done.
            Err(_) => Submitted::Done(Err(StoreError::Database(sea_orm::DbErr::Custom(
                "the audit writer stopped before confirming an entry".to_owned(),
            )))),
        }
    }
}

/// The writer task: takes whatever is queued (at least one entry, at most a batch), writes
/// it in one statement in queue order, and answers each caller. Ends when every store
/// handle is gone.
async fn write_batches(gate: WriteGate, mut queue: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let turn = gate.turn().await;
        let rows = batch.iter().map(|q| q.row.clone()).collect::<Vec<_>>();
        match audit_log::Entity::insert_many(rows).exec_without_returning(turn.db).await {
            Ok(_) => {
                for queued in batch.drain(..) {
                    let _ = queued.done.send(Ok(()));
                }
            }
            Err(err) if batch.len() == 1 => {
                let _ = batch.remove(0).done.send(Err(err.into()));
            }
            // One bad entry must not fail the others: each is tried alone and its caller
            // gets its own answer.
            Err(err) => {
                tracing::warn!(error = %err, entries = batch.len(), "audit batch failed; writing one by one");
                for queued in batch.drain(..) {
                    let result = audit_log::Entity::insert(queued.row)
                        .exec_without_returning(turn.db)
                        .await
                        .map(|_| ())
                        .map_err(StoreError::from);
                    let _ = queued.done.send(result);
                }
            }
        }
        drop(turn);
    }
}

impl Store {
    /// Writes one entry for what `actor` did.
    pub async fn audit(&self, actor: &Actor, event: AuditEvent) -> StoreResult<()> {
        self.write_audit(actor.user_id(), actor.username(), Some(actor.scope().as_str()), actor.ip(), event)
            .await
    }

    /// Writes one entry for someone not logged in (a failed login, say).
    pub async fn audit_anonymous(&self, name: &str, ip: &str, event: AuditEvent) -> StoreResult<()> {
        self.write_audit(None, name, None, ip, event).await
    }

    /// Writes the entry for what `actor` did inside the caller's transaction `db`, so that
    /// it is committed with the change it records (and costs no write of its own).
    pub(crate) async fn audit_in(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        event: AuditEvent,
    ) -> StoreResult<()> {
        let row = entry(actor.user_id(), actor.username(), Some(actor.scope().as_str()), actor.ip(), event);
        audit_log::Entity::insert(row).exec_without_returning(db).await?;
        Ok(())
    }

    /// Writes the entries of several actions inside the caller's transaction `db`, in one
    /// statement per batch, committed with the changes they record.
    pub(crate) async fn audit_many_in(
        &self,
        db: &impl ConnectionTrait,
        events: Vec<(&Actor, AuditEvent)>,
    ) -> StoreResult<()> {
        let rows: Vec<audit_log::ActiveModel> = events
            .into_iter()
            .map(|(actor, event)| {
                entry(actor.user_id(), actor.username(), Some(actor.scope().as_str()), actor.ip(), event)
            })
            .collect();
        for batch in rows.chunks(MAX_BATCH) {
            audit_log::Entity::insert_many(batch.to_vec()).exec_without_returning(db).await?;
        }
        Ok(())
    }

    async fn write_audit(
        &self,
        actor_id: Option<i64>,
        actor_name: &str,
        actor_region: Option<&str>,
        ip: &str,
        event: AuditEvent,
    ) -> StoreResult<()> {
        let row = entry(actor_id, actor_name, actor_region, ip, event);
        match self.audit_queue.submit(row).await {
            Submitted::Done(result) => result,
            // No writer task (it ended with the runtime that started it): write directly.
            Submitted::NoWriter(row) => {
                let turn = self.write_gate.turn().await;
                audit_log::Entity::insert(*row).exec_without_returning(turn.db).await?;
                Ok(())
            }
        }
    }

    /// Records that `actor` asked for something outside its scope or role, and returns
    /// the answer to give: "not found", so that guessing ids reveals nothing.
    pub async fn deny(
        &self,
        actor: &Actor,
        action: &'static str,
        target_kind: &'static str,
        target_id: impl Into<String>,
    ) -> StoreError {
        let target_id = target_id.into();
        let event =
            AuditEvent::denied(action, target_kind, target_id.clone()).with_detail("超出本人权限或区域范围");
        if let Err(err) = self.audit(actor, event).await {
            return err;
        }
        StoreError::not_found(format!("找不到{target_kind}“{target_id}”"))
    }

    /// The conditions of a search: the auditor's scope and the query's filters.
    async fn audit_filter(&self, actor: &Actor, query: &AuditQuery) -> StoreResult<Condition> {
        self.require(actor, Permission::ViewAudit).await?;
        let mut scope = actor.scope_condition(audit_log::Column::ActorRegion);
        if actor.scope().level() <= RegionLevel::City {
            scope = Condition::any().add(scope).add(audit_log::Column::ActorRegion.is_null());
        }
        let mut filter = Condition::all().add(scope);
        if let Some(name) = query.actor_name.as_deref().filter(|s| !s.is_empty()) {
            filter = filter.add(audit_log::Column::ActorName.eq(name));
        }
        if let Some(action) = query.action.as_deref().filter(|s| !s.is_empty()) {
            filter = filter.add(audit_log::Column::Action.starts_with(action));
        }
        if let Some(outcome) = query.outcome.as_deref().filter(|s| !s.is_empty()) {
            filter = filter.add(audit_log::Column::Outcome.eq(outcome));
        }
        if let Some(from) = query.from {
            filter = filter.add(audit_log::Column::At.gte(from));
        }
        if let Some(until) = query.until {
            filter = filter.add(audit_log::Column::At.lt(until));
        }
        Ok(filter)
    }
}

impl crate::handles::AuditLog<'_> {
    /// Searches the entries of actors within the auditor's scope, newest first. City-level
    /// auditors also see entries without a region (failed logins of unknown names).
    pub async fn search_audit(self, actor: &Actor, query: &AuditQuery) -> StoreResult<AuditPage> {
        let select = audit_log::Entity::find().filter(self.audit_filter(actor, query).await?);
        let total = select.clone().count(&self.db).await?;
        let per_page = query.per_page.clamp(1, 10_000);
        let rows = select
            .order_by_desc(audit_log::Column::Id)
            .offset(crate::page_offset(query.page, per_page)?)
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok(AuditPage { entries: rows.into_iter().map(to_entry).collect::<StoreResult<_>>()?, total })
    }

    /// One step of a walk through every entry `query` finds (its page is ignored), newest
    /// first: at most `limit` entries with an id below `before` (from the newest when
    /// `None`). The next step takes the last id of this one, so each step is one range of
    /// the primary key however far the walk has come, and only one step is ever held.
    pub async fn audit_entries_before(
        self,
        actor: &Actor,
        query: &AuditQuery,
        before: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let mut filter = self.audit_filter(actor, query).await?;
        if let Some(before) = before {
            filter = filter.add(audit_log::Column::Id.lt(before));
        }
        let rows = audit_log::Entity::find()
            .filter(filter)
            .order_by_desc(audit_log::Column::Id)
            .limit(limit.clamp(1, 10_000))
            .all(&self.db)
            .await?;
        rows.into_iter().map(to_entry).collect()
    }

    /// Deletes entries older than `retention_days` (never less than the legal minimum).
    /// Returns how many were removed.
    pub async fn prune_audit(self, retention_days: u32) -> StoreResult<u64> {
        if retention_days < MIN_RETENTION_DAYS {
            return Err(StoreError::invalid(format!(
                "审计日志至少保存{MIN_RETENTION_DAYS}天，不能设为{retention_days}天"
            )));
        }
        let cutoff = Utc::now() - chrono::Duration::days(i64::from(retention_days));
        let result =
            audit_log::Entity::delete_many().filter(audit_log::Column::At.lt(cutoff)).exec(&self.db).await?;
        Ok(result.rows_affected)
    }
}
