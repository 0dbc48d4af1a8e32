//! The merchant's shop status.

use axum::extract::{FromRef, State};
use axum::routing::{get, put};
use axum::{Json, Router};

use crate::auth::Tokens;
use crate::auth::identity::Merchant;
use crate::http::error::{ApiResult, Envelope, done, ok};
use crate::http::extract::PathParam;
use crate::usecases::shops::Shops;

/// `/admin/shop/status` and `/admin/shop/{status}`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Shops: FromRef<S>,
{
    Router::new()
        .route("/admin/shop/status", get(status))
        .route("/admin/shop/{status}", put(set_status))
}

async fn status(State(shops): State<Shops>, m: Merchant) -> ApiResult<Json<Envelope<i64>>> {
    Ok(ok(shops.status(m.shop_id.get()).await?))
}

async fn set_status(
    State(shops): State<Shops>,
    m: Merchant,
    PathParam(status): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    shops.set_status(m.shop_id, status).await?;
    Ok(done())
}
