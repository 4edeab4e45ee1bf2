//! Many rows in few INSERTs for bulk writes (roster imports, the demo city), without the
//! per-value model machinery of `insert_many`: values are given in column order and the
//! statement text is written directly. Statements have a fixed number of rows, so each
//! engine prepares the statement once and reuses it; only the last, shorter one differs.
//! Same SQL on every engine, only quoting and placeholders differ.

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
}
