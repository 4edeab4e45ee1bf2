//! What the renewal rate and the due lists read, kept where one index range holds it:
//! - `policies.persons`: how many persons a policy insures (its members never change once
//!   written), so that persons are summed from the policies' index instead of counted
//!   through `policy_members`;
//! - `renewals.previous_village_code`, `renewals.persons` and `renewals.renewed_on` (the
//!   China date of the renewal): the renewed households and persons of a year by the due
//!   policy's village, and the season's curve, from `renewals` alone;
//! - the due lists' index, policies by status, end date and village (in the due list's
//!   order), which also serves every look-up by status alone.
//!
//! Existing rows are filled in from the tables they summarise.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Policies {
    Table,
    Persons,
    Year,
    Status,
    VillageCode,
    FamilyId,
    PremiumFen,
    UnderwrittenAt,
    EndDate,
}

#[derive(DeriveIden)]
enum Renewals {
    Table,
    Year,
    Persons,
    PreviousVillageCode,
    RenewedOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table(Policies::Table)
                    .add_column(ColumnDef::new(Policies::Persons).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for column in [
            ColumnDef::new(Renewals::Persons).integer().not_null().default(0).to_owned(),
            ColumnDef::new(Renewals::PreviousVillageCode).string_len(12).not_null().default("").to_owned(),
            ColumnDef::new(Renewals::RenewedOn).date().not_null().default("2000-01-01").to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Renewals::Table).add_column(column).to_owned()).await?;
        }
        db.execute_unprepared(
            "UPDATE policies SET persons = \
             (SELECT COUNT(*) FROM policy_members WHERE policy_members.policy_id = policies.id)",
        )
        .await?;
        let renewed_on = match manager.get_database_backend() {
            DbBackend::Sqlite => "date(renewals.created_at, '+8 hours')",
            DbBackend::Postgres => {
                "CAST((renewals.created_at AT TIME ZONE 'UTC') + INTERVAL '8 hours' AS DATE)"
            }
            DbBackend::MySql => "DATE(DATE_ADD(renewals.created_at, INTERVAL 8 HOUR))",
        };
        db.execute_unprepared(&format!(
            "UPDATE renewals SET \
             persons = (SELECT persons FROM policies WHERE policies.id = renewals.policy_id), \
             previous_village_code = \
             (SELECT village_code FROM policies WHERE policies.id = renewals.previous_policy_id), \
             renewed_on = {renewed_on}"
        ))
        .await?;

        // Replaced under a name of its own: SQLite refused the old name again at once (a
        // pooled connection's snapshot still held the dropped index).
        manager
            .drop_index(
                Index::drop().name("idx_policies_year_status_village").table(Policies::Table).to_owned(),
            )
            .await?;
        manager.create_index(year_status_village("idx_policies_year_status_village_persons", true)).await?;
        manager
            .drop_index(Index::drop().name("idx_policies_status").table(Policies::Table).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_policies_status_end_village")
                    .table(Policies::Table)
                    .col(Policies::Status)
                    .col(Policies::EndDate)
                    .col(Policies::VillageCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_renewals_year_previous_village")
                    .table(Renewals::Table)
                    .col(Renewals::Year)
                    .col(Renewals::PreviousVillageCode)
                    .col(Renewals::Persons)
                    .col(Renewals::RenewedOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("idx_renewals_year_previous_village").table(Renewals::Table).to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop().name("idx_policies_status_end_village").table(Policies::Table).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_policies_status")
                    .table(Policies::Table)
                    .col(Policies::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_policies_year_status_village_persons")
                    .table(Policies::Table)
                    .to_owned(),
            )
            .await?;
        manager.create_index(year_status_village("idx_policies_year_status_village", false)).await?;
        for column in [Renewals::Persons, Renewals::PreviousVillageCode, Renewals::RenewedOn] {
            manager.alter_table(Table::alter().table(Renewals::Table).drop_column(column).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table(Policies::Table).drop_column(Policies::Persons).to_owned())
            .await
    }
}

/// A year's policies by status and village, covering the reports' and the rate's counts
/// (with `persons`, as this migration makes it; without, as migration 000017 did).
fn year_status_village(name: &str, with_persons: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(name)
        .table(Policies::Table)
        .col(Policies::Year)
        .col(Policies::Status)
        .col(Policies::VillageCode)
        .col(Policies::FamilyId)
        .col(Policies::PremiumFen)
        .col(Policies::UnderwrittenAt);
    if with_persons {
        index.col(Policies::Persons);
    }
    index.to_owned()
}
