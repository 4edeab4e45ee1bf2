//! The count of each user's exact look-ups by ID or phone number in the current window
//! (`lookups.rs`): one row per user, changed by one conditional UPDATE.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LookupQuotas {
    Table,
    Username,
    WindowStart,
    Used,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LookupQuotas::Table)
                    .col(ColumnDef::new(LookupQuotas::Username).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(LookupQuotas::WindowStart).big_integer().not_null())
                    .col(ColumnDef::new(LookupQuotas::Used).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LookupQuotas::Table).to_owned()).await
    }
}
