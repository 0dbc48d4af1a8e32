//! The shopping cart. One shop per cart (and so per order).

use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::cart::CartItem;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, Customer};
use crate::http::views::money;
use crate::store::carts::{self, Addition};
use crate::store::menu;
use crate::time::fmt_minutes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/user/shoppingCart/add", post(add))
        .route("/user/shoppingCart/list", get(list))
        .route("/user/shoppingCart/sub", post(sub))
        .route("/user/shoppingCart/clean", delete(clean))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CartReq {
    dish_id: Option<i64>,
    setmeal_id: Option<i64>,
    dish_flavor: Option<String>,
}

impl CartReq {
    fn parse(self) -> Result<(i64, String), ApiError> {
        if self.setmeal_id.is_some() && self.dish_id.is_none() {
            return Err(ApiError::business("暂不支持套餐"));
        }
        let dish_id = self
            .dish_id
            .ok_or_else(|| ApiError::BadRequest("dishId is required".into()))?;
        let flavor = self.dish_flavor.unwrap_or_default();
        if flavor.chars().count() > 50 {
            return Err(ApiError::BadRequest("dishFlavor is too long".into()));
        }
        Ok((dish_id, flavor))
    }
}

async fn add(
    State(app): State<AppState>,
    c: Customer,
    Body(req): Body<CartReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let (dish_id, flavor) = req.parse()?;
    let dish = menu::dish(app.store.pool(), dish_id)
        .await?
        .filter(|d| d.status == 1)
        .ok_or_else(|| ApiError::business("菜品不存在或已停售"))?;
    let mut tx = app.store.begin().await?;
    let cart = carts::cart(tx.conn(), c.user_id).await?;
    if cart.iter().any(|l| l.shop_id != dish.shop_id) {
        return Err(ApiError::business(
            "购物车中已有其他店铺的菜品，请先清空购物车",
        ));
    }
    if cart.iter().map(|l| l.number).sum::<i64>() >= 999 {
        return Err(ApiError::business("购物车已满"));
    }
    let addition = Addition {
        item: CartItem::Dish(dish.id),
        shop_id: dish.shop_id,
        name: &dish.name,
        image: &dish.image,
        price: dish.price,
        flavor: &flavor,
    };
    carts::add(tx.conn(), c.user_id, &addition, 1, app.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(done())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CartView {
    id: i64,
    name: String,
    image: String,
    user_id: i64,
    shop_id: i64,
    dish_id: Option<i64>,
    setmeal_id: Option<i64>,
    dish_flavor: String,
    number: i64,
    amount: serde_json::Number,
    create_time: String,
}

async fn list(
    State(app): State<AppState>,
    c: Customer,
) -> ApiResult<Json<Envelope<Vec<CartView>>>> {
    let rows = carts::cart(app.store.pool(), c.user_id).await?;
    Ok(ok(rows
        .into_iter()
        .map(|l| CartView {
            id: l.id,
            name: l.name,
            image: l.image,
            user_id: l.user_id,
            shop_id: l.shop_id,
            dish_id: l.dish_id,
            setmeal_id: l.setmeal_id,
            dish_flavor: l.dish_flavor,
            number: l.number,
            amount: money(l.amount),
            create_time: fmt_minutes(l.created_at),
        })
        .collect()))
}

async fn sub(
    State(app): State<AppState>,
    c: Customer,
    Body(req): Body<CartReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let (dish_id, flavor) = req.parse()?;
    let mut tx = app.store.begin().await?;
    let found = carts::sub(tx.conn(), c.user_id, CartItem::Dish(dish_id), &flavor).await?;
    tx.commit().await?;
    if !found {
        return Err(ApiError::business("购物车中没有该菜品"));
    }
    Ok(done())
}

async fn clean(State(app): State<AppState>, c: Customer) -> ApiResult<Json<Envelope<()>>> {
    let mut tx = app.store.begin().await?;
    carts::clear(tx.conn(), c.user_id).await?;
    tx.commit().await?;
    Ok(done())
}
