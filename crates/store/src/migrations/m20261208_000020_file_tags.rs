//! What a file is within its record (`files.tag`): for a claim's papers, the code of the
//! paper it shows (`id_card`, `invoices` …), so that a paper arrives as files and the
//! checklist reads which papers they are. Empty for activity photos.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Files {
    Table,
    Tag,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Files::Table)
                    .add_column(ColumnDef::new(Files::Tag).string_len(40).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Files::Table).drop_column(Files::Tag).to_owned()).await
    }
}
