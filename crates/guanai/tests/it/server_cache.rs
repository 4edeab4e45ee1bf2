//! What Guanai reads of the database server's own cache (`guanai_store::server_cache`),
//! and the advice `guanai serve` prints when a MySQL or MariaDB buffer pool is too small.

use sea_orm::{ConnectionTrait, Statement};

use crate::util::{TestApp, TestDb};
use guanai_store::server_cache::LEAST_ADVISED_POOL_BYTES;
use guanai_store::Engine;

/// A global variable as `SHOW GLOBAL VARIABLES` gives it: text, whatever its type.
async fn mysql_variable(url: &str, name: &str) -> Option<String> {
    let db = sea_orm::Database::connect(url).await.unwrap();
    let sql = format!("SHOW GLOBAL VARIABLES LIKE '{name}'");
    let row = db.query_one(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    db.close().await.unwrap();
    Some(row?.try_get_by_index::<String>(1).unwrap())
}

/// The server's own figure for its cache, asked another way than the store asks it:
/// `SHOW GLOBAL VARIABLES`, or `shared_buffers` as PostgreSQL converts it to bytes.
async fn cache_as_the_server_says(url: &str, engine: Engine) -> Option<u64> {
    match engine {
        Engine::Sqlite => None,
        Engine::MySql => mysql_variable(url, "innodb_buffer_pool_size").await.map(|v| v.parse().unwrap()),
        Engine::Postgres => {
            let db = sea_orm::Database::connect(url).await.unwrap();
            let sql = "SELECT pg_size_bytes(current_setting('shared_buffers'))";
            let row =
                db.query_one(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
            let bytes: i64 = row.try_get_by_index(0).unwrap();
            db.close().await.unwrap();
            Some(bytes as u64)
        }
    }
}

/// Whether `guanai serve` and `guanai import roster` should advise a larger buffer pool on
/// the test database: on MySQL and MariaDB whose pool is below a city's least (the test
/// databases are far smaller than that).
pub(crate) async fn pool_too_small(db: &TestDb) -> bool {
    let engine = db.target().engine().unwrap();
    engine == Engine::MySql
        && cache_as_the_server_says(&db.url, engine).await.is_some_and(|pool| pool < LEAST_ADVISED_POOL_BYTES)
}

#[tokio::test]
async fn the_servers_version_cache_and_data_are_read_from_the_server() {
    let app = TestApp::demo().await;
    let engine = app.store.engine();
    let cache = app.store.server_cache().await.unwrap();
    assert_eq!(cache.engine, engine);
    assert!(cache.version.starts_with(|c: char| c.is_ascii_digit()), "{cache:?}");
    assert_eq!(cache.cache_bytes, cache_as_the_server_says(&app._db.url, engine).await, "{cache:?}");
    if engine == Engine::MySql {
        let method = mysql_variable(&app._db.url, "innodb_flush_method").await.unwrap_or_default();
        assert_eq!(cache.direct_io, method.starts_with("O_DIRECT"), "{cache:?}, {method}");
    }
    // Not zero: the demo city's households, users and regions (about 1 MB on SQLite; an
    // empty database on a server is larger already, so this checks the reading only).
    assert!(cache.data_bytes > 512 * 1024, "{cache:?}");
    let described = cache.describe();
    let own_cache = match engine {
        Engine::Sqlite => "; data",
        Engine::Postgres => "shared_buffers",
        Engine::MySql => "InnoDB buffer pool",
    };
    assert!(described.starts_with(&format!("{} {}", engine.label(), cache.version)), "{described}");
    assert!(described.contains(own_cache), "{described}");
}

/// `guanai serve` prints the advice before it serves, on MySQL and MariaDB only, and only
/// when the buffer pool is below a city's needs; it serves all the same.
#[tokio::test]
async fn serve_advises_a_larger_buffer_pool_only_where_it_is_too_small() {
    use tokio::io::AsyncBufReadExt;
    let db = TestDb::new().await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_guanai"));
    command
        .args(["--database-url", &db.url, "--encryption-key", &db.key_hex, "--data-dir"])
        .arg(db.dir())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut server = command.spawn().expect("guanai runs");
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let served = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let serving = line.starts_with("关爱已启动");
            printed.push(line);
            if serving {
                return true;
            }
        }
        false
    })
    .await
    .expect("guanai serve starts within two minutes");
    server.kill().await.unwrap();
    assert!(served, "{printed:#?}");
    let advice: Vec<&String> = printed.iter().filter(|l| l.starts_with("提示：")).collect();
    if pool_too_small(&db).await {
        assert_eq!(advice.len(), 1, "{printed:#?}");
        assert!(
            advice[0].contains("innodb_buffer_pool_size") && advice[0].contains("至少 2048 MB"),
            "{advice:?}"
        );
    } else {
        assert!(advice.is_empty(), "{printed:#?}");
    }
}
