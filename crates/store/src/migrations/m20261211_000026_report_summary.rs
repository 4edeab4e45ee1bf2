//! The reports' summary (`store/src/reports/summary/`): per year and village, what the
//! coverage, season and funding figures add up, kept beside the rows it summarises.
//!
//! - `report_cells`: per (year, village, family category, poverty status) the insured
//!   households and persons, the premium, the households of last year insured again, and
//!   the season's curve (how many households each China day first insured, as text
//!   `day:count …`, days counted from the Common Era);
//! - `report_funding`: per (year, village, source) what the source pays and for how many
//!   policies (not cancelled);
//! - `report_registry`: per (village, category, poverty) the families registered;
//! - `report_marks`: what may be out of date, appended by the triggers below in the
//!   transaction of every change that could move a figure, whoever writes it: a (year,
//!   village) makes that year's and the next year's rows of the village stale (the next
//!   year's renewed households count this year's); year 0, the village's registry; with a
//!   family, also the rows of the villages where the family's other policies are (a policy:
//!   the year before's, whose renewed households it may be; a family changed: all of them),
//!   found by whoever reads the mark, on its own snapshot. A report counts what is stale
//!   live; a refresher removes marks, counts what they made stale again and writes its rows,
//!   in one transaction.
//! - `report_summary_lock`: one row a refresher holds (`FOR UPDATE`) for its whole
//!   transaction, so that two refreshers never write the same village from two moments.
//!
//! (On PostgreSQL, migration 000031 makes the INSERT and DELETE triggers of families and
//! policies `FOR EACH STATEMENT`: each appends the distinct marks of its statement's rows,
//! read from the statement's transition table, once.)
//!
//! Marks are only ever appended, and a trigger reads nothing but the rows it follows:
//! writers never wait for one another or for a refresher on them (an upsert would make two
//! writers marking the same villages in another order deadlock on a server), and no trigger
//! decides from rows another writer has not committed yet. A refresher removes the marks it read, then counts: every
//! mark it removed was committed, so the count sees its change; a mark committed later
//! stays for the next refresh.
//!
//! What marks what: a policy written, removed, or changed in year, village, family, status,
//! premium, persons or underwriting time marks its year, village and family (and its old
//! ones when it moved). A policy's members and premium parts are written with it and never
//! change (migration 000021; `policies/write.rs` is their only writer), so the policy's own
//! mark covers them. A family registered or removed marks its village's registry; moved or
//! recategorised, both villages' registries with the family.

//! Every existing year and village is marked here, so the first refresh fills the summary.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportCells {
    Table,
    Year,
    VillageCode,
    Category,
    Poverty,
    Households,
    Persons,
    PremiumFen,
    Renewed,
    Curve,
}

#[derive(DeriveIden)]
enum ReportFunding {
    Table,
    Year,
    VillageCode,
    SourceId,
    AmountFen,
    Policies,
}

#[derive(DeriveIden)]
enum ReportRegistry {
    Table,
    VillageCode,
    Category,
    Poverty,
    Families,
}

#[derive(DeriveIden)]
enum ReportMarks {
    Table,
    Id,
    Year,
    VillageCode,
    FamilyId,
}

#[derive(DeriveIden)]
enum ReportSummaryLock {
    Table,
    Id,
}

/// A trigger: the table and event it follows, the columns whose change it follows (an
/// update only), and the marks it appends.
pub(super) struct Trigger {
    pub(super) name: &'static str,
    table: &'static str,
    event: &'static str,
    watched: &'static [&'static str],
    marks: Vec<Mark>,
}

/// A mark's year, village and family (SQL over `NEW` or `OLD`), appended only `when` a
/// condition holds (SQL, the same on every engine) if there is one.
struct Mark {
    values: String,
    when: Option<&'static str>,
}

impl Mark {
    fn of(values: String) -> Mark {
        Mark { values, when: None }
    }
}

const POLICY_COLUMNS: &[&str] =
    &["year", "village_code", "family_id", "status", "premium_fen", "persons", "underwritten_at"];
const FAMILY_COLUMNS: &[&str] = &["village_code", "category", "poverty"];
/// A policy changed its key: its old year, village or family has figures to lose.
const POLICY_MOVED: &str =
    "OLD.year <> NEW.year OR OLD.village_code <> NEW.village_code OR OLD.family_id <> NEW.family_id";

fn policy_mark(row: &str) -> Mark {
    Mark::of(format!("{row}.year, {row}.village_code, {row}.family_id"))
}

fn registry_mark(row: &str) -> Mark {
    Mark::of(format!("0, {row}.village_code, NULL"))
}

pub(super) fn triggers() -> Vec<Trigger> {
    let trigger = |name, table, event, watched, marks| Trigger { name, table, event, watched, marks };
    let moved = Mark { when: Some(POLICY_MOVED), ..policy_mark("OLD") };
    let family = |row: &str| Mark::of(format!("0, {row}.village_code, {row}.id"));
    vec![
        trigger("report_mark_policy_insert", "policies", "INSERT", &[], vec![policy_mark("NEW")]),
        trigger(
            "report_mark_policy_update",
            "policies",
            "UPDATE",
            POLICY_COLUMNS,
            vec![policy_mark("NEW"), moved],
        ),
        trigger("report_mark_policy_delete", "policies", "DELETE", &[], vec![policy_mark("OLD")]),
        trigger("report_mark_family_insert", "families", "INSERT", &[], vec![registry_mark("NEW")]),
        trigger(
            "report_mark_family_update",
            "families",
            "UPDATE",
            FAMILY_COLUMNS,
            vec![family("OLD"), family("NEW")],
        ),
        trigger("report_mark_family_delete", "families", "DELETE", &[], vec![registry_mark("OLD")]),
    ]
}

/// The statements that create `trigger` on `backend`.
pub(super) fn create(backend: DbBackend, trigger: &Trigger) -> Vec<String> {
    let Trigger { name, table, event, watched, marks } = trigger;
    let insert = "INSERT INTO report_marks (year, village_code, family_id)";
    let body: String = marks
        .iter()
        .map(|Mark { values, when }| match (when, backend) {
            (None, _) => format!("{insert} VALUES ({values});"),
            (Some(when), DbBackend::MySql) => format!("{insert} SELECT {values} FROM DUAL WHERE {when};"),
            (Some(when), _) => format!("{insert} SELECT {values} WHERE {when};"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let changed = |distinct: &str, join: &str| {
        watched.iter().map(|c| format!("OLD.{c} {distinct} NEW.{c}")).collect::<Vec<_>>().join(join)
    };
    match backend {
        DbBackend::Sqlite => {
            let when = if watched.is_empty() {
                String::new()
            } else {
                format!(" WHEN {}", changed("IS NOT", " OR "))
            };
            vec![format!(
                "CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} BEGIN\n{body}\nEND"
            )]
        }
        DbBackend::Postgres => {
            let when = if watched.is_empty() {
                String::new()
            } else {
                format!(" WHEN ({})", changed("IS DISTINCT FROM", " OR "))
            };
            vec![
                format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n\
                     RETURN NULL;\nEND\n$$"
                ),
                format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} \
                     EXECUTE FUNCTION {name}()"
                ),
            ]
        }
        DbBackend::MySql => {
            let body = if watched.is_empty() {
                body
            } else {
                format!("IF NOT ({}) THEN\n{body}\nEND IF;", changed("<=>", " AND "))
            };
            vec![format!("CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{body}\nEND")]
        }
    }
}

fn drop(backend: DbBackend, trigger: &Trigger) -> Vec<String> {
    let Trigger { name, table, .. } = trigger;
    match backend {
        DbBackend::Sqlite | DbBackend::MySql => vec![format!("DROP TRIGGER IF EXISTS {name}")],
        DbBackend::Postgres => vec![
            format!("DROP TRIGGER IF EXISTS {name} ON {table}"),
            format!("DROP FUNCTION IF EXISTS {name}()"),
        ],
    }
}

fn year(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).integer().not_null().to_owned()
}

fn village(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).string_len(12).not_null().to_owned()
}

fn count(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).big_integer().not_null().default(0).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportCells::Table)
                    .col(year(ReportCells::Year))
                    .col(village(ReportCells::VillageCode))
                    .col(ColumnDef::new(ReportCells::Category).string_len(32).not_null())
                    .col(ColumnDef::new(ReportCells::Poverty).string_len(16).not_null())
                    .col(count(ReportCells::Households))
                    .col(count(ReportCells::Persons))
                    .col(count(ReportCells::PremiumFen))
                    .col(count(ReportCells::Renewed))
                    .col(ColumnDef::new(ReportCells::Curve).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(ReportCells::Year)
                            .col(ReportCells::VillageCode)
                            .col(ReportCells::Category)
                            .col(ReportCells::Poverty),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportFunding::Table)
                    .col(year(ReportFunding::Year))
                    .col(village(ReportFunding::VillageCode))
                    .col(ColumnDef::new(ReportFunding::SourceId).big_integer().not_null())
                    .col(count(ReportFunding::AmountFen))
                    .col(count(ReportFunding::Policies))
                    .primary_key(
                        Index::create()
                            .col(ReportFunding::Year)
                            .col(ReportFunding::VillageCode)
                            .col(ReportFunding::SourceId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportRegistry::Table)
                    .col(village(ReportRegistry::VillageCode))
                    .col(ColumnDef::new(ReportRegistry::Category).string_len(32).not_null())
                    .col(ColumnDef::new(ReportRegistry::Poverty).string_len(16).not_null())
                    .col(count(ReportRegistry::Families))
                    .primary_key(
                        Index::create()
                            .col(ReportRegistry::VillageCode)
                            .col(ReportRegistry::Category)
                            .col(ReportRegistry::Poverty),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportMarks::Table)
                    .col(
                        ColumnDef::new(ReportMarks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(year(ReportMarks::Year))
                    .col(village(ReportMarks::VillageCode))
                    .col(ColumnDef::new(ReportMarks::FamilyId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_report_marks_year_village")
                    .table(ReportMarks::Table)
                    .col(ReportMarks::Year)
                    .col(ReportMarks::VillageCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportSummaryLock::Table)
                    .col(ColumnDef::new(ReportSummaryLock::Id).integer().not_null().primary_key())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("INSERT INTO report_summary_lock (id) VALUES (1)").await?;
        let backend = manager.get_database_backend();
        for trigger in triggers() {
            for statement in create(backend, &trigger) {
                db.execute_unprepared(&statement).await?;
            }
        }
        db.execute_unprepared(
            "INSERT INTO report_marks (year, village_code) \
             SELECT DISTINCT year, village_code FROM policies \
             UNION SELECT DISTINCT 0, village_code FROM families",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for trigger in triggers() {
            for statement in drop(backend, &trigger) {
                db.execute_unprepared(&statement).await?;
            }
        }
        for table in
            ["report_summary_lock", "report_marks", "report_registry", "report_funding", "report_cells"]
        {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
