//! `idx_policies_family` (family_id) is a prefix of `idx_policies_family_year_status`
//! (family_id, year, status), which serves every read it served and, on MySQL, the foreign
//! key to `families`. Each policy written kept both up to date: the batch renewal and
//! enrolment write tens of thousands at a time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Policies {
    Table,
    FamilyId,
}

const NAME: &str = "idx_policies_family";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(Policies::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name(NAME).table(Policies::Table).col(Policies::FamilyId).to_owned(),
            )
            .await
    }
}
