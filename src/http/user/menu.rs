//! The menu: categories and dishes on sale with their flavors.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::http::error::{ApiResult, Envelope, ok};
use crate::http::extract::{Customer, QueryParams};
use crate::http::views::money;
use crate::store::menu;
use crate::time::fmt_minutes;

pub fn router() -> Router<AppState> {
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
    State(app): State<AppState>,
    _c: Customer,
    QueryParams(q): QueryParams<CategoryQuery>,
) -> ApiResult<Json<Envelope<Vec<CategoryView>>>> {
    let rows = menu::categories(app.store.pool(), q.shop_id.unwrap_or(1), q.kind).await?;
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
    State(app): State<AppState>,
    _c: Customer,
    QueryParams(q): QueryParams<DishQuery>,
) -> ApiResult<Json<Envelope<Vec<DishView>>>> {
    let rows = menu::dishes_in(app.store.pool(), q.category_id).await?;
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let flavors = menu::flavors(app.store.pool(), &ids).await?;
    Ok(ok(rows
        .into_iter()
        .map(|d| DishView {
            flavors: flavors
                .iter()
                .filter(|f| f.dish_id == d.id)
                .map(|f| FlavorView {
                    id: f.id,
                    dish_id: f.dish_id,
                    name: f.name.clone(),
                    value: f.value.clone(),
                })
                .collect(),
            id: d.id,
            shop_id: d.shop_id,
            name: d.name,
            category_id: d.category_id,
            price: money(d.price),
            image: d.image,
            description: d.description,
            status: d.status,
            update_time: fmt_minutes(d.updated_at),
        })
        .collect()))
}
