//! SQLite's WAL checkpoints, off the writers' path.
//!
//! In WAL mode every commit appends to the write-ahead log, and the pages are copied back
//! into the database file by a checkpoint. Left to SQLite, the checkpoint runs inside the
//! commit that finds the log past `wal_autocheckpoint` pages: that writer copies tens of
//! megabytes and syncs the file while every writer queued behind it (the enrolment writer's
//! next group, the audit writer) waits. A store on SQLite therefore runs a passive
//! checkpoint of its own twice a second on a pooled connection: it copies what readers
//! no longer need without taking the write lock, so writers keep committing meanwhile and
//! the commit-time checkpoint finds little or nothing left to copy.
//!
//! A bulk import (`bulk`) checkpoints once, at its end, rather than copy pages it is about
//! to change again: while one runs, the task skips its turns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::mpsc;

use crate::Engine;

/// How often the log is copied back.
const EVERY: Duration = Duration::from_millis(500);

/// Keeps the checkpoint task running while any copy of the store lives: the task ends when
/// the last copy (and with it the last sender) is dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checkpoints {
    _alive: Option<mpsc::Sender<()>>,
    /// Bulk imports running (the task skips its turns meanwhile).
    bulk: Arc<AtomicUsize>,
    /// Held by a bulk store and its copies: counts one import until the last is dropped.
    _import: Option<Arc<Import>>,
}

#[derive(Debug)]
struct Import(Arc<AtomicUsize>);

impl Drop for Import {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Checkpoints {
    /// Starts the task on the current Tokio runtime; none for the servers (they checkpoint
    /// by themselves) or outside a runtime.
    pub(crate) fn start(db: DatabaseConnection, engine: Engine) -> Checkpoints {
        if engine != Engine::Sqlite {
            return Checkpoints::default();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Checkpoints::default();
        };
        let (alive, mut gone) = mpsc::channel::<()>(1);
        let bulk = Arc::new(AtomicUsize::new(0));
        let importing = bulk.clone();
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = gone.recv() => break,
                    _ = tick.tick() => {
                        if importing.load(Ordering::SeqCst) > 0 {
                            continue;
                        }
                        // Fails only once the pool is closed; the store is then going away.
                        if let Err(e) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
                            tracing::debug!(error = %e, "WAL checkpoint skipped");
                        }
                    }
                }
            }
        });
        Checkpoints { _alive: Some(alive), bulk, _import: None }
    }

    /// The checkpoints of a bulk store: paused until it and its copies are dropped.
    pub(crate) fn for_import(&self) -> Checkpoints {
        self.bulk.fetch_add(1, Ordering::SeqCst);
        Checkpoints { _import: Some(Arc::new(Import(self.bulk.clone()))), ..self.clone() }
    }
}
