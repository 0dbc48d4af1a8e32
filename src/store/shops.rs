//! SQL of shops, their merchant accounts and instance-wide settings.

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::domain::account::{ACTIVE, Employee};
use crate::domain::shop::OPEN;

from_row!(Employee {
    id,
    shop_id,
    username,
    name,
    password_hash,
    status,
    session_gen,
});

/// Creates a shop and returns its id.
pub async fn insert_shop(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO shop (name, status, created_at) VALUES ($1, $3, $2) RETURNING id",
    )
    .bind(name)
    .bind(now)
    .bind(OPEN)
    .fetch_one(&mut *conn)
    .await?)
}

/// Creates a merchant account and returns its id.
pub async fn insert_employee(
    conn: &mut AnyConnection,
    shop_id: i64,
    username: &str,
    name: &str,
    password_hash: &str,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO employee (shop_id, username, name, password_hash, status, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $6, $5, $5) RETURNING id",
    )
    .bind(shop_id)
    .bind(username)
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .bind(ACTIVE)
    .fetch_one(&mut *conn)
    .await?)
}

/// A merchant account by user name.
pub async fn employee_by_username(
    pool: &AnyPool,
    username: &str,
) -> Result<Option<Employee>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, shop_id, username, name, password_hash, status, session_gen FROM employee \
         WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?)
}

/// A merchant account by id.
pub async fn employee_by_id(pool: &AnyPool, id: i64) -> Result<Option<Employee>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, shop_id, username, name, password_hash, status, session_gen FROM employee \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// A shop's status ([`OPEN`] or closed), `None` when there is no such shop.
pub async fn shop_status<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    shop_id: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT status FROM shop WHERE id = $1")
        .bind(shop_id)
        .fetch_optional(ex)
        .await?)
}

/// Opens or closes a shop.
pub async fn set_shop_status(pool: &AnyPool, shop_id: i64, status: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE shop SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(shop_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ids and names of all shops.
pub async fn list_shops(pool: &AnyPool) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, name FROM shop ORDER BY id")
        .fetch_all(pool)
        .await?)
}

/// Stores `value` under `key` unless the key exists; returns the stored value either way.
/// Safe when several instances start at once: the first insert wins.
pub async fn setting_get_or_init(
    pool: &AnyPool,
    key: &str,
    value: &str,
) -> Result<String, StoreError> {
    sqlx::query(
        "INSERT INTO app_setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM app_setting WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?,
    )
}

/// In a transaction: claims a one-time `key`. True for exactly one caller ever.
pub async fn claim_once(conn: &mut AnyConnection, key: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO app_setting (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
