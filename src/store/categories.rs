//! SQL of the merchant's categories: the page, one category, insert, update, status, and
//! delete with the counts that decide whether it may go. Every statement is bound to the
//! merchant's shop.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use super::catalog::{NameTaken, name_taken};
use super::menu::CATEGORY_COLUMNS;
use crate::domain::menu::Category;

/// A page of the shop's categories of any status (optionally named like `name`, of one
/// type), by sort order then newest first, and the count of all matches.
pub async fn page(
    pool: &AnyPool,
    shop_id: i64,
    name: Option<&str>,
    kind: Option<i64>,
    (offset, limit): (i64, i64),
) -> Result<(i64, Vec<Category>), StoreError> {
    let filter = "shop_id = $1 AND ($2 IS NULL OR name LIKE $2 ESCAPE '\\') \
                  AND ($3 IS NULL OR type = $3)";
    let pattern = name.map(super::like_contains);
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM category WHERE {filter}"
    )))
    .bind(shop_id)
    .bind(&pattern)
    .bind(kind)
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT {CATEGORY_COLUMNS} FROM category WHERE {filter} \
         ORDER BY sort, created_at DESC, id DESC LIMIT $4 OFFSET $5"
    );
    let rows = sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(&pattern)
        .bind(kind)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok((total, rows))
}

/// The shop's category with this id.
pub async fn by_id<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    shop_id: i64,
    id: i64,
) -> Result<Option<Category>, StoreError> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM category WHERE id = $1 AND shop_id = $2");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(shop_id)
        .fetch_optional(ex)
        .await?)
}

/// What a new category is.
#[derive(Debug, Clone, Copy)]
pub struct NewCategory<'a> {
    /// Its shop.
    pub shop_id: i64,
    /// Dishes or set meals.
    pub kind: i64,
    /// Name.
    pub name: &'a str,
    /// Sort position.
    pub sort: i64,
    /// Enabled or not.
    pub status: i64,
    /// The employee creating it (none for demo data).
    pub by: Option<i64>,
}

/// Inserts a category; its id, or [`NameTaken`].
pub async fn insert(
    conn: &mut AnyConnection,
    c: &NewCategory<'_>,
    now: i64,
) -> Result<Result<i64, NameTaken>, StoreError> {
    let done = sqlx::query_scalar(
        "INSERT INTO category (shop_id, type, name, sort, status, created_at, updated_at, \
         create_user, update_user) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7) RETURNING id",
    )
    .bind(c.shop_id)
    .bind(c.kind)
    .bind(c.name)
    .bind(c.sort)
    .bind(c.status)
    .bind(now)
    .bind(c.by)
    .fetch_one(&mut *conn)
    .await;
    name_taken(done, "category")
}

/// Renames and/or moves the shop's category (`None` keeps a field); false when there is no
/// such category, [`NameTaken`] when another one has the name.
pub async fn update(
    conn: &mut AnyConnection,
    (shop_id, id): (i64, i64),
    name: Option<&str>,
    sort: Option<i64>,
    (by, now): (i64, i64),
) -> Result<Result<bool, NameTaken>, StoreError> {
    let done = sqlx::query(
        "UPDATE category SET name = COALESCE($3, name), sort = COALESCE($4, sort), \
         updated_at = $5, update_user = $6 WHERE id = $1 AND shop_id = $2",
    )
    .bind(id)
    .bind(shop_id)
    .bind(name)
    .bind(sort)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await;
    Ok(name_taken(done, "category")?.map(|r| r.rows_affected() == 1))
}

/// Enables or disables the shop's category; false when there is no such category.
pub async fn set_status(
    conn: &mut AnyConnection,
    (shop_id, id): (i64, i64),
    status: i64,
    (by, now): (i64, i64),
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE category SET status = $3, updated_at = $4, update_user = $5 \
         WHERE id = $1 AND shop_id = $2",
    )
    .bind(id)
    .bind(shop_id)
    .bind(status)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many dishes and how many set meals (of any status) the category holds.
pub async fn holds(conn: &mut AnyConnection, id: i64) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM dish WHERE category_id = $1), \
                (SELECT COUNT(*) FROM setmeal WHERE category_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Deletes the shop's category; false when there is no such category.
pub async fn delete(conn: &mut AnyConnection, shop_id: i64, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM category WHERE id = $1 AND shop_id = $2")
        .bind(id)
        .bind(shop_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
