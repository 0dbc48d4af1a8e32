//! Who a request speaks for: a merchant (the `token` header, `Authorization: Bearer`, or the
//! session cookie the login set) or a customer (the `authentication` header). Read from the
//! request's parts, so REST handlers (as extractors) and socket handshakes use the same code.
//! Tokens are never read from the query string (it ends up in logs).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::{Role, Tokens};
use crate::domain::shop::ShopId;

/// Name of the merchant session cookie set by `/admin/employee/login`.
pub const SESSION_COOKIE: &str = "sky_session";

/// A merchant: employee and shop of a valid merchant token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merchant {
    /// Employee id.
    pub employee_id: i64,
    /// The shop they act for: a real one (a token naming 0 or a negative id is refused).
    pub shop_id: ShopId,
}

/// A customer of a valid customer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Customer {
    /// Customer id.
    pub user_id: i64,
}

/// Missing, malformed, forged or expired token: a bare 401 (the clients go to their login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthorized;

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The merchant behind a `token` header, an `Authorization: Bearer` header or the session
/// cookie, if any is valid.
pub fn merchant_from_parts(tokens: &Tokens, parts: &Parts) -> Option<Merchant> {
    let token = header(parts, "token")
        .map(str::to_string)
        .or_else(|| {
            header(parts, "authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_string)
        })
        .or_else(|| {
            CookieJar::from_headers(&parts.headers)
                .get(SESSION_COOKIE)
                .map(|c| c.value().to_string())
        })?;
    merchant_from_token(tokens, &token)
}

/// The merchant of a token (the richer socket protocol's auth message carries one).
pub fn merchant_from_token(tokens: &Tokens, token: &str) -> Option<Merchant> {
    let claims = tokens.check(token, Role::Merchant)?;
    Some(Merchant {
        employee_id: claims.uid,
        shop_id: ShopId::new(claims.shop)?,
    })
}

/// The customer behind the `authentication` header, if it is valid.
pub fn customer_from_parts(tokens: &Tokens, parts: &Parts) -> Option<Customer> {
    let claims = tokens.check(header(parts, "authentication")?, Role::Customer)?;
    Some(Customer {
        user_id: claims.uid,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Merchant
where
    Tokens: FromRef<S>,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        merchant_from_parts(&Tokens::from_ref(state), parts).ok_or(Unauthorized)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Customer
where
    Tokens: FromRef<S>,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        customer_from_parts(&Tokens::from_ref(state), parts).ok_or(Unauthorized)
    }
}
