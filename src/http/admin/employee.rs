//! Merchant login (which also sets the HttpOnly session cookie the sockets use) and logout.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Role, verify_password};
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::{Body, Merchant, SESSION_COOKIE};
use crate::store::shops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/employee/login", post(login))
        .route("/admin/employee/logout", post(logout))
        .route("/admin/employee/me", get(me))
}

#[derive(Deserialize)]
struct LoginReq {
    username: String,
    password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginReply {
    id: i64,
    user_name: String,
    name: String,
    token: String,
    shop_id: i64,
}

/// A known hash, so that an unknown user name costs the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Wc2xM3kz2g0rOQ5XSP3o1B2nv0fz7z1PNoJc7rEJ0M";

async fn login(
    State(app): State<AppState>,
    jar: CookieJar,
    Body(req): Body<LoginReq>,
) -> ApiResult<(CookieJar, Json<Envelope<LoginReply>>)> {
    if req.username.len() > 64 || req.password.len() > 256 {
        return Err(ApiError::business("账号或密码错误"));
    }
    let emp = shops::employee_by_username(app.store.pool(), &req.username).await?;
    let hash = emp
        .as_ref()
        .map(|e| e.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let valid = verify_password(req.password, hash).await;
    let Some(emp) = emp.filter(|_| valid) else {
        return Err(ApiError::business("账号或密码错误"));
    };
    if emp.status != 1 {
        return Err(ApiError::business("账号被锁定"));
    }
    let token = app.tokens.issue(
        Role::Merchant,
        emp.id,
        emp.shop_id,
        (app.clock.now_ms() / 1000) as u64,
    );
    // Path=/ so that the cookie set at /api/employee/login (behind the course's nginx) also
    // travels with the socket handshake at /ws/…; HttpOnly keeps it from page scripts.
    let cookie = Cookie::build((SESSION_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time_from(app.tokens.ttl()))
        .build();
    Ok((
        jar.add(cookie),
        ok(LoginReply {
            id: emp.id,
            user_name: emp.username,
            name: emp.name,
            token,
            shop_id: emp.shop_id,
        }),
    ))
}

fn time_from(d: std::time::Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(d.as_secs() as i64)
}

async fn logout(jar: CookieJar) -> (CookieJar, Json<Envelope<()>>) {
    (
        jar.remove(Cookie::build((SESSION_COOKIE, "")).path("/")),
        done(),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: i64,
    shop_id: i64,
    user_name: String,
    name: String,
}

/// Who the session belongs to (the dashboard's check after a reload). A deleted or disabled
/// account's session is over: 401.
async fn me(State(app): State<AppState>, m: Merchant) -> ApiResult<Json<Envelope<Me>>> {
    let emp = shops::employee_by_id(app.store.pool(), m.employee_id)
        .await?
        .filter(|e| e.status == 1 && e.shop_id == m.shop_id)
        .ok_or(ApiError::Unauthorized)?;
    Ok(ok(Me {
        id: emp.id,
        shop_id: emp.shop_id,
        user_name: emp.username,
        name: emp.name,
    }))
}
