//! SQL of the merchant's dishes and their flavors: the page (with each category's name from a
//! join), one dish, the dishes on sale of a category, insert, update, flavors replaced,
//! status, and delete. Every statement is bound to the merchant's shop.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::catalog::{Lock, NameTaken, Named, lock_clause, name_taken, prefixed};
use super::menu::DISH_COLUMNS;
use super::{StoreError, WriteTx, id_list};
use crate::domain::menu::{Dish, ENABLED};

/// What the dish page is filtered by (all optional).
#[derive(Debug, Clone, Default)]
pub struct DishFilter {
    /// Names containing this.
    pub name: Option<String>,
    /// Of this category.
    pub category_id: Option<i64>,
    /// Of this status.
    pub status: Option<i64>,
}

/// A page of the shop's dishes (newest first) with their category names, and the count of
/// all matches.
pub async fn page(
    pool: &AnyPool,
    shop_id: i64,
    f: &DishFilter,
    (offset, limit): (i64, i64),
) -> Result<(i64, Vec<Named<Dish>>), StoreError> {
    let filter = "d.shop_id = $1 AND ($2 IS NULL OR d.name LIKE $2 ESCAPE '\\') \
                  AND ($3 IS NULL OR d.category_id = $3) AND ($4 IS NULL OR d.status = $4)";
    let pattern = f.name.as_deref().map(super::like_contains);
    macro_rules! binds {
        ($q:expr) => {
            $q.bind(shop_id)
                .bind(&pattern)
                .bind(f.category_id)
                .bind(f.status)
        };
    }
    let total: i64 = binds!(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM dish d WHERE {filter}"
    ))))
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT {}, c.name AS category_name FROM dish d LEFT JOIN category c ON c.id = d.category_id \
         WHERE {filter} ORDER BY d.created_at DESC, d.id DESC LIMIT $5 OFFSET $6",
        prefixed(DISH_COLUMNS, "d")
    );
    let rows = binds!(sqlx::query_as(AssertSqlSafe(sql)))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok((total, rows))
}

/// The shop's dish with this id, with its category's name.
pub async fn by_id(
    pool: &AnyPool,
    shop_id: i64,
    id: i64,
) -> Result<Option<Named<Dish>>, StoreError> {
    let sql = format!(
        "SELECT {}, c.name AS category_name FROM dish d LEFT JOIN category c ON c.id = d.category_id \
         WHERE d.id = $1 AND d.shop_id = $2",
        prefixed(DISH_COLUMNS, "d")
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(shop_id)
        .fetch_optional(pool)
        .await?)
}

/// The shop's dishes on sale, of one category or all, newest first.
pub async fn on_sale(
    pool: &AnyPool,
    shop_id: i64,
    category_id: Option<i64>,
) -> Result<Vec<Dish>, StoreError> {
    let sql = format!(
        "SELECT {DISH_COLUMNS} FROM dish WHERE shop_id = $1 AND status = $2 \
         AND ($3 IS NULL OR category_id = $3) ORDER BY created_at DESC, id DESC"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .bind(ENABLED)
        .bind(category_id)
        .fetch_all(pool)
        .await?)
}

/// The shop's dishes among `ids`, locked until the transaction ends (another shop's ids are
/// simply not found).
pub async fn lock(
    tx: &mut WriteTx,
    shop_id: i64,
    ids: &[i64],
    lock: Lock,
) -> Result<Vec<Dish>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {DISH_COLUMNS} FROM dish WHERE shop_id = $1 AND id IN ({}) ORDER BY id{}",
        id_list(ids),
        lock_clause(tx.backend(), lock)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(shop_id)
        .fetch_all(&mut *tx.conn())
        .await?)
}

/// A dish's fields as written.
#[derive(Debug, Clone, Copy)]
pub struct DishFields<'a> {
    /// Its category.
    pub category_id: i64,
    /// Name.
    pub name: &'a str,
    /// Price, in fen.
    pub price: i64,
    /// Image URL.
    pub image: &'a str,
    /// Description.
    pub description: &'a str,
}

/// Inserts a dish of the shop with this status; its id, or [`NameTaken`].
pub async fn insert(
    conn: &mut AnyConnection,
    shop_id: i64,
    d: &DishFields<'_>,
    status: i64,
    (by, now): (Option<i64>, i64),
) -> Result<Result<i64, NameTaken>, StoreError> {
    let done = sqlx::query_scalar(
        "INSERT INTO dish (shop_id, category_id, name, price, image, description, status, \
         created_at, updated_at, create_user, update_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9) RETURNING id",
    )
    .bind(shop_id)
    .bind(d.category_id)
    .bind(d.name)
    .bind(d.price)
    .bind(d.image)
    .bind(d.description)
    .bind(status)
    .bind(now)
    .bind(by)
    .fetch_one(&mut *conn)
    .await;
    name_taken(done, "dish")
}

/// Rewrites a dish's fields (not its status), and the copies of its name and price in the
/// set meals that hold it; [`NameTaken`] when another dish of the shop has the name.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    d: &DishFields<'_>,
    (by, now): (i64, i64),
) -> Result<Result<(), NameTaken>, StoreError> {
    let done = sqlx::query(
        "UPDATE dish SET category_id = $2, name = $3, price = $4, image = $5, description = $6, \
         updated_at = $7, update_user = $8 WHERE id = $1",
    )
    .bind(id)
    .bind(d.category_id)
    .bind(d.name)
    .bind(d.price)
    .bind(d.image)
    .bind(d.description)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await;
    if let Err(taken) = name_taken(done, "dish")? {
        return Ok(Err(taken));
    }
    sqlx::query("UPDATE setmeal_dish SET name = $2, price = $3 WHERE dish_id = $1")
        .bind(id)
        .bind(d.name)
        .bind(d.price)
        .execute(&mut *conn)
        .await?;
    Ok(Ok(()))
}

/// Replaces a dish's flavors with these (name, JSON value) pairs, in one insert.
pub async fn replace_flavors(
    conn: &mut AnyConnection,
    dish_id: i64,
    flavors: &[(String, String)],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM dish_flavor WHERE dish_id = $1")
        .bind(dish_id)
        .execute(&mut *conn)
        .await?;
    if flavors.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..flavors.len())
        .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
        .collect();
    let sql = format!(
        "INSERT INTO dish_flavor (dish_id, name, value) VALUES {}",
        rows.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(dish_id);
    for (name, value) in flavors {
        q = q.bind(name).bind(value);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Sets the status of these dishes (already found to be the shop's).
pub async fn set_status(
    conn: &mut AnyConnection,
    ids: &[i64],
    status: i64,
    (by, now): (i64, i64),
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE dish SET status = $1, updated_at = $2, update_user = $3 WHERE id IN ({})",
        id_list(ids)
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(status)
        .bind(now)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// True when any of these dishes is in a set meal.
pub async fn in_setmeals(conn: &mut AnyConnection, ids: &[i64]) -> Result<bool, StoreError> {
    let sql = format!(
        "SELECT COUNT(*) FROM setmeal_dish WHERE dish_id IN ({})",
        id_list(ids)
    );
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// Deletes these dishes (already locked, off sale and in no set meal), their flavors and the
/// cart lines that still hold them.
pub async fn delete(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), StoreError> {
    let list = id_list(ids);
    for table in ["dish_flavor", "shopping_cart"] {
        let sql = format!("DELETE FROM {table} WHERE dish_id IN ({list})");
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    let sql = format!("DELETE FROM dish WHERE id IN ({list})");
    sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    Ok(())
}
