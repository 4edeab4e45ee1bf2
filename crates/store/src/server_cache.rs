//! What the database server keeps of the data in memory, read from the server itself: the
//! benchmark prints it beside its figures, and `guanai serve` advises when a MySQL or
//! MariaDB server's cache is too small for the data.
//!
//! PostgreSQL and SQLite read their files through the operating system's cache, whatever
//! their own cache's size. MariaDB 10.6 and later (and MySQL with `innodb_flush_method =
//! O_DIRECT`) bypass it: InnoDB's buffer pool is then the only cache of the data. With
//! Debian's default pool of 128 MB, a city's database (about 1.5 GB on MariaDB) is read
//! from disk page by page: on the same machine and day the roster import took about twice
//! as long as with a 4 GB pool, the batch renewal too, and the import's last tenth ran at a
//! fifth of its first (docs/BENCHMARKS.md, thirty-second session).

use sea_orm::{ConnectionTrait, Statement};

use crate::{Engine, Store, StoreResult};

/// The least buffer pool advised on MySQL and MariaDB whatever the data's size today: a
/// city's database fills about 1.5 GB there once its roster is imported.
pub const LEAST_ADVISED_POOL_BYTES: u64 = 1 << 30;

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
    /// `innodb_flush_method` is `O_DIRECT…`), so that its own cache is the only one.
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
        if self.engine != Engine::MySql {
            return None;
        }
        let pool = self.cache_bytes?;
        let needed = self.data_bytes.max(LEAST_ADVISED_POOL_BYTES);
        if pool >= needed {
            return None;
        }
        let why = if self.data_bytes > pool {
            format!("小于本库的数据和索引（{}）", megabytes(self.data_bytes))
        } else {
            format!("装不下一个市的数据（约 1.5 GB；本库现有 {}）", megabytes(self.data_bytes))
        };
        let bypass =
            if self.direct_io { "数据库文件不经操作系统缓存（O_DIRECT），" } else { "" };
        Some(format!(
            "数据库服务器的 InnoDB 缓冲池只有 {}，{why}。{bypass}\
             缓冲池装不下的数据每次都要从磁盘读，导入名单和批量续保会慢一倍以上。\
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
        let backend = self.db.get_database_backend();
        let one = |sql: &str| self.db.query_one(Statement::from_string(backend, sql.to_owned()));
        let sql = match self.engine {
            Engine::Sqlite => SQLITE,
            Engine::Postgres => POSTGRES,
            Engine::MySql => MYSQL,
        };
        let row = one(sql).await?.ok_or_else(|| {
            crate::StoreError::Database(sea_orm::DbErr::RecordNotFound("server settings".into()))
        })?;
        let version: String = row.try_get_by_index(0)?;
        let cache: Option<i64> = row.try_get_by_index(1)?;
        let data: i64 = row.try_get_by_index(2)?;
        // Asked on its own: a server without the variable (later versions may drop it)
        // answers with an error, which leaves the flush method unknown, not the read failed.
        let flush = match self.engine {
            Engine::MySql => match one("SELECT @@innodb_flush_method").await {
                Ok(Some(row)) => row.try_get_by_index::<String>(0).unwrap_or_default(),
                _ => String::new(),
            },
            Engine::Sqlite | Engine::Postgres => String::new(),
        };
        Ok(ServerCache {
            engine: self.engine,
            version,
            cache_bytes: cache.and_then(|c| u64::try_from(c).ok()),
            direct_io: flush.to_ascii_uppercase().starts_with("O_DIRECT"),
            data_bytes: u64::try_from(data).unwrap_or(0),
        })
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
        assert!(advice.contains("只有 128 MB，小于本库的数据和索引（1500 MB）"), "{advice}");
        assert!(advice.contains("至少 1500 MB") && advice.contains("O_DIRECT"), "{advice}");
        let small = innodb(128 * MB, 3 * MB).advice().expect("a fresh database still grows to a city");
        assert!(small.contains("装不下一个市的数据（约 1.5 GB；本库现有 3 MB）"), "{small}");
        assert!(small.contains("至少 1024 MB"), "{small}");
        assert_eq!(innodb(1024 * MB, 3 * MB).advice(), None);
        assert_eq!(innodb(4096 * MB, 1500 * MB).advice(), None);
        assert!(innodb(2048 * MB, 3000 * MB).advice().is_some());
        let buffered = ServerCache { direct_io: false, ..innodb(128 * MB, 1500 * MB) };
        assert!(!buffered.advice().unwrap().contains("O_DIRECT"));
    }

    #[test]
    fn engines_reading_through_the_systems_cache_get_no_advice() {
        for engine in [Engine::Postgres, Engine::Sqlite] {
            let cache = ServerCache { engine, ..innodb(128 * MB, 1500 * MB) };
            assert_eq!(cache.advice(), None, "{engine:?}");
        }
        let unknown = ServerCache { cache_bytes: None, ..innodb(0, 1500 * MB) };
        assert_eq!(unknown.advice(), None);
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
