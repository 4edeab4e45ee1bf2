//! On PostgreSQL, the summary's marks of inserted and deleted families and policies
//! (migration 000026) are appended once per statement instead of once per row: a trigger
//! `FOR EACH STATEMENT` reads the statement's own rows (its transition table) and appends
//! each distinct mark once. A bulk write of 256 families in one village appended 256
//! identical marks, through one call of a PL/pgSQL function each; it now appends one, in
//! one `INSERT … SELECT`. The marks are a set to whoever reads them (`reports/refresh.rs`),
//! so what is marked stale is unchanged.
//!
//! Updates stay row by row (they compare each row's old and new values), and SQLite and
//! MySQL have row triggers only: nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::m20261211_000026_report_summary as summary;
use super::on_postgres_only;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A statement trigger: its name (the row trigger's it replaces), table, event, the
/// transition table it reads, and the mark of each of its rows.
struct StatementTrigger {
    name: &'static str,
    table: &'static str,
    event: &'static str,
    rows: &'static str,
    mark: &'static str,
}

const POLICY_MARK: &str = "changed.year, changed.village_code, changed.family_id";
const REGISTRY_MARK: &str = "0, changed.village_code, CAST(NULL AS BIGINT)";

const STATEMENT_TRIGGERS: [StatementTrigger; 4] = [
    StatementTrigger {
        name: "report_mark_policy_insert",
        table: "policies",
        event: "INSERT",
        rows: "NEW",
        mark: POLICY_MARK,
    },
    StatementTrigger {
        name: "report_mark_policy_delete",
        table: "policies",
        event: "DELETE",
        rows: "OLD",
        mark: POLICY_MARK,
    },
    StatementTrigger {
        name: "report_mark_family_insert",
        table: "families",
        event: "INSERT",
        rows: "NEW",
        mark: REGISTRY_MARK,
    },
    StatementTrigger {
        name: "report_mark_family_delete",
        table: "families",
        event: "DELETE",
        rows: "OLD",
        mark: REGISTRY_MARK,
    },
];

fn drop_trigger(name: &str, table: &str) -> [String; 2] {
    [format!("DROP TRIGGER IF EXISTS {name} ON {table}"), format!("DROP FUNCTION IF EXISTS {name}()")]
}

/// The statements that replace `trigger`'s row trigger with it.
fn statement_trigger(trigger: &StatementTrigger) -> [String; 4] {
    let StatementTrigger { name, table, event, rows, mark } = trigger;
    let [drop_trigger, drop_function] = drop_trigger(name, table);
    [
        drop_trigger,
        drop_function,
        format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n\
             INSERT INTO report_marks (year, village_code, family_id) SELECT DISTINCT {mark} FROM changed;\n\
             RETURN NULL;\nEND\n$$"
        ),
        format!(
            "CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} TABLE AS changed \
             FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: Vec<String> = STATEMENT_TRIGGERS.iter().flat_map(statement_trigger).collect();
        on_postgres_only(manager, statements).await
    }

    /// The row triggers of migration 000026 again.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: Vec<String> = summary::triggers()
            .into_iter()
            .flat_map(|trigger| match STATEMENT_TRIGGERS.iter().find(|t| t.name == trigger.name) {
                Some(replaced) => {
                    let mut statements = drop_trigger(replaced.name, replaced.table).to_vec();
                    statements.extend(summary::create(DbBackend::Postgres, &trigger));
                    statements
                }
                None => Vec::new(),
            })
            .collect();
        on_postgres_only(manager, statements).await
    }
}
