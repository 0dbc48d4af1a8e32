//! Migration 0002 on a database that version 0001 filled: duplicate cart lines (which the old
//! code could write) are merged, and the rebuilt cart keeps one line per (customer, item,
//! flavor) and exactly one of dish or set meal per line. On SQLite and PostgreSQL.

mod common;

use std::borrow::Cow;

use common::Backend;
use sky_takeout::store::Store;
use sqlx::AnyPool;

async fn exec(pool: &AnyPool, sql: &'static str) -> Result<u64, sqlx::Error> {
    sqlx::query(sql)
        .execute(pool)
        .await
        .map(|d| d.rows_affected())
}

/// The database as the migrations up to and including `version` left it (an older version of
/// the server), open in a pool of its own.
async fn migrated_upto(backend: Backend, url: &str, version: i64) -> AnyPool {
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let upto = migrator
        .migrations
        .iter()
        .take_while(|m| m.version <= version)
        .count();
    migrator.migrations = Cow::Owned(migrator.migrations[..upto].to_vec());
    let url = match backend {
        Backend::Sqlite => format!("{url}?mode=rwc"),
        Backend::Postgres => url.to_string(),
    };
    let pool = AnyPool::connect(&url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    pool
}

/// The database as version 0001 left it, with duplicated cart lines.
async fn old_database(backend: Backend, url: &str) {
    let pool = migrated_upto(backend, url, 1).await;
    for sql in [
        "INSERT INTO shop (id, name, created_at) VALUES (1, 's', 0)",
        "INSERT INTO category (id, shop_id, type, name, created_at, updated_at) VALUES (1, 1, 1, 'c', 0, 0)",
        "INSERT INTO dish (id, shop_id, category_id, name, price, created_at, updated_at) VALUES (1, 1, 1, 'd', 100, 0, 0)",
        "INSERT INTO \"user\" (id, openid, created_at) VALUES (1, 'o', 0)",
        "INSERT INTO shopping_cart (id, user_id, shop_id, dish_id, dish_flavor, name, number, amount, created_at) VALUES (1, 1, 1, 1, '', 'd', 1, 100, 0)",
        "INSERT INTO shopping_cart (id, user_id, shop_id, dish_id, dish_flavor, name, number, amount, created_at) VALUES (2, 1, 1, 1, '', 'd', 2, 100, 0)",
        "INSERT INTO shopping_cart (id, user_id, shop_id, dish_id, dish_flavor, name, number, amount, created_at) VALUES (3, 1, 1, 1, '微辣', 'd', 1, 100, 0)",
    ] {
        exec(&pool, sql).await.unwrap();
    }
    pool.close().await;
}

async fn duplicate_lines_are_merged_and_then_impossible(backend: Backend) {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(backend, &dir).await;
    old_database(backend, &url).await;
    let store = Store::connect(&url).await.expect("0002 applies");
    let pool = store.pool();
    let lines: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, dish_flavor, number FROM shopping_cart ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        lines,
        vec![(1, String::new(), 3), (3, "微辣".to_string(), 1)],
        "the two '' lines became the oldest one, numbers added"
    );
    let duplicate = exec(
        pool,
        "INSERT INTO shopping_cart (user_id, shop_id, dish_id, dish_flavor, name, number, amount, created_at) VALUES (1, 1, 1, '', 'd', 1, 100, 0)",
    )
    .await;
    assert!(duplicate.is_err(), "a second line of one dish and flavor");
    let neither = exec(
        pool,
        "INSERT INTO shopping_cart (user_id, shop_id, dish_flavor, name, number, amount, created_at) VALUES (1, 1, 'x', 'd', 1, 100, 0)",
    )
    .await;
    assert!(neither.is_err(), "a line of neither a dish nor a set meal");
    let both = exec(
        pool,
        "INSERT INTO shopping_cart (user_id, shop_id, dish_id, setmeal_id, dish_flavor, name, number, amount, created_at) VALUES (1, 1, 1, 7, 'y', 'd', 1, 100, 0)",
    )
    .await;
    assert!(both.is_err(), "a line of both a dish and a set meal");
    let setmeal = "INSERT INTO shopping_cart (user_id, shop_id, setmeal_id, dish_flavor, name, number, amount, created_at) VALUES (1, 1, 7, '', 'm', 1, 100, 0)";
    assert_eq!(exec(pool, setmeal).await.unwrap(), 1, "a set meal line");
    assert!(
        exec(pool, setmeal).await.is_err(),
        "a second line of one set meal"
    );
    store.close().await;
}

/// Migration 0006 on a database that 0003 left with an account the seed made afterwards
/// (`updated_at` 0): the account gets its creation time as `updated_at`, keeps no session,
/// and the session counter starts at 0, so the first change draws 1.
async fn sessions_migration_over_0003(backend: Backend) {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(backend, &dir).await;
    let pool = migrated_upto(backend, &url, 3).await;
    for sql in [
        "INSERT INTO shop (id, name, created_at) VALUES (1, 's', 0)",
        "INSERT INTO employee (id, shop_id, username, name, password_hash, created_at) VALUES (1, 1, 'admin', 'a', 'h', 1700000000000)",
    ] {
        exec(&pool, sql).await.unwrap();
    }
    pool.close().await;
    let store = Store::connect(&url).await.expect("0006 applies");
    let row: (i64, i64, i64) =
        sqlx::query_as("SELECT updated_at, session_gen, session_keep FROM employee WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(row, (1_700_000_000_000, 0, 0));
    let mut tx = store.begin().await.unwrap();
    let first = sky_takeout::store::employees::next_gen(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(first, 1);
    store.close().await;
}

backend_tests! {
    cart_lines => duplicate_lines_are_merged_and_then_impossible,
    sessions_0006 => sessions_migration_over_0003,
}

/// Migration 0007 (SQLite) on a database 0006 left with alert rows: the alert log is rebuilt
/// without AUTOINCREMENT, keeping every row, id and mark; the next alert takes the next id,
/// `(shop_id, seq)` stays unique and both indexes are back.
#[tokio::test]
async fn sqlite_alert_log_loses_autoincrement_and_keeps_its_rows() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(Backend::Sqlite, &dir).await;
    let pool = migrated_upto(Backend::Sqlite, &url, 6).await;
    for sql in [
        "INSERT INTO shop (id, name, created_at) VALUES (1, 's', 0)",
        "INSERT INTO \"user\" (id, openid, created_at) VALUES (1, 'o', 0)",
        "INSERT INTO orders (id, shop_id, number, status, user_id, address_book_id, order_time, pay_method, pay_status, amount) \
         VALUES (1, 1, 'n1', 2, 1, 1, 0, 1, 1, 100)",
        "INSERT INTO alert_log (id, shop_id, seq, type, order_id, order_number, content, created_at, published_at, delivered_at) \
         VALUES (5, 1, 1, 1, 1, 'n1', '订单号：n1', 10, 11, 12)",
        "INSERT INTO alert_log (id, shop_id, seq, type, realert, order_id, order_number, content, created_at, handled_at, handled_by) \
         VALUES (9, 1, 2, 1, 1, 1, 'n1', '订单号：n1', 20, 21, 7)",
    ] {
        exec(&pool, sql).await.unwrap();
    }
    pool.close().await;

    let store = Store::connect(&url).await.expect("0007 applies");
    let pool = store.pool();
    type Row = (
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, seq, realert, created_at, published_at, delivered_at, handled_at, handled_by \
         FROM alert_log ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (5, 1, 0, 10, Some(11), Some(12), None, None),
            (9, 2, 1, 20, None, None, Some(21), Some(7)),
        ]
    );
    let table: String = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'alert_log'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(!table.contains("AUTOINCREMENT"), "{table}");
    let sequences: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'alert_log'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(sequences, 0, "no sequence row left to rewrite");
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alert_log' \
         AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(indexes, ["alert_log_order", "alert_log_unpublished"]);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alert_log (shop_id, seq, type, order_id, order_number, content, created_at) \
         VALUES (1, 3, 2, 1, 'n1', '订单号：n1', 30) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(id, 10, "one more than the largest id");
    let same_seq = exec(
        pool,
        "INSERT INTO alert_log (shop_id, seq, type, order_id, order_number, content, created_at) \
         VALUES (1, 3, 2, 1, 'n1', 'again', 31)",
    )
    .await;
    assert!(
        same_seq.is_err(),
        "a shop's sequence number is still unique"
    );
    store.close().await;
}
