//! Where the prebuilt reads run (`prebuilt.rs`): connections of their own, outside sqlx's
//! pool, on every engine.
//!
//! sqlx's pool pings every connection given back to it: dropping a `PoolConnection` spawns
//! a task that does, unconditionally, before the connection can serve the next statement.
//! For a read by one key, that is a second round trip for each one, to the SQLite
//! connection's worker thread or to the database server.
//!
//! On SQLite the reads run in the calling thread, through `rusqlite`. Through sqlx every
//! statement runs on its connection's worker thread: the asking task wakes the worker and
//! is woken by it, two thread switches for a read of a few pages, each dearer on a virtual
//! machine than the read itself. These reads are by one key and touch a few pages, so they
//! run where they are asked, blocking the thread as long as a little arithmetic would, and
//! cannot be cut off midway. Off sqlx's pool the look-ups over HTTP ran 1.56 times as fast,
//! and in the calling thread a third faster again (docs/BENCHMARKS.md, twenty-ninth and
//! thirtieth sessions).
//!
//! On PostgreSQL and MySQL they run on sqlx connections of their own; a read cut off
//! midway (its request dropped) closes its connection rather than give back one whose
//! statement may still be running. A read that fails on a kept connection (the server
//! restarted meanwhile, say) is read again once on a new one, and kept connections are
//! retired as sqlx's pool retires its own (idle 10 minutes, or open 30).
//!
//! A connection is opened when a read finds none idle; up to [`QUICK_READERS`] are kept.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sea_query::Values;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, RuntimeErr, Statement, Value,
};
use sqlx::{ConnectOptions, Connection};

use crate::prebuilt::QuickRow;
use crate::StoreResult;

/// Connections of the prebuilt reads, on every engine (see the module documentation).
#[derive(Clone)]
pub(crate) struct QuickReads(Arc<Readers>);

impl std::fmt::Debug for QuickReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickReads").finish_non_exhaustive()
    }
}

/// Connections the quick reads keep idle on SQLite, and hold at most at once on a server.
const QUICK_READERS: usize = 4;

/// How long a server connection is kept idle, and kept at all: sqlx's pool's defaults.
const IDLE_FOR_AT_MOST: Duration = Duration::from_secs(10 * 60);
const KEPT_FOR_AT_MOST: Duration = Duration::from_secs(30 * 60);

/// How long opening a server connection may take, as for the pool's (`connect.rs`).
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// A server connection with when it was opened and last used.
struct Kept<C> {
    connection: C,
    opened: Instant,
    used: Instant,
}

impl<C> Kept<C> {
    fn of(connection: C) -> Kept<C> {
        let now = Instant::now();
        Kept { connection, opened: now, used: now }
    }
}

enum Readers {
    Sqlite(SqliteReaders),
    Postgres(ServerReaders<sqlx::Postgres>),
    MySql(ServerReaders<sqlx::MySql>),
    /// An in-memory SQLite database: the pool's connections are its only ones.
    Pool,
}

struct SqliteReaders {
    file: std::path::PathBuf,
    /// None once closed.
    idle: Mutex<Option<Vec<rusqlite::Connection>>>,
}

struct ServerReaders<DB: sqlx::Database> {
    options: <DB::Connection as Connection>::Options,
    idle: Mutex<Vec<Kept<DB::Connection>>>,
    /// A read's turn: at most [`QUICK_READERS`] connections at once; closed once closed.
    turns: tokio::sync::Semaphore,
}

impl QuickReads {
    /// The quick reads of a store whose pool is `pool`: connections with the pool's
    /// settings, to its database.
    pub(crate) fn of(pool: &DatabaseConnection) -> QuickReads {
        let readers = match pool.get_database_backend() {
            DbBackend::Sqlite => match crate::connect::sqlite_file_of(pool) {
                Some(file) => Readers::Sqlite(SqliteReaders { file, idle: Mutex::new(Some(Vec::new())) }),
                None => Readers::Pool,
            },
            DbBackend::Postgres => Readers::Postgres(ServerReaders::new(
                pool.get_postgres_connection_pool().connect_options().as_ref().clone(),
            )),
            DbBackend::MySql => Readers::MySql(ServerReaders::new(
                pool.get_mysql_connection_pool().connect_options().as_ref().clone(),
            )),
        };
        QuickReads(Arc::new(readers))
    }

    /// The rows of `statement`, a prebuilt read of `pool`'s database.
    pub(crate) async fn fetch<T: QuickRow>(
        &self,
        pool: &DatabaseConnection,
        statement: Statement,
    ) -> StoreResult<Vec<T>> {
        let rows = match self.0.as_ref() {
            Readers::Sqlite(readers) => return readers.fetch(&statement),
            Readers::Postgres(readers) => readers.fetch(statement).await?,
            Readers::MySql(readers) => readers.fetch(statement).await?,
            Readers::Pool => {
                return Ok(sea_orm::SelectorRaw::<sea_orm::SelectModel<T>>::from_statement(statement)
                    .all(pool)
                    .await?)
            }
        };
        Ok(rows.iter().map(|row| T::from_query_result(row, "")).collect::<Result<_, _>>()?)
    }

    /// Closes the connections; no read opens another. On a server it waits for the reads
    /// under way first; on SQLite a read running on another thread closes its own.
    pub(crate) async fn close(&self) -> StoreResult<()> {
        match self.0.as_ref() {
            Readers::Sqlite(readers) => readers.close(),
            Readers::Postgres(readers) => readers.close().await,
            Readers::MySql(readers) => readers.close().await,
            Readers::Pool => Ok(()),
        }
    }
}

impl SqliteReaders {
    fn fetch<T: QuickRow>(&self, statement: &Statement) -> StoreResult<Vec<T>> {
        let taken = match self.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(DbErr::Custom("quick reads closed".to_owned()).into()),
        };
        let connection = match taken {
            Some(connection) => connection,
            None => crate::connect::open_sqlite_reader(&self.file).map_err(read_error)?,
        };
        let rows = read_sqlite(&connection, statement).map_err(read_error)?;
        if let Some(idle) = self.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            if idle.len() < QUICK_READERS {
                idle.push(connection);
            }
        }
        Ok(rows)
    }

    /// Closes the idle connections; a read running meanwhile on another thread closes its
    /// own when it ends (it finds the readers closed), and none opens another.
    fn close(&self) -> StoreResult<()> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).take();
        for connection in idle.into_iter().flatten() {
            connection.close().map_err(|(_, err)| read_error(err))?;
        }
        Ok(())
    }
}

impl<DB: sqlx::Database> ServerReaders<DB>
where
    for<'q> sea_query_binder::SqlxValues: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    QueryResult: From<DB::Row>,
{
    fn new(options: <DB::Connection as Connection>::Options) -> Self {
        ServerReaders {
            options,
            idle: Mutex::new(Vec::new()),
            turns: tokio::sync::Semaphore::new(QUICK_READERS),
        }
    }

    async fn fetch(&self, statement: Statement) -> StoreResult<Vec<QueryResult>> {
        let _turn = self.turns.acquire().await.map_err(|_| DbErr::Custom("quick reads closed".to_owned()))?;
        let values = sea_query_binder::SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
        // A kept connection may have died meanwhile (the server restarted, a firewall
        // forgot it): a read that fails on one is read again once on a new connection.
        let mut kept = self.kept();
        loop {
            let reused = kept.is_some();
            // Dropped, not given back, should this read be cut off or fail before its end.
            let mut connection = match kept.take() {
                Some(connection) => connection,
                None => Kept::of(self.open().await?),
            };
            let read = sqlx::query_with::<DB, _>(&statement.sql, values.clone())
                .fetch_all(&mut connection.connection)
                .await;
            match read {
                Ok(rows) => {
                    connection.used = Instant::now();
                    self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
                    return Ok(rows.into_iter().map(QueryResult::from).collect());
                }
                Err(_) if reused => continue,
                Err(err) => return Err(DbErr::Query(RuntimeErr::SqlxError(err)).into()),
            }
        }
    }

    /// An idle connection young and recently used enough to trust, as sqlx's pool keeps
    /// its own (see [`IDLE_FOR_AT_MOST`]); the others are closed.
    fn kept(&self) -> Option<Kept<DB::Connection>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(connection) = idle.pop() {
            if connection.used.elapsed() <= IDLE_FOR_AT_MOST
                && connection.opened.elapsed() <= KEPT_FOR_AT_MOST
            {
                return Some(connection);
            }
        }
        None
    }

    async fn open(&self) -> StoreResult<DB::Connection> {
        match tokio::time::timeout(CONNECT_WITHIN, self.options.connect()).await {
            Ok(connection) => Ok(connection?),
            Err(_) => {
                Err(DbErr::Conn(RuntimeErr::Internal("the database did not answer in time".to_owned()))
                    .into())
            }
        }
    }

    async fn close(&self) -> StoreResult<()> {
        // Every turn taken: no read is under way, and none starts.
        if let Ok(all) = self.turns.acquire_many(QUICK_READERS as u32).await {
            all.forget();
        }
        self.turns.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for kept in idle {
            kept.connection.close().await?;
        }
        Ok(())
    }
}

/// Runs `statement` on `connection`: prepared once per connection, then kept.
fn read_sqlite<T: QuickRow>(
    connection: &rusqlite::Connection,
    statement: &Statement,
) -> rusqlite::Result<Vec<T>> {
    let mut prepared = connection.prepare_cached(&statement.sql)?;
    let values = statement.values.iter().flat_map(|values| values.0.iter()).map(sqlite_value);
    let values = values.collect::<rusqlite::Result<Vec<_>>>()?;
    let rows = prepared.query_map(rusqlite::params_from_iter(values), T::from_sqlite)?;
    rows.collect()
}

/// A prebuilt query's value as SQLite stores it (as sqlx binds it): its parameter and the
/// constants of its conditions, so text, numbers, flags and nulls.
fn sqlite_value(value: &Value) -> rusqlite::Result<rusqlite::types::Value> {
    use rusqlite::types::Value as Sqlite;
    Ok(match value {
        Value::String(Some(text)) => Sqlite::Text(text.as_ref().clone()),
        Value::Bool(Some(flag)) => Sqlite::Integer(i64::from(*flag)),
        Value::TinyInt(Some(n)) => Sqlite::Integer(i64::from(*n)),
        Value::SmallInt(Some(n)) => Sqlite::Integer(i64::from(*n)),
        Value::Int(Some(n)) => Sqlite::Integer(i64::from(*n)),
        Value::BigInt(Some(n)) => Sqlite::Integer(*n),
        Value::TinyUnsigned(Some(n)) => Sqlite::Integer(i64::from(*n)),
        Value::SmallUnsigned(Some(n)) => Sqlite::Integer(i64::from(*n)),
        Value::Unsigned(Some(n)) => Sqlite::Integer(i64::from(*n)),
        Value::Double(Some(x)) => Sqlite::Real(*x),
        Value::Bytes(Some(bytes)) => Sqlite::Blob(bytes.as_ref().clone()),
        Value::String(None) | Value::Bool(None) | Value::BigInt(None) | Value::Int(None) => Sqlite::Null,
        other => {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                format!("a quick read binds no value of this kind: {other:?}").into(),
            ))
        }
    })
}

fn read_error(err: rusqlite::Error) -> crate::StoreError {
    DbErr::Query(RuntimeErr::Internal(format!("SQLite (quick read): {err}"))).into()
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm::DbBackend;

    use super::{QuickReads, Readers, QUICK_READERS};
    use crate::prebuilt::Prebuilt;
    use crate::StoreResult;

    /// A row of every kind of column the quick reads decode.
    #[derive(Debug, PartialEq, sea_orm::FromQueryResult)]
    struct Found {
        id: i64,
        code: String,
        at: chrono::DateTime<chrono::Utc>,
        day: Option<chrono::NaiveDate>,
        year: Option<i32>,
        flag: bool,
    }
    crate::prebuilt::quick_row!(Found { id, code, at, day, year, flag });

    fn by_code_only(code: &str) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .columns(["id", "code", "at", "day", "year", "flag"].map(Alias::new))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("code")).eq(code))
            .and_where(Expr::col(Alias::new("flag")).ne(7))
            .order_by(Alias::new("id"), sea_orm::Order::Asc)
            .to_owned()
    }

    /// The quick reads see every commit before them, decode each column as sqlx does what
    /// sqlx wrote, read side by side, keep no more connections than allowed, and once
    /// closed, read no more.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quick_reads_on_sqlite_see_each_commit_and_decode_as_sqlx_does() {
        use sea_orm::{ConnectionTrait, Statement, Value};
        static BY_CODE: Prebuilt = Prebuilt::new(by_code_only);
        let dir = tempfile::tempdir().expect("temp dir");
        let target = crate::DatabaseTarget::SqliteFile(dir.path().join("q.db"));
        let (pool, _) = crate::connect::connect(&target).await.expect("opened");
        let table = "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT NOT NULL, at TEXT NOT NULL, \
                     day TEXT, year INTEGER, flag BOOLEAN NOT NULL)";
        pool.execute_unprepared(table).await.expect("table");
        let reads = QuickReads::of(&pool);
        let Readers::Sqlite(readers) = reads.0.as_ref() else {
            panic!("an SQLite file has quick reads of its own")
        };
        let read = |code: &'static str| {
            let (reads, pool) = (reads.clone(), pool.clone());
            async move {
                let found: Vec<Found> =
                    reads.fetch(&pool, BY_CODE.statement(DbBackend::Sqlite, code)).await.expect("read");
                found
            }
        };
        assert_eq!(read("a").await, Vec::new());
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T23:11:14.660834+08:00").expect("time");
        let day = chrono::NaiveDate::from_ymd_opt(2027, 2, 28);
        for id in 1..=3i64 {
            // Written as the store writes: values bound by sea-orm through sqlx.
            let values: [Value; 6] = [
                id.into(),
                "a".into(),
                (at.to_utc() + chrono::Duration::seconds(id)).into(),
                if id == 2 { None::<chrono::NaiveDate>.into() } else { day.into() },
                if id == 3 { None::<i32>.into() } else { Some(2026i32).into() },
                (id % 2 == 0).into(),
            ];
            let insert = "INSERT INTO t (id, code, at, day, year, flag) VALUES (?, ?, ?, ?, ?, ?)";
            pool.execute(Statement::from_sql_and_values(DbBackend::Sqlite, insert, values))
                .await
                .expect("written");
            assert_eq!(read("a").await.len() as i64, id, "a kept connection missed a commit");
        }
        let through_sqlx = sea_orm::SelectorRaw::<sea_orm::SelectModel<Found>>::from_statement(
            BY_CODE.statement(DbBackend::Sqlite, "a"),
        )
        .all(&pool)
        .await
        .expect("read through sqlx");
        assert_eq!(read("a").await, through_sqlx);
        assert_eq!(through_sqlx[1].day, None);
        assert!(through_sqlx[1].flag && !through_sqlx[0].flag);

        let all = joined((0..3 * QUICK_READERS).map(|_| tokio::spawn(read("a"))).collect::<Vec<_>>()).await;
        assert!(all.iter().all(|rows| *rows == through_sqlx), "{all:?}");
        let kept = readers.idle.lock().expect("lock").as_ref().map(Vec::len);
        assert!(matches!(kept, Some(1..=QUICK_READERS)), "{kept:?} connections kept");

        reads.close().await.expect("closed");
        assert!(readers.idle.lock().expect("lock").is_none());
        let after: StoreResult<Vec<Found>> =
            reads.fetch(&pool, BY_CODE.statement(DbBackend::Sqlite, "a")).await;
        assert!(after.is_err(), "a closed store's quick reads read on");
        pool.close().await.expect("closed");
    }

    async fn joined(tasks: Vec<tokio::task::JoinHandle<Vec<Found>>>) -> Vec<Vec<Found>> {
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.expect("joined"));
        }
        all
    }
}
