//! Many rows in few INSERTs for bulk writes (roster imports, the demo city), without the
//! per-value model machinery of `insert_many`: values are given in column order and the
//! statement text is written directly. Statements have a fixed number of rows, so each
//! engine prepares the statement once and reuses it; only the last, shorter one differs.
//! Same SQL on every engine, only quoting, placeholders and `RETURNING` differ.
//!
//! Rows whose ids the caller needs ([`KeyedRows`]: families for their members, policies for
//! their parts) carry a unique key of their own and get their ids from the INSERT itself
//! (`RETURNING`) where the engine has it, so no statement of a bulk write reads a table
//! that grows as it is written.
//!
//! Whether it has it is known only once connected ([`Dialect`]): MariaDB has had
//! `INSERT … RETURNING` since 10.5, MySQL (and TiDB) speak the same protocol without it.

use std::collections::HashMap;
use std::fmt::Write;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, Iden, Statement, Value};

/// Rows per statement: 256 rows of a dozen columns stay far under every engine's limit
/// on parameters, and big enough that a statement's fixed cost is spread thin.
const ROWS_PER_STATEMENT: usize = 256;

/// The engine as the bulk writers see it: its SQL flavour, and whether its INSERT can
/// return the ids it gave (PostgreSQL, SQLite, MariaDB from 10.5; not MySQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dialect {
    pub(crate) backend: DbBackend,
    pub(crate) returning: bool,
}

impl Dialect {
    /// The dialect of the database behind `db`.
    pub(crate) async fn of(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let backend = db.get_database_backend();
        let version = match backend {
            // MySQL and MariaDB speak one protocol; only the server's version tells them apart.
            DbBackend::MySql => {
                let row = db.query_one(Statement::from_string(backend, "SELECT VERSION()")).await?;
                row.map(|r| r.try_get_by_index::<String>(0)).transpose()?
            }
            DbBackend::Postgres | DbBackend::Sqlite => None,
        };
        Ok(Dialect::new(backend, version.as_deref()))
    }

    /// The dialect of a connection to `backend` whose server calls itself `version`
    /// (`SELECT VERSION()`; asked of MySQL-protocol servers only, the others always return).
    pub(crate) fn new(backend: DbBackend, version: Option<&str>) -> Self {
        let returning = match backend {
            DbBackend::Postgres | DbBackend::Sqlite => true,
            DbBackend::MySql => version.is_some_and(mariadb_with_returning),
        };
        Dialect { backend, returning }
    }
}

/// `version` is MariaDB's, 10.5 or later (`10.11.19-MariaDB-0+deb12u1`, `11.4.2-MariaDB`).
fn mariadb_with_returning(version: &str) -> bool {
    if !version.contains("MariaDB") {
        return false;
    }
    let mut parts = version.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (10, 5),
        _ => false,
    }
}

/// Rows of `E` written in statements of [`ROWS_PER_STATEMENT`] as they fill.
pub(crate) struct RowsWriter<E: EntityTrait> {
    backend: DbBackend,
    columns: Vec<E::Column>,
    full: String,
    pending: Vec<Value>,
}

impl<E: EntityTrait> RowsWriter<E> {
    pub(crate) fn new(backend: DbBackend, columns: &[E::Column]) -> Self {
        assert!(!columns.is_empty(), "a row has columns");
        let full = statement::<E>(backend, columns, ROWS_PER_STATEMENT);
        RowsWriter {
            backend,
            columns: columns.to_vec(),
            full,
            pending: Vec::with_capacity(ROWS_PER_STATEMENT * columns.len()),
        }
    }

    /// Adds one row (its values in column order); writes a statement when one is full.
    pub(crate) async fn push(
        &mut self,
        db: &impl ConnectionTrait,
        row: impl IntoIterator<Item = Value>,
    ) -> Result<(), DbErr> {
        let before = self.pending.len();
        self.pending.extend(row);
        assert_eq!(self.pending.len() - before, self.columns.len(), "a value for every column");
        if self.pending.len() == ROWS_PER_STATEMENT * self.columns.len() {
            let capacity = self.pending.len();
            let values = std::mem::replace(&mut self.pending, Vec::with_capacity(capacity));
            db.execute(Statement::from_sql_and_values(self.backend, self.full.clone(), values)).await?;
        }
        Ok(())
    }

    /// Writes the rows still pending.
    pub(crate) async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = self.pending.len() / self.columns.len();
        let sql = statement::<E>(self.backend, &self.columns, rows);
        let values = std::mem::take(&mut self.pending);
        db.execute(Statement::from_sql_and_values(self.backend, sql, values)).await?;
        Ok(())
    }
}

/// Rows of `E`, each with a unique key (a random code, an ID-number hash), written in
/// statements of [`ROWS_PER_STATEMENT`] rows by [`KeyedRows::write`], which returns their
/// ids in the order they were pushed. PostgreSQL, SQLite and MariaDB return the ids from the
/// INSERT (`RETURNING id, key`); MySQL has no `INSERT … RETURNING`, so there the keys are
/// read back after each statement, on their unique index (InnoDB plans each statement
/// afresh). `K` is the key's type: text (a code) or bytes (a hash).
pub(crate) struct KeyedRows<E: EntityTrait, K = String> {
    dialect: Dialect,
    columns: Vec<E::Column>,
    key: E::Column,
    full: String,
    keys: Vec<K>,
    pending: Vec<Value>,
}

impl<E, K> KeyedRows<E, K>
where
    E: EntityTrait,
    K: Clone + Eq + std::hash::Hash + std::fmt::Debug + Into<Value> + sea_orm::TryGetable,
{
    /// `key` must be one of `columns`, under a unique index; the table's id column is `id`.
    pub(crate) fn new(dialect: Dialect, columns: &[E::Column], key: E::Column) -> Self {
        assert!(
            columns.iter().any(|c| c.to_string() == key.to_string()),
            "the key is one of the columns written"
        );
        KeyedRows {
            dialect,
            columns: columns.to_vec(),
            key,
            full: keyed_statement::<E>(dialect, columns, key, ROWS_PER_STATEMENT),
            keys: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Adds one row (its values in column order, `key` among them as its column says).
    pub(crate) fn push(&mut self, key: K, row: impl IntoIterator<Item = Value>) {
        let before = self.pending.len();
        self.pending.extend(row);
        assert_eq!(self.pending.len() - before, self.columns.len(), "a value for every column");
        self.keys.push(key);
    }

    /// Writes the rows pushed since the last call and returns their ids, in push order.
    pub(crate) async fn write(&mut self, db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
        let keys = std::mem::take(&mut self.keys);
        let mut values = std::mem::take(&mut self.pending).into_iter();
        let mut ids: HashMap<K, i64> = HashMap::with_capacity(keys.len());
        for block in keys.chunks(ROWS_PER_STATEMENT) {
            let part: Vec<Value> = values.by_ref().take(block.len() * self.columns.len()).collect();
            let sql = if block.len() == ROWS_PER_STATEMENT {
                self.full.clone()
            } else {
                keyed_statement::<E>(self.dialect, &self.columns, self.key, block.len())
            };
            let backend = self.dialect.backend;
            let statement = Statement::from_sql_and_values(backend, sql, part);
            let returned = if self.dialect.returning {
                db.query_all(statement).await?
            } else {
                db.execute(statement).await?;
                let sql = select_keys::<E>(backend, self.key, block.len());
                let keys = block.iter().map(|k| k.clone().into()).collect::<Vec<Value>>();
                db.query_all(Statement::from_sql_and_values(backend, sql, keys)).await?
            };
            for row in returned {
                ids.insert(row.try_get_by_index::<K>(1)?, row.try_get_by_index::<i64>(0)?);
            }
        }
        keys.iter()
            .map(|key| {
                ids.get(key)
                    .copied()
                    .ok_or_else(|| DbErr::RecordNotFound(format!("no id returned for {key:?}")))
            })
            .collect()
    }
}

/// The INSERT of [`statement`], returning `id` and the key on the engines that can.
fn keyed_statement<E: EntityTrait>(
    dialect: Dialect,
    columns: &[E::Column],
    key: E::Column,
    rows: usize,
) -> String {
    let mut sql = statement::<E>(dialect.backend, columns, rows);
    if dialect.returning {
        let quote = |name: &str| quoted(dialect.backend, name);
        write!(sql, " RETURNING {}, {}", quote("id"), quote(&key.to_string())).expect("writing to a String");
    }
    sql
}

/// The read-back where the INSERT returns nothing (MySQL):
/// `SELECT id, key FROM t WHERE key IN (?, …)` for `count` keys.
fn select_keys<E: EntityTrait>(backend: DbBackend, key: E::Column, count: usize) -> String {
    let quote = |name: &str| quoted(backend, name);
    let key = quote(&key.to_string());
    let mut sql =
        format!("SELECT {}, {key} FROM {} WHERE {key} IN (", quote("id"), quote(E::default().table_name()));
    for n in 1..=count {
        if n > 1 {
            sql.push_str(", ");
        }
        push_placeholder(&mut sql, backend, n);
    }
    sql.push(')');
    sql
}

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) …` for `rows` rows; on SQLite
/// `INSERT OR FAIL INTO`.
///
/// Why `OR FAIL`: a statement of many rows that may stop at a constraint halfway makes
/// SQLite keep a statement journal, a copy of every page the statement changes, so that
/// it can undo the statement's own rows (the default `ABORT`). `FAIL` stops at the same
/// constraint with the same error but leaves the rows before it, so no journal is kept;
/// every caller abandons its whole transaction on an error, so nothing of it is ever kept.
/// (An immediate foreign key needs the journal all the same: the bulk connection checks
/// none, `bulk.rs`.) The journal was a third of a roster import's time.
fn statement<E: EntityTrait>(backend: DbBackend, columns: &[E::Column], rows: usize) -> String {
    let quote = |name: &str| quoted(backend, name);
    let names: Vec<String> = columns.iter().map(|c| quote(&c.to_string())).collect();
    let verb = match backend {
        DbBackend::Sqlite => "INSERT OR FAIL INTO",
        DbBackend::Postgres | DbBackend::MySql => "INSERT INTO",
    };
    let mut sql = format!("{verb} {} ({}) VALUES ", quote(E::default().table_name()), names.join(", "));
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            push_placeholder(&mut sql, backend, n);
        }
        sql.push(')');
    }
    sql
}

/// Appends the `n`th parameter (from 1) of a statement: written in place, since a full
/// statement has thousands of them and some are written for every group of enrolments.
fn push_placeholder(sql: &mut String, backend: DbBackend, n: usize) {
    match backend {
        DbBackend::Postgres => write!(sql, "${n}").expect("writing to a String"),
        DbBackend::MySql | DbBackend::Sqlite => sql.push('?'),
    }
}

/// An identifier in the engine's quotes.
fn quoted(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{name}`"),
        DbBackend::Postgres | DbBackend::Sqlite => format!("\"{name}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::families;

    #[test]
    fn statements_quote_and_number_per_engine() {
        let columns = [families::Column::Code, families::Column::HeadName];
        assert_eq!(
            statement::<families::Entity>(DbBackend::Postgres, &columns, 2),
            r#"INSERT INTO "families" ("code", "head_name") VALUES ($1, $2), ($3, $4)"#
        );
        assert_eq!(
            statement::<families::Entity>(DbBackend::MySql, &columns, 1),
            "INSERT INTO `families` (`code`, `head_name`) VALUES (?, ?)"
        );
    }

    #[test]
    fn keyed_statements_return_ids_where_the_engine_can() {
        let columns = [families::Column::Code, families::Column::HeadName];
        let key = families::Column::Code;
        let postgres = Dialect::new(DbBackend::Postgres, None);
        let sqlite = Dialect::new(DbBackend::Sqlite, None);
        let mysql = Dialect::new(DbBackend::MySql, Some("8.0.36"));
        let mariadb = Dialect::new(DbBackend::MySql, Some("10.11.19-MariaDB-0+deb12u1"));
        assert_eq!(
            keyed_statement::<families::Entity>(postgres, &columns, key, 1),
            r#"INSERT INTO "families" ("code", "head_name") VALUES ($1, $2) RETURNING "id", "code""#
        );
        assert_eq!(
            keyed_statement::<families::Entity>(sqlite, &columns, key, 1),
            r#"INSERT OR FAIL INTO "families" ("code", "head_name") VALUES (?, ?) RETURNING "id", "code""#
        );
        assert_eq!(
            keyed_statement::<families::Entity>(mysql, &columns, key, 1),
            "INSERT INTO `families` (`code`, `head_name`) VALUES (?, ?)"
        );
        assert_eq!(
            keyed_statement::<families::Entity>(mariadb, &columns, key, 1),
            "INSERT INTO `families` (`code`, `head_name`) VALUES (?, ?) RETURNING `id`, `code`"
        );
        assert_eq!(
            select_keys::<families::Entity>(DbBackend::MySql, key, 2),
            "SELECT `id`, `code` FROM `families` WHERE `code` IN (?, ?)"
        );
    }

    #[test]
    fn only_mariadb_from_10_5_returns_ids_over_the_mysql_protocol() {
        let returns = |version: Option<&str>| Dialect::new(DbBackend::MySql, version).returning;
        assert!(returns(Some("10.11.19-MariaDB-0+deb12u1")));
        assert!(returns(Some("10.5.0-MariaDB")));
        assert!(returns(Some("11.4.2-MariaDB-ubu2404")));
        assert!(!returns(Some("10.4.34-MariaDB")));
        assert!(!returns(Some("8.0.36")));
        assert!(!returns(Some("8.0.11-TiDB-v7.5.1")));
        assert!(!returns(None));
        assert!(Dialect::new(DbBackend::Postgres, None).returning);
        assert!(Dialect::new(DbBackend::Sqlite, None).returning);
    }

    /// Ids come back in push order, whatever the order of the keys, across full and short
    /// statements and successive writes: from the INSERT and from the read-back alike.
    #[tokio::test]
    async fn keyed_rows_return_each_row_its_own_id_with_and_without_returning() {
        use sea_orm::{Database, FromQueryResult};
        for returning in [true, false] {
            let db = Database::connect("sqlite::memory:").await.unwrap();
            db.execute_unprepared(
                "CREATE TABLE families (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 code TEXT NOT NULL UNIQUE, head_name TEXT NOT NULL)",
            )
            .await
            .unwrap();
            let dialect = Dialect { backend: DbBackend::Sqlite, returning };
            let columns = [families::Column::Code, families::Column::HeadName];
            let mut rows = KeyedRows::<families::Entity>::new(dialect, &columns, families::Column::Code);
            let mut pushed = Vec::new();
            for (count, offset) in [(ROWS_PER_STATEMENT * 2 + 37, 0), (5, 10_000)] {
                // Keys out of order: a step prime to the count walks every key once.
                let keys: Vec<String> =
                    (0..count).map(|i| format!("k{:05}", offset + (i * 7919) % count)).collect();
                for key in &keys {
                    rows.push(key.clone(), [key.clone().into(), format!("户主{key}").into()]);
                }
                let ids = rows.write(&db).await.unwrap();
                assert_eq!(ids.len(), keys.len(), "returning: {returning}");
                pushed.extend(keys.into_iter().zip(ids));
            }
            #[derive(FromQueryResult)]
            struct Stored {
                id: i64,
                code: String,
            }
            let stored = Stored::find_by_statement(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT id, code FROM families",
            ))
            .all(&db)
            .await
            .unwrap();
            let stored: HashMap<String, i64> = stored.into_iter().map(|s| (s.code, s.id)).collect();
            assert_eq!(stored.len(), pushed.len(), "returning: {returning}");
            for (key, id) in pushed {
                assert_eq!(stored[&key], id, "{key}, returning: {returning}");
            }
        }
    }

    /// Keys of bytes (an ID-number hash) come back as the same bytes, from the INSERT and
    /// from the read-back alike (MySQL's path, whose `IN (…)` compares them).
    #[tokio::test]
    async fn keyed_rows_take_keys_of_bytes() {
        use crate::entities::persons;
        for returning in [true, false] {
            let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
            db.execute_unprepared(
                "CREATE TABLE persons (id INTEGER PRIMARY KEY AUTOINCREMENT, id_hash BLOB NOT NULL UNIQUE, \
                 name TEXT NOT NULL)",
            )
            .await
            .unwrap();
            let dialect = Dialect { backend: DbBackend::Sqlite, returning };
            let columns = [persons::Column::IdHash, persons::Column::Name];
            let mut rows =
                KeyedRows::<persons::Entity, Vec<u8>>::new(dialect, &columns, persons::Column::IdHash);
            // Out of order, and bytes that are no text (0xff, 0x00).
            let keys: Vec<Vec<u8>> = (0..300u32)
                .map(|i| [0xff, 0x00].into_iter().chain(((i * 7) % 300).to_be_bytes()).collect())
                .collect();
            for key in &keys {
                rows.push(key.clone(), [key.clone().into(), "某人".into()]);
            }
            let ids = rows.write(&db).await.unwrap();
            for (key, id) in keys.iter().zip(ids) {
                let stored = db
                    .query_one(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "SELECT id_hash FROM persons WHERE id = ?",
                        [id.into()],
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(&stored.try_get_by_index::<Vec<u8>>(0).unwrap(), key, "returning: {returning}");
            }
        }
    }
}
