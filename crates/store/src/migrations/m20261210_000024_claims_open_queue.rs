//! The insurer's queue and the breach list read open claims only: an index led by the
//! status, then the region and the due date, answers both from the index (a county's few
//! hundred open claims) where `ix_claims_region_due` read every claim of the county (tens
//! of thousands after six years) to check its status.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Claims {
    Table,
    Status,
    VillageCode,
    DueOn,
}

const INDEX: &str = "ix_claims_status_region_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Claims::Table)
                    .col(Claims::Status)
                    .col(Claims::VillageCode)
                    .col(Claims::DueOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Claims::Table).to_owned()).await
    }
}
