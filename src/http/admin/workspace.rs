//! 工作台: `/admin/workspace/businessData`, `overviewOrders`, `overviewDishes`,
//! `overviewSetmeals`, each for the merchant's shop and the shop's local today. Numbers are
//! the original's: `Double` figures print as `44.7` / `0.0`, counts as integers.

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::http::error::{ApiResult, Envelope, ok};
use crate::usecases::workspace::{MenuOverview, Workspace};

/// `/admin/workspace/…`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Workspace: FromRef<S>,
{
    Router::new()
        .route("/admin/workspace/businessData", get(business_data))
        .route("/admin/workspace/overviewOrders", get(overview_orders))
        .route("/admin/workspace/overviewDishes", get(overview_dishes))
        .route("/admin/workspace/overviewSetmeals", get(overview_setmeals))
}

/// The original's `BusinessDataVO`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct BusinessData {
    turnover: f64,
    valid_order_count: i64,
    order_completion_rate: f64,
    unit_price: f64,
    new_users: i64,
}

#[utoipa::path(
    get,
    path = "/admin/workspace/businessData",
    operation_id = "workspace_business_data",
    tag = "admin: workspace",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<BusinessData>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn business_data(
    State(w): State<Workspace>,
    m: Merchant,
) -> ApiResult<Json<Envelope<BusinessData>>> {
    let f = w.business_data(m.shop_id.get()).await?;
    Ok(ok(BusinessData {
        turnover: f.turnover(),
        valid_order_count: f.valid,
        order_completion_rate: f.completion_rate(),
        unit_price: f.unit_price(),
        new_users: f.new_users,
    }))
}

/// The original's `OrderOverViewVO`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderOverview {
    waiting_orders: i64,
    delivered_orders: i64,
    completed_orders: i64,
    cancelled_orders: i64,
    all_orders: i64,
}

#[utoipa::path(
    get,
    path = "/admin/workspace/overviewOrders",
    operation_id = "workspace_overview_orders",
    tag = "admin: workspace",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<OrderOverview>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn overview_orders(
    State(w): State<Workspace>,
    m: Merchant,
) -> ApiResult<Json<Envelope<OrderOverview>>> {
    let o = w.overview_orders(m.shop_id.get()).await?;
    Ok(ok(OrderOverview {
        waiting_orders: o.waiting,
        delivered_orders: o.to_deliver,
        completed_orders: o.completed,
        cancelled_orders: o.cancelled,
        all_orders: o.all,
    }))
}

/// The original's `DishOverViewVO` / `SetmealOverViewVO`.
#[derive(Serialize, utoipa::ToSchema)]
struct Menu {
    sold: i64,
    discontinued: i64,
}

impl From<MenuOverview> for Menu {
    fn from(m: MenuOverview) -> Self {
        Menu {
            sold: m.sold,
            discontinued: m.discontinued,
        }
    }
}

#[utoipa::path(
    get,
    path = "/admin/workspace/overviewDishes",
    operation_id = "workspace_overview_dishes",
    tag = "admin: workspace",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Menu>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn overview_dishes(
    State(w): State<Workspace>,
    m: Merchant,
) -> ApiResult<Json<Envelope<Menu>>> {
    Ok(ok(w.overview_dishes(m.shop_id.get()).await?.into()))
}

#[utoipa::path(
    get,
    path = "/admin/workspace/overviewSetmeals",
    operation_id = "workspace_overview_setmeals",
    tag = "admin: workspace",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Menu>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn overview_setmeals(
    State(w): State<Workspace>,
    m: Merchant,
) -> ApiResult<Json<Envelope<Menu>>> {
    Ok(ok(w.overview_setmeals(m.shop_id.get()).await?.into()))
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(business_data, overview_orders, overview_dishes, overview_setmeals))]
pub struct Doc;
