//! Targets (任务指标) per region and scheme year, and the coverage base entered per village
//! (`targets`); and the indexes the reports count policies from: a year's policies of one
//! status within a region with their family, premium and underwriting time, read from the
//! index alone; and a family's policies by year and status (was a family insured again
//! the next year?).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Targets {
    Table,
    Id,
    RegionCode,
    Year,
    Households,
    Persons,
    RenewalPermille,
    EligibleHouseholds,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Year,
    Status,
    VillageCode,
    FamilyId,
    PremiumFen,
    UnderwrittenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Targets::Table)
                    .col(ColumnDef::new(Targets::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Targets::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Targets::Year).integer().not_null())
                    .col(ColumnDef::new(Targets::Households).big_integer().null())
                    .col(ColumnDef::new(Targets::Persons).big_integer().null())
                    .col(ColumnDef::new(Targets::RenewalPermille).integer().null())
                    .col(ColumnDef::new(Targets::EligibleHouseholds).big_integer().null())
                    .col(ColumnDef::new(Targets::UpdatedBy).string_len(64).not_null())
                    .col(ColumnDef::new(Targets::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Targets::Table, Targets::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_targets_region_year")
                    .table(Targets::Table)
                    .col(Targets::RegionCode)
                    .col(Targets::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_policies_year_status_village")
                    .table(Policies::Table)
                    .col(Policies::Year)
                    .col(Policies::Status)
                    .col(Policies::VillageCode)
                    .col(Policies::FamilyId)
                    .col(Policies::PremiumFen)
                    .col(Policies::UnderwrittenAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_policies_family_year_status")
                    .table(Policies::Table)
                    .col(Policies::FamilyId)
                    .col(Policies::Year)
                    .col(Policies::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_policies_year_status_village", "idx_policies_family_year_status"] {
            manager.drop_index(Index::drop().name(name).table(Policies::Table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Targets::Table).to_owned()).await
    }
}
