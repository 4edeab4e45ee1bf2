//! SQLite's WAL checkpoints, off the writers' path.
//!
//! In WAL mode every commit appends to the write-ahead log, and a checkpoint copies the pages
//! back into the database file and syncs it. Left to SQLite, the checkpoint runs inside the
//! commit that finds the log past `wal_autocheckpoint` pages, while that writer holds the
//! store's write turn: on this disk the sync takes about 100 ms, and every writer queued
//! behind it waits that long (the renewals over HTTP stalled every second or so, their p99
//! four times their median; docs/BENCHMARKS.md, eighth session). So no pooled connection
//! checkpoints (`connect.rs` sets `wal_autocheckpoint` to 0), and a store on SQLite runs a
//! passive checkpoint of its own five times a second, on a connection of its own: it copies
//! what readers no longer need without taking the write lock, and its sync keeps no
//! writer and no pooled connection waiting.
//!
//! A log that a steady stream of writes never lets drain still has to start again from
//! its beginning, or it would grow without end: past [`RESTART_FRAMES`] the task takes
//! the write turn and restarts it (`RESTART`: what is left is copied, and the next commit
//! writes at the start of the file again). That is the one moment writers wait for a
//! checkpoint, once per half gigabyte of log.
//!
//! A bulk import (`bulk`) checkpoints once, at its end, rather than copy pages it is about
//! to change again: while one runs, the task skips its turns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::connect::WriteGate;
use crate::Engine;

/// How often the log is copied back: the more often, the fewer pages each sync writes.
const EVERY: Duration = Duration::from_millis(200);

/// Pages of log (4 KiB each: 512 MiB) after which the task makes the log start again.
const RESTART_FRAMES: i64 = 131_072;

const PASSIVE: &str = "PRAGMA wal_checkpoint(PASSIVE)";
const RESTART: &str = "PRAGMA wal_checkpoint(RESTART)";

/// Keeps the checkpoint task running while any copy of the store lives: the task ends when
/// the last copy (and with it the last sender) is dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checkpoints {
    /// Alive while a copy of the store is; a message asks the task to close its connection
    /// and end, and is answered once it has.
    alive: Option<mpsc::Sender<oneshot::Sender<()>>>,
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

/// Where the task checkpoints: its own connection, or the pool if that could not be opened.
struct Checkpointer {
    own: Option<SqliteConnection>,
    pool: SqlitePool,
}

impl Checkpointer {
    async fn open(db: &DatabaseConnection) -> Checkpointer {
        let pool = db.get_sqlite_connection_pool().clone();
        // It reads no page of its own: hardly any cache (and, like every connection of the
        // store, no memory map: `connect.rs`). A restart that finds a long report still
        // reading the log gives up within 100 ms (and tries again on its next turn) rather
        // than keep the writers waiting behind the turn it holds.
        let options = crate::connect::sqlite_options_of(db)
            .pragma("cache_size", "-64")
            .busy_timeout(Duration::from_millis(100));
        let own = match sqlx::ConnectOptions::connect(&options).await {
            Ok(own) => Some(own),
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoints share the pool: no connection of their own");
                None
            }
        };
        Checkpointer { own, pool }
    }

    async fn close(&mut self) {
        if let Some(own) = self.own.take() {
            if let Err(e) = sqlx::Connection::close(own).await {
                tracing::debug!(error = %e, "the checkpoints' connection closed badly");
            }
        }
    }

    /// Runs a checkpoint (`PASSIVE` or `RESTART`); the pages in the log afterwards.
    async fn run(&mut self, checkpoint: &'static str) -> Result<i64, sqlx::Error> {
        // (busy, pages in the log, pages copied back)
        let (_, log, _): (i64, i64, i64) = match self.own.as_mut() {
            Some(own) => sqlx::query_as(checkpoint).fetch_one(own).await?,
            None => sqlx::query_as(checkpoint).fetch_one(&self.pool).await?,
        };
        Ok(log)
    }
}

impl Checkpoints {
    /// Starts the task on the current Tokio runtime; none for the servers (they checkpoint
    /// by themselves) or outside a runtime.
    pub(crate) fn start(db: DatabaseConnection, engine: Engine, gate: WriteGate) -> Checkpoints {
        if engine != Engine::Sqlite {
            return Checkpoints::default();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Checkpoints::default();
        };
        let (alive, mut gone) = mpsc::channel::<oneshot::Sender<()>>(1);
        let bulk = Arc::new(AtomicUsize::new(0));
        let importing = bulk.clone();
        runtime.spawn(async move {
            let mut checkpointer = Checkpointer::open(&db).await;
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    closing = gone.recv() => {
                        checkpointer.close().await;
                        if let Some(done) = closing {
                            let _ = done.send(());
                        }
                        break;
                    }
                    _ = tick.tick() => {
                        if importing.load(Ordering::SeqCst) > 0 {
                            continue;
                        }
                        // Fails only once the pool is closed; the store is then going away.
                        let done = match checkpointer.run(PASSIVE).await {
                            Ok(log) if log >= RESTART_FRAMES => {
                                let _turn = gate.turn().await;
                                checkpointer.run(RESTART).await.map(drop)
                            }
                            other => other.map(drop),
                        };
                        if let Err(e) = done {
                            tracing::debug!(error = %e, "WAL checkpoint skipped");
                        }
                    }
                }
            }
        });
        Checkpoints { alive: Some(alive), bulk, _import: None }
    }

    /// Ends the task and closes its connection, so that the pool's last connection is the
    /// database's last: SQLite copies the whole log back when that one closes, and the file
    /// alone is then the whole database (a copy of it, a template).
    pub(crate) async fn close(&self) {
        let Some(alive) = &self.alive else { return };
        let (done, closed) = oneshot::channel();
        if alive.send(done).await.is_ok() {
            let _ = closed.await;
        }
    }

    /// The checkpoints of a bulk store: paused until it and its copies are dropped.
    pub(crate) fn for_import(&self) -> Checkpoints {
        self.bulk.fetch_add(1, Ordering::SeqCst);
        // No say in the task's end: closing the bulk store leaves the store's task running.
        Checkpoints {
            alive: None,
            bulk: self.bulk.clone(),
            _import: Some(Arc::new(Import(self.bulk.clone()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use crate::{DatabaseTarget, Keys, Store};

    /// Rows of `t` in the database file alone, read from a copy of it without its log
    /// (-1 before the table itself is there).
    async fn rows_in_file_alone(db: &std::path::Path, copy: &std::path::Path) -> i64 {
        use sqlx::ConnectOptions;
        std::fs::copy(db, copy).expect("copied");
        let mut conn =
            sqlx::sqlite::SqliteConnectOptions::new().filename(copy).connect().await.expect("opens the copy");
        let rows = sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM t").fetch_one(&mut conn).await;
        sqlx::Connection::close(conn).await.expect("closed");
        rows.map_or(-1, |(n,)| n)
    }

    async fn store_in(dir: &std::path::Path) -> Store {
        let target = DatabaseTarget::SqliteFile(dir.join("guanai.db"));
        let store =
            Store::connect(&target, Keys::from_hex(&"11".repeat(32)).expect("key")).await.expect("opens");
        store
            .db
            .execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
            .await
            .expect("table");
        store
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_reach_the_database_file_through_the_task_not_the_commit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("guanai.db");
        let mut copies = (0..).map(|n| dir.path().join(format!("copy-{n}.db")));
        let store = store_in(dir.path()).await;

        // Paused (as during an import): 12,000 pages of log, more than SQLite's own
        // threshold would ever let pass, and none of it reaches the file by a commit.
        let paused = store.bulk().await.expect("bulk store");
        store
            .db
            .execute_unprepared(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) \
                 INSERT INTO t (body) SELECT randomblob(4000) FROM n",
            )
            .await
            .expect("written");
        for _ in 0..5 {
            store.db.execute_unprepared("INSERT INTO t (body) VALUES (x'00')").await.expect("written");
        }
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        assert!(
            rows_in_file_alone(&db, &copies.next().expect("endless")).await <= 0,
            "a commit or the paused task copied the log back"
        );
        paused.close().await.expect("closed");

        // Running again: the task copies it all back within a few turns.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if rows_in_file_alone(&db, &copies.next().expect("endless")).await == 12_005 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the task never copied the log back");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        store.close().await.expect("closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_store_leaves_the_whole_database_in_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_in(dir.path()).await;
        for _ in 0..50 {
            store
                .db
                .execute_unprepared("INSERT INTO t (body) VALUES (randomblob(3000))")
                .await
                .expect("written");
        }
        store.close().await.expect("closed");
        let wal = dir.path().join("guanai.db-wal");
        assert!(
            !wal.exists() || std::fs::metadata(&wal).expect("wal").len() == 0,
            "the log outlived the store"
        );
        let rows = rows_in_file_alone(&dir.path().join("guanai.db"), &dir.path().join("copy.db")).await;
        assert_eq!(rows, 50, "the file alone holds every row once the store is closed");
    }
}
