//! Families, persons, member events and consents.

use sea_orm_migration::prelude::*;

use super::idens::*;
use super::{fk, id, index};

pub(super) async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Families::Table)
                .col(id(Families::Id))
                .col(ColumnDef::new(Families::Code).string_len(16).not_null().unique_key())
                .col(ColumnDef::new(Families::VillageCode).string_len(12).not_null())
                .col(ColumnDef::new(Families::Category).string_len(32).not_null())
                .col(ColumnDef::new(Families::Poverty).string_len(16).not_null())
                .col(ColumnDef::new(Families::Address).string_len(200).not_null())
                .col(ColumnDef::new(Families::PhoneEnc).string_len(200).null())
                .col(ColumnDef::new(Families::PhoneHash).string_len(64).null())
                .col(ColumnDef::new(Families::PhoneMasked).string_len(16).null())
                .col(ColumnDef::new(Families::HeadName).string_len(50).not_null())
                .col(ColumnDef::new(Families::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Families::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(Families::Table, Families::VillageCode, Regions::Table, Regions::Code))
                .to_owned(),
        )
        .await?;
    index(manager, "idx_families_village", Families::Table, vec![Families::VillageCode.into_iden()], false)
        .await?;
    index(manager, "idx_families_phone", Families::Table, vec![Families::PhoneHash.into_iden()], false)
        .await?;
    index(manager, "idx_families_head", Families::Table, vec![Families::HeadName.into_iden()], false).await?;

    manager
        .create_table(
            Table::create()
                .table(Persons::Table)
                .col(id(Persons::Id))
                .col(ColumnDef::new(Persons::FamilyId).big_integer().not_null())
                .col(ColumnDef::new(Persons::Name).string_len(50).not_null())
                .col(ColumnDef::new(Persons::IdHash).string_len(64).not_null().unique_key())
                .col(ColumnDef::new(Persons::IdEnc).string_len(200).not_null())
                .col(ColumnDef::new(Persons::IdMasked).string_len(18).not_null())
                .col(ColumnDef::new(Persons::BirthDate).date().not_null())
                .col(ColumnDef::new(Persons::Sex).string_len(8).not_null())
                .col(ColumnDef::new(Persons::Relationship).string_len(16).not_null())
                .col(ColumnDef::new(Persons::Active).boolean().not_null())
                .col(ColumnDef::new(Persons::LeftOn).date().null())
                .col(ColumnDef::new(Persons::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(Persons::Table, Persons::FamilyId, Families::Table, Families::Id))
                .to_owned(),
        )
        .await?;
    index(manager, "idx_persons_family", Persons::Table, vec![Persons::FamilyId.into_iden()], false).await?;
    index(manager, "idx_persons_name", Persons::Table, vec![Persons::Name.into_iden()], false).await?;

    manager
        .create_table(
            Table::create()
                .table(PersonEvents::Table)
                .col(id(PersonEvents::Id))
                .col(ColumnDef::new(PersonEvents::PersonId).big_integer().not_null())
                .col(ColumnDef::new(PersonEvents::FamilyId).big_integer().not_null())
                .col(ColumnDef::new(PersonEvents::Kind).string_len(16).not_null())
                .col(ColumnDef::new(PersonEvents::EventDate).date().not_null())
                .col(ColumnDef::new(PersonEvents::Note).string_len(200).not_null())
                .col(ColumnDef::new(PersonEvents::RecordedBy).string_len(64).not_null())
                .col(ColumnDef::new(PersonEvents::RecordedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk(
                    PersonEvents::Table,
                    PersonEvents::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_person_events_person",
        PersonEvents::Table,
        vec![PersonEvents::PersonId.into_iden()],
        false,
    )
    .await?;

    manager
        .create_table(
            Table::create()
                .table(Consents::Table)
                .col(id(Consents::Id))
                .col(ColumnDef::new(Consents::FamilyId).big_integer().not_null())
                .col(ColumnDef::new(Consents::Kind).string_len(24).not_null())
                .col(ColumnDef::new(Consents::PersonId).big_integer().null())
                .col(ColumnDef::new(Consents::GivenBy).string_len(50).not_null())
                .col(ColumnDef::new(Consents::RecordedBy).string_len(64).not_null())
                .col(ColumnDef::new(Consents::RecordedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Consents::WithdrawnAt).timestamp_with_time_zone().null())
                .foreign_key(&mut fk(Consents::Table, Consents::FamilyId, Families::Table, Families::Id))
                .to_owned(),
        )
        .await?;
    index(manager, "idx_consents_family", Consents::Table, vec![Consents::FamilyId.into_iden()], false)
        .await?;
    Ok(())
}
