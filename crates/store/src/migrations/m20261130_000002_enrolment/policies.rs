//! Products, packages, policies, their insured members, products and cover slots.

use sea_orm_migration::prelude::*;

use super::idens::*;
use super::{fk, id, index};

pub(super) async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Products::Table)
                .col(id(Products::Id))
                .col(ColumnDef::new(Products::Code).string_len(32).not_null())
                .col(ColumnDef::new(Products::Year).integer().not_null())
                .col(ColumnDef::new(Products::Name).string_len(100).not_null())
                .col(ColumnDef::new(Products::Kind).string_len(8).not_null())
                .col(ColumnDef::new(Products::InsurerOrgId).big_integer().null())
                .col(ColumnDef::new(Products::Terms).text().not_null())
                .col(ColumnDef::new(Products::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(Products::Table, Products::InsurerOrgId, Orgs::Table, Orgs::Id))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_products_code_year",
        Products::Table,
        vec![Products::Code.into_iden(), Products::Year.into_iden()],
        true,
    )
    .await?;

    manager
        .create_table(
            Table::create()
                .table(Packages::Table)
                .col(id(Packages::Id))
                .col(ColumnDef::new(Packages::Code).string_len(32).not_null())
                .col(ColumnDef::new(Packages::Year).integer().not_null())
                .col(ColumnDef::new(Packages::Name).string_len(100).not_null())
                .col(ColumnDef::new(Packages::BaseProductId).big_integer().not_null())
                .col(ColumnDef::new(Packages::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(Packages::Table, Packages::BaseProductId, Products::Table, Products::Id))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_packages_code_year",
        Packages::Table,
        vec![Packages::Code.into_iden(), Packages::Year.into_iden()],
        true,
    )
    .await?;

    manager
        .create_table(
            Table::create()
                .table(PackageAddons::Table)
                .col(ColumnDef::new(PackageAddons::PackageId).big_integer().not_null())
                .col(ColumnDef::new(PackageAddons::ProductId).big_integer().not_null())
                .primary_key(Index::create().col(PackageAddons::PackageId).col(PackageAddons::ProductId))
                .foreign_key(&mut fk(
                    PackageAddons::Table,
                    PackageAddons::PackageId,
                    Packages::Table,
                    Packages::Id,
                ))
                .foreign_key(&mut fk(
                    PackageAddons::Table,
                    PackageAddons::ProductId,
                    Products::Table,
                    Products::Id,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(Policies::Table)
                .col(id(Policies::Id))
                .col(ColumnDef::new(Policies::FamilyId).big_integer().not_null())
                .col(ColumnDef::new(Policies::PackageId).big_integer().not_null())
                .col(ColumnDef::new(Policies::VillageCode).string_len(12).not_null())
                .col(ColumnDef::new(Policies::Year).integer().not_null())
                .col(ColumnDef::new(Policies::StartDate).date().not_null())
                .col(ColumnDef::new(Policies::EndDate).date().not_null())
                .col(ColumnDef::new(Policies::Shares).integer().not_null())
                .col(ColumnDef::new(Policies::Status).string_len(16).not_null())
                .col(ColumnDef::new(Policies::Channel).string_len(16).not_null())
                .col(ColumnDef::new(Policies::PremiumFen).big_integer().not_null())
                .col(ColumnDef::new(Policies::FamilyFen).big_integer().not_null())
                .col(ColumnDef::new(Policies::PaidFen).big_integer().not_null())
                .col(ColumnDef::new(Policies::PolicyNo).string_len(40).null().unique_key())
                .col(ColumnDef::new(Policies::CertCode).string_len(16).not_null().unique_key())
                .col(ColumnDef::new(Policies::CreatedBy).string_len(64).not_null())
                .col(ColumnDef::new(Policies::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Policies::SubmittedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Policies::UnderwrittenAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Policies::UnderwrittenBy).string_len(64).null())
                .col(ColumnDef::new(Policies::CancelledAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Policies::CancelReason).string_len(200).null())
                .foreign_key(&mut fk(Policies::Table, Policies::FamilyId, Families::Table, Families::Id))
                .foreign_key(&mut fk(Policies::Table, Policies::PackageId, Packages::Table, Packages::Id))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_policies_village",
        Policies::Table,
        vec![Policies::VillageCode.into_iden(), Policies::Year.into_iden()],
        false,
    )
    .await?;
    index(manager, "idx_policies_family", Policies::Table, vec![Policies::FamilyId.into_iden()], false)
        .await?;
    index(manager, "idx_policies_status", Policies::Table, vec![Policies::Status.into_iden()], false).await?;

    manager
        .create_table(
            Table::create()
                .table(PolicyMembers::Table)
                .col(ColumnDef::new(PolicyMembers::PolicyId).big_integer().not_null())
                .col(ColumnDef::new(PolicyMembers::PersonId).big_integer().not_null())
                .col(ColumnDef::new(PolicyMembers::AgeAtStart).integer().not_null())
                .primary_key(Index::create().col(PolicyMembers::PolicyId).col(PolicyMembers::PersonId))
                .foreign_key(&mut fk(
                    PolicyMembers::Table,
                    PolicyMembers::PolicyId,
                    Policies::Table,
                    Policies::Id,
                ))
                .foreign_key(&mut fk(
                    PolicyMembers::Table,
                    PolicyMembers::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_policy_members_person",
        PolicyMembers::Table,
        vec![PolicyMembers::PersonId.into_iden()],
        false,
    )
    .await?;

    // One person, one product, one year: overlapping cover is refused by the database.
    // A cancelled policy gives its slots back; its insured list stays in policy_members.
    manager
        .create_table(
            Table::create()
                .table(CoverSlots::Table)
                .col(ColumnDef::new(CoverSlots::PersonId).big_integer().not_null())
                .col(ColumnDef::new(CoverSlots::ProductId).big_integer().not_null())
                .col(ColumnDef::new(CoverSlots::Year).integer().not_null())
                .col(ColumnDef::new(CoverSlots::PolicyId).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(CoverSlots::PersonId)
                        .col(CoverSlots::ProductId)
                        .col(CoverSlots::Year),
                )
                .foreign_key(&mut fk(CoverSlots::Table, CoverSlots::PolicyId, Policies::Table, Policies::Id))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_cover_slots_policy",
        CoverSlots::Table,
        vec![CoverSlots::PolicyId.into_iden()],
        false,
    )
    .await?;

    manager
        .create_table(
            Table::create()
                .table(PolicyProducts::Table)
                .col(ColumnDef::new(PolicyProducts::PolicyId).big_integer().not_null())
                .col(ColumnDef::new(PolicyProducts::ProductId).big_integer().not_null())
                .col(ColumnDef::new(PolicyProducts::PremiumFen).big_integer().not_null())
                .primary_key(Index::create().col(PolicyProducts::PolicyId).col(PolicyProducts::ProductId))
                .foreign_key(&mut fk(
                    PolicyProducts::Table,
                    PolicyProducts::PolicyId,
                    Policies::Table,
                    Policies::Id,
                ))
                .foreign_key(&mut fk(
                    PolicyProducts::Table,
                    PolicyProducts::ProductId,
                    Products::Table,
                    Products::Id,
                ))
                .to_owned(),
        )
        .await?;
    Ok(())
}
