//! Large writes (a county roster of a million persons) on a connection of their own.
//!
//! On SQLite the pool's connections keep small page caches so that a server stays small;
//! a bulk import inserts into indexes of random keys (the ID-number hash) that outgrow
//! them, and each batch would read back from the file the pages the last one wrote. A
//! bulk store has one connection with a large cache, and leaves the WAL to grow during the
//! import instead of copying the same index pages into the database after every few
//! batches: `finish` checkpoints once at the end. On PostgreSQL and MySQL the server
//! manages its own memory, and a bulk store is the ordinary one; `finish` refreshes the
//! planner's statistics of the tables a bulk load fills, so that the next statements (the
//! next import's look-ups, the lists) are planned for the tables' new size rather than
//! for the empty tables they were when the import began.
//!
//! The SQLite bulk connection checks no foreign keys. SQLite checks an immediate foreign
//! key row by row and keeps a statement journal for each multi-row INSERT so that it could
//! undo the statement's rows (see `rows.rs` on `INSERT OR FAIL`): with the keys checked, a
//! city's import took 1.4 times as long. What a bulk write refers to is either written in
//! the same transaction (the ids its INSERTs return) or never deleted (regions, families,
//! persons: the code deletes none of them), and the one reference that comes
//! from outside, the family of a new member of a registered family, is checked by the
//! batch itself (`households.rs`). The tests check every foreign key after an import
//! (`PRAGMA foreign_key_check`).

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};

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
        let db = self.unchecked_connection(BULK_CACHE_KIB).await?;
        Ok(Store {
            // Its writes take turns with the store's others, through its own connection.
            write_gate: self.write_gate.writing_through(db.clone()),
            db,
            engine: self.engine,
            dialect: self.dialect,
            keys: self.keys.clone(),
            audit_queue: self.audit_queue.clone(),
            quick_reads: self.quick_reads.clone(),
            _checkpoints: self._checkpoints.for_import(),
            writers: self.writers.clone(),
            lookup_limit: self.lookup_limit,
            refused_lookups: self.refused_lookups.clone(),
            clock: self.clock.clone(),
            file_root: self.file_root.clone(),
        })
    }

    /// How many batches of a bulk import may be written at once, each in a transaction of
    /// its own. SQLite has one writer at a time. A PostgreSQL or MySQL server gives each
    /// connection a process or thread of its own, and a roster import there was bound by
    /// that one server process at a full core while the importer waited for it
    /// (docs/BENCHMARKS.md, twenty-sixth session): two let the server use two cores.
    pub fn bulk_writers(&self) -> usize {
        match self.engine {
            Engine::Sqlite => 1,
            Engine::Postgres | Engine::MySql => SERVER_BULK_WRITERS,
        }
    }

    /// Ends a bulk import: on SQLite, copies the import's pages from the WAL into the
    /// database once, and releases the connection and its cache.
    pub async fn finish_bulk(self) -> StoreResult<()> {
        if self.engine == Engine::Sqlite {
            self.db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await?;
            self.db.close().await?;
        } else {
            self.refresh_statistics().await?;
        }
        Ok(())
    }

    /// Refreshes the planner's statistics of the tables bulk writes fill (`ANALYZE` on
    /// PostgreSQL, `ANALYZE TABLE` on MySQL; both read a sample, a second or two for a
    /// city). SQLite plans each statement from its indexes alone, and its `ANALYZE` would
    /// read every index in full, so there it does nothing.
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        self.refresh_statistics_of(&BULK_TABLES).await
    }

    /// [`Store::refresh_statistics`] of `tables`: after a write that filled them in bulk.
    pub(crate) async fn refresh_statistics_of(&self, tables: &[&str]) -> StoreResult<()> {
        let tables = tables.join(", ");
        match self.engine {
            Engine::Sqlite => {}
            Engine::Postgres => {
                self.db.execute_unprepared(&format!("ANALYZE {tables}")).await?;
            }
            Engine::MySql => {
                // `ANALYZE TABLE` answers with a result set, which must be read.
                self.db
                    .query_all(sea_orm::Statement::from_string(
                        self.db.get_database_backend(),
                        format!("ANALYZE TABLE {tables}"),
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// One SQLite connection of its own, beside the pool, with a page cache of `cache_kib`
    /// and no foreign-key checks (see the module's doc), for one large write.
    async fn unchecked_connection(&self, cache_kib: i64) -> StoreResult<DatabaseConnection> {
        crate::connect::own_sqlite_connection(&self.db, |options| {
            options
                .pragma("cache_size", format!("-{cache_kib}"))
                .pragma("wal_autocheckpoint", "0")
                .foreign_keys(false)
        })
        .await
    }

    /// Where one large transaction of a running store writes (a batch renewal of a city:
    /// hundreds of thousands of rows): on SQLite a connection of its own with a large page
    /// cache and no foreign-key checks, as a bulk import's, so that its multi-row INSERTs
    /// keep no statement journal (a batch renewal's writes took half as long without it,
    /// docs/BENCHMARKS.md, twenty-fifth session). The store's checkpoints go on as usual.
    /// On PostgreSQL and MySQL, the pool.
    pub(crate) async fn large_writer(&self) -> StoreResult<LargeWriter> {
        if self.engine != Engine::Sqlite {
            return Ok(LargeWriter { db: self.db.clone(), own: false });
        }
        Ok(LargeWriter { db: self.unchecked_connection(LARGE_WRITE_CACHE_KIB).await?, own: true })
    }
}

/// Page cache, in KiB, of a large write's connection (`Store::large_writer`). Such a
/// transaction changes far more pages than a pooled connection's 16 MB hold, and SQLite
/// writes what its cache cannot hold to the WAL before the commit. The benchmark's largest
/// such write took 3.1-3.8 s in most runs and about 6 s in some with the pool's cache;
/// with 64 MB, 2.8-3.5 s in every run (docs/BENCHMARKS.md, twenty-second session).
const LARGE_WRITE_CACHE_KIB: i64 = 64 * 1024;

/// The connection of one large write (`Store::large_writer`).
pub(crate) struct LargeWriter {
    db: DatabaseConnection,
    /// Opened for this write (SQLite), and closed by `close`; otherwise the store's pool.
    own: bool,
}

impl LargeWriter {
    pub(crate) async fn begin(&self) -> StoreResult<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Closes the write's own connection. (Dropped instead, as when a request is given up
    /// half-way, its transaction is rolled back and the connection closed all the same.)
    pub(crate) async fn close(self) {
        if self.own {
            if let Err(error) = self.db.close().await {
                tracing::warn!(%error, "a large write's connection closed badly");
            }
        }
    }
}

/// [`Store::bulk_writers`] on a database server.
const SERVER_BULK_WRITERS: usize = 2;

/// The tables a roster import or the demo city fills in bulk.
const BULK_TABLES: [&str; 8] = [
    "families",
    "persons",
    "consents",
    "policies",
    "policy_members",
    "cover_slots",
    "policy_products",
    "policy_funding",
];

/// Rows per statement of [`Store::reference_insert`], as [`crate::rows`] writes them.
const REFERENCE_ROWS_PER_STATEMENT: usize = 256;

impl Store {
    /// The benchmark's yardstick: `rows` random 32-byte keys into a scratch table with a
    /// unique index on them, `per_transaction` rows a transaction, in statements of 256
    /// rows, on a bulk connection — the plain bulk insert the roster import is compared
    /// with. The table is dropped again.
    pub async fn reference_insert(&self, rows: usize, per_transaction: usize) -> StoreResult<()> {
        use rand::RngCore;
        use sea_orm::{Statement, TransactionTrait, Value};
        let backend = self.db.get_database_backend();
        let key_type = match self.engine {
            Engine::Sqlite => "BLOB",
            Engine::Postgres => "BYTEA",
            Engine::MySql => "VARBINARY(32)",
        };
        self.db.execute_unprepared("DROP TABLE IF EXISTS bench_reference").await?;
        self.db
            .execute_unprepared(&format!(
                "CREATE TABLE bench_reference (id BIGINT NOT NULL PRIMARY KEY, k {key_type} NOT NULL UNIQUE)"
            ))
            .await?;
        let statement = |count: usize| {
            let mut sql = String::from("INSERT INTO bench_reference (id, k) VALUES ");
            for row in 0..count {
                if row > 0 {
                    sql.push_str(", ");
                }
                match self.engine {
                    Engine::Postgres => sql.push_str(&format!("(${}, ${})", 2 * row + 1, 2 * row + 2)),
                    Engine::Sqlite | Engine::MySql => sql.push_str("(?, ?)"),
                }
            }
            sql
        };
        let full = statement(REFERENCE_ROWS_PER_STATEMENT);
        let mut rng = rand::thread_rng();
        let mut next_id: i64 = 1;
        let mut left = rows;
        while left > 0 {
            let in_transaction = left.min(per_transaction.max(1));
            left -= in_transaction;
            let txn = self.db.begin().await?;
            let mut remaining = in_transaction;
            while remaining > 0 {
                let count = remaining.min(REFERENCE_ROWS_PER_STATEMENT);
                remaining -= count;
                let mut values: Vec<Value> = Vec::with_capacity(2 * count);
                for _ in 0..count {
                    let mut key = vec![0u8; 32];
                    rng.fill_bytes(&mut key);
                    values.push(next_id.into());
                    values.push(key.into());
                    next_id += 1;
                }
                let sql = if count == REFERENCE_ROWS_PER_STATEMENT { full.clone() } else { statement(count) };
                txn.execute(Statement::from_sql_and_values(backend, sql, values)).await?;
            }
            txn.commit().await?;
        }
        self.db.execute_unprepared("DROP TABLE bench_reference").await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::LARGE_WRITE_CACHE_KIB;
    use crate::connect::POOL_CACHE_KIB;
    use crate::{DatabaseTarget, Keys, Store};

    async fn pragma(db: &impl ConnectionTrait, name: &str) -> i64 {
        let row = db
            .query_one(Statement::from_string(db.get_database_backend(), format!("PRAGMA {name}")))
            .await
            .expect("read")
            .expect("a row");
        row.try_get_by_index::<i64>(0).expect("a number")
    }

    /// A large write's transaction has its own cache and checks no foreign keys, while the
    /// pool's connections keep theirs and go on checking.
    #[tokio::test]
    async fn a_large_write_has_a_connection_of_its_own_and_leaves_the_pool_as_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = DatabaseTarget::SqliteFile(dir.path().join("guanai.db"));
        let store =
            Store::connect(&target, Keys::from_hex(&"11".repeat(32)).expect("key")).await.expect("opens");
        let writer = store.large_writer().await.expect("a writer");
        let txn = writer.begin().await.expect("begun");
        assert_eq!(-pragma(&txn, "cache_size").await, LARGE_WRITE_CACHE_KIB);
        assert_eq!(pragma(&txn, "foreign_keys").await, 0, "no checks in the large write");
        drop(txn);
        writer.close().await;
        assert_eq!(-pragma(&store.db, "cache_size").await, POOL_CACHE_KIB, "the pool's connections");
        assert_eq!(pragma(&store.db, "foreign_keys").await, 1, "the pool checks foreign keys");
        store.close().await.expect("closes");
    }
}
