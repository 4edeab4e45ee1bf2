//! Renewal season: the link from each renewed policy to last year's (one renewal per
//! policy, by its unique key), the follow-up tasks of lapsed families (an agent's to-do
//! list), and the index the due lists read (policies by end date and village).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Renewals {
    Table,
    Id,
    PreviousPolicyId,
    PolicyId,
    FamilyId,
    VillageCode,
    Year,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RenewalFollowUps {
    Table,
    Id,
    PolicyId,
    FamilyId,
    VillageCode,
    Year,
    Assignee,
    Status,
    Outcome,
    Note,
    CreatedAt,
    ClosedAt,
    ClosedBy,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Id,
    EndDate,
    VillageCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Renewals::Table)
                    .col(ColumnDef::new(Renewals::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Renewals::PreviousPolicyId).big_integer().not_null().unique_key())
                    .col(ColumnDef::new(Renewals::PolicyId).big_integer().not_null().unique_key())
                    .col(ColumnDef::new(Renewals::FamilyId).big_integer().not_null())
                    .col(ColumnDef::new(Renewals::VillageCode).string_len(12).not_null())
                    .col(ColumnDef::new(Renewals::Year).integer().not_null())
                    .col(ColumnDef::new(Renewals::CreatedBy).string_len(64).not_null())
                    .col(ColumnDef::new(Renewals::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Renewals::Table, Renewals::PreviousPolicyId)
                            .to(Policies::Table, Policies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Renewals::Table, Renewals::PolicyId)
                            .to(Policies::Table, Policies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_renewals_year_village")
                    .table(Renewals::Table)
                    .col(Renewals::Year)
                    .col(Renewals::VillageCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RenewalFollowUps::Table)
                    .col(
                        ColumnDef::new(RenewalFollowUps::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RenewalFollowUps::PolicyId).big_integer().not_null().unique_key())
                    .col(ColumnDef::new(RenewalFollowUps::FamilyId).big_integer().not_null())
                    .col(ColumnDef::new(RenewalFollowUps::VillageCode).string_len(12).not_null())
                    .col(ColumnDef::new(RenewalFollowUps::Year).integer().not_null())
                    .col(ColumnDef::new(RenewalFollowUps::Assignee).string_len(64).null())
                    .col(ColumnDef::new(RenewalFollowUps::Status).string_len(16).not_null())
                    .col(ColumnDef::new(RenewalFollowUps::Outcome).string_len(24).null())
                    .col(ColumnDef::new(RenewalFollowUps::Note).string_len(200).not_null())
                    .col(ColumnDef::new(RenewalFollowUps::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RenewalFollowUps::ClosedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(RenewalFollowUps::ClosedBy).string_len(64).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RenewalFollowUps::Table, RenewalFollowUps::PolicyId)
                            .to(Policies::Table, Policies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_follow_ups_village_status")
                    .table(RenewalFollowUps::Table)
                    .col(RenewalFollowUps::VillageCode)
                    .col(RenewalFollowUps::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_policies_end_village")
                    .table(Policies::Table)
                    .col(Policies::EndDate)
                    .col(Policies::VillageCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_policies_end_village").table(Policies::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(RenewalFollowUps::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Renewals::Table).to_owned()).await
    }
}
