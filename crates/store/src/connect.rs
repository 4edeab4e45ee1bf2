//! Choosing the engine from the URL, and the per-engine connection settings. This is the
//! only place that knows which engine runs; everything else is one code path.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, SqlxSqliteConnector};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{StoreError, StoreResult};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// The embedded default: an SQLite file.
    SqliteFile(PathBuf),
    /// A `postgres://`, `mysql://` (MariaDB, MySQL, TiDB …) or `sqlite://` URL.
    Url(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
}

impl Engine {
    pub fn label(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL/MariaDB",
        }
    }
}

impl DatabaseTarget {
    pub fn engine(&self) -> StoreResult<Engine> {
        match self {
            DatabaseTarget::SqliteFile(_) => Ok(Engine::Sqlite),
            DatabaseTarget::Url(url) => {
                let scheme = url.split(':').next().unwrap_or_default();
                match scheme {
                    "sqlite" => Ok(Engine::Sqlite),
                    "postgres" | "postgresql" => Ok(Engine::Postgres),
                    "mysql" | "mariadb" => Ok(Engine::MySql),
                    _ => Err(StoreError::invalid(format!(
                        "不支持的数据库地址“{scheme}:…”：请使用 postgres://、mysql:// 或 sqlite:// 开头的地址"
                    ))),
                }
            }
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::SqliteFile(path) => format!("sqlite file {}", path.display()),
            DatabaseTarget::Url(raw) => match url::Url::parse(raw) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    parsed.to_string()
                }
                Err(_) => "(unparsable database URL)".to_owned(),
            },
        }
    }
}

pub(crate) async fn connect(target: &DatabaseTarget) -> StoreResult<(DatabaseConnection, Engine)> {
    let engine = target.engine()?;
    let db = match (engine, target) {
        (Engine::Sqlite, DatabaseTarget::SqliteFile(path)) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::invalid(format!("无法创建数据目录“{}”：{e}", dir.display())))?;
            }
            sqlite(SqliteConnectOptions::new().filename(path)).await?
        }
        (Engine::Sqlite, DatabaseTarget::Url(url)) => {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::invalid(format!("SQLite 地址有误：{e}")))?;
            sqlite(options).await?
        }
        (_, DatabaseTarget::Url(url)) => {
            let mut options = ConnectOptions::new(url.clone());
            options
                .max_connections(16)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(10))
                .sqlx_logging(false);
            Database::connect(options).await?
        }
        (_, DatabaseTarget::SqliteFile(_)) => unreachable!("a file target is always SQLite"),
    };
    Ok((db, engine))
}

/// How long an SQLite connection waits for a lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows an SQLite connection's worker thread may send ahead of the task reading them.
const ROW_BUFFER: usize = 4096;

/// Page cache of each pooled SQLite connection, in KiB. A city's ID-number index is tens of
/// MB of random keys: 16 MB per connection (four connections) keeps most look-ups and bulk
/// writes off the disk while the server stays small.
pub(crate) const POOL_CACHE_KIB: i64 = 16 * 1024;

/// Has each statement of `txn` planned for its tables as they are when it runs, on
/// PostgreSQL: for a transaction whose statements probe tables that grow between them.
/// PostgreSQL otherwise keeps, for a statement run over and over, a generic plan made from
/// its first runs until the table's statistics are refreshed (by our `ANALYZE` after a
/// bulk write, or by autovacuum where it runs). Set for every connection instead, it made
/// one-step renewals a third slower (every statement planned again). SQLite and MySQL keep
/// no such plan: nothing to do.
pub(crate) async fn plan_for_tables_as_they_are(
    engine: Engine,
    txn: &sea_orm::DatabaseTransaction,
) -> StoreResult<()> {
    if engine == Engine::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    }
    Ok(())
}

/// SQLite as a server needs it: WAL so readers never wait for the writer, foreign keys on,
/// and a busy timeout so concurrent writers queue instead of failing.
async fn sqlite(options: SqliteConnectOptions) -> StoreResult<DatabaseConnection> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("cache_size", format!("-{POOL_CACHE_KIB}"))
        // No memory map. A connection whose read transaction finds the database changed
        // unmaps the whole file (SQLite's pager resets its cache and its map then), and a
        // server is changed by every commit: each read after a write was an munmap and a
        // new mmap, and the server's SQLite threads waited on the address space's lock
        // (`__vm_munmap`, `vm_mmap_pgoff`). Without it, claim reports and look-ups ran
        // 15-20 % faster (docs/BENCHMARKS.md, fourteenth session).
        .pragma("mmap_size", "0")
        .pragma("temp_store", "memory")
        // No commit checkpoints: the store's own task does (`checkpoint.rs`), so that no
        // writer waits for the disk while holding the write turn.
        .pragma("wal_autocheckpoint", "0")
        // Each connection's statements run on a worker thread of its own, which sends the
        // rows to the asking task through a bounded channel. With sqlx's 50 rows, a read of
        // a few thousand rows (a batch's members, a report's counts) filled it, and from then
        // on the worker slept and was woken for every row the task took: two thread
        // switches a row. The channel only holds rows not yet taken, so a larger bound costs
        // memory only while a reader lags.
        .row_buffer_size(ROW_BUFFER);
    // Four connections, for the reads: the store's writers take turns and write through the
    // gate's connection of its own (`WriteGate`), and each connection keeps its own page
    // cache, which is most of a server's memory.
    //
    // No ping before handing out a pooled connection: an SQLite connection is a file handle
    // in this process and cannot go stale, while each ping is a round trip to the
    // connection's worker thread (sqlx pings by default, doubling the thread switches of
    // every statement run outside a transaction).
    let pool =
        SqlitePoolOptions::new().max_connections(4).test_before_acquire(false).connect_with(options).await?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The SQLite database file of `pool`, for connections of its own beside it; none when
/// the database is not a file (an in-memory one is the pool's only).
pub(crate) fn sqlite_file_of(pool: &DatabaseConnection) -> Option<PathBuf> {
    Some(sqlite_options_of(pool).get_filename().to_owned()).filter(|path| path.is_file())
}

/// A connection to the SQLite database `file` that only reads, with the pool's settings
/// for reads, for reads run in the calling thread (`quick_reads.rs`).
pub(crate) fn open_sqlite_reader(file: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let reader = rusqlite::Connection::open_with_flags(file, flags)?;
    reader.busy_timeout(BUSY_TIMEOUT)?;
    reader.pragma_update(None, "cache_size", -POOL_CACHE_KIB)?;
    // See `sqlite`: a map would be unmapped at every read after a commit.
    reader.pragma_update(None, "mmap_size", 0)?;
    reader.pragma_update(None, "query_only", true)?;
    Ok(reader)
}

/// The settings of the SQLite `pool`'s connections, for a connection of its own beside it.
pub(crate) fn sqlite_options_of(pool: &DatabaseConnection) -> SqliteConnectOptions {
    (*pool.get_sqlite_connection_pool().connect_options()).clone()
}

/// One SQLite connection of its own beside `pool`, with the pool's settings as `adjust`
/// changes them: a pool of one, kept open (never closed for idling or age) until it is
/// closed, so that its page cache lasts. It is not pinged before it is handed out, but
/// sqlx pings it each time it is given back (see `quick_reads.rs`).
pub(crate) async fn own_sqlite_connection(
    pool: &DatabaseConnection,
    adjust: impl FnOnce(SqliteConnectOptions) -> SqliteConnectOptions,
) -> StoreResult<DatabaseConnection> {
    let options = adjust(sqlite_options_of(pool));
    let one = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(one))
}

/// SQLite lets one connection write at a time; the others wait in its busy handler, which
/// polls with sleeps of up to 100 ms and serves nobody in order. The store's own busy
/// writers (see where `WriteGate::turn` is called) therefore take turns here first, first
/// come first served, and each finds the lock free. On PostgreSQL and MySQL writers run
/// side by side and the gate is always open. Every copy of a store shares its gate, bulk
/// stores included.
///
/// A turn comes with the connection to write through ([`Turn::db`]). On SQLite that is one
/// connection of the gate's own, beside the pool, so that every write of the store goes
/// through one connection. SQLite empties a connection's page cache whenever it finds that
/// another connection has committed since its last transaction: a writer that took
/// whichever pooled connection was free read back every page it touched (a few hundred a
/// transaction on a city database) after each commit of another. The writer
/// connection finds the pages of its own last commit still cached. A bulk store writes
/// through its own connection, in turn with the others (`bulk.rs`). On PostgreSQL and
/// MySQL, the pool, which keeps no page cache per connection.
#[derive(Debug, Clone)]
pub(crate) struct WriteGate {
    turns: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    db: DatabaseConnection,
}

/// A writer's turn, until it is dropped, and where to write meanwhile.
pub(crate) struct Turn<'a> {
    _held: Option<tokio::sync::MutexGuard<'a, ()>>,
    /// The connection the turn's writes go through.
    pub(crate) db: &'a DatabaseConnection,
}

impl WriteGate {
    /// The gate of a store whose pool is `pool`; on SQLite with a writer connection of its own.
    pub(crate) async fn open(pool: &DatabaseConnection, engine: Engine) -> StoreResult<WriteGate> {
        if engine != Engine::Sqlite {
            return Ok(WriteGate { turns: None, db: pool.clone() });
        }
        // Kept open for the life of the store: a new connection would start with an empty cache.
        Ok(WriteGate { turns: Some(Default::default()), db: own_sqlite_connection(pool, |o| o).await? })
    }

    /// The same turns, writing through `db` instead (a bulk store's own connection).
    pub(crate) fn writing_through(&self, db: DatabaseConnection) -> WriteGate {
        WriteGate { turns: self.turns.clone(), db }
    }

    /// Waits for this writer's turn, which lasts until the guard is dropped. Nothing that
    /// holds a turn may wait for another writer of the store (a writer task included).
    pub(crate) async fn turn(&self) -> Turn<'_> {
        let held = match &self.turns {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        Turn { _held: held, db: &self.db }
    }

    /// Closes the SQLite writer connection (the pool's own on a server: closed with it).
    pub(crate) async fn close(&self) -> StoreResult<()> {
        if self.turns.is_some() {
            self.db.clone().close().await?;
        }
        Ok(())
    }
}

/// The same server URL naming another database (`postgres://u@h/test` → `postgres://u@h/name`).
pub fn with_database(server_url: &str, name: &str) -> String {
    let (head, query) = match server_url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (server_url, None),
    };
    let authority_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match head[authority_end..].find('/') {
        Some(slash) => &head[..authority_end + slash],
        None => head,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// A database's name as the statements below write it, unquoted: letters, digits and
/// underscores only.
fn plain_name(name: &str) -> StoreResult<()> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::invalid("数据库名只能包含字母、数字和下划线"));
    }
    Ok(())
}

/// Creates an empty database `name` on the server of `server_url` and returns its URL
/// (tests and benchmarks get a fresh database each).
pub async fn create_database(server_url: &str, name: &str) -> StoreResult<String> {
    use sea_orm::ConnectionTrait;
    plain_name(name)?;
    let admin = Database::connect(server_url).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    admin.close().await?;
    Ok(with_database(server_url, name))
}

/// Drops the database `name` on the server of `server_url`, if it is there: a benchmark's
/// database once measured. PostgreSQL ends the sessions still connected to it.
pub async fn drop_database(server_url: &str, name: &str) -> StoreResult<()> {
    use sea_orm::ConnectionTrait;
    plain_name(name)?;
    let force = if server_url.starts_with("postgres") { " WITH (FORCE)" } else { "" };
    let admin = Database::connect(server_url).await?;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}{force}")).await?;
    admin.close().await?;
    Ok(())
}

/// Copies the database `template` on the server of `server_url` into a new database
/// `name`, schema and rows, and returns the copy's URL: a test suite builds its starting
/// database once and gives each test a copy. PostgreSQL copies it whole (`CREATE DATABASE
/// … TEMPLATE`; nobody may be connected to the template); MySQL and MariaDB table by table
/// (`SHOW CREATE TABLE`, then `INSERT … SELECT`, foreign keys checked at neither step),
/// then the triggers (`SHOW CREATE TRIGGER`), once the rows are in.
pub async fn copy_database(server_url: &str, template: &str, name: &str) -> StoreResult<String> {
    use sea_orm::{ConnectionTrait, Statement};
    plain_name(template)?;
    plain_name(name)?;
    if server_url.starts_with("postgres") {
        let admin = Database::connect(server_url).await?;
        admin.execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await?;
        admin.close().await?;
        return Ok(with_database(server_url, name));
    }
    // One connection, so that the session's settings hold for every statement.
    let mut options = sea_orm::ConnectOptions::new(server_url);
    options.max_connections(1).min_connections(1).sqlx_logging(false);
    let admin = Database::connect(options).await?;
    let backend = admin.get_database_backend();
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    admin.execute_unprepared("SET SESSION foreign_key_checks = 0").await?;
    admin.execute_unprepared(&format!("USE {name}")).await?;
    let tables = admin
        .query_all(Statement::from_string(
            backend,
            format!("SHOW FULL TABLES FROM {template} WHERE Table_type = 'BASE TABLE'"),
        ))
        .await?;
    for row in tables {
        let table: String = row.try_get_by_index(0)?;
        let shown = admin
            .query_one(Statement::from_string(backend, format!("SHOW CREATE TABLE {template}.`{table}`")))
            .await?
            .ok_or_else(|| StoreError::invalid(format!("表 {table} 没有定义")))?;
        let create: String = shown.try_get_by_index(1)?;
        admin.execute_unprepared(&create).await?;
        admin
            .execute_unprepared(&format!("INSERT INTO `{table}` SELECT * FROM {template}.`{table}`"))
            .await?;
    }
    // The triggers last: the rows copied are the template's, marks included.
    let triggers =
        admin.query_all(Statement::from_string(backend, format!("SHOW TRIGGERS FROM {template}"))).await?;
    for row in triggers {
        let trigger: String = row.try_get_by_index(0)?;
        let shown = admin
            .query_one(Statement::from_string(backend, format!("SHOW CREATE TRIGGER {template}.`{trigger}`")))
            .await?
            .ok_or_else(|| StoreError::invalid(format!("触发器 {trigger} 没有定义")))?;
        let create: String = shown.try_get_by_index(2)?;
        admin.execute_unprepared(&create).await?;
    }
    admin.close().await?;
    Ok(with_database(server_url, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PRAGMA data_version` on `db`: it changes between two reads on one connection only
    /// when another connection committed in between.
    async fn data_version(db: &DatabaseConnection) -> i64 {
        let row = db
            .query_one(sea_orm::Statement::from_string(db.get_database_backend(), "PRAGMA data_version"))
            .await
            .expect("read")
            .expect("a row");
        row.try_get_by_index(0).expect("a number")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_every_turn_writes_through_the_gates_own_connection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (pool, engine) =
            connect(&DatabaseTarget::SqliteFile(dir.path().join("g.db"))).await.expect("opened");
        pool.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY)").await.expect("table");
        let gate = WriteGate::open(&pool, engine).await.expect("gate");
        let version = data_version(gate.turn().await.db).await;
        for _ in 0..3 {
            let turn = gate.turn().await;
            turn.db.execute_unprepared("INSERT INTO t DEFAULT VALUES").await.expect("written");
        }
        assert_eq!(
            data_version(gate.turn().await.db).await,
            version,
            "a turn wrote through another connection"
        );

        // What another connection commits is seen (the measure can tell), a bulk store's turn
        // included: it writes through its own.
        pool.execute_unprepared("INSERT INTO t DEFAULT VALUES").await.expect("written");
        let version = data_version(gate.turn().await.db).await;
        let (bulk, _) = connect(&DatabaseTarget::SqliteFile(dir.path().join("g.db"))).await.expect("opened");
        let bulk_gate = gate.writing_through(bulk.clone());
        bulk_gate.turn().await.db.execute_unprepared("INSERT INTO t DEFAULT VALUES").await.expect("written");
        assert_ne!(
            data_version(gate.turn().await.db).await,
            version,
            "the bulk turn wrote through the gate's"
        );
        let count = pool
            .query_one(sea_orm::Statement::from_string(pool.get_database_backend(), "SELECT COUNT(*) FROM t"))
            .await
            .expect("read")
            .expect("a row")
            .try_get_by_index::<i64>(0)
            .expect("a number");
        assert_eq!(count, 5);
        gate.close().await.expect("closed");
        bulk.close().await.expect("closed");
        pool.close().await.expect("closed");
    }

    #[test]
    fn server_urls_get_another_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test?ssl-mode=disabled", "x"),
            "mysql://root@127.0.0.1:3306/x?ssl-mode=disabled"
        );
        assert_eq!(with_database("mysql://root@127.0.0.1:3306", "x"), "mysql://root@127.0.0.1:3306/x");
    }
}
