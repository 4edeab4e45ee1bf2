//! Reads that run on every request, whose SQL is written by sea-query once per engine and
//! kept: afterwards each run only binds its one parameter. They run on connections of
//! their own (`quick_reads.rs`).
//!
//! Writing a query's text (each column, join and condition formatted by sea-query) cost the
//! server as much as SQLite took to run it: with the session's read and the coverage
//! look-up's read built anew for every request, 13 % of the server's samples during the
//! look-ups were sea-query writing SQL (`perf`, docs/BENCHMARKS.md, twenty-third session).

use std::sync::OnceLock;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

use crate::{Store, StoreResult};

/// Stands for the parameter while the SQL is written; no real parameter looks like it.
const MARKER: &str = "\u{1}prebuilt parameter\u{1}";

/// What a prebuilt query's one parameter may be: a text (a session's token hash) or bytes
/// (an ID number's look-up hash).
pub(crate) trait Parameter {
    /// The marker of this kind of parameter.
    fn marker() -> &'static Self;
    fn value(&self) -> Value;
}

impl Parameter for str {
    fn marker() -> &'static str {
        MARKER
    }
    fn value(&self) -> Value {
        Value::from(self)
    }
}

impl Parameter for [u8] {
    fn marker() -> &'static [u8] {
        MARKER.as_bytes()
    }
    fn value(&self) -> Value {
        Value::from(self.to_vec())
    }
}

/// A query with one parameter (`build` writes it for a given value), kept per engine as
/// its SQL and its values with the parameter's place among them.
pub(crate) struct Prebuilt<P: Parameter + ?Sized + 'static = str> {
    build: fn(&P) -> SelectStatement,
    built: [OnceLock<Template>; 3],
}

struct Template {
    sql: String,
    values: Vec<Value>,
    parameter_at: usize,
}

impl<P: Parameter + ?Sized + 'static> Prebuilt<P> {
    /// `build` must write the same query for every value and pass its parameter unchanged to
    /// one comparison (`.eq(parameter)`): the SQL is written once, with a marker for it.
    pub(crate) const fn new(build: fn(&P) -> SelectStatement) -> Self {
        Prebuilt { build, built: [const { OnceLock::new() }; 3] }
    }

    /// The query for `backend` with `parameter` bound.
    pub(crate) fn statement(&self, backend: DbBackend, parameter: &P) -> Statement {
        let slot = match backend {
            DbBackend::Sqlite => 0,
            DbBackend::Postgres => 1,
            DbBackend::MySql => 2,
        };
        let template = self.built[slot].get_or_init(|| {
            let written = backend.build(&(self.build)(P::marker()));
            let values = written.values.map(|values| values.0).unwrap_or_default();
            let marker = P::marker().value();
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
                parameter.value()
            } else {
                value.clone()
            }
        });
        Statement::from_sql_and_values(backend, template.sql.clone(), values)
    }

    /// The rows of the query with `parameter` bound, read on `store`'s quick reads.
    pub(crate) async fn fetch<T: QuickRow>(&self, store: &Store, parameter: &P) -> StoreResult<Vec<T>> {
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

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm::DbBackend;

    use super::Prebuilt;

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

    /// A query whose parameter is bytes binds them as bytes.
    #[test]
    fn a_prebuilt_query_binds_a_bytes_parameter() {
        fn by_hash(hash: &[u8]) -> sea_orm::sea_query::SelectStatement {
            Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("persons"))
                .and_where(Expr::col(Alias::new("id_hash")).eq(hash.to_vec()))
                .to_owned()
        }
        static BY_HASH: Prebuilt<[u8]> = Prebuilt::new(by_hash);
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            for hash in [&[1u8, 2, 3][..], &[0xff; 16][..]] {
                assert_eq!(BY_HASH.statement(backend, hash), backend.build(&by_hash(hash)), "{backend:?}");
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
}
