//! SQL of customers, their address books and shopping carts.

use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;

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
pub async fn user_name(pool: &AnyPool, id: i64) -> Result<String, StoreError> {
    let name: Option<Option<String>> =
        sqlx::query_scalar("SELECT name FROM \"user\" WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(name.flatten().unwrap_or_default())
}

/// An address-book entry.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct AddressRow {
    pub id: i64,
    pub user_id: i64,
    pub consignee: String,
    pub sex: String,
    pub phone: String,
    pub province_code: String,
    pub province_name: String,
    pub city_code: String,
    pub city_name: String,
    pub district_code: String,
    pub district_name: String,
    pub detail: String,
    pub label: String,
    pub is_default: i64,
}

const ADDRESS_COLUMNS: &str = "id, user_id, consignee, sex, phone, province_code, province_name, city_code, \
    city_name, district_code, district_name, detail, label, is_default";

/// A customer's addresses.
pub async fn addresses(pool: &AnyPool, user_id: i64) -> Result<Vec<AddressRow>, StoreError> {
    let sql = format!("SELECT {ADDRESS_COLUMNS} FROM address_book WHERE user_id = $1 ORDER BY id");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(pool)
        .await?)
}

/// One of the customer's addresses.
pub async fn address<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    user_id: i64,
    id: i64,
) -> Result<Option<AddressRow>, StoreError> {
    let sql = format!("SELECT {ADDRESS_COLUMNS} FROM address_book WHERE user_id = $1 AND id = $2");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The customer's default address.
pub async fn default_address(
    pool: &AnyPool,
    user_id: i64,
) -> Result<Option<AddressRow>, StoreError> {
    let sql = format!(
        "SELECT {ADDRESS_COLUMNS} FROM address_book WHERE user_id = $1 AND is_default = 1 LIMIT 1"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(pool)
        .await?)
}

/// Adds an address (not default); returns its id.
pub async fn insert_address(pool: &AnyPool, a: &AddressRow) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO address_book (user_id, consignee, sex, phone, province_code, province_name, city_code, \
         city_name, district_code, district_name, detail, label, is_default) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0) RETURNING id",
    )
    .bind(a.user_id)
    .bind(&a.consignee)
    .bind(&a.sex)
    .bind(&a.phone)
    .bind(&a.province_code)
    .bind(&a.province_name)
    .bind(&a.city_code)
    .bind(&a.city_name)
    .bind(&a.district_code)
    .bind(&a.district_name)
    .bind(&a.detail)
    .bind(&a.label)
    .fetch_one(pool)
    .await?)
}

/// Updates one of the customer's addresses; true when it exists.
pub async fn update_address(pool: &AnyPool, a: &AddressRow) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE address_book SET consignee = $1, sex = $2, phone = $3, province_code = $4, province_name = $5, \
         city_code = $6, city_name = $7, district_code = $8, district_name = $9, detail = $10, label = $11 \
         WHERE id = $12 AND user_id = $13",
    )
    .bind(&a.consignee)
    .bind(&a.sex)
    .bind(&a.phone)
    .bind(&a.province_code)
    .bind(&a.province_name)
    .bind(&a.city_code)
    .bind(&a.city_name)
    .bind(&a.district_code)
    .bind(&a.district_name)
    .bind(&a.detail)
    .bind(&a.label)
    .bind(a.id)
    .bind(a.user_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of the customer's addresses; true when it existed.
pub async fn delete_address(pool: &AnyPool, user_id: i64, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM address_book WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes one address the default (and no other); true when it exists.
pub async fn set_default_address(
    conn: &mut AnyConnection,
    user_id: i64,
    id: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE address_book SET is_default = CASE WHEN id = $1 THEN 1 ELSE 0 END WHERE user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let exists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM address_book WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0 && exists == 1)
}

/// A line of a shopping cart.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartRow {
    pub id: i64,
    pub user_id: i64,
    pub shop_id: i64,
    pub dish_id: i64,
    pub dish_flavor: String,
    pub name: String,
    pub image: String,
    pub number: i64,
    pub amount: i64,
    pub created_at: i64,
}

const CART_COLUMNS: &str =
    "id, user_id, shop_id, dish_id, dish_flavor, name, image, number, amount, created_at";

/// The customer's cart, oldest line first.
pub async fn cart<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    user_id: i64,
) -> Result<Vec<CartRow>, StoreError> {
    let sql = format!("SELECT {CART_COLUMNS} FROM shopping_cart WHERE user_id = $1 ORDER BY id");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(ex)
        .await?)
}

/// Adds one of a dish (with this flavor) to the cart: bumps an existing line or inserts one.
pub async fn cart_add(
    conn: &mut AnyConnection,
    user_id: i64,
    shop_id: i64,
    dish: (i64, &str, &str, i64),
    flavor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (dish_id, name, image, price) = dish;
    let bumped = sqlx::query(
        "UPDATE shopping_cart SET number = number + 1 WHERE user_id = $1 AND dish_id = $2 AND dish_flavor = $3",
    )
    .bind(user_id)
    .bind(dish_id)
    .bind(flavor)
    .execute(&mut *conn)
    .await?;
    if bumped.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO shopping_cart (user_id, shop_id, dish_id, dish_flavor, name, image, number, amount, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
        )
        .bind(user_id)
        .bind(shop_id)
        .bind(dish_id)
        .bind(flavor)
        .bind(name)
        .bind(image)
        .bind(price)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Removes one of a dish (with this flavor) from the cart; true when the line existed.
pub async fn cart_sub(
    conn: &mut AnyConnection,
    user_id: i64,
    dish_id: i64,
    flavor: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE shopping_cart SET number = number - 1 WHERE user_id = $1 AND dish_id = $2 AND dish_flavor = $3 AND number > 0",
    )
    .bind(user_id)
    .bind(dish_id)
    .bind(flavor)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM shopping_cart WHERE user_id = $1 AND number <= 0")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Empties the cart.
pub async fn cart_clear(conn: &mut AnyConnection, user_id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM shopping_cart WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
