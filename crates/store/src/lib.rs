//! Guanai's data access layer. One code path serves SQLite (embedded, the default),
//! PostgreSQL and MySQL-compatible servers: queries are built with SeaORM / SeaQuery, which
//! writes each engine's own SQL, and the schema comes from one migration source.
//!
//! Every read or write of scoped data takes an [`Actor`], the handle a request gets from its
//! session. Each feature's methods hang off a handle, `store.policies()`, `store.families()`
//! … (see `handles`), written in the feature's own file; [`Store`] keeps the infrastructure.

mod access;
pub mod agents;
pub mod audit;
pub mod audit_labels;
mod bulk;
mod checkpoint;
pub mod claims;
mod connect;
pub mod consents;
mod crypto;
mod entities;
mod error;
pub mod families;
pub mod files;
pub mod funding;
pub mod grants;
mod group_commit;
mod handles;
pub mod households;
pub mod imports;
pub mod logins;
pub mod lookups;
pub mod members;
mod migrations;
pub mod orgs;
pub mod outbox;
mod passwords;
pub mod policies;
mod prebuilt;
pub mod products;
pub mod publicity;
mod quick_reads;
pub mod regions;
pub mod renewals;
pub mod reports;
mod rows;
pub mod server_cache;
pub mod sessions;
pub mod shown;
pub mod student_aid;
pub mod supervision;
pub mod targets;
pub mod training;
pub mod users;

pub use access::Actor;
pub use connect::{copy_database, create_database, drop_database, with_database, DatabaseTarget, Engine};
pub use crypto::Keys;
pub use error::{policy_no_in, StoreError, StoreResult};
pub use handles::Claims;
pub use handles::Files;
pub use handles::Outbox;
pub use handles::Renewals;
pub use handles::{Agents, Publicity, StudentAid, Supervision, Training};
pub use handles::{AuditLog, Families, Funding, Imports, Orgs, Policies, Products, Regions, Sessions, Users};
pub use handles::{Reports, Targets};
/// A random password that meets the policy, for new accounts (printed once).
pub use passwords::generate as generate_password;

use sea_orm::DatabaseConnection;

/// The last page (counted from 0) a list may ask for. Lists show at most 1,000 rows a page,
/// so an offset stays far below what any engine takes, and never overflows.
pub const MAX_PAGE: u64 = 100_000;

/// The offset of page `page` of `per_page` rows, or a refusal that names the allowed range.
pub(crate) fn page_offset(page: u64, per_page: u64) -> StoreResult<u64> {
    if page > MAX_PAGE {
        return Err(StoreError::invalid(format!("页码须在0到{MAX_PAGE}之间")));
    }
    page.checked_mul(per_page).ok_or_else(|| StoreError::invalid(format!("页码须在0到{MAX_PAGE}之间")))
}

/// The outer row `outer` has no row of `entity` whose `column` equals it (and that meets
/// `also`): `NOT EXISTS (SELECT 1 FROM entity WHERE entity.column = outer AND …)`, one probe
/// on an index per outer row. Written instead of `NOT IN (SELECT …)`, which PostgreSQL
/// answers by reading the whole subquery again for every outer row once the subquery
/// outgrows `work_mem` (minutes for a city's renewals). The columns compared are NOT NULL,
/// so both mean the same.
pub(crate) fn absent_from<E: sea_orm::EntityTrait>(
    entity: E,
    column: E::Column,
    outer: impl sea_orm::sea_query::IntoColumnRef,
    also: sea_orm::Condition,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, Query};
    let matching = Query::select()
        .expr(Expr::val(1))
        .from(entity)
        .and_where(Expr::col((entity, column)).equals(outer))
        .cond_where(also)
        .to_owned();
    Expr::exists(matching).not()
}

/// A handle on the database. Cheap to clone; holds the connection pool and the keys for
/// personal data, nothing else, so several server instances can share one database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    engine: Engine,
    /// What the bulk writers need to know of the engine (`rows`).
    dialect: rows::Dialect,
    keys: std::sync::Arc<Keys>,
    /// Turns of the store's own writers on SQLite (see `connect::WriteGate`).
    write_gate: connect::WriteGate,
    /// The audit writer (see `audit`).
    audit_queue: audit::AuditQueue,
    /// Where the reads that run on every request run (see `quick_reads`).
    quick_reads: quick_reads::QuickReads,
    /// SQLite's WAL copied back by a task of its own (see `checkpoint`).
    _checkpoints: checkpoint::Checkpoints,
    /// The group writers (see [`Writers`]).
    writers: std::sync::Arc<std::sync::OnceLock<Writers>>,
    /// Exact look-ups by ID or phone number one user may make per window (`lookups`).
    lookup_limit: i64,
    /// The users this instance refused a look-up in the current window (`lookups`).
    refused_lookups: lookups::RefusedLookups,
    /// What "today" is: every policy date, age and "not in the future" check asks it.
    clock: guanai_domain::Clock,
    /// Where uploaded images are kept (`files`); none until [`Store::with_files`].
    file_root: Option<files::FileRoot>,
}

/// The store's group writers (`group_commit`): tasks that write what many requests queued,
/// many to a transaction. Started once when the store connects and shared by every copy of
/// the store, bulk stores included; the writers' own copy has none and writes directly.
#[derive(Debug)]
struct Writers {
    enrolments: policies::EnrolQueue,
    claim_reports: group_commit::GroupQueue<claims::ReportDraft>,
    lookup_turns: group_commit::GroupQueue<lookups::LookupTurn>,
}

impl Store {
    /// Opens the database named by `target` and brings its schema up to date. `keys`
    /// seal and find personal data; the same keys must be used every time.
    pub async fn open(target: &DatabaseTarget, keys: Keys) -> StoreResult<Self> {
        let store = Self::connect(target, keys).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without touching its schema.
    pub async fn connect(target: &DatabaseTarget, keys: Keys) -> StoreResult<Self> {
        let (db, engine) = connect::connect(target).await?;
        let dialect = rows::Dialect::of(&db).await?;
        let write_gate = connect::WriteGate::open(&db, engine).await?;
        // The audit writer holds the turns only, no store: were it to hold the enrolment
        // writer (which holds a store, and so the audit queue), neither task would ever see
        // its channel close.
        let audit_queue = audit::AuditQueue::start(write_gate.clone());
        let _checkpoints = checkpoint::Checkpoints::start(db.clone(), engine, write_gate.clone());
        let quick_reads = quick_reads::QuickReads::of(&db);
        let store = Store {
            db,
            engine,
            dialect,
            _checkpoints,
            keys: std::sync::Arc::new(keys),
            write_gate,
            audit_queue,
            quick_reads,
            writers: Default::default(),
            lookup_limit: lookups::LOOKUP_LIMIT,
            refused_lookups: Default::default(),
            clock: guanai_domain::Clock::system(),
            file_root: None,
        };
        // The writers' own copy of the store has no writers: it writes directly.
        let writer = Store { writers: Default::default(), ..store.clone() };
        let _ = store.writers.set(Writers {
            enrolments: policies::EnrolQueue::start(writer.clone()),
            claim_reports: group_commit::GroupQueue::start(writer.clone()),
            lookup_turns: group_commit::GroupQueue::start(writer),
        });
        Ok(store)
    }

    /// The same store with another limit of exact look-ups per user and window (default
    /// [`lookups::LOOKUP_LIMIT`]; configuration `lookup_limit`).
    pub fn with_lookup_limit(mut self, limit: i64) -> Self {
        self.lookup_limit = limit.max(1);
        self
    }

    /// Applies every migration not applied yet. Safe to run on every start.
    pub async fn migrate(&self) -> StoreResult<()> {
        use sea_orm_migration::MigratorTrait;
        migrations::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Reverts the newest migration applied, with its `down`: a migration's test goes back
    /// to the schema before it. (An operator going back a version restores a backup.)
    pub async fn undo_last_migration(&self) -> StoreResult<()> {
        use sea_orm_migration::MigratorTrait;
        migrations::Migrator::down(&self.db, Some(1)).await?;
        Ok(())
    }

    /// The names of every migration this binary knows, oldest first.
    pub fn known_migrations() -> Vec<String> {
        use sea_orm_migration::MigratorTrait;
        migrations::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect()
    }

    /// Names of the migrations applied to this database, oldest first.
    pub async fn applied_migrations(&self) -> StoreResult<Vec<String>> {
        use sea_orm_migration::MigratorTrait;
        let applied = migrations::Migrator::get_applied_migrations(&self.db).await?;
        Ok(applied.iter().map(|m| m.name().to_owned()).collect())
    }

    /// `SUM(column)` as a 64-bit integer on every engine (PostgreSQL and MySQL sum a
    /// BIGINT into a DECIMAL, which we never decode: money stays integer fen).
    pub(crate) fn sum_i64(
        &self,
        column: impl sea_orm::sea_query::IntoColumnRef,
    ) -> sea_orm::sea_query::SimpleExpr {
        use sea_orm::sea_query::{Alias, Expr, Func};
        let sum = Func::sum(Expr::col(column));
        match self.engine {
            Engine::Sqlite => sum.into(),
            Engine::Postgres => Expr::expr(sum).cast_as(Alias::new("BIGINT")),
            Engine::MySql => Expr::expr(sum).cast_as(Alias::new("SIGNED")),
        }
    }

    /// The same store reading time from `clock` (a fixed clock in tests and for the demo's
    /// history); the store it came from keeps its own.
    pub fn with_clock(&self, clock: guanai_domain::Clock) -> Store {
        Store { clock, ..self.clone() }
    }

    /// The store's clock: the web, the importer and the CLI take "today" from it.
    pub fn clock(&self) -> &guanai_domain::Clock {
        &self.clock
    }

    /// Today's date in China, by the store's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Writes a consistent copy of a (possibly running) SQLite database to `path`.
    pub async fn backup_sqlite(&self, path: &std::path::Path) -> StoreResult<()> {
        use sea_orm::{ConnectionTrait, Statement};
        if self.engine != Engine::Sqlite {
            return Err(StoreError::invalid(
                "备份命令只用于内置的 SQLite 数据库；PostgreSQL 请用 pg_dump，MySQL/MariaDB 请用 mysqldump",
            ));
        }
        if path.exists() {
            return Err(StoreError::invalid(format!(
                "备份文件“{}”已存在，请换一个文件名或先移走它",
                path.display()
            )));
        }
        let target = path.to_str().ok_or_else(|| StoreError::invalid("备份文件路径须为 UTF-8"))?;
        self.db
            .execute(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish (on SQLite the checkpoints'
    /// connection first, see `Checkpoints::close`, then the writer's, see `WriteGate`, and
    /// the quick reads', see `quick_reads`).
    ///
    /// On SQLite, one connection is then opened alone and closed again. SQLite copies the
    /// log back into the file when the database's last connection closes, but the pool
    /// closes its connections side by side, each on its own thread, and two closing at
    /// once can each see the other still open, leaving the log behind (seen once, on a
    /// loaded machine). A connection alone is the last once the others' threads have let go
    /// of the file; it copies the log back and empties it all the same.
    pub async fn close(self) -> StoreResult<()> {
        self._checkpoints.close().await;
        self.write_gate.close().await?;
        self.quick_reads.close().await?;
        let options = (self.engine == Engine::Sqlite).then(|| connect::sqlite_options_of(&self.db));
        self.db.close().await?;
        if let Some(options) = options {
            use sqlx::{ConnectOptions, Connection};
            let mut last = options.connect().await?;
            // Copied back and emptied even should a closed connection's thread not have let
            // go of the file yet (then SQLite would not see this one as the last).
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut last).await?;
            last.close().await?;
        }
        Ok(())
    }
}
