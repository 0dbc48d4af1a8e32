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

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginReq {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct LoginReply {
    id: i64,
    user_name: String,
    name: String,
    token: String,
    shop_id: i64,
}

#[utoipa::path(
    post,
    path = "/admin/employee/login",
    operation_id = "employee_login",
    tag = "admin: login",
    request_body = LoginReq,
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<LoginReply>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
    )
)]
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

#[utoipa::path(
    post,
    path = "/admin/employee/logout",
    operation_id = "employee_logout",
    tag = "admin: login",
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
    )
)]
async fn logout(jar: CookieJar) -> (CookieJar, Json<Envelope<()>>) {
    (
        jar.remove(Cookie::build((SESSION_COOKIE, "")).path("/")),
        done(),
    )
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: i64,
    shop_id: i64,
    user_name: String,
    name: String,
}

/// Who the session belongs to (the dashboard's check after a reload). A deleted or disabled
/// account's session is over: 401.
#[utoipa::path(
    get,
    path = "/admin/employee/me",
    operation_id = "employee_me",
    tag = "admin: login",
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`code: 1` and `data`, or `code: 0` and the refusal in `msg`", body = Envelope<Me>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PasswordReq {
    old_password: Option<String>,
    new_password: Option<String>,
}

/// The Navbar's 修改密码 dialog (`{oldPassword,newPassword}`; the YApi doc's `empId` is not
/// read: the account is the session's). The other sessions of the account end; this one goes
/// on, as the dialog stays on the page.
#[utoipa::path(
    put,
    path = "/admin/employee/editPassword",
    operation_id = "employee_edit_password",
    tag = "admin: login",
    request_body = PasswordReq,
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "`{code: 1, msg: null, data: null}`, or `code: 0` and the refusal in `msg`", body = Envelope<utoipa::TupleUnit>),
        (status = 400, description = "malformed request: the envelope with `code: 0`", body = Envelope<utoipa::TupleUnit>),
        (status = 401, description = "missing, expired or revoked token"),
    )
)]
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

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, logout, me, edit_password))]
pub struct Doc;
