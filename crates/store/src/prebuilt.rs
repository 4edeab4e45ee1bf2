//! Reads that run on every request, whose SQL is written by sea-query once per engine and
//! kept: afterwards each run only binds its one parameter. On SQLite they run in the
//! calling thread, on connections of their own ([`QuickReads`]).
//!
//! Writing a query's text (each column, join and condition formatted by sea-query) cost the
//! server as much as SQLite took to run it: with the session's read and the coverage
//! look-up's read built anew for every request, 13 % of the server's samples during the
//! look-ups were sea-query writing SQL (`perf`, docs/BENCHMARKS.md, twenty-third session).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, RuntimeErr, Statement, Value,
};

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
    pub(crate) async fn fetch<T: QuickRow>(&self, store: &Store, parameter: &str) -> StoreResult<Vec<T>> {
        let statement = self.statement(store.db.get_database_backend(), parameter);
        store.quick_reads.fetch(&store.db, statement).await
    }
}

/// A row a quick read decodes itself on SQLite, each field from the column of its name as
/// `FromQueryResult` reads it on a server: [`quick_row!`] writes it.
pub(crate) trait QuickRow: FromQueryResult + Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Implements [`QuickRow`] for a struct, given its fields (every one, in any order).
macro_rules! quick_row {
    ($row:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::prebuilt::QuickRow for $row {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok($row { $($field: row.get(stringify!($field))?),+ })
            }
        }
    };
}
pub(crate) use quick_row;

/// Connections on SQLite of their own for the prebuilt reads, whose reads run in the
/// calling thread; on PostgreSQL and MySQL, none: the reads go through the pool.
///
/// A read through sqlx runs on its connection's worker thread: the asking task wakes the
/// worker and is woken by it, two thread switches for a read of a few pages, each dearer
/// on a virtual machine than the read itself. Through sqlx's pool, add the ping it makes on
/// every connection given back (a third switch; dropping a `PoolConnection` spawns it,
/// unconditionally). The reads here are by one key and touch a few pages, so they run
/// where they are asked, blocking the thread as long as a little arithmetic would.
///
/// A connection is opened when a read finds none idle, and up to [`QUICK_READERS`] are
/// kept. A read has no point at which it could be cut off: it runs to its end.
#[derive(Clone, Default)]
pub(crate) struct QuickReads(Option<Arc<Readers>>);

impl std::fmt::Debug for QuickReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickReads").field("own_connections", &self.0.is_some()).finish()
    }
}

/// Connections the quick reads keep idle, as many as the pool's (`connect.rs`).
const QUICK_READERS: usize = 4;

type OpenReader = Box<dyn Fn() -> rusqlite::Result<rusqlite::Connection> + Send + Sync>;

struct Readers {
    open: OpenReader,
    /// None once closed.
    idle: Mutex<Option<Vec<rusqlite::Connection>>>,
}

impl QuickReads {
    /// The quick reads of a store whose pool is `pool`: connections of their own to its
    /// database file on SQLite, the pool itself on a server (or for an in-memory database).
    pub(crate) fn of(pool: &DatabaseConnection) -> QuickReads {
        if pool.get_database_backend() != DbBackend::Sqlite {
            return QuickReads(None);
        }
        let Some(open) = crate::connect::sqlite_reader_of(pool) else { return QuickReads(None) };
        QuickReads(Some(Arc::new(Readers { open: Box::new(open), idle: Mutex::new(Some(Vec::new())) })))
    }

    async fn fetch<T: QuickRow>(
        &self,
        pool: &DatabaseConnection,
        statement: Statement,
    ) -> StoreResult<Vec<T>> {
        let Some(readers) = &self.0 else {
            return Ok(sea_orm::SelectorRaw::<sea_orm::SelectModel<T>>::from_statement(statement)
                .all(pool)
                .await?);
        };
        let taken = match readers.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(DbErr::Custom("quick reads closed".to_owned()).into()),
        };
        let connection = match taken {
            Some(connection) => connection,
            None => (readers.open)().map_err(read_error)?,
        };
        let rows = read(&connection, &statement).map_err(read_error);
        if let Some(idle) = readers.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            if idle.len() < QUICK_READERS {
                idle.push(connection);
            }
        }
        rows
    }

    /// Closes the connections; no read opens another.
    pub(crate) async fn close(&self) -> StoreResult<()> {
        let Some(readers) = &self.0 else { return Ok(()) };
        let idle = readers.idle.lock().unwrap_or_else(PoisonError::into_inner).take();
        for connection in idle.into_iter().flatten() {
            connection.close().map_err(|(_, err)| read_error(err))?;
        }
        Ok(())
    }
}

/// Runs `statement` on `connection`: prepared once per connection, then kept.
fn read<T: QuickRow>(connection: &rusqlite::Connection, statement: &Statement) -> rusqlite::Result<Vec<T>> {
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
    super::quick_row!(Found { id, code, at, day, year, flag });

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
        assert!(reads.0.is_some(), "an SQLite file has quick reads of its own");
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
        let kept = reads.0.as_ref().expect("SQLite").idle.lock().expect("lock").as_ref().map(Vec::len);
        assert!(matches!(kept, Some(1..=QUICK_READERS)), "{kept:?} connections kept");

        reads.close().await.expect("closed");
        assert!(reads.0.as_ref().expect("SQLite").idle.lock().expect("lock").is_none());
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
