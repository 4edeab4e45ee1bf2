//! Claims (理赔): the claims with their dates, decision and payment; the papers received;
//! the ledger of limits a family's or a person's claims share within one policy; the
//! working-day calendar the city edits.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Claims {
    Table,
    Id,
    PolicyId,
    FamilyId,
    PersonId,
    VillageCode,
    Kind,
    IncidentDate,
    Place,
    Description,
    ReportedOn,
    Channel,
    ReportedBy,
    Status,
    ClaimedFen,
    FastLane,
    ExpensesFen,
    OtherPaidFen,
    Days,
    Grade,
    MissingPapers,
    MissingToldOn,
    PapersCompleteOn,
    DecidedOn,
    ProposedFen,
    ApprovedFen,
    OverrideReason,
    RefusalReasons,
    RefusalText,
    RefusalNotifiedOn,
    AdvanceFen,
    AdvancePaidOn,
    PaidOn,
    PaidFen,
    PaymentRef,
    Beneficiary,
    BankEnc,
    BankMasked,
    Satisfaction,
    SatisfactionComment,
    DueOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ClaimPapers {
    Table,
    ClaimId,
    Paper,
    ReceivedOn,
    RecordedBy,
}

#[derive(DeriveIden)]
enum ClaimLimits {
    Table,
    PolicyId,
    PersonId,
    Cover,
    Taken,
}

#[derive(DeriveIden)]
enum WorkCalendars {
    Table,
    Id,
    Body,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Claims as C;
        let text = |c: C, len: u32| ColumnDef::new(c).string_len(len).not_null().to_owned();
        let maybe = |c: C, len: u32| ColumnDef::new(c).string_len(len).null().to_owned();
        let fen = |c: C| ColumnDef::new(c).big_integer().null().to_owned();
        let day = |c: C| ColumnDef::new(c).date().null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(C::PolicyId).big_integer().not_null())
                    .col(ColumnDef::new(C::FamilyId).big_integer().not_null())
                    .col(ColumnDef::new(C::PersonId).big_integer().not_null())
                    .col(text(C::VillageCode, 12))
                    .col(text(C::Kind, 32))
                    .col(ColumnDef::new(C::IncidentDate).date().not_null())
                    .col(text(C::Place, 100))
                    .col(text(C::Description, 500))
                    .col(ColumnDef::new(C::ReportedOn).date().not_null())
                    .col(text(C::Channel, 20))
                    .col(text(C::ReportedBy, 64))
                    .col(text(C::Status, 20))
                    .col(ColumnDef::new(C::ClaimedFen).big_integer().not_null())
                    .col(ColumnDef::new(C::FastLane).boolean().not_null())
                    .col(fen(C::ExpensesFen))
                    .col(fen(C::OtherPaidFen))
                    .col(ColumnDef::new(C::Days).integer().null())
                    .col(ColumnDef::new(C::Grade).integer().null())
                    .col(maybe(C::MissingPapers, 400))
                    .col(day(C::MissingToldOn))
                    .col(day(C::PapersCompleteOn))
                    .col(day(C::DecidedOn))
                    .col(fen(C::ProposedFen))
                    .col(fen(C::ApprovedFen))
                    .col(maybe(C::OverrideReason, 200))
                    .col(maybe(C::RefusalReasons, 200))
                    .col(maybe(C::RefusalText, 500))
                    .col(day(C::RefusalNotifiedOn))
                    .col(ColumnDef::new(C::AdvanceFen).big_integer().not_null().default(0))
                    .col(day(C::AdvancePaidOn))
                    .col(day(C::PaidOn))
                    .col(fen(C::PaidFen))
                    .col(maybe(C::PaymentRef, 64))
                    .col(maybe(C::Beneficiary, 64))
                    .col(ColumnDef::new(C::BankEnc).text().null())
                    .col(maybe(C::BankMasked, 40))
                    .col(ColumnDef::new(C::Satisfaction).integer().null())
                    .col(maybe(C::SatisfactionComment, 200))
                    .col(day(C::DueOn))
                    .col(ColumnDef::new(C::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // One claim per person, incident day and kind: a second report of it is flagged.
        manager
            .create_index(
                Index::create()
                    .name("ux_claims_incident")
                    .table(C::Table)
                    .col(C::PersonId)
                    .col(C::IncidentDate)
                    .col(C::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The queues: a region's claims by the clock.
        manager
            .create_index(
                Index::create()
                    .name("ix_claims_region_due")
                    .table(C::Table)
                    .col(C::VillageCode)
                    .col(C::DueOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_claims_policy").table(C::Table).col(C::PolicyId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClaimPapers::Table)
                    .col(ColumnDef::new(ClaimPapers::ClaimId).big_integer().not_null())
                    .col(ColumnDef::new(ClaimPapers::Paper).string_len(32).not_null())
                    .col(ColumnDef::new(ClaimPapers::ReceivedOn).date().not_null())
                    .col(ColumnDef::new(ClaimPapers::RecordedBy).string_len(64).not_null())
                    .primary_key(Index::create().col(ClaimPapers::ClaimId).col(ClaimPapers::Paper))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClaimLimits::Table)
                    .col(ColumnDef::new(ClaimLimits::PolicyId).big_integer().not_null())
                    .col(ColumnDef::new(ClaimLimits::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(ClaimLimits::Cover).string_len(20).not_null())
                    .col(ColumnDef::new(ClaimLimits::Taken).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(ClaimLimits::PolicyId)
                            .col(ClaimLimits::PersonId)
                            .col(ClaimLimits::Cover),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkCalendars::Table)
                    .col(ColumnDef::new(WorkCalendars::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(WorkCalendars::Body).text().not_null())
                    .col(ColumnDef::new(WorkCalendars::UpdatedBy).string_len(64).not_null())
                    .col(ColumnDef::new(WorkCalendars::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WorkCalendars::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ClaimLimits::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ClaimPapers::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Claims::Table).to_owned()).await?;
        Ok(())
    }
}
