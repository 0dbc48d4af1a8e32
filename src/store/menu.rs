//! SQL of categories, dishes and flavors.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;

/// A category.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: i64,
    pub shop_id: i64,
    #[sqlx(rename = "type")]
    pub kind: i64,
    pub name: String,
    pub sort: i64,
    pub status: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A dish.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DishRow {
    pub id: i64,
    pub shop_id: i64,
    pub category_id: i64,
    pub name: String,
    pub price: i64,
    pub image: String,
    pub description: String,
    pub status: i64,
    pub updated_at: i64,
}

/// A dish flavor: a name and a JSON list of choices.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlavorRow {
    pub id: i64,
    pub dish_id: i64,
    pub name: String,
    pub value: String,
}

/// Enabled categories of a shop, optionally of one type, by sort order.
pub async fn categories(
    pool: &AnyPool,
    shop_id: i64,
    kind: Option<i64>,
) -> Result<Vec<CategoryRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, shop_id, type, name, sort, status, created_at, updated_at FROM category \
         WHERE shop_id = $1 AND status = 1 AND ($2 IS NULL OR type = $2) ORDER BY sort, id",
    )
    .bind(shop_id)
    .bind(kind)
    .fetch_all(pool)
    .await?)
}

/// Dishes on sale in a category.
pub async fn dishes_in(pool: &AnyPool, category_id: i64) -> Result<Vec<DishRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, shop_id, category_id, name, price, image, description, status, updated_at FROM dish \
         WHERE category_id = $1 AND status = 1 ORDER BY id",
    )
    .bind(category_id)
    .fetch_all(pool)
    .await?)
}

/// A dish by id (on sale or not).
pub async fn dish(pool: &AnyPool, id: i64) -> Result<Option<DishRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, shop_id, category_id, name, price, image, description, status, updated_at FROM dish WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Flavors of the given dishes.
pub async fn flavors(pool: &AnyPool, dish_ids: &[i64]) -> Result<Vec<FlavorRow>, StoreError> {
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
         VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id",
    )
    .bind(shop_id)
    .bind(kind)
    .bind(name)
    .bind(sort)
    .bind(now)
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
         VALUES ($1, $2, $3, $4, '', $5, 1, $6, $6) RETURNING id",
    )
    .bind(shop_id)
    .bind(category_id)
    .bind(name)
    .bind(price)
    .bind(description)
    .bind(now)
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
