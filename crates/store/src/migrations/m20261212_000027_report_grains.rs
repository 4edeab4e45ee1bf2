//! The reports' summary at the grains reports read (`store/src/reports/summary/`):
//!
//! - `report_days`: the season's curve as rows, per (year, village, China day) how many
//!   households the day first insured, so that a report adds a region's curve up in SQL
//!   instead of reading and parsing a text per summary cell (about 28,000 a year at city
//!   scale). The text column `report_cells.curve` goes.
//! - `report_township_cells` and `report_township_registry`: the villages' cells and
//!   registry added up per township, rewritten by the refresher in the transaction that
//!   writes their villages' rows, so that they always equal their villages' sum. A report by
//!   county or township reads a few thousand of these instead of tens of thousands of
//!   village rows (SQLite adds up about a million rows a second).
//!
//! The roll-ups are filled here from the villages' rows; every year and village of the
//! summary is marked, so that the refresher counts them again and fills the days (until it
//! has, reports count those villages live: exact, slower).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportDays {
    Table,
    Year,
    VillageCode,
    Day,
    Households,
}

#[derive(DeriveIden)]
enum ReportTownshipCells {
    Table,
    Year,
    TownshipCode,
    Category,
    Poverty,
    Households,
    Persons,
    PremiumFen,
    Renewed,
}

#[derive(DeriveIden)]
enum ReportTownshipRegistry {
    Table,
    TownshipCode,
    Category,
    Poverty,
    Families,
}

fn count(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).big_integer().not_null().default(0).to_owned()
}

fn township(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).string_len(9).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportDays::Table)
                    .col(ColumnDef::new(ReportDays::Year).integer().not_null())
                    .col(ColumnDef::new(ReportDays::VillageCode).string_len(12).not_null())
                    .col(ColumnDef::new(ReportDays::Day).date().not_null())
                    .col(count(ReportDays::Households))
                    .primary_key(
                        Index::create()
                            .col(ReportDays::Year)
                            .col(ReportDays::VillageCode)
                            .col(ReportDays::Day),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportTownshipCells::Table)
                    .col(ColumnDef::new(ReportTownshipCells::Year).integer().not_null())
                    .col(township(ReportTownshipCells::TownshipCode))
                    .col(ColumnDef::new(ReportTownshipCells::Category).string_len(32).not_null())
                    .col(ColumnDef::new(ReportTownshipCells::Poverty).string_len(16).not_null())
                    .col(count(ReportTownshipCells::Households))
                    .col(count(ReportTownshipCells::Persons))
                    .col(count(ReportTownshipCells::PremiumFen))
                    .col(count(ReportTownshipCells::Renewed))
                    .primary_key(
                        Index::create()
                            .col(ReportTownshipCells::Year)
                            .col(ReportTownshipCells::TownshipCode)
                            .col(ReportTownshipCells::Category)
                            .col(ReportTownshipCells::Poverty),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportTownshipRegistry::Table)
                    .col(township(ReportTownshipRegistry::TownshipCode))
                    .col(ColumnDef::new(ReportTownshipRegistry::Category).string_len(32).not_null())
                    .col(ColumnDef::new(ReportTownshipRegistry::Poverty).string_len(16).not_null())
                    .col(count(ReportTownshipRegistry::Families))
                    .primary_key(
                        Index::create()
                            .col(ReportTownshipRegistry::TownshipCode)
                            .col(ReportTownshipRegistry::Category)
                            .col(ReportTownshipRegistry::Poverty),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE report_cells DROP COLUMN curve").await?;
        db.execute_unprepared(
            "INSERT INTO report_township_cells \
             (year, township_code, category, poverty, households, persons, premium_fen, renewed) \
             SELECT year, SUBSTR(village_code, 1, 9), category, poverty, SUM(households), SUM(persons), \
             SUM(premium_fen), SUM(renewed) FROM report_cells \
             GROUP BY year, SUBSTR(village_code, 1, 9), category, poverty",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO report_township_registry (township_code, category, poverty, families) \
             SELECT SUBSTR(village_code, 1, 9), category, poverty, SUM(families) FROM report_registry \
             GROUP BY SUBSTR(village_code, 1, 9), category, poverty",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO report_marks (year, village_code) SELECT DISTINCT year, village_code FROM report_cells",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE report_cells ADD COLUMN curve TEXT NOT NULL DEFAULT ''").await?;
        db.execute_unprepared(
            "INSERT INTO report_marks (year, village_code) SELECT DISTINCT year, village_code FROM report_cells",
        )
        .await?;
        manager.drop_table(Table::drop().table(ReportTownshipRegistry::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ReportTownshipCells::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ReportDays::Table).to_owned()).await
    }
}
