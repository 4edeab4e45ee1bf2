//! The tables and columns of this migration.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub(super) enum Regions {
    Table,
    Code,
}

#[derive(DeriveIden)]
pub(super) enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
pub(super) enum Families {
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
pub(super) enum Persons {
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
pub(super) enum PersonEvents {
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
pub(super) enum Consents {
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
pub(super) enum Products {
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
pub(super) enum Packages {
    Table,
    Id,
    Code,
    Year,
    Name,
    BaseProductId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum PackageAddons {
    Table,
    PackageId,
    ProductId,
}

#[derive(DeriveIden)]
pub(super) enum Policies {
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
pub(super) enum PolicyMembers {
    Table,
    PolicyId,
    PersonId,
    AgeAtStart,
}

#[derive(DeriveIden)]
pub(super) enum CoverSlots {
    Table,
    PersonId,
    ProductId,
    Year,
    PolicyId,
}

#[derive(DeriveIden)]
pub(super) enum PolicyProducts {
    Table,
    PolicyId,
    ProductId,
    PremiumFen,
}

#[derive(DeriveIden)]
pub(super) enum FundingSources {
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
pub(super) enum SubsidyRules {
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
pub(super) enum PolicyFunding {
    Table,
    Id,
    PolicyId,
    SourceId,
    RuleId,
    AmountFen,
}

#[derive(DeriveIden)]
pub(super) enum SourceReceipts {
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
pub(super) enum Payments {
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
