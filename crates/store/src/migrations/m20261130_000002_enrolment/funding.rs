//! Funding sources, subsidy rules, the premium split and payments.

use sea_orm_migration::prelude::*;

use super::idens::*;
use super::{fk, id, index};

pub(super) async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(FundingSources::Table)
                .col(id(FundingSources::Id))
                .col(ColumnDef::new(FundingSources::Name).string_len(100).not_null())
                .col(ColumnDef::new(FundingSources::Kind).string_len(24).not_null())
                .col(ColumnDef::new(FundingSources::Payer).string_len(100).not_null())
                .col(ColumnDef::new(FundingSources::Uscc).string_len(18).null())
                .col(ColumnDef::new(FundingSources::Year).integer().not_null())
                .col(ColumnDef::new(FundingSources::RegionCode).string_len(12).not_null())
                .col(ColumnDef::new(FundingSources::PledgedFen).big_integer().not_null())
                .col(ColumnDef::new(FundingSources::AllocatedFen).big_integer().not_null())
                .col(ColumnDef::new(FundingSources::ReceivedFen).big_integer().not_null())
                .col(ColumnDef::new(FundingSources::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    FundingSources::Table,
                    FundingSources::RegionCode,
                    Regions::Table,
                    Regions::Code,
                ))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_funding_sources_name",
        FundingSources::Table,
        vec![FundingSources::Name.into_iden(), FundingSources::Year.into_iden()],
        true,
    )
    .await?;

    manager
        .create_table(
            Table::create()
                .table(SubsidyRules::Table)
                .col(id(SubsidyRules::Id))
                .col(ColumnDef::new(SubsidyRules::SourceId).big_integer().not_null())
                .col(ColumnDef::new(SubsidyRules::Name).string_len(100).not_null())
                .col(ColumnDef::new(SubsidyRules::Priority).integer().not_null())
                .col(ColumnDef::new(SubsidyRules::RegionCode).string_len(12).null())
                .col(ColumnDef::new(SubsidyRules::Category).string_len(32).null())
                .col(ColumnDef::new(SubsidyRules::Poverty).string_len(16).null())
                .col(ColumnDef::new(SubsidyRules::PackageId).big_integer().null())
                .col(ColumnDef::new(SubsidyRules::AmountKind).string_len(16).not_null())
                .col(ColumnDef::new(SubsidyRules::AmountValue).big_integer().not_null())
                .col(ColumnDef::new(SubsidyRules::Active).boolean().not_null())
                .col(ColumnDef::new(SubsidyRules::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    SubsidyRules::Table,
                    SubsidyRules::SourceId,
                    FundingSources::Table,
                    FundingSources::Id,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(PolicyFunding::Table)
                .col(id(PolicyFunding::Id))
                .col(ColumnDef::new(PolicyFunding::PolicyId).big_integer().not_null())
                .col(ColumnDef::new(PolicyFunding::SourceId).big_integer().not_null())
                .col(ColumnDef::new(PolicyFunding::RuleId).big_integer().not_null())
                .col(ColumnDef::new(PolicyFunding::AmountFen).big_integer().not_null())
                .foreign_key(&mut fk(
                    PolicyFunding::Table,
                    PolicyFunding::PolicyId,
                    Policies::Table,
                    Policies::Id,
                ))
                .foreign_key(&mut fk(
                    PolicyFunding::Table,
                    PolicyFunding::SourceId,
                    FundingSources::Table,
                    FundingSources::Id,
                ))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_policy_funding_policy",
        PolicyFunding::Table,
        vec![PolicyFunding::PolicyId.into_iden()],
        false,
    )
    .await?;
    index(
        manager,
        "idx_policy_funding_source",
        PolicyFunding::Table,
        vec![PolicyFunding::SourceId.into_iden()],
        false,
    )
    .await?;

    manager
        .create_table(
            Table::create()
                .table(SourceReceipts::Table)
                .col(id(SourceReceipts::Id))
                .col(ColumnDef::new(SourceReceipts::SourceId).big_integer().not_null())
                .col(ColumnDef::new(SourceReceipts::AmountFen).big_integer().not_null())
                .col(ColumnDef::new(SourceReceipts::ReceivedOn).date().not_null())
                .col(ColumnDef::new(SourceReceipts::Note).string_len(200).not_null())
                .col(ColumnDef::new(SourceReceipts::RecordedBy).string_len(64).not_null())
                .col(ColumnDef::new(SourceReceipts::RecordedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    SourceReceipts::Table,
                    SourceReceipts::SourceId,
                    FundingSources::Table,
                    FundingSources::Id,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(Payments::Table)
                .col(id(Payments::Id))
                .col(ColumnDef::new(Payments::PolicyId).big_integer().not_null())
                .col(ColumnDef::new(Payments::AmountFen).big_integer().not_null())
                .col(ColumnDef::new(Payments::Method).string_len(16).not_null())
                .col(ColumnDef::new(Payments::ReceiptNo).string_len(40).not_null().unique_key())
                .col(ColumnDef::new(Payments::PaidOn).date().not_null())
                .col(ColumnDef::new(Payments::RecordedBy).string_len(64).not_null())
                .col(ColumnDef::new(Payments::RecordedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(Payments::Table, Payments::PolicyId, Policies::Table, Policies::Id))
                .to_owned(),
        )
        .await?;
    Ok(())
}
