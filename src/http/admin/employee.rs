//! Merchant login (which also sets the HttpOnly session cookie the sockets use), logout, the
//! session's account, and the merchant's own password change.

use axum::extract::{FromRef, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use crate::auth::Tokens;
use crate::auth::client::ClientIp;
use crate::auth::identity::{Merchant, SESSION_COOKIE};
use crate::http::error::{ApiError, ApiResult, Envelope, done, ok};
use crate::http::extract::Body;
use crate::usecases::accounts::Accounts;

/// `/admin/employee/login`, `logout`, `me` and `editPassword`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tokens: FromRef<S>,
    Accounts: FromRef<S>,
{
    Router::new()
        .route("/admin/employee/login", post(login))
        .route("/admin/employee/logout", post(logout))
        .route("/admin/employee/me", get(me))
        .route("/admin/employee/editPassword", put(edit_password))
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

async fn login(
    State(accounts): State<Accounts>,
    client: Option<Extension<ClientIp>>,
    jar: CookieJar,
    Body(req): Body<LoginReq>,
) -> ApiResult<(CookieJar, Json<Envelope<LoginReply>>)> {
    let client = client.map(|Extension(ClientIp(ip))| ip);
    let s = accounts
        .merchant_login(&req.username, &req.password, client)
        .await?;
    // Path=/ so that the cookie set at /api/employee/login (behind the course's nginx) also
    // travels with the socket handshake at /ws/…; HttpOnly keeps it from page scripts.
    let cookie = Cookie::build((SESSION_COOKIE, s.token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time_from(s.ttl))
        .build();
    let e = s.employee;
    Ok((
        jar.add(cookie),
        ok(LoginReply {
            id: e.id,
            user_name: e.username,
            name: e.name,
            token: s.token,
            shop_id: e.shop_id,
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
async fn me(State(accounts): State<Accounts>, m: Merchant) -> ApiResult<Json<Envelope<Me>>> {
    let emp = accounts
        .merchant(m.employee_id, m.shop_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(ok(Me {
        id: emp.id,
        shop_id: emp.shop_id,
        user_name: emp.username,
        name: emp.name,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordReq {
    old_password: Option<String>,
    new_password: Option<String>,
}

/// The Navbar's 修改密码 dialog (`{oldPassword,newPassword}`; the YApi doc's `empId` is not
/// read: the account is the session's). The other sessions of the account end; this one goes
/// on, as the dialog stays on the page.
async fn edit_password(
    State(accounts): State<Accounts>,
    m: Merchant,
    Body(req): Body<PasswordReq>,
) -> ApiResult<Json<Envelope<()>>> {
    let old = req.old_password.unwrap_or_default();
    let new = req.new_password.unwrap_or_default();
    accounts.change_password(&m, &old, &new).await?;
    Ok(done())
}
