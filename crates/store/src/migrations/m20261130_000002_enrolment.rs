//! Families and persons (personal data encrypted, with keyed hashes for look-ups), consents,
//! products and packages, policies with their insured members, funding sources, subsidy
//! rules, the premium split, and payments.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Families {
    Table,
    Id,
    Code,
    VillageCode,
    Category,
    Poverty,
    Address,
    PhoneEnc,
    PhoneHash,
    PhoneMasked,
    HeadName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    FamilyId,
    Name,
    IdHash,
    IdEnc,
    IdMasked,
    BirthDate,
    Sex,
    Relationship,
    Active,
    LeftOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PersonEvents {
    Table,
    Id,
    PersonId,
    FamilyId,
    Kind,
    EventDate,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    FamilyId,
    Kind,
    PersonId,
    GivenBy,
    RecordedBy,
    RecordedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Code,
    Year,
    Name,
    Kind,
    InsurerOrgId,
    Terms,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Packages {
    Table,
    Id,
    Code,
    Year,
    Name,
    BaseProductId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PackageAddons {
    Table,
    PackageId,
    ProductId,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Id,
    FamilyId,
    PackageId,
    VillageCode,
    Year,
    StartDate,
    EndDate,
    Shares,
    Status,
    Channel,
    PremiumFen,
    FamilyFen,
    PaidFen,
    PolicyNo,
    CertCode,
    CreatedBy,
    CreatedAt,
    SubmittedAt,
    UnderwrittenAt,
    UnderwrittenBy,
    CancelledAt,
    CancelReason,
}

#[derive(DeriveIden)]
enum PolicyMembers {
    Table,
    PolicyId,
    PersonId,
    AgeAtStart,
}

#[derive(DeriveIden)]
enum CoverSlots {
    Table,
    PersonId,
    ProductId,
    Year,
    PolicyId,
}

#[derive(DeriveIden)]
enum PolicyProducts {
    Table,
    PolicyId,
    ProductId,
    PremiumFen,
}

#[derive(DeriveIden)]
enum FundingSources {
    Table,
    Id,
    Name,
    Kind,
    Payer,
    Uscc,
    Year,
    RegionCode,
    PledgedFen,
    AllocatedFen,
    ReceivedFen,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubsidyRules {
    Table,
    Id,
    SourceId,
    Name,
    Priority,
    RegionCode,
    Category,
    Poverty,
    PackageId,
    AmountKind,
    AmountValue,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PolicyFunding {
    Table,
    Id,
    PolicyId,
    SourceId,
    RuleId,
    AmountFen,
}

#[derive(DeriveIden)]
enum SourceReceipts {
    Table,
    Id,
    SourceId,
    AmountFen,
    ReceivedOn,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    PolicyId,
    AmountFen,
    Method,
    ReceiptNo,
    PaidOn,
    RecordedBy,
    RecordedAt,
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn fk<T: IntoIden + 'static, C: IntoIden, R: IntoIden + 'static, RC: IntoIden>(
    table: T,
    column: C,
    to: R,
    to_column: RC,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(to, to_column).to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create().name(name).table(table).to_owned();
    for column in columns {
        statement.col(column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
                    .foreign_key(&mut fk(
                        Families::Table,
                        Families::VillageCode,
                        Regions::Table,
                        Regions::Code,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_families_village",
            Families::Table,
            vec![Families::VillageCode.into_iden()],
            false,
        )
        .await?;
        index(manager, "idx_families_phone", Families::Table, vec![Families::PhoneHash.into_iden()], false)
            .await?;
        index(manager, "idx_families_head", Families::Table, vec![Families::HeadName.into_iden()], false)
            .await?;

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
        index(manager, "idx_persons_family", Persons::Table, vec![Persons::FamilyId.into_iden()], false)
            .await?;
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
                    .foreign_key(&mut fk(
                        Packages::Table,
                        Packages::BaseProductId,
                        Products::Table,
                        Products::Id,
                    ))
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
        index(manager, "idx_policies_status", Policies::Table, vec![Policies::Status.into_iden()], false)
            .await?;

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
                    .foreign_key(&mut fk(
                        CoverSlots::Table,
                        CoverSlots::PolicyId,
                        Policies::Table,
                        Policies::Id,
                    ))
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

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the enrolment schema cannot be rolled back".to_owned()))
    }
}
