//! The merchant's shop status.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};

use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Merchant, PathParam};
use crate::store::shops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/shop/status", get(status))
        .route("/admin/shop/{status}", put(set_status))
}

async fn status(State(app): State<AppState>, m: Merchant) -> ApiResult<Json<Envelope<i64>>> {
    Ok(ok(shops::shop_status(app.store.pool(), m.shop_id)
        .await?
        .unwrap_or(0)))
}

async fn set_status(
    State(app): State<AppState>,
    m: Merchant,
    PathParam(status): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    if !(0..=1).contains(&status) {
        return Err(ApiError::business("店铺状态错误"));
    }
    shops::set_shop_status(app.store.pool(), m.shop_id, status).await?;
    Ok(done())
}
