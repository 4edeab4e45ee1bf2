//! The sender claims the due messages of one state at a time in the order of
//! (next attempt, id), a batch at a time (`outbox/sending.rs`). `idx_outbox_state_next`
//! (state, next_attempt_at) ordered them by time only: PostgreSQL sorted every due message
//! of the state to find the first batch whenever many share a moment (a season's
//! reminders are all due when the quiet hours end), once per batch. With the id as the
//! index's last column the first batch is the index's first entries on every engine.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    State,
    NextAttemptAt,
}

const OLD: &str = "idx_outbox_state_next";
const NEW: &str = "idx_outbox_state_next_id";

/// The claim's index: by state and next attempt, and by id where `with_id`.
fn claim_index(name: &str, with_id: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Outbox::Table).col(Outbox::State).col(Outbox::NextAttemptAt);
    if with_id {
        index.col(Outbox::Id);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(claim_index(NEW, true)).await?;
        manager.drop_index(Index::drop().name(OLD).table(Outbox::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(claim_index(OLD, false)).await?;
        manager.drop_index(Index::drop().name(NEW).table(Outbox::Table).to_owned()).await
    }
}
