//! SQL of employee management (the back office's 员工管理) and of session states: the
//! generation counter, the changes since a generation, one account's state.

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::domain::account::{ACTIVE, EmployeeFields, EmployeeRecord, SessionState};

from_row!(EmployeeRecord {
    id,
    username,
    name,
    phone,
    sex,
    id_number,
    status,
    created_at,
    updated_at,
    create_user,
    update_user,
});

const RECORD: &str = "SELECT id, username, name, phone, sex, id_number, status, created_at, \
                      updated_at, create_user, update_user FROM employee";

/// What a write of a user name did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written; the id of the row.
    Done(i64),
    /// Another account has the user name (the `employee.username` unique index).
    Taken,
    /// No such employee in the shop.
    Missing,
}

/// True when the database refused a write for a unique index. `employee` has one besides its
/// key, on `username`, so for these statements that is the taken user name.
fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn saved(r: Result<Option<i64>, sqlx::Error>) -> Result<Saved, StoreError> {
    match r {
        Ok(Some(id)) => Ok(Saved::Done(id)),
        Ok(None) => Ok(Saved::Missing),
        Err(e) if unique_violation(&e) => Ok(Saved::Taken),
        Err(e) => Err(e.into()),
    }
}

/// Creates an active employee of `shop_id` (created by `by`).
pub async fn insert(
    pool: &AnyPool,
    shop_id: i64,
    f: &EmployeeFields,
    password_hash: &str,
    by: i64,
    now: i64,
) -> Result<Saved, StoreError> {
    let r = sqlx::query_scalar(
        "INSERT INTO employee (shop_id, username, name, password_hash, phone, sex, id_number, \
         status, created_at, updated_at, create_user, update_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $10) RETURNING id",
    )
    .bind(shop_id)
    .bind(&f.username)
    .bind(&f.name)
    .bind(password_hash)
    .bind(&f.phone)
    .bind(&f.sex)
    .bind(&f.id_number)
    .bind(ACTIVE)
    .bind(now)
    .bind(by)
    .fetch_optional(pool)
    .await;
    saved(r)
}

/// Changes the editable fields of employee `id` of `shop_id` (changed by `by`).
pub async fn update(
    pool: &AnyPool,
    shop_id: i64,
    id: i64,
    f: &EmployeeFields,
    by: i64,
    now: i64,
) -> Result<Saved, StoreError> {
    let r = sqlx::query_scalar(
        "UPDATE employee SET username = $3, name = $4, phone = $5, sex = $6, id_number = $7, \
         updated_at = $8, update_user = $9 WHERE id = $1 AND shop_id = $2 RETURNING id",
    )
    .bind(id)
    .bind(shop_id)
    .bind(&f.username)
    .bind(&f.name)
    .bind(&f.phone)
    .bind(&f.sex)
    .bind(&f.id_number)
    .bind(now)
    .bind(by)
    .fetch_optional(pool)
    .await;
    saved(r)
}

/// Employee `id` of `shop_id`.
pub async fn get(
    pool: &AnyPool,
    shop_id: i64,
    id: i64,
) -> Result<Option<EmployeeRecord>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RECORD} WHERE id = $1 AND shop_id = $2"
    )))
    .bind(id)
    .bind(shop_id)
    .fetch_optional(pool)
    .await?)
}

/// A page of the shop's employees, newest first, optionally those whose name contains
/// `name`; and how many match in all. (SQLite's `LIKE` ignores the case of ASCII letters,
/// PostgreSQL's does not; the course's MySQL column is `utf8_bin`, case-sensitive.)
pub async fn page(
    pool: &AnyPool,
    shop_id: i64,
    name: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<EmployeeRecord>), StoreError> {
    let pattern = name.map(super::like_contains).unwrap_or_else(|| "%".into());
    let filter = "shop_id = $1 AND name LIKE $2 ESCAPE '\\'";
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM employee WHERE {filter}"
    )))
    .bind(shop_id)
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RECORD} WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(shop_id)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}

/// The shop's owner account: its first (the seed's `admin`, the account `shops add` made).
pub async fn owner_id(pool: &AnyPool, shop_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT MIN(id) FROM employee WHERE shop_id = $1")
            .bind(shop_id)
            .fetch_one(pool)
            .await?,
    )
}

/// In a transaction: the next session generation. Its row stays locked until the
/// transaction ends, so generations commit in the order they were drawn (on SQLite the one
/// writer already orders them).
pub async fn next_gen(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("UPDATE session_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// In a transaction: enables or disables employee `id` of `shop_id` under generation `generation`
/// (which ends its sessions); the new state, `None` when there is no such employee.
pub async fn set_status(
    conn: &mut AnyConnection,
    shop_id: i64,
    id: i64,
    status: i64,
    generation: i64,
    by: i64,
    now: i64,
) -> Result<Option<SessionState>, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "UPDATE employee SET status = $3, session_gen = $4, session_keep = 0, updated_at = $5, \
         update_user = $6 WHERE id = $1 AND shop_id = $2 RETURNING id",
    )
    .bind(id)
    .bind(shop_id)
    .bind(status)
    .bind(generation)
    .bind(now)
    .bind(by)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.map(|_| SessionState {
        shop_id,
        status,
        generation,
        keep: 0,
    }))
}

/// In a transaction: replaces the password of employee `id` if its hash is still `old_hash`
/// (a concurrent change wins, this one fails), under generation `generation`, keeping the login
/// `keep`; the new state, `None` when nothing changed.
pub async fn set_password(
    conn: &mut AnyConnection,
    id: i64,
    old_hash: &str,
    new_hash: &str,
    generation: i64,
    keep: i64,
    now: i64,
) -> Result<Option<SessionState>, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE employee SET password_hash = $3, session_gen = $4, session_keep = $5, \
         updated_at = $6, update_user = $1 WHERE id = $1 AND password_hash = $2 \
         RETURNING shop_id, status",
    )
    .bind(id)
    .bind(old_hash)
    .bind(new_hash)
    .bind(generation)
    .bind(keep)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(shop_id, status)| SessionState {
        shop_id,
        status,
        generation,
        keep,
    }))
}

type StateRow = (i64, i64, i64, i64, i64);

fn state((_, shop_id, status, generation, keep): StateRow) -> SessionState {
    SessionState {
        shop_id,
        status,
        generation,
        keep,
    }
}

/// The session state of employee `id`, `None` when there is no such employee.
pub async fn session_state(pool: &AnyPool, id: i64) -> Result<Option<SessionState>, StoreError> {
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT id, shop_id, status, session_gen, session_keep FROM employee WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(state))
}

/// The accounts whose session state changed after generation `after` (oldest change first,
/// at most `limit`), as (employee id, state).
pub async fn session_changes(
    pool: &AnyPool,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, SessionState)>, StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT id, shop_id, status, session_gen, session_keep FROM employee \
         WHERE session_gen > $1 ORDER BY session_gen LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.0, state(r))).collect())
}
