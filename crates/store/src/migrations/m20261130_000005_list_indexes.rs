//! Indexes for the family list's filters: a county's families of one category are counted
//! and paged from the index alone, instead of reading every family row of the county.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Families {
    Table,
    Category,
    VillageCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_families_category_village")
                    .table(Families::Table)
                    .col(Families::Category)
                    .col(Families::VillageCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_families_category_village").table(Families::Table).to_owned())
            .await
    }
}
