//! Customer login and the shop's open/closed status.

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiResult, Envelope, ok};
use crate::http::extract::{Body, QueryParams};
use crate::usecases::accounts::Accounts;
use crate::usecases::shops::Shops;

/// `/user/user/login` and `/user/shop/status`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Accounts: FromRef<S>,
    Shops: FromRef<S>,
{
    Router::new()
        .route("/user/user/login", post(login))
        .route("/user/shop/status", get(status))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginReq {
    code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoginReply {
    id: i64,
    openid: String,
    token: String,
}

/// Wechat mode: the `wx.login` code is traded for the openid at WeChat (`jscode2session`).
/// Mock mode: any `code` maps to a stable openid (a development convenience).
#[utoipa::path(
    post,
    path = "/user/user/login",
    operation_id = "account_login",
    tag = "user: login and shop",
    request_body = LoginReq,
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<LoginReply>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
    )
)]
async fn login(
    State(accounts): State<Accounts>,
    Body(req): Body<LoginReq>,
) -> ApiResult<Json<Envelope<LoginReply>>> {
    let s = accounts.customer_login(&req.code).await?;
    Ok(ok(LoginReply {
        id: s.id,
        openid: s.openid,
        token: s.token,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct ShopQuery {
    shop_id: Option<i64>,
}

/// 1 open / 0 closed. The stock clients only know shop 1.
#[utoipa::path(
    get,
    path = "/user/shop/status",
    operation_id = "account_status",
    tag = "user: login and shop",
    params(ShopQuery),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<i64>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
    )
)]
async fn status(
    State(shops): State<Shops>,
    QueryParams(q): QueryParams<ShopQuery>,
) -> ApiResult<Json<Envelope<i64>>> {
    Ok(ok(shops.status(q.shop_id.unwrap_or(1)).await?))
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, status))]
pub struct Doc;
