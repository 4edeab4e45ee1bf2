//! Reads that run on every request, whose SQL is written by sea-query once per engine and
//! kept: afterwards each run only binds its one parameter. On SQLite they run on
//! connections of their own ([`QuickReads`]).
//!
//! Writing a query's text (each column, join and condition formatted by sea-query) cost the
//! server as much as SQLite took to run it: with the session's read and the coverage
//! look-up's read built anew for every request, 13 % of the server's samples during the
//! look-ups were sea-query writing SQL (`perf`, docs/BENCHMARKS.md, twenty-third session).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sea_orm::sea_query::{SelectStatement, Values};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, QueryResult, RuntimeErr,
    Statement, Value,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::{Store, StoreResult};

/// Stands for the parameter while the SQL is written; no real parameter looks like it.
const MARKER: &str = "\u{1}prebuilt parameter\u{1}";

/// A query with one text parameter (`build` writes it for a given value), kept per engine
/// as its SQL and its values with the parameter's place among them.
pub(crate) struct Prebuilt {
    build: fn(&str) -> SelectStatement,
    built: [OnceLock<Template>; 3],
}

struct Template {
    sql: String,
    values: Vec<Value>,
    parameter_at: usize,
}

impl Prebuilt {
    /// `build` must write the same query for every value and pass its parameter unchanged to
    /// one comparison (`.eq(parameter)`): the SQL is written once, with a marker for it.
    pub(crate) const fn new(build: fn(&str) -> SelectStatement) -> Self {
        Prebuilt { build, built: [const { OnceLock::new() }; 3] }
    }

    /// The query for `backend` with `parameter` bound.
    pub(crate) fn statement(&self, backend: DbBackend, parameter: &str) -> Statement {
        let slot = match backend {
            DbBackend::Sqlite => 0,
            DbBackend::Postgres => 1,
            DbBackend::MySql => 2,
        };
        let template = self.built[slot].get_or_init(|| {
            let written = backend.build(&(self.build)(MARKER));
            let values = written.values.map(|values| values.0).unwrap_or_default();
            let marker = Value::from(MARKER);
            let mut places = values.iter().enumerate().filter(|(_, value)| **value == marker);
            let parameter_at = places.next().map(|(at, _)| at);
            assert!(
                parameter_at.is_some() && places.next().is_none(),
                "a prebuilt query binds its parameter exactly once: {}",
                written.sql
            );
            Template { sql: written.sql, values, parameter_at: parameter_at.expect("checked") }
        });
        // The kept values with the parameter in the marker's place (the marker not copied).
        let values = template.values.iter().enumerate().map(|(at, value)| {
            if at == template.parameter_at {
                Value::from(parameter)
            } else {
                value.clone()
            }
        });
        Statement::from_sql_and_values(backend, template.sql.clone(), values)
    }

    /// The rows of the query with `parameter` bound, read on `store`'s quick reads.
    pub(crate) async fn fetch<T: FromQueryResult>(
        &self,
        store: &Store,
        parameter: &str,
    ) -> StoreResult<Vec<T>> {
        let statement = self.statement(store.db.get_database_backend(), parameter);
        store.quick_reads.fetch(&store.db, statement).await
    }
}

/// Connections on SQLite of their own for the prebuilt reads, outside sqlx's pool; on
/// PostgreSQL and MySQL, none: the reads go through the pool.
///
/// sqlx's pool pings every connection given back to it (dropping a `PoolConnection`
/// spawns a task that does, unconditionally), and on SQLite a ping is a round trip to the
/// connection's worker thread: for a one-row read, as many thread switches again as the
/// read itself, before the connection can serve the next. With these reads off the pool
/// the look-ups over HTTP ran 1.56 times as fast (docs/BENCHMARKS.md, twenty-ninth session).
///
/// A connection is opened when a read finds none idle, up to [`QUICK_READERS`] at once,
/// and kept. A read cut off midway (its request dropped) closes its connection rather
/// than give back one whose statement may still be running.
#[derive(Debug, Clone, Default)]
pub(crate) struct QuickReads(Option<Arc<Readers>>);

/// Connections the quick reads may hold at once, as many as the pool's (`connect.rs`).
const QUICK_READERS: usize = 4;

#[derive(Debug)]
struct Readers {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    open: tokio::sync::Semaphore,
}

impl QuickReads {
    /// The quick reads of a store whose pool is `pool`: connections with the pool's
    /// settings on SQLite, the pool itself on a server.
    pub(crate) fn of(pool: &DatabaseConnection) -> QuickReads {
        if pool.get_database_backend() != DbBackend::Sqlite {
            return QuickReads(None);
        }
        QuickReads(Some(Arc::new(Readers {
            options: crate::connect::sqlite_options_of(pool),
            idle: Mutex::new(Vec::new()),
            open: tokio::sync::Semaphore::new(QUICK_READERS),
        })))
    }

    async fn fetch<T: FromQueryResult>(
        &self,
        pool: &DatabaseConnection,
        statement: Statement,
    ) -> StoreResult<Vec<T>> {
        let Some(readers) = &self.0 else {
            return Ok(sea_orm::SelectorRaw::<sea_orm::SelectModel<T>>::from_statement(statement)
                .all(pool)
                .await?);
        };
        let _turn =
            readers.open.acquire().await.map_err(|_| DbErr::Custom("quick reads closed".to_owned()))?;
        let idle = readers.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut connection = match idle {
            Some(connection) => connection,
            None => readers.options.connect().await?,
        };
        let values = sea_query_binder::SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
        let read = sqlx::query_with(&statement.sql, values).fetch_all(&mut connection).await;
        readers.idle.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
        let rows = read.map_err(|err| DbErr::Query(RuntimeErr::SqlxError(err)))?;
        Ok(rows
            .into_iter()
            .map(|row| T::from_query_result(&QueryResult::from(row), ""))
            .collect::<Result<_, _>>()?)
    }

    /// Waits for the reads under way, then closes the connections; no read opens another.
    pub(crate) async fn close(&self) -> StoreResult<()> {
        let Some(readers) = &self.0 else { return Ok(()) };
        // Every turn taken: no read is under way, and none starts.
        if let Ok(all) = readers.open.acquire_many(QUICK_READERS as u32).await {
            all.forget();
        }
        readers.open.close();
        let idle = std::mem::take(&mut *readers.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for connection in idle {
            connection.close().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm::DbBackend;

    use super::{Prebuilt, QuickReads, QUICK_READERS};
    use crate::StoreResult;

    fn by_code(code: &str) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("families"))
            .and_where(Expr::col(Alias::new("code")).eq(code))
            .and_where(Expr::col(Alias::new("status")).eq("active"))
            .limit(5)
            .to_owned()
    }

    /// Kept once, the query binds each call's own parameter and keeps its other values,
    /// and reads as sea-query writes it for that engine.
    #[test]
    fn a_prebuilt_query_binds_each_calls_parameter_among_its_own_values() {
        static BY_CODE: Prebuilt = Prebuilt::new(by_code);
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            for code in ["A1", "B2"] {
                assert_eq!(BY_CODE.statement(backend, code), backend.build(&by_code(code)), "{backend:?}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "exactly once")]
    fn a_query_that_binds_its_parameter_twice_is_refused() {
        static TWICE: Prebuilt = Prebuilt::new(|code| {
            Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("families"))
                .and_where(Expr::col(Alias::new("code")).eq(code))
                .and_where(Expr::col(Alias::new("head_code")).eq(code))
                .to_owned()
        });
        TWICE.statement(DbBackend::Sqlite, "A1");
    }

    #[derive(Debug, sea_orm::FromQueryResult)]
    struct Found {
        id: i64,
    }

    fn by_code_only(code: &str) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("code")).eq(code))
            .to_owned()
    }

    /// The quick reads see every commit before them, survive reads cut off midway, hold
    /// no more connections than allowed, and once closed, read no more.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quick_reads_on_sqlite_see_each_commit_and_survive_reads_cut_off() {
        use sea_orm::ConnectionTrait;
        static BY_CODE: Prebuilt = Prebuilt::new(by_code_only);
        let dir = tempfile::tempdir().expect("temp dir");
        let target = crate::DatabaseTarget::SqliteFile(dir.path().join("q.db"));
        let (pool, _) = crate::connect::connect(&target).await.expect("opened");
        pool.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT)").await.expect("table");
        let reads = QuickReads::of(&pool);
        let read = |code: &'static str| {
            let (reads, pool) = (reads.clone(), pool.clone());
            async move {
                let found: Vec<Found> =
                    reads.fetch(&pool, BY_CODE.statement(DbBackend::Sqlite, code)).await.expect("read");
                found.into_iter().map(|f| f.id).collect::<Vec<_>>()
            }
        };
        assert_eq!(read("a").await, Vec::<i64>::new());
        for id in 1..=3 {
            pool.execute_unprepared(&format!("INSERT INTO t VALUES ({id}, 'a')")).await.expect("written");
            assert_eq!(read("a").await.len(), id, "a kept connection missed a commit");
        }

        for _ in 0..2 * QUICK_READERS {
            // Started, then dropped at its first wait.
            let _ = tokio::time::timeout(std::time::Duration::ZERO, read("a")).await;
        }
        let all = joined((0..3 * QUICK_READERS).map(|_| tokio::spawn(read("a"))).collect::<Vec<_>>()).await;
        assert!(all.iter().all(|ids| *ids == vec![1, 2, 3]), "{all:?}");
        let kept = reads.0.as_ref().expect("SQLite").idle.lock().expect("lock").len();
        assert!((1..=QUICK_READERS).contains(&kept), "{kept} connections kept");

        reads.close().await.expect("closed");
        assert!(reads.0.as_ref().expect("SQLite").idle.lock().expect("lock").is_empty());
        let after: StoreResult<Vec<Found>> =
            reads.fetch(&pool, BY_CODE.statement(DbBackend::Sqlite, "a")).await;
        assert!(after.is_err(), "a closed store's quick reads read on");
        pool.close().await.expect("closed");
    }

    async fn joined(tasks: Vec<tokio::task::JoinHandle<Vec<i64>>>) -> Vec<Vec<i64>> {
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.expect("joined"));
        }
        all
    }
}
