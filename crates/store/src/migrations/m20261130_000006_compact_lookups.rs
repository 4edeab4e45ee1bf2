//! Smaller look-up keys for a city's million persons: the keyed hashes of ID and phone
//! numbers keep their first 128 bits (32 hex characters instead of 64), which halves the
//! largest index of the database and the pages a roster import rewrites; a collision
//! among even a billion numbers stays below one chance in 10^20. The hashes already
//! stored are cut the same way, so every look-up finds them. Every instance must run the
//! new code once this has run (README, "Databases"): an older one would go on writing
//! long hashes that the new code neither finds nor sees as duplicates. And the index on the heads'
//! names goes: no query filters on it, and every registration paid for it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Families {
    Table,
    HeadName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // SUBSTR is the same function on SQLite, PostgreSQL and MySQL.
        db.execute_unprepared(
            "UPDATE persons SET id_hash = SUBSTR(id_hash, 1, 32) WHERE LENGTH(id_hash) > 32",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE families SET phone_hash = SUBSTR(phone_hash, 1, 32) WHERE LENGTH(phone_hash) > 32",
        )
        .await?;
        manager.drop_index(Index::drop().name("idx_families_head").table(Families::Table).to_owned()).await
    }

    /// The index comes back; the hashes stay short (their cut bits are gone), and the
    /// earlier code would no longer find them: going back needs a backup from before.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_families_head")
                    .table(Families::Table)
                    .col(Families::HeadName)
                    .to_owned(),
            )
            .await
    }
}
