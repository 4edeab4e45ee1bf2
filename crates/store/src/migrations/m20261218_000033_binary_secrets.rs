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
//! As with migration 000006, every instance must run the new code once this has run.
//! `down` turns the bytes back into hex text.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One column of hex text to turn into bytes.
struct HexColumn {
    table: &'static str,
    column: &'static str,
    not_null: bool,
    /// Its text type before (`varchar(64)`, `text`): the binary type keeps its width.
    text_type: &'static str,
}

const COLUMNS: [HexColumn; 8] = [
    HexColumn { table: "persons", column: "id_hash", not_null: true, text_type: "varchar(64)" },
    HexColumn { table: "persons", column: "id_enc", not_null: true, text_type: "varchar(200)" },
    HexColumn { table: "families", column: "phone_hash", not_null: false, text_type: "varchar(64)" },
    HexColumn { table: "families", column: "phone_enc", not_null: false, text_type: "varchar(200)" },
    HexColumn { table: "agents", column: "phone_hash", not_null: false, text_type: "varchar(32)" },
    HexColumn { table: "agents", column: "phone_enc", not_null: false, text_type: "text" },
    HexColumn { table: "outbox", column: "recipient_enc", not_null: true, text_type: "varchar(200)" },
    HexColumn { table: "claims", column: "bank_enc", not_null: false, text_type: "text" },
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

    /// The statements that turn the column's hex text into bytes.
    fn to_bytes(&self, backend: DbBackend) -> Vec<String> {
        let HexColumn { table, column, .. } = self;
        match backend {
            DbBackend::Sqlite => {
                vec![format!("UPDATE {table} SET {column} = unhex({column}) WHERE typeof({column}) = 'text'")]
            }
            DbBackend::Postgres => vec![format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING decode({column}, 'hex')"
            )],
            DbBackend::MySql => vec![
                format!("ALTER TABLE {table} MODIFY {column} {} {}", self.mysql_binary_type(), self.null()),
                format!("UPDATE {table} SET {column} = UNHEX({column}) WHERE {column} IS NOT NULL"),
            ],
        }
    }

    /// The statements that turn the column's bytes back into hex text.
    fn to_hex(&self, backend: DbBackend) -> Vec<String> {
        let HexColumn { table, column, text_type, .. } = self;
        match backend {
            DbBackend::Sqlite => {
                vec![format!(
                    "UPDATE {table} SET {column} = lower(hex({column})) WHERE typeof({column}) = 'blob'"
                )]
            }
            DbBackend::Postgres => vec![format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE {text_type} USING encode({column}, 'hex')"
            )],
            DbBackend::MySql => vec![
                format!("UPDATE {table} SET {column} = LOWER(HEX({column})) WHERE {column} IS NOT NULL"),
                format!("ALTER TABLE {table} MODIFY {column} {text_type} {}", self.null()),
            ],
        }
    }
}

async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        run(manager, COLUMNS.iter().flat_map(|c| c.to_bytes(backend)).collect()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        run(manager, COLUMNS.iter().flat_map(|c| c.to_hex(backend)).collect()).await
    }
}
