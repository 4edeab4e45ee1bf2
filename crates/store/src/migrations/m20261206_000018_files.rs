//! Uploaded files (claim papers, publicity activity photos): one row per image, naming what
//! it belongs to (`purpose` and `owner_id`), the region its record lies in (every read is
//! scoped by it), and the key of its sealed blobs in the object store (the image and its
//! thumbnail). The bytes themselves never enter the database.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    Purpose,
    OwnerId,
    RegionCode,
    Name,
    ContentType,
    Width,
    Height,
    Bytes,
    BlobKey,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(ColumnDef::new(Files::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Files::Purpose).string_len(20).not_null())
                    .col(ColumnDef::new(Files::OwnerId).big_integer().not_null())
                    .col(ColumnDef::new(Files::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Files::Name).string_len(400).not_null())
                    .col(ColumnDef::new(Files::ContentType).string_len(40).not_null())
                    .col(ColumnDef::new(Files::Width).integer().not_null())
                    .col(ColumnDef::new(Files::Height).integer().not_null())
                    .col(ColumnDef::new(Files::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(Files::BlobKey).string_len(64).not_null())
                    .col(ColumnDef::new(Files::CreatedBy).string_len(64).not_null())
                    .col(ColumnDef::new(Files::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_purpose_owner")
                    .table(Files::Table)
                    .col(Files::Purpose)
                    .col(Files::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_blob_key")
                    .table(Files::Table)
                    .col(Files::BlobKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Files::Table).to_owned()).await
    }
}
