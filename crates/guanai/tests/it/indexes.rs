//! What the engines' indexes must answer: the queries whose speed at city scale depends on
//! an index that one engine could otherwise not use.

use crate::util::TestApp;

/// The search by name asks for names beginning with what was typed (`LIKE '张%'` on
/// PostgreSQL). Its index must answer that under whatever collation the database has
/// (migration 000032): with sequential scans priced out, the plan seeks the names' index
/// by the prefix, rather than reading all of it and filtering.
#[tokio::test]
async fn a_search_by_name_seeks_the_names_index_on_postgres() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let app = TestApp::demo().await;
    if app.store.engine() != guanai_store::Engine::Postgres {
        return;
    }
    let db = sea_orm::Database::connect(app._db.url.as_str()).await.unwrap();
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
    let explain = "EXPLAIN SELECT id FROM persons WHERE name LIKE '张%'";
    let rows = txn.query_all(Statement::from_string(db.get_database_backend(), explain)).await.unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
    txn.rollback().await.unwrap();
    db.close().await.unwrap();
    assert!(plan.iter().any(|line| line.contains("idx_persons_name")), "{plan:#?}");
    assert!(plan.iter().any(|line| line.contains("Index Cond") && line.contains("name")), "{plan:#?}");
}
