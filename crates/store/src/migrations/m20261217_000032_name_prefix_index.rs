//! The family search by a member's name asks for names beginning with what was typed
//! (`families.rs`, `name_starts_with`: `LIKE '张%'` on PostgreSQL and MySQL). PostgreSQL
//! answers a `LIKE` prefix from a B-tree index only when the index compares bytes: under
//! any collation but `C` (Debian's default databases are `C.UTF-8`, others `en_US.UTF-8` or
//! `zh_CN.UTF-8`) `idx_persons_name` could not be used, and every search by name read all
//! the persons of the database. On PostgreSQL the index is made again with
//! `varchar_pattern_ops`, which compares bytes whatever the collation and serves `LIKE`
//! prefixes and equality (nothing orders persons by name). SQLite (GLOB) and MySQL (whose
//! `LIKE` prefix is a range of its index under any collation) keep theirs.

use sea_orm_migration::prelude::*;

use super::on_postgres_only;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The statements that make `idx_persons_name` with `columns`.
fn names_index(columns: &str) -> Vec<String> {
    vec![
        "DROP INDEX IF EXISTS idx_persons_name".to_owned(),
        format!("CREATE INDEX idx_persons_name ON persons ({columns})"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres_only(manager, names_index("name varchar_pattern_ops")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres_only(manager, names_index("name")).await
    }
}
