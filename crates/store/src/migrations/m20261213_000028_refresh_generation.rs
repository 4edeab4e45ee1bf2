//! The summary's refreshers count outside the write turn (`reports/refresh.rs`): each counts
//! on a snapshot of its own, then writes what it counted only if no other refresher wrote
//! since that snapshot. `report_summary_lock.generation` is what they compare: read with
//! the snapshot, raised by every refresh that writes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportSummaryLock {
    Table,
    Generation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ReportSummaryLock::Table)
                    .add_column(
                        ColumnDef::new(ReportSummaryLock::Generation).big_integer().not_null().default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ReportSummaryLock::Table)
                    .drop_column(ReportSummaryLock::Generation)
                    .to_owned(),
            )
            .await
    }
}
