//! The shopping cart of dishes and set meals (the rules are the cart use case's: one shop
//! per cart, at most 999, only what is on sale).

use axum::extract::{FromRef, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Customer;
use crate::domain::cart::CartItem;
use crate::domain::money::yuan;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::Body;
use crate::time::fmt_minutes;
use crate::usecases::carts::Carts;

/// Longest flavor text accepted.
const MAX_FLAVOR: usize = 50;

/// `/user/shoppingCart/…`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Carts: FromRef<S>,
{
    Router::new()
        .route("/user/shoppingCart/add", post(add))
        .route("/user/shoppingCart/list", get(list))
        .route("/user/shoppingCart/sub", post(sub))
        .route("/user/shoppingCart/clean", delete(clean))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct CartReq {
    dish_id: Option<i64>,
    setmeal_id: Option<i64>,
    dish_flavor: Option<String>,
}

impl CartReq {
    /// The item (a dish when both ids are given) and the flavor.
    fn parse(self) -> Result<(CartItem, String), ApiError> {
        let item = match (self.dish_id, self.setmeal_id) {
            (Some(dish), _) => CartItem::Dish(dish),
            (None, Some(setmeal)) => CartItem::Setmeal(setmeal),
            (None, None) => {
                let msg = "dishId or setmealId is required";
                return Err(ApiError::BadRequest(msg.into()));
            }
        };
        let flavor = self.dish_flavor.unwrap_or_default();
        if flavor.chars().count() > MAX_FLAVOR {
            return Err(ApiError::BadRequest("dishFlavor is too long".into()));
        }
        Ok((item, flavor))
    }
}

#[utoipa::path(
    post,
    path = "/user/shoppingCart/add",
    operation_id = "cart_add",
    tag = "user: cart",
    request_body = CartReq,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn add(
    State(carts): State<Carts>,
    c: Customer,
    Body(req): Body<CartReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let (item, flavor) = req.parse()?;
    carts.add(c.user_id, item, &flavor).await?;
    Ok(done())
}

#[derive(Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = f64)]
    amount: serde_json::Number,
    create_time: String,
}

#[utoipa::path(
    get,
    path = "/user/shoppingCart/list",
    operation_id = "cart_list",
    tag = "user: cart",
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<CartView>>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn list(State(carts): State<Carts>, c: Customer) -> ApiResult<Json<Envelope<Vec<CartView>>>> {
    let rows = carts.list(c.user_id).await?;
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
            amount: yuan(l.amount),
            create_time: fmt_minutes(l.created_at),
        })
        .collect()))
}

#[utoipa::path(
    post,
    path = "/user/shoppingCart/sub",
    operation_id = "cart_sub",
    tag = "user: cart",
    request_body = CartReq,
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn sub(
    State(carts): State<Carts>,
    c: Customer,
    Body(req): Body<CartReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let (item, flavor) = req.parse()?;
    carts.sub(c.user_id, item, &flavor).await?;
    Ok(done())
}

#[utoipa::path(
    delete,
    path = "/user/shoppingCart/clean",
    operation_id = "cart_clean",
    tag = "user: cart",
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn clean(State(carts): State<Carts>, c: Customer) -> ApiResult<Json<Envelope<()>>> {
    carts.clean(c.user_id).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add, list, sub, clean))]
pub struct Doc;
