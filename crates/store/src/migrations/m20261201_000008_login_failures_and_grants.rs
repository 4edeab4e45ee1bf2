//! Failed logins counted per (typed name, client address), so that a stranger's guesses
//! lock out only the stranger's address; and grants that let a lower level spend a
//! funding source it does not run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Username,
    Ip,
    Failures,
    LockedUntil,
    LastFailureAt,
}

#[derive(DeriveIden)]
enum FundingGrants {
    Table,
    Id,
    SourceId,
    RegionCode,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FundingSources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(
                        ColumnDef::new(LoginFailures::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginFailures::Username).string_len(64).not_null())
                    .col(ColumnDef::new(LoginFailures::Ip).string_len(64).not_null())
                    .col(ColumnDef::new(LoginFailures::Failures).integer().not_null())
                    .col(ColumnDef::new(LoginFailures::LockedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(LoginFailures::LastFailureAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_failures_name_ip")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::Username)
                    .col(LoginFailures::Ip)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FundingGrants::Table)
                    .col(
                        ColumnDef::new(FundingGrants::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FundingGrants::SourceId).big_integer().not_null())
                    .col(ColumnDef::new(FundingGrants::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(FundingGrants::CreatedBy).big_integer().null())
                    .col(ColumnDef::new(FundingGrants::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(FundingGrants::Table, FundingGrants::SourceId)
                            .to(FundingSources::Table, FundingSources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(FundingGrants::Table, FundingGrants::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_funding_grants_source_region")
                    .table(FundingGrants::Table)
                    .col(FundingGrants::SourceId)
                    .col(FundingGrants::RegionCode)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FundingGrants::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(LoginFailures::Table).to_owned()).await
    }
}
