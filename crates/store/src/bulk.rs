//! Large writes (a county roster of a million persons) on a connection of their own.
//!
//! On SQLite the pool's connections keep small page caches so that a server stays small;
//! a bulk import inserts into indexes of random keys (the ID-number hash) that outgrow
//! them, and each batch would read back from the file the pages the last one wrote. A
//! bulk store has one connection with a large cache, and leaves the WAL to grow during the
//! import instead of copying the same index pages into the database after every few
//! batches: `finish` checkpoints once at the end. On PostgreSQL and MySQL the server
//! manages its own memory, and a bulk store is the ordinary one.

use sea_orm::{ConnectionTrait, SqlxSqliteConnector};
use sqlx::sqlite::SqlitePoolOptions;

use crate::{Engine, Store, StoreResult};

/// Page cache of the bulk connection, in KiB (SQLite's negative `cache_size`): enough for
/// the ID-number index of a city (1,000,000 keys) and the pages being appended.
const BULK_CACHE_KIB: i64 = 128 * 1024;

impl Store {
    /// A store for one large import. Call [`Store::finish_bulk`] when the import is done.
    pub async fn bulk(&self) -> StoreResult<Store> {
        if self.engine != Engine::Sqlite {
            return Ok(self.clone());
        }
        let options = (*self.db.get_sqlite_connection_pool().connect_options())
            .clone()
            .pragma("cache_size", format!("-{BULK_CACHE_KIB}"))
            .pragma("wal_autocheckpoint", "0");
        let pool =
            SqlitePoolOptions::new().max_connections(1).min_connections(1).connect_with(options).await?;
        Ok(Store {
            db: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
            engine: self.engine,
            keys: self.keys.clone(),
            write_gate: self.write_gate.clone(),
            audit_queue: self.audit_queue.clone(),
        })
    }

    /// Ends a bulk import: on SQLite, copies the import's pages from the WAL into the
    /// database once, and releases the connection and its cache.
    pub async fn finish_bulk(self) -> StoreResult<()> {
        if self.engine == Engine::Sqlite {
            self.db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await?;
            self.db.close().await?;
        }
        Ok(())
    }
}
