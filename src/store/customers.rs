//! SQL of customers (the `user` table).

use sqlx::AnyPool;

use super::{Backend, StoreError, WriteTx};

/// Finds or creates the customer with this openid; returns its id.
pub async fn user_for_openid(pool: &AnyPool, openid: &str, now: i64) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO \"user\" (openid, created_at) VALUES ($1, $2) ON CONFLICT (openid) DO NOTHING",
    )
    .bind(openid)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM \"user\" WHERE openid = $1")
            .bind(openid)
            .fetch_one(pool)
            .await?,
    )
}

/// A customer's WeChat openid.
pub async fn openid(pool: &AnyPool, user_id: i64) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT openid FROM \"user\" WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// True when the customer exists.
pub async fn user_exists(pool: &AnyPool, id: i64) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM \"user\" WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(n == 1)
}

/// A customer's display name ('' when unknown).
pub async fn user_name<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    id: i64,
) -> Result<String, StoreError> {
    let name: Option<Option<String>> =
        sqlx::query_scalar("SELECT name FROM \"user\" WHERE id = $1")
            .bind(id)
            .fetch_optional(ex)
            .await?;
    Ok(name.flatten().unwrap_or_default())
}

/// Locks the customer's row until the transaction ends, so the customer's cart changes one
/// at a time: two adds, or an add and a submit, cannot both decide on the cart they read
/// before the other commits. On PostgreSQL this is a row lock; SQLite's write transactions
/// already run one at a time (the store's writer lock and `BEGIN IMMEDIATE`). False when
/// there is no such customer (a token of a database since recreated).
pub async fn lock(tx: &mut WriteTx, user_id: i64) -> Result<bool, StoreError> {
    let sql = if tx.backend() == Backend::Postgres {
        "SELECT id FROM \"user\" WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT id FROM \"user\" WHERE id = $1"
    };
    let found: Option<i64> = sqlx::query_scalar(sql)
        .bind(user_id)
        .fetch_optional(&mut *tx.conn())
        .await?;
    Ok(found.is_some())
}

/// Whether the customer exists.
pub async fn exists<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    user_id: i64,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM \"user\" WHERE id = $1")
        .bind(user_id)
        .fetch_optional(ex)
        .await?;
    Ok(found.is_some())
}
