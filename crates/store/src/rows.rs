//! Many rows in few INSERTs for bulk writes (roster imports, the demo city), without the
//! per-value model machinery of `insert_many`: values are given in column order and the
//! statement text is written directly. Statements have a fixed number of rows, so each
//! engine prepares the statement once and reuses it; only the last, shorter one differs.
//! Same SQL on every engine, only quoting and placeholders differ.
//!
//! Rows whose ids the caller needs ([`KeyedRows`]: families for their members, policies for
//! their parts) carry a unique key of their own and get their ids from the INSERT itself
//! (`RETURNING`) where the engine has it, so no statement of a bulk write reads a table
//! that grows as it is written.

use std::collections::HashMap;
use std::fmt::Write;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, Iden, Statement, Value};

/// Rows per statement: 256 rows of a dozen columns stay far under every engine's limit
/// on parameters, and big enough that a statement's fixed cost is spread thin.
const ROWS_PER_STATEMENT: usize = 256;

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
/// ids in the order they were pushed. PostgreSQL and SQLite return the ids from the INSERT
/// (`RETURNING id, key`); MySQL has no `INSERT … RETURNING`, so there the keys are read back
/// after each statement, on their unique index (InnoDB plans each statement afresh).
pub(crate) struct KeyedRows<E: EntityTrait> {
    backend: DbBackend,
    columns: Vec<E::Column>,
    key: E::Column,
    full: String,
    keys: Vec<String>,
    pending: Vec<Value>,
}

impl<E: EntityTrait> KeyedRows<E> {
    /// `key` must be one of `columns`, under a unique index; the table's id column is `id`.
    pub(crate) fn new(backend: DbBackend, columns: &[E::Column], key: E::Column) -> Self {
        assert!(
            columns.iter().any(|c| c.to_string() == key.to_string()),
            "the key is one of the columns written"
        );
        KeyedRows {
            backend,
            columns: columns.to_vec(),
            key,
            full: keyed_statement::<E>(backend, columns, key, ROWS_PER_STATEMENT),
            keys: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Adds one row (its values in column order, `key` among them as its column says).
    pub(crate) fn push(&mut self, key: String, row: impl IntoIterator<Item = Value>) {
        let before = self.pending.len();
        self.pending.extend(row);
        assert_eq!(self.pending.len() - before, self.columns.len(), "a value for every column");
        self.keys.push(key);
    }

    /// Writes the rows pushed since the last call and returns their ids, in push order.
    pub(crate) async fn write(&mut self, db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
        let keys = std::mem::take(&mut self.keys);
        let mut values = std::mem::take(&mut self.pending).into_iter();
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(keys.len());
        for block in keys.chunks(ROWS_PER_STATEMENT) {
            let part: Vec<Value> = values.by_ref().take(block.len() * self.columns.len()).collect();
            let sql = if block.len() == ROWS_PER_STATEMENT {
                self.full.clone()
            } else {
                keyed_statement::<E>(self.backend, &self.columns, self.key, block.len())
            };
            let statement = Statement::from_sql_and_values(self.backend, sql, part);
            let returned = match self.backend {
                DbBackend::Postgres | DbBackend::Sqlite => db.query_all(statement).await?,
                DbBackend::MySql => {
                    db.execute(statement).await?;
                    let sql = select_keys::<E>(self.key, block.len());
                    let keys = block.iter().map(|k| Value::from(k.clone())).collect::<Vec<_>>();
                    db.query_all(Statement::from_sql_and_values(self.backend, sql, keys)).await?
                }
            };
            for row in returned {
                ids.insert(row.try_get_by_index::<String>(1)?, row.try_get_by_index::<i64>(0)?);
            }
        }
        keys.iter()
            .map(|key| {
                ids.get(key)
                    .copied()
                    .ok_or_else(|| DbErr::RecordNotFound(format!("no id returned for {key}")))
            })
            .collect()
    }
}

/// The INSERT of [`statement`], returning `id` and the key on the engines that can.
fn keyed_statement<E: EntityTrait>(
    backend: DbBackend,
    columns: &[E::Column],
    key: E::Column,
    rows: usize,
) -> String {
    let mut sql = statement::<E>(backend, columns, rows);
    match backend {
        DbBackend::Postgres | DbBackend::Sqlite => {
            write!(sql, r#" RETURNING "id", "{key}""#, key = key.to_string()).expect("writing to a String")
        }
        DbBackend::MySql => {}
    }
    sql
}

/// MySQL's read-back: `SELECT id, key FROM t WHERE key IN (?, …)` for `count` keys.
fn select_keys<E: EntityTrait>(key: E::Column, count: usize) -> String {
    let marks = vec!["?"; count].join(", ");
    format!(
        "SELECT `id`, `{key}` FROM `{table}` WHERE `{key}` IN ({marks})",
        key = key.to_string(),
        table = E::default().table_name()
    )
}

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) …` for `rows` rows.
fn statement<E: EntityTrait>(backend: DbBackend, columns: &[E::Column], rows: usize) -> String {
    let quote = |name: &str| match backend {
        DbBackend::MySql => format!("`{name}`"),
        DbBackend::Postgres | DbBackend::Sqlite => format!("\"{name}\""),
    };
    let names: Vec<String> = columns.iter().map(|c| quote(&c.to_string())).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", quote(E::default().table_name()), names.join(", "));
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                DbBackend::Postgres => write!(sql, "${n}").expect("writing to a String"),
                DbBackend::MySql | DbBackend::Sqlite => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
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
        assert_eq!(
            keyed_statement::<families::Entity>(DbBackend::Postgres, &columns, key, 1),
            r#"INSERT INTO "families" ("code", "head_name") VALUES ($1, $2) RETURNING "id", "code""#
        );
        assert_eq!(
            keyed_statement::<families::Entity>(DbBackend::Sqlite, &columns, key, 1),
            r#"INSERT INTO "families" ("code", "head_name") VALUES (?, ?) RETURNING "id", "code""#
        );
        assert_eq!(
            keyed_statement::<families::Entity>(DbBackend::MySql, &columns, key, 1),
            "INSERT INTO `families` (`code`, `head_name`) VALUES (?, ?)"
        );
        assert_eq!(
            select_keys::<families::Entity>(key, 2),
            "SELECT `id`, `code` FROM `families` WHERE `code` IN (?, ?)"
        );
    }
}
