//! An import job's plan as typed data: its summary (totals, column mapping, file error)
//! stays JSON in `import_jobs.preview`, now with the version of its shape
//! (`plan_version`; 0 for the previews written before, which are planned again), and the
//! rows a page or a report lists — refused and warned rows, a few others, the insurer's
//! verdicts per policy — go to `import_job_rows`, one row each. A row's original cells are
//! sealed (a roster's hold full ID numbers), so a page or the refused-rows report never
//! reads the file again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    Id,
    PlanVersion,
    FileKept,
}

#[derive(DeriveIden)]
enum ImportJobRows {
    Table,
    JobId,
    Seq,
    Line,
    Verdict,
    Reason,
    Data,
    Cells,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportJobs::Table)
                    .add_column(ColumnDef::new(ImportJobs::PlanVersion).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        // Whether the job kept its file; the command line's jobs never do (the file stays
        // with it), which is not the same as a file deleted after its retention.
        manager
            .alter_table(
                Table::alter()
                    .table(ImportJobs::Table)
                    .add_column(ColumnDef::new(ImportJobs::FileKept).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImportJobRows::Table)
                    .col(ColumnDef::new(ImportJobRows::JobId).big_integer().not_null())
                    .col(ColumnDef::new(ImportJobRows::Seq).integer().not_null())
                    .col(ColumnDef::new(ImportJobRows::Line).big_integer().not_null())
                    .col(ColumnDef::new(ImportJobRows::Verdict).string_len(16).not_null())
                    .col(ColumnDef::new(ImportJobRows::Reason).text().not_null())
                    .col(ColumnDef::new(ImportJobRows::Data).text().not_null())
                    .col(ColumnDef::new(ImportJobRows::Cells).blob().not_null())
                    .primary_key(Index::create().col(ImportJobRows::JobId).col(ImportJobRows::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ImportJobRows::Table, ImportJobRows::JobId)
                            .to(ImportJobs::Table, ImportJobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the plans of import jobs cannot be rolled back".to_owned()))
    }
}
