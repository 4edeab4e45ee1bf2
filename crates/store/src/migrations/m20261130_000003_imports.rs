//! Import jobs: an uploaded file, its column choices, its preview and the progress of its
//! commit, kept in the database so any server instance can show or finish the job.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    Id,
    Kind,
    FileName,
    FileBytes,
    RegionCode,
    CreatedBy,
    CreatedAt,
    Overrides,
    Status,
    Preview,
    Done,
    Total,
    Message,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // MySQL's BLOB stops at 64 KiB; a county roster is megabytes.
        let mut bytes = ColumnDef::new(ImportJobs::FileBytes);
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::MySql => bytes.custom(Alias::new("LONGBLOB")),
            _ => bytes.blob(),
        };
        manager
            .create_table(
                Table::create()
                    .table(ImportJobs::Table)
                    .col(
                        ColumnDef::new(ImportJobs::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ImportJobs::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(ImportJobs::FileName).string_len(200).not_null())
                    .col(bytes.not_null())
                    .col(ColumnDef::new(ImportJobs::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(ImportJobs::CreatedBy).string_len(64).not_null())
                    .col(ColumnDef::new(ImportJobs::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ImportJobs::Overrides).string_len(1000).not_null())
                    .col(ColumnDef::new(ImportJobs::Status).string_len(16).not_null())
                    .col(ColumnDef::new(ImportJobs::Preview).text().null())
                    .col(ColumnDef::new(ImportJobs::Done).big_integer().not_null())
                    .col(ColumnDef::new(ImportJobs::Total).big_integer().not_null())
                    .col(ColumnDef::new(ImportJobs::Message).string_len(1000).not_null())
                    .col(ColumnDef::new(ImportJobs::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_import_jobs_region")
                    .table(ImportJobs::Table)
                    .col(ImportJobs::RegionCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the imports schema cannot be rolled back".to_owned()))
    }
}
