//! The one migration source for every engine. Migrations are append-only: a released
//! migration is never edited; a change to the schema is a new file here, listed in order.

use sea_orm_migration::prelude::*;

mod m20261130_000001_foundation;
mod m20261130_000002_enrolment;
mod m20261130_000003_imports;
mod m20261130_000005_list_indexes;
mod m20261130_000006_compact_lookups;
mod m20261201_000007_sealed_import_files;
mod m20261201_000008_login_failures_and_grants;
mod m20261201_000009_lookup_quotas;
mod m20261201_000010_import_job_rows;
mod m20261202_000011_renewals;
mod m20261202_000012_outbox;
mod m20261203_000013_claims;
mod m20261204_000015_association;
mod m20261205_000017_targets;
mod m20261206_000018_files;
mod m20261207_000019_activity_kinds;
mod m20261208_000020_file_tags;
mod m20261209_000021_renewal_counts;
mod m20261210_000022_claims_sent;
mod m20261210_000024_claims_open_queue;
mod m20261210_000025_funding_cover;
mod m20261211_000026_report_summary;
mod m20261212_000027_report_grains;
mod m20261213_000028_refresh_generation;
mod m20261214_000029_policies_family_index;
mod m20261215_000030_outbox_claim_index;
mod m20261216_000031_statement_marks;
mod m20261217_000032_name_prefix_index;
mod m20261218_000033_binary_secrets;

pub struct Migrator;

/// Runs `statements` in order on PostgreSQL, and nothing elsewhere: a migration that only
/// PostgreSQL needs.
async fn on_postgres_only(
    manager: &SchemaManager<'_>,
    statements: impl IntoIterator<Item = String>,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for statement in statements {
        manager.get_connection().execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261130_000001_foundation::Migration),
            Box::new(m20261130_000002_enrolment::Migration),
            Box::new(m20261130_000003_imports::Migration),
            Box::new(m20261130_000005_list_indexes::Migration),
            Box::new(m20261130_000006_compact_lookups::Migration),
            Box::new(m20261201_000007_sealed_import_files::Migration),
            Box::new(m20261201_000008_login_failures_and_grants::Migration),
            Box::new(m20261201_000009_lookup_quotas::Migration),
            Box::new(m20261201_000010_import_job_rows::Migration),
            Box::new(m20261203_000013_claims::Migration),
            Box::new(m20261204_000015_association::Migration),
            Box::new(m20261205_000017_targets::Migration),
            Box::new(m20261202_000011_renewals::Migration),
            Box::new(m20261202_000012_outbox::Migration),
            Box::new(m20261206_000018_files::Migration),
            Box::new(m20261207_000019_activity_kinds::Migration),
            Box::new(m20261208_000020_file_tags::Migration),
            Box::new(m20261209_000021_renewal_counts::Migration),
            Box::new(m20261210_000022_claims_sent::Migration),
            Box::new(m20261210_000024_claims_open_queue::Migration),
            Box::new(m20261210_000025_funding_cover::Migration),
            Box::new(m20261211_000026_report_summary::Migration),
            Box::new(m20261212_000027_report_grains::Migration),
            Box::new(m20261213_000028_refresh_generation::Migration),
            Box::new(m20261214_000029_policies_family_index::Migration),
            Box::new(m20261215_000030_outbox_claim_index::Migration),
            Box::new(m20261216_000031_statement_marks::Migration),
            Box::new(m20261217_000032_name_prefix_index::Migration),
            Box::new(m20261218_000033_binary_secrets::Migration),
        ]
    }
}
