//! Writers that commit many requests in one transaction (group commit).
//!
//! A request is checked by its caller with reads that take no turn at the write gate, then
//! queued. One writer task per store and kind of request takes every request queued
//! meanwhile and writes them together ([`GroupWrite::commit_group`]): one turn, one
//! transaction, one commit, where each alone would take a turn and a commit of its own.
//! Under load this is what keeps SQLite's single writer from becoming a queue of commits.
//!
//! If the group as a whole fails (a row taken meanwhile by another server instance, say),
//! nothing of it is written and each request is written again alone
//! ([`GroupWrite::write_alone`]), so each caller gets its own answer. Two requests that
//! would take the same row ([`GroupWrite::exclusive_keys`]) never share a group: the later
//! one is written alone after the group.
//!
//! A caller returns only once its request is committed (or refused); nothing is written
//! later or dropped.

use std::collections::HashSet;
use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use crate::{Store, StoreError, StoreResult, Writers};

/// Most requests one transaction writes.
const MAX_GROUP: usize = 64;

/// Requests waiting for the writer; a full queue makes callers wait (back pressure).
const MAX_QUEUED: usize = 1024;

/// A request a group writer writes: an enrolment, a claim report.
pub(crate) trait GroupWrite: Sized + Send + 'static {
    /// What the caller gets back for a request written.
    type Written: Send + 'static;

    /// What is written, for the log and for a caller whose writer stopped.
    const WHAT: &'static str;

    /// Rows this request takes that no other request of its group may take (a table's name
    /// and a row's id): two of them would collide and fail the whole group.
    fn exclusive_keys(&self) -> Vec<(&'static str, i64)>;

    /// Writes `group` in one transaction. `Err` when nothing was written (each is then
    /// written alone); otherwise each request's own answer, in order.
    fn commit_group(
        store: &Store,
        group: &mut [Self],
    ) -> impl Future<Output = StoreResult<Vec<StoreResult<Self::Written>>>> + Send;

    /// Writes one request in a transaction of its own.
    fn write_alone(store: &Store, request: Self) -> impl Future<Output = StoreResult<Self::Written>> + Send;
}

struct Queued<W: GroupWrite> {
    request: W,
    done: oneshot::Sender<StoreResult<W::Written>>,
}

/// The way to a store's writer task of `W` (see the module documentation). None outside a
/// Tokio runtime, and none in the writer's own copy of the store: requests are then
/// written by their callers.
pub(crate) struct GroupQueue<W: GroupWrite> {
    sender: Option<mpsc::Sender<Queued<W>>>,
}

impl<W: GroupWrite> Default for GroupQueue<W> {
    fn default() -> Self {
        GroupQueue { sender: None }
    }
}

impl<W: GroupWrite> Clone for GroupQueue<W> {
    fn clone(&self) -> Self {
        GroupQueue { sender: self.sender.clone() }
    }
}

impl<W: GroupWrite> std::fmt::Debug for GroupQueue<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupQueue")
            .field("writes", &W::WHAT)
            .field("started", &self.sender.is_some())
            .finish()
    }
}

impl<W: GroupWrite> GroupQueue<W> {
    /// Starts the writer task on the current Tokio runtime, with `store`, a copy that must
    /// have no writer of its own; outside a runtime, requests are written by their callers.
    pub(crate) fn start(store: Store) -> GroupQueue<W> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return GroupQueue::default();
        };
        let (sender, receiver) = mpsc::channel(MAX_QUEUED);
        runtime.spawn(write_groups::<W>(store, receiver));
        GroupQueue { sender: Some(sender) }
    }

    /// Writes `request` through the writer task, or alone in `store` where there is none.
    pub(crate) async fn write(&self, store: &Store, request: W) -> StoreResult<W::Written> {
        let Some(sender) = &self.sender else {
            return W::write_alone(store, request).await;
        };
        let (done, committed) = oneshot::channel();
        if let Err(refused) = sender.send(Queued { request, done }).await {
            return W::write_alone(store, refused.0.request).await;
        }
        committed.await.unwrap_or_else(|_| {
            // The writer stopped with the request taken but unanswered: whether it was
            // written is unknown, so it must not count as done.
            Err(StoreError::Database(sea_orm::DbErr::Custom(format!(
                "the writer of {} stopped before confirming one",
                W::WHAT
            ))))
        })
    }
}

impl Store {
    /// Writes `request` through the store's writer that `pick` names, or alone in this store
    /// when it has none (the writers' own copy).
    pub(crate) async fn write_grouped<W: GroupWrite>(
        &self,
        pick: impl FnOnce(&Writers) -> &GroupQueue<W>,
        request: W,
    ) -> StoreResult<W::Written> {
        match self.writers.get() {
            Some(writers) => pick(writers).write(self, request).await,
            None => W::write_alone(self, request).await,
        }
    }
}

/// The writer task: takes whatever is queued (at least one request, at most a group),
/// writes it, and answers each caller. Ends when every store handle is gone.
async fn write_groups<W: GroupWrite>(store: Store, mut queue: mpsc::Receiver<Queued<W>>) {
    let mut batch = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut batch, MAX_GROUP).await > 0 {
        let mut taken = HashSet::new();
        let (mut group, mut later): (Vec<Queued<W>>, Vec<Queued<W>>) = (Vec::new(), Vec::new());
        for queued in batch.drain(..) {
            let keys = queued.request.exclusive_keys();
            if keys.iter().any(|key| taken.contains(key)) {
                later.push(queued);
            } else {
                taken.extend(keys);
                group.push(queued);
            }
        }
        if group.len() == 1 {
            later.insert(0, group.remove(0));
        }
        if !group.is_empty() {
            let (mut requests, dones): (Vec<W>, Vec<_>) =
                group.into_iter().map(|q| (q.request, q.done)).unzip();
            let started = std::time::Instant::now();
            match W::commit_group(&store, &mut requests).await {
                Ok(answers) => {
                    // How many each group carries and how long it holds the writer: what
                    // bounds a kind of request's rate on SQLite.
                    tracing::debug!(
                        what = W::WHAT,
                        count = requests.len(),
                        us = started.elapsed().as_micros() as u64,
                        "group written"
                    );
                    for (done, answer) in dones.into_iter().zip(answers) {
                        let _ = done.send(answer);
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, what = W::WHAT, count = requests.len(), "group failed; writing one by one");
                    for (request, done) in requests.into_iter().zip(dones) {
                        let _ = done.send(W::write_alone(&store, request).await);
                    }
                }
            }
        }
        for queued in later {
            let _ = queued.done.send(W::write_alone(&store, queued.request).await);
        }
    }
}
