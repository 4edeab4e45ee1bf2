//! What the database server keeps of the data in memory, read from the server itself: the
//! benchmark prints it beside its figures, and `guanai serve` and `guanai import roster`
//! advise when a MySQL or MariaDB server's cache is too small for a city.
//!
//! PostgreSQL and SQLite read their files through the operating system's cache, whatever
//! their own cache's size. MariaDB 10.6 and later (and MySQL with `innodb_flush_method =
//! O_DIRECT`) bypass it: InnoDB's buffer pool is then the only cache of the data. With
//! Debian's default pool of 128 MB, a city's database (1.1–1.4 GB of tables and indexes on
//! MariaDB) is read from disk page by page: on the same machine and hour the roster import
//! took 2.4 times as long as with a 4 GB pool, the batch renewal 1.9 times, and the
//! import's last tenth ran at a fifth of its first (docs/BENCHMARKS.md, thirty-second
//! session).
//!
//! The data's size on MySQL and MariaDB comes from `information_schema.TABLES`, which the
//! server refreshes from its statistics: after a large import it may lag (MySQL 8 caches it
//! for up to a day, `information_schema_stats_expiry`). The advice does not depend on it
//! for a city, whose least pool is [`LEAST_ADVISED_POOL_BYTES`] whatever the size read.

use sea_orm::{ConnectionTrait, Statement};

use crate::{Engine, Store, StoreResult};

/// The least buffer pool advised on MySQL and MariaDB whatever the data's size today: a
/// city's tables and indexes fill 1.1–1.4 GB there once its roster is imported, and the
/// pools measured to keep every step within 3× of SQLite's are 2 GB and 4 GB
/// (docs/BENCHMARKS.md, eighteenth and thirty-second sessions).
pub const LEAST_ADVISED_POOL_BYTES: u64 = 2 << 30;

/// What the server has to cache the data, and how much data there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCache {
    pub engine: Engine,
    /// The server's version as it gives it (SQLite: the library's).
    pub version: String,
    /// The server's own cache: PostgreSQL's `shared_buffers`, InnoDB's buffer pool; none
    /// for SQLite, whose page caches are per connection and set by Guanai.
    pub cache_bytes: Option<u64>,
    /// Whether the server's files bypass the operating system's cache (InnoDB's
    /// `innodb_flush_method` is `O_DIRECT…`, or MariaDB's `innodb_data_file_buffering` is
    /// off), so that its own cache is the only one.
    pub direct_io: bool,
    /// The size of this database's tables and indexes.
    pub data_bytes: u64,
}

impl ServerCache {
    /// One line for a report: the engine, its version and its cache, and the data.
    pub fn describe(&self) -> String {
        let cache = self.cache_bytes.map(megabytes).unwrap_or_else(|| "?".to_owned());
        let own_cache = match self.engine {
            Engine::Sqlite => String::new(),
            Engine::Postgres => format!(", shared_buffers {cache}"),
            Engine::MySql => {
                format!(", InnoDB buffer pool {cache}{}", if self.direct_io { ", O_DIRECT" } else { "" })
            }
        };
        format!("{} {}{own_cache}; data {}", self.engine.label(), self.version, megabytes(self.data_bytes))
    }

    /// The advice to give the server's administrator, in Chinese, when InnoDB's buffer
    /// pool holds less than the data or less than a city needs
    /// ([`LEAST_ADVISED_POOL_BYTES`]). Other engines read through the operating system's
    /// cache and get none.
    pub fn advice(&self) -> Option<String> {
        // TiDB answers for `innodb_buffer_pool_size` with a fixed value that sizes nothing.
        if self.engine != Engine::MySql || self.version.contains("TiDB") {
            return None;
        }
        let pool = self.cache_bytes?;
        let needed = self.data_bytes.max(LEAST_ADVISED_POOL_BYTES);
        if pool >= needed {
            return None;
        }
        let why = if self.data_bytes > pool {
            format!("小于本数据库的数据和索引（{}）", megabytes(self.data_bytes))
        } else {
            format!(
                "装不下一个市的数据（一个市的数据和索引约 1.1–1.4 GB；本数据库现有 {}）",
                megabytes(self.data_bytes)
            )
        };
        let cost = if self.direct_io {
            "数据库文件不经操作系统缓存（O_DIRECT），缓冲池装不下的数据每次都要从磁盘读：\
             名单导入和批量续保约慢一倍或更多"
        } else {
            "缓冲池装不下的数据要从操作系统缓存或磁盘读，名单导入和批量续保可能明显变慢"
        };
        Some(format!(
            "数据库服务器的 InnoDB 缓冲池只有 {}，{why}。{cost}。\
             请把 innodb_buffer_pool_size 设为至少 {}，最好为数据库服务器内存的一半以上（见 docs/SCALE.md）。",
            megabytes(pool),
            megabytes(needed)
        ))
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1024 * 1024))
}

/// The version, the server's own cache in bytes (or NULL) and the database's size, in one
/// row. PostgreSQL counts `shared_buffers` in blocks.
const SQLITE: &str = "SELECT sqlite_version(), NULL, \
    (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())";
const POSTGRES: &str = "SELECT current_setting('server_version'), \
    (SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers') \
      * current_setting('block_size')::bigint, \
    pg_database_size(current_database())";
const MYSQL: &str = "SELECT VERSION(), CAST(@@innodb_buffer_pool_size AS SIGNED), \
    CAST((SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.TABLES \
          WHERE table_schema = DATABASE()) AS SIGNED)";

impl Store {
    /// Reads [`ServerCache`] from the database server.
    pub async fn server_cache(&self) -> StoreResult<ServerCache> {
        let sql = match self.engine {
            Engine::Sqlite => SQLITE,
            Engine::Postgres => POSTGRES,
            Engine::MySql => MYSQL,
        };
        let row = self.one_row(sql).await?.ok_or_else(|| {
            crate::StoreError::Database(sea_orm::DbErr::RecordNotFound("server settings".into()))
        })?;
        let version: String = row.try_get_by_index(0)?;
        let cache: Option<i64> = row.try_get_by_index(1)?;
        let data: i64 = row.try_get_by_index(2)?;
        let direct_io = match self.engine {
            Engine::MySql => self.innodb_bypasses_the_systems_cache().await,
            Engine::Sqlite | Engine::Postgres => false,
        };
        Ok(ServerCache {
            engine: self.engine,
            version,
            cache_bytes: cache.and_then(|c| u64::try_from(c).ok()),
            direct_io,
            data_bytes: u64::try_from(data).unwrap_or(0),
        })
    }

    /// Whether InnoDB reads and writes its data files past the operating system's cache.
    /// MariaDB 11 has the Boolean `innodb_data_file_buffering` (0: bypassed) and deprecates
    /// `innodb_flush_method`, which MySQL and MariaDB 10 have (`O_DIRECT…`: bypassed). Each
    /// is asked on its own: a server without the variable answers with an error, and one
    /// answered by neither is taken as buffered.
    async fn innodb_bypasses_the_systems_cache(&self) -> bool {
        let ask = |sql| async move { self.one_row(sql).await.ok()??.try_get_by_index::<String>(0).ok() };
        if let Some(buffering) = ask("SELECT CAST(@@innodb_data_file_buffering AS CHAR)").await {
            return buffering.eq_ignore_ascii_case("OFF") || buffering == "0";
        }
        ask("SELECT CAST(@@innodb_flush_method AS CHAR)")
            .await
            .is_some_and(|method| method.to_ascii_uppercase().starts_with("O_DIRECT"))
    }

    async fn one_row(&self, sql: &str) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
        self.db.query_one(Statement::from_string(self.db.get_database_backend(), sql.to_owned())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    fn innodb(pool: u64, data: u64) -> ServerCache {
        ServerCache {
            engine: Engine::MySql,
            version: "10.11.19-MariaDB".to_owned(),
            cache_bytes: Some(pool),
            direct_io: true,
            data_bytes: data,
        }
    }

    #[test]
    fn a_buffer_pool_smaller_than_the_data_or_a_city_is_advised_against() {
        let advice = innodb(128 * MB, 1500 * MB).advice().expect("128 MB for 1.5 GB");
        assert!(advice.contains("只有 128 MB，小于本数据库的数据和索引（1500 MB）"), "{advice}");
        assert!(advice.contains("至少 2048 MB") && advice.contains("O_DIRECT"), "{advice}");
        let small = innodb(128 * MB, 3 * MB).advice().expect("a fresh database still grows to a city");
        assert!(small.contains("装不下一个市的数据") && small.contains("本数据库现有 3 MB"), "{small}");
        assert!(small.contains("至少 2048 MB"), "{small}");
        assert!(innodb(1024 * MB, 3 * MB).advice().is_some(), "1 GB is below a city's 2 GB");
        assert_eq!(innodb(2048 * MB, 3 * MB).advice(), None);
        assert_eq!(innodb(4096 * MB, 1500 * MB).advice(), None);
        let outgrown = innodb(2048 * MB, 3000 * MB).advice().expect("the data outgrew the pool");
        assert!(outgrown.contains("至少 3000 MB"), "{outgrown}");
        let buffered = ServerCache { direct_io: false, ..innodb(128 * MB, 1500 * MB) };
        let advice = buffered.advice().unwrap();
        assert!(!advice.contains("O_DIRECT") && advice.contains("可能明显变慢"), "{advice}");
    }

    #[test]
    fn engines_reading_through_the_systems_cache_or_without_a_pool_get_no_advice() {
        for engine in [Engine::Postgres, Engine::Sqlite] {
            let cache = ServerCache { engine, ..innodb(128 * MB, 1500 * MB) };
            assert_eq!(cache.advice(), None, "{engine:?}");
        }
        let unknown = ServerCache { cache_bytes: None, ..innodb(0, 1500 * MB) };
        assert_eq!(unknown.advice(), None);
        let tidb = ServerCache { version: "8.0.11-TiDB-v7.5.0".to_owned(), ..innodb(128 * MB, 1500 * MB) };
        assert_eq!(tidb.advice(), None, "TiDB's buffer pool variable sizes nothing");
    }

    #[test]
    fn the_description_names_the_engine_its_cache_and_the_data() {
        assert_eq!(
            innodb(128 * MB, 1500 * MB).describe(),
            "MySQL/MariaDB 10.11.19-MariaDB, InnoDB buffer pool 128 MB, O_DIRECT; data 1500 MB"
        );
        let postgres =
            ServerCache { engine: Engine::Postgres, version: "15.20".to_owned(), ..innodb(128 * MB, 1) };
        assert_eq!(postgres.describe(), "PostgreSQL 15.20, shared_buffers 128 MB; data 1 MB");
        let sqlite = ServerCache {
            engine: Engine::Sqlite,
            version: "3.46.0".to_owned(),
            cache_bytes: None,
            ..postgres
        };
        assert_eq!(sqlite.describe(), "SQLite 3.46.0; data 1 MB");
    }
}
