//! Regions, organisations, users, sessions and the audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
    Name,
    ShortName,
    Level,
    ParentCode,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    Name,
    Kind,
    RegionCode,
    ParentId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    RegionCode,
    OrgId,
    PasswordHash,
    MustChangePassword,
    FailedLogins,
    LockedUntil,
    Active,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    UserId,
    CsrfToken,
    Ip,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    ActorName,
    ActorRegion,
    Ip,
    Action,
    TargetKind,
    TargetId,
    Subject,
    Outcome,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regions::Table)
                    .col(ColumnDef::new(Regions::Code).string_len(12).not_null().primary_key())
                    .col(ColumnDef::new(Regions::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Regions::ShortName).string_len(100).not_null())
                    .col(ColumnDef::new(Regions::Level).small_integer().not_null())
                    .col(ColumnDef::new(Regions::ParentCode).string_len(12).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_regions_parent")
                    .table(Regions::Table)
                    .col(Regions::ParentCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Orgs::Table)
                    .col(ColumnDef::new(Orgs::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Orgs::Name).string_len(100).not_null().unique_key())
                    .col(ColumnDef::new(Orgs::Kind).string_len(20).not_null())
                    .col(ColumnDef::new(Orgs::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Orgs::ParentId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orgs::Table, Orgs::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Orgs::Table, Orgs::ParentId).to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_orgs_kind_region")
                    .table(Orgs::Table)
                    .col(Orgs::Kind)
                    .col(Orgs::RegionCode)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Users::Username).string_len(32).not_null().unique_key())
                    .col(ColumnDef::new(Users::DisplayName).string_len(50).not_null())
                    .col(ColumnDef::new(Users::Role).string_len(20).not_null())
                    .col(ColumnDef::new(Users::RegionCode).string_len(12).not_null())
                    .col(ColumnDef::new(Users::OrgId).big_integer().null())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).not_null())
                    .col(ColumnDef::new(Users::MustChangePassword).boolean().not_null())
                    .col(ColumnDef::new(Users::FailedLogins).integer().not_null())
                    .col(ColumnDef::new(Users::LockedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Users::Active).boolean().not_null())
                    .col(ColumnDef::new(Users::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Users::CreatedBy).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Users::Table, Users::OrgId).to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_region")
                    .table(Users::Table)
                    .col(Users::RegionCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::IdHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Sessions::CsrfToken).string_len(64).not_null())
                    .col(ColumnDef::new(Sessions::Ip).string_len(64).not_null())
                    .col(ColumnDef::new(Sessions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::LastSeenAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::ExpiresAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(ColumnDef::new(AuditLog::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditLog::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditLog::ActorId).big_integer().null())
                    .col(ColumnDef::new(AuditLog::ActorName).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::ActorRegion).string_len(12).null())
                    .col(ColumnDef::new(AuditLog::Ip).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::TargetKind).string_len(32).not_null())
                    .col(ColumnDef::new(AuditLog::TargetId).string_len(128).not_null())
                    .col(ColumnDef::new(AuditLog::Subject).string_len(128).null())
                    .col(ColumnDef::new(AuditLog::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(AuditLog::Detail).string_len(1000).not_null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in
            [("idx_audit_at", AuditLog::At), ("idx_audit_actor_region", AuditLog::ActorRegion)]
        {
            manager
                .create_index(Index::create().name(name).table(AuditLog::Table).col(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the foundation schema cannot be rolled back".to_owned()))
    }
}
