//! The funding report's read from an index alone: the premium parts by policy with their
//! source and amount (`idx_policy_funding_policy_source_amount`), so that a year's parts
//! are summed per source without visiting the table (half the report's time at city
//! scale, `docs/BENCHMARKS.md`). It replaces the index on `policy_id` alone, which it
//! serves as well, so writing a part keeps one index on the policy. Created before the
//! old one is dropped: MariaDB keeps an index for the foreign key on `policy_id`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PolicyFunding {
    Table,
    PolicyId,
    SourceId,
    AmountFen,
}

const COVERING: &str = "idx_policy_funding_policy_source_amount";
const OLD: &str = "idx_policy_funding_policy";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(COVERING)
                    .table(PolicyFunding::Table)
                    .col(PolicyFunding::PolicyId)
                    .col(PolicyFunding::SourceId)
                    .col(PolicyFunding::AmountFen)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(OLD).table(PolicyFunding::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name(OLD).table(PolicyFunding::Table).col(PolicyFunding::PolicyId).to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(COVERING).table(PolicyFunding::Table).to_owned()).await
    }
}
