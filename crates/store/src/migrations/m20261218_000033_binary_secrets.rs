//! Look-up hashes and sealed values as bytes instead of hex text (issue #16, item 3). A
//! hex character carries half a byte: the ID-number hash, the key of a city's largest
//! index, took 32 bytes for 16, and each person's sealed ID number 116 for 58. Stored as
//! bytes, the unique index of a million persons' hashes and their rows are smaller, and a
//! roster import rewrites fewer pages.
//!
//! Every value already stored is converted in place (`unhex`, `decode(…, 'hex')`,
//! `UNHEX`); the hashes still compare equal to what [`crate::crypto::Keys::lookup_hash`]
//! computes, so every family and person is found as before, and every sealed value opens.
//! - PostgreSQL: each column becomes `bytea` (`ALTER COLUMN … TYPE … USING`, which
//!   rebuilds its indexes).
//! - MySQL/MariaDB: each column becomes `VARBINARY` of its width (`BLOB` where it was
//!   `TEXT`), whose bytes are then unhexed.
//! - SQLite: the values become blobs in their columns. SQLite keeps any value in a column
//!   of any declared type, and changing a declaration would mean copying `persons`, which
//!   other tables refer to: the declarations (`varchar`, `text`) stay as they were.
//!
//! Each table is rewritten once for all its columns (PostgreSQL's `ALTER TABLE` and
//! MySQL's copy each take minutes for a province's persons) and may be converted again
//! after a stop halfway.
//!
//! As with migration 000006, every instance must run the new code once this has run.
//! `down` turns the bytes back into hex text.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One column of hex text to turn into bytes.
struct HexColumn {
    name: &'static str,
    not_null: bool,
    /// Its text type before (`varchar(64)`, `text`): the binary type keeps its width.
    text_type: &'static str,
}

/// The columns to convert, by table: each table is rewritten once, however many of its
/// columns change (a province's `persons` holds tens of millions of rows).
const TABLES: [(&str, &[HexColumn]); 5] = [
    (
        "persons",
        &[
            HexColumn { name: "id_hash", not_null: true, text_type: "varchar(64)" },
            HexColumn { name: "id_enc", not_null: true, text_type: "varchar(200)" },
        ],
    ),
    (
        "families",
        &[
            HexColumn { name: "phone_hash", not_null: false, text_type: "varchar(64)" },
            HexColumn { name: "phone_enc", not_null: false, text_type: "varchar(200)" },
        ],
    ),
    (
        "agents",
        &[
            HexColumn { name: "phone_hash", not_null: false, text_type: "varchar(32)" },
            HexColumn { name: "phone_enc", not_null: false, text_type: "text" },
        ],
    ),
    ("outbox", &[HexColumn { name: "recipient_enc", not_null: true, text_type: "varchar(200)" }]),
    ("claims", &[HexColumn { name: "bank_enc", not_null: false, text_type: "text" }]),
];

impl HexColumn {
    fn null(&self) -> &'static str {
        if self.not_null {
            "NOT NULL"
        } else {
            "NULL"
        }
    }

    /// MySQL's binary type of the same width.
    fn mysql_binary_type(&self) -> String {
        match self.text_type.strip_prefix("varchar") {
            Some(width) => format!("VARBINARY{width}"),
            None => "BLOB".to_owned(),
        }
    }
}

/// Which way a conversion goes.
#[derive(Clone, Copy)]
enum To {
    Bytes,
    Hex,
}

/// The statements that convert `columns` of `table`. Each may run again after a
/// conversion that stopped halfway (MySQL commits each `ALTER` on its own): a value already
/// converted is left as it is. On MySQL a value counts as hex text when `UNHEX` can read
/// it, which random bytes (a hash, a nonce) practically never are; SQLite knows each
/// value's type.
fn convert(backend: DbBackend, table: &str, columns: &[HexColumn], to: To) -> Vec<String> {
    let each = |f: &dyn Fn(&HexColumn) -> String| columns.iter().map(f).collect::<Vec<_>>().join(", ");
    match (backend, to) {
        (DbBackend::Sqlite, To::Bytes) => vec![format!(
            "UPDATE {table} SET {}",
            each(&|c| format!("{0} = CASE WHEN typeof({0}) = 'text' THEN unhex({0}) ELSE {0} END", c.name))
        )],
        (DbBackend::Sqlite, To::Hex) => vec![format!(
            "UPDATE {table} SET {}",
            each(&|c| format!(
                "{0} = CASE WHEN typeof({0}) = 'blob' THEN lower(hex({0})) ELSE {0} END",
                c.name
            ))
        )],
        (DbBackend::Postgres, To::Bytes) => vec![
            format!(
                "ALTER TABLE {table} {}",
                each(&|c| format!("ALTER COLUMN {0} TYPE bytea USING decode({0}, 'hex')", c.name))
            ),
            // A column's statistics go with its old type.
            format!("ANALYZE {table}"),
        ],
        (DbBackend::Postgres, To::Hex) => vec![
            format!(
                "ALTER TABLE {table} {}",
                each(&|c| format!("ALTER COLUMN {0} TYPE {1} USING encode({0}, 'hex')", c.name, c.text_type))
            ),
            format!("ANALYZE {table}"),
        ],
        (DbBackend::MySql, To::Bytes) => vec![
            format!(
                "ALTER TABLE {table} {}",
                each(&|c| format!("MODIFY {} {} {}", c.name, c.mysql_binary_type(), c.null()))
            ),
            format!("UPDATE {table} SET {}", each(&|c| format!("{0} = COALESCE(UNHEX({0}), {0})", c.name))),
        ],
        (DbBackend::MySql, To::Hex) => vec![
            format!(
                "UPDATE {table} SET {}",
                each(&|c| format!("{0} = IF(UNHEX({0}) IS NULL, LOWER(HEX({0})), {0})", c.name))
            ),
            format!(
                "ALTER TABLE {table} {}",
                each(&|c| format!("MODIFY {} {} {}", c.name, c.text_type, c.null()))
            ),
        ],
    }
}

async fn run(manager: &SchemaManager<'_>, to: To) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    for (table, columns) in TABLES {
        for statement in convert(backend, table, columns, to) {
            manager.get_connection().execute_unprepared(&statement).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, To::Bytes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, To::Hex).await
    }
}
