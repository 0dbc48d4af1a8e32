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

#[utoipa::path(
    get,
    path = "/admin/shop/status",
    operation_id = "shop_status",
    tag = "admin: shop",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<i64>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn status(State(shops): State<Shops>, m: Merchant) -> ApiResult<Json<Envelope<i64>>> {
    Ok(ok(shops.status(m.shop_id.get()).await?))
}

#[utoipa::path(
    put,
    path = "/admin/shop/{status}",
    operation_id = "shop_set_status",
    tag = "admin: shop",
    params(("status" = i64, Path)),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
async fn set_status(
    State(shops): State<Shops>,
    m: Merchant,
    PathParam(status): PathParam<i64>,
) -> ApiResult<Json<Envelope<()>>> {
    shops.set_status(m.shop_id, status).await?;
    Ok(done())
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(status, set_status))]
pub struct Doc;
