//! The kinds of publicity activity as the city keeps them (issue 15: "configurable"): the
//! eight the speech names, seeded here, and any the city adds; a kind may be renamed or
//! stopped, never deleted, because activities keep its code.

use guanai_domain::publicity::ActivityKind;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ActivityKinds {
    Table,
    Code,
    Label,
    Position,
    Active,
    BuiltIn,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActivityKinds::Table)
                    .col(ColumnDef::new(ActivityKinds::Code).string_len(20).not_null().primary_key())
                    .col(ColumnDef::new(ActivityKinds::Label).string_len(80).not_null())
                    .col(ColumnDef::new(ActivityKinds::Position).integer().not_null())
                    .col(ColumnDef::new(ActivityKinds::Active).boolean().not_null())
                    .col(ColumnDef::new(ActivityKinds::BuiltIn).boolean().not_null())
                    .col(ColumnDef::new(ActivityKinds::UpdatedBy).string_len(64).not_null())
                    .col(ColumnDef::new(ActivityKinds::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_kinds_label")
                    .table(ActivityKinds::Table)
                    .col(ActivityKinds::Label)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let mut seed = Query::insert();
        seed.into_table(ActivityKinds::Table).columns([
            ActivityKinds::Code,
            ActivityKinds::Label,
            ActivityKinds::Position,
            ActivityKinds::Active,
            ActivityKinds::BuiltIn,
            ActivityKinds::UpdatedBy,
            ActivityKinds::UpdatedAt,
        ]);
        for (position, kind) in ActivityKind::ALL.iter().enumerate() {
            seed.values_panic([
                kind.code().into(),
                kind.label().into(),
                (position as i32 + 1).into(),
                true.into(),
                true.into(),
                "system".into(),
                Expr::current_timestamp().into(),
            ]);
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ActivityKinds::Table).to_owned()).await
    }
}
