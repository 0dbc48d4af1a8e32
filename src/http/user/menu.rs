//! The menu: categories and dishes on sale with their flavors.

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::identity::Customer;
use crate::domain::money::yuan;
use crate::http::error::{ApiResult, Envelope, ok};
use crate::http::extract::QueryParams;
use crate::time::fmt_minutes;
use crate::usecases::menu::Menu;

/// `/user/category/list` and `/user/dish/list`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Menu: FromRef<S>,
{
    Router::new()
        .route("/user/category/list", get(categories))
        .route("/user/dish/list", get(dishes))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CategoryQuery {
    #[serde(rename = "type")]
    kind: Option<i64>,
    shop_id: Option<i64>,
}

#[derive(Serialize)]
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DishQuery {
    category_id: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlavorView {
    id: i64,
    dish_id: i64,
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DishView {
    id: i64,
    shop_id: i64,
    name: String,
    category_id: i64,
    price: serde_json::Number,
    image: String,
    description: String,
    status: i64,
    update_time: String,
    flavors: Vec<FlavorView>,
}

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
