//! Customer login and the shop's open/closed status.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::auth::Role;
use crate::config::PayMode;
use crate::http::error::{ApiError, ApiResult, Envelope, ok};
use crate::http::extract::{Body, QueryParams};
use crate::store::{customers, shops};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/user/user/login", post(login))
        .route("/user/shop/status", get(status))
}

#[derive(Deserialize)]
struct LoginReq {
    code: String,
}

#[derive(Serialize)]
struct LoginReply {
    id: i64,
    openid: String,
    token: String,
}

/// Login failed: a bad or used code, or WeChat unreachable.
const LOGIN_FAILED: &str = "登录失败";

/// Wechat mode: the `wx.login` code is traded for the openid at WeChat (`jscode2session`).
/// Mock mode: any `code` maps to a stable openid (a development convenience). Either way the
/// customer is found or created by openid.
async fn login(
    State(app): State<AppState>,
    Body(req): Body<LoginReq>,
) -> ApiResult<Json<Envelope<LoginReply>>> {
    let code = req.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(ApiError::business(LOGIN_FAILED));
    }
    let openid = match app.settings.pay_mode {
        PayMode::Mock => mock_openid(code),
        PayMode::Wechat => {
            let Some(wechat) = app.wechat_api.as_ref() else {
                return Err(ApiError::business("微信登录未配置"));
            };
            match wechat.login(code).await {
                Ok(openid) => openid,
                Err(e) => {
                    tracing::warn!(error = %e, "WeChat login failed");
                    return Err(ApiError::business(LOGIN_FAILED));
                }
            }
        }
    };
    let id = customers::user_for_openid(app.store.pool(), &openid, app.clock.now_ms()).await?;
    let token = app
        .tokens
        .issue(Role::Customer, id, 0, (app.clock.now_ms() / 1000) as u64);
    Ok(ok(LoginReply { id, openid, token }))
}

/// A stable openid for a mock-mode code.
fn mock_openid(code: &str) -> String {
    let digest = Sha256::digest(code.as_bytes());
    let openid = format!(
        "mock-{}",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    tracing::debug!(openid, "mock login: code mapped to a stable openid");
    openid
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopQuery {
    shop_id: Option<i64>,
}

/// 1 open / 0 closed. The stock clients only know shop 1.
async fn status(
    State(app): State<AppState>,
    QueryParams(q): QueryParams<ShopQuery>,
) -> ApiResult<Json<Envelope<i64>>> {
    let status = shops::shop_status(app.store.pool(), q.shop_id.unwrap_or(1)).await?;
    Ok(ok(status.unwrap_or(0)))
}
