//! The outbox: messages to families, each written once (a unique dedup key), sealed
//! recipient, claimed by one sender at a time (a conditional UPDATE); and the families who
//! opted out of messages.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    DedupKey,
    FamilyId,
    PolicyId,
    VillageCode,
    RecipientEnc,
    RecipientMasked,
    Channel,
    Template,
    Body,
    DueAt,
    State,
    Attempts,
    NextAttemptAt,
    ClaimToken,
    SentAt,
    Error,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MessageOptOuts {
    Table,
    FamilyId,
    RecordedBy,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(ColumnDef::new(Outbox::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Outbox::DedupKey).string_len(100).not_null().unique_key())
                    .col(ColumnDef::new(Outbox::FamilyId).big_integer().not_null())
                    .col(ColumnDef::new(Outbox::PolicyId).big_integer().null())
                    .col(ColumnDef::new(Outbox::VillageCode).string_len(12).not_null())
                    .col(ColumnDef::new(Outbox::RecipientEnc).string_len(200).not_null())
                    .col(ColumnDef::new(Outbox::RecipientMasked).string_len(16).not_null())
                    .col(ColumnDef::new(Outbox::Channel).string_len(16).not_null())
                    .col(ColumnDef::new(Outbox::Template).string_len(40).not_null())
                    .col(ColumnDef::new(Outbox::Body).string_len(500).not_null())
                    .col(ColumnDef::new(Outbox::DueAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Outbox::State).string_len(16).not_null())
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                    .col(ColumnDef::new(Outbox::NextAttemptAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Outbox::ClaimToken).string_len(40).null())
                    .col(ColumnDef::new(Outbox::SentAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Outbox::Error).string_len(300).null())
                    .col(ColumnDef::new(Outbox::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_state_next")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_policy")
                    .table(Outbox::Table)
                    .col(Outbox::PolicyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageOptOuts::Table)
                    .col(ColumnDef::new(MessageOptOuts::FamilyId).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(MessageOptOuts::RecordedBy).string_len(64).not_null())
                    .col(ColumnDef::new(MessageOptOuts::RecordedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MessageOptOuts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Outbox::Table).to_owned()).await
    }
}
