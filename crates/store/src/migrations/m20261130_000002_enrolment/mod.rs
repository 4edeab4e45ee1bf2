//! Families and persons (personal data encrypted, with keyed hashes for look-ups), consents,
//! products and packages, policies with their insured members, funding sources, subsidy
//! rules, the premium split, and payments. One migration, its tables written by feature.

mod families;
mod funding;
mod idens;
mod policies;

use sea_orm_migration::prelude::*;

pub struct Migration;

/// Named explicitly: the name is what databases record as applied, and it must not change
/// with the file layout.
impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000002_enrolment"
    }
}

pub(super) fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().auto_increment().primary_key().to_owned()
}

pub(super) fn fk<T: IntoIden + 'static, C: IntoIden, R: IntoIden + 'static, RC: IntoIden>(
    table: T,
    column: C,
    to: R,
    to_column: RC,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(to, to_column).to_owned()
}

pub(super) async fn index(
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
        families::up(manager).await?;
        policies::up(manager).await?;
        funding::up(manager).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the enrolment schema cannot be rolled back".to_owned()))
    }
}
