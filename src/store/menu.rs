//! SQL of categories, dishes and flavors. "On sale" is the domain's [`ENABLED`] status.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::domain::menu::{Category, Dish, ENABLED, Flavor};

from_row!(Category {
    id,
    shop_id,
    kind = "type",
    name,
    sort,
    status,
    created_at,
    updated_at,
});

from_row!(Dish {
    id,
    shop_id,
    category_id,
    name,
    price,
    image,
    description,
    status,
    updated_at,
});

from_row!(Flavor {
    id,
    dish_id,
    name,
    value,
});

const DISH_COLUMNS: &str =
    "id, shop_id, category_id, name, price, image, description, status, updated_at";

/// Enabled categories of a shop, optionally of one type, by sort order.
pub async fn categories(
    pool: &AnyPool,
    shop_id: i64,
    kind: Option<i64>,
) -> Result<Vec<Category>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, shop_id, type, name, sort, status, created_at, updated_at FROM category \
         WHERE shop_id = $1 AND status = $3 AND ($2 IS NULL OR type = $2) ORDER BY sort, id",
    )
    .bind(shop_id)
    .bind(kind)
    .bind(ENABLED)
    .fetch_all(pool)
    .await?)
}

/// Dishes on sale in a category.
pub async fn dishes_in(pool: &AnyPool, category_id: i64) -> Result<Vec<Dish>, StoreError> {
    let sql = format!(
        "SELECT {DISH_COLUMNS} FROM dish WHERE category_id = $1 AND status = $2 ORDER BY id"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(category_id)
        .bind(ENABLED)
        .fetch_all(pool)
        .await?)
}

/// A dish by id (on sale or not).
pub async fn dish<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    id: i64,
) -> Result<Option<Dish>, StoreError> {
    let sql = format!("SELECT {DISH_COLUMNS} FROM dish WHERE id = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Flavors of the given dishes.
pub async fn flavors(pool: &AnyPool, dish_ids: &[i64]) -> Result<Vec<Flavor>, StoreError> {
    if dish_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, dish_id, name, value FROM dish_flavor WHERE dish_id IN ({}) ORDER BY id",
        super::id_list(dish_ids)
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?)
}

/// Inserts a category; returns its id.
pub async fn insert_category(
    conn: &mut AnyConnection,
    shop_id: i64,
    kind: i64,
    name: &str,
    sort: i64,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO category (shop_id, type, name, sort, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $6, $5, $5) RETURNING id",
    )
    .bind(shop_id)
    .bind(kind)
    .bind(name)
    .bind(sort)
    .bind(now)
    .bind(ENABLED)
    .fetch_one(&mut *conn)
    .await?)
}

/// Inserts a dish on sale; returns its id.
pub async fn insert_dish(
    conn: &mut AnyConnection,
    shop_id: i64,
    category_id: i64,
    name: &str,
    price: i64,
    description: &str,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO dish (shop_id, category_id, name, price, image, description, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, '', $5, $7, $6, $6) RETURNING id",
    )
    .bind(shop_id)
    .bind(category_id)
    .bind(name)
    .bind(price)
    .bind(description)
    .bind(now)
    .bind(ENABLED)
    .fetch_one(&mut *conn)
    .await?)
}

/// Inserts a flavor of a dish.
pub async fn insert_flavor(
    conn: &mut AnyConnection,
    dish_id: i64,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO dish_flavor (dish_id, name, value) VALUES ($1, $2, $3)")
        .bind(dish_id)
        .bind(name)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
