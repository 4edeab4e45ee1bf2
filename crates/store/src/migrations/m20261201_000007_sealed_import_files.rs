//! Uploaded rosters hold full ID and phone numbers: from now on a job's file is sealed
//! with the data key while the job lives and deleted when it has ended and its retention
//! has passed (`file_deleted_at` says when). The files stored in the clear before cannot
//! be sealed here (migrations never see the key): they are deleted, and a job that had
//! not ended asks for its file again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    FileBytes,
    FileDeletedAt,
    Status,
    Message,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportJobs::Table)
                    .add_column(ColumnDef::new(ImportJobs::FileDeletedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        manager
            .exec_stmt(
                Query::update()
                    .table(ImportJobs::Table)
                    .value(ImportJobs::Status, "failed")
                    .value(ImportJobs::Message, "系统升级时删除了以明文保存的上传文件，请重新上传该名单")
                    .value(ImportJobs::UpdatedAt, now)
                    .and_where(Expr::col(ImportJobs::Status).is_in(["previewed", "committing"]))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(ImportJobs::Table)
                    .value(ImportJobs::FileBytes, Vec::<u8>::new())
                    .value(ImportJobs::FileDeletedAt, now)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("deleted import files cannot be brought back".to_owned()))
    }
}
