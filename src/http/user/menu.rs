//! The menu: categories, dishes on sale with their flavors, set meals on sale and what each
//! holds (the mini-program's index page).

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Customer;
use crate::domain::money::yuan;
use crate::http::error::{ApiResult, Envelope, ok};
use crate::http::extract::{PathParam, QueryParams};
use crate::time::fmt_minutes;
use crate::usecases::menu::Menu;

/// `/user/category/list`, `/user/dish/list`, `/user/setmeal/list`, `/user/setmeal/dish/{id}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Menu: FromRef<S>,
{
    Router::new()
        .route("/user/category/list", get(categories))
        .route("/user/dish/list", get(dishes))
        .route("/user/setmeal/list", get(setmeals))
        .route("/user/setmeal/dish/{id}", get(setmeal_items))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct CategoryQuery {
    #[serde(rename = "type")]
    kind: Option<i64>,
    shop_id: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct CategoryView {
    id: i64,
    shop_id: i64,
    #[serde(rename = "type")]
    kind: i64,
    name: String,
    sort: i64,
    status: i64,
    create_time: String,
    update_time: String,
}

#[utoipa::path(
    get,
    path = "/user/category/list",
    operation_id = "menu_categories",
    tag = "user: menu",
    params(CategoryQuery),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<CategoryView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn categories(
    State(menu): State<Menu>,
    _c: Customer,
    QueryParams(q): QueryParams<CategoryQuery>,
) -> ApiResult<Json<Envelope<Vec<CategoryView>>>> {
    let rows = menu.categories(q.shop_id.unwrap_or(1), q.kind).await?;
    Ok(ok(rows
        .into_iter()
        .map(|c| CategoryView {
            id: c.id,
            shop_id: c.shop_id,
            kind: c.kind,
            name: c.name,
            sort: c.sort,
            status: c.status,
            create_time: fmt_minutes(c.created_at),
            update_time: fmt_minutes(c.updated_at),
        })
        .collect()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct DishQuery {
    category_id: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct FlavorView {
    id: i64,
    dish_id: i64,
    name: String,
    value: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct DishView {
    id: i64,
    shop_id: i64,
    name: String,
    category_id: i64,
    #[schema(value_type = f64)]
    price: serde_json::Number,
    image: String,
    description: String,
    status: i64,
    update_time: String,
    flavors: Vec<FlavorView>,
}

#[utoipa::path(
    get,
    path = "/user/dish/list",
    operation_id = "menu_dishes",
    tag = "user: menu",
    params(DishQuery),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<DishView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn dishes(
    State(menu): State<Menu>,
    _c: Customer,
    QueryParams(q): QueryParams<DishQuery>,
) -> ApiResult<Json<Envelope<Vec<DishView>>>> {
    let rows = menu.dishes(q.category_id).await?;
    Ok(ok(rows
        .into_iter()
        .map(|(d, flavors)| DishView {
            flavors: flavors
                .into_iter()
                .map(|f| FlavorView {
                    id: f.id,
                    dish_id: f.dish_id,
                    name: f.name,
                    value: f.value,
                })
                .collect(),
            id: d.id,
            shop_id: d.shop_id,
            name: d.name,
            category_id: d.category_id,
            price: yuan(d.price),
            image: d.image,
            description: d.description,
            status: d.status,
            update_time: fmt_minutes(d.updated_at),
        })
        .collect()))
}

/// A set meal on sale (`Setmeal` of the course; the index page reads id, name, image, price
/// and description).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SetmealView {
    id: i64,
    shop_id: i64,
    category_id: i64,
    name: String,
    #[schema(value_type = f64)]
    price: serde_json::Number,
    status: i64,
    description: String,
    image: String,
    create_time: String,
    update_time: String,
    create_user: Option<i64>,
    update_user: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/user/setmeal/list",
    operation_id = "menu_setmeals",
    tag = "user: menu",
    params(DishQuery),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<SetmealView>>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn setmeals(
    State(menu): State<Menu>,
    _c: Customer,
    QueryParams(q): QueryParams<DishQuery>,
) -> ApiResult<Json<Envelope<Vec<SetmealView>>>> {
    let rows = menu.setmeals(q.category_id).await?;
    Ok(ok(rows
        .into_iter()
        .map(|s| SetmealView {
            id: s.id,
            shop_id: s.shop_id,
            category_id: s.category_id,
            name: s.name,
            price: yuan(s.price),
            status: s.status,
            description: s.description,
            image: s.image,
            create_time: fmt_minutes(s.created_at),
            update_time: fmt_minutes(s.updated_at),
            create_user: s.create_user,
            update_user: s.update_user,
        })
        .collect()))
}

/// `DishItemVO`: a dish of a set meal as the detail popup shows it.
#[derive(Serialize, utoipa::ToSchema)]
struct SetmealItemView {
    name: String,
    copies: i64,
    image: String,
    description: String,
}

#[utoipa::path(
    get,
    path = "/user/setmeal/dish/{id}",
    operation_id = "menu_setmeal_items",
    tag = "user: menu",
    params(("id" = i64, Path)),
    security(("authentication" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Vec<SetmealItemView>>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn setmeal_items(
    State(menu): State<Menu>,
    _c: Customer,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Envelope<Vec<SetmealItemView>>>> {
    let rows = menu.setmeal_items(id).await?;
    Ok(ok(rows
        .into_iter()
        .map(|i| SetmealItemView {
            name: i.name,
            copies: i.copies,
            image: i.image,
            description: i.description,
        })
        .collect()))
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(categories, dishes, setmeals, setmeal_items))]
pub struct Doc;
