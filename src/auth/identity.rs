//! Who a request speaks for: a merchant (the `token` header, `Authorization: Bearer`, or the
//! session cookie the login set) or a customer (the `authentication` header). Read from the
//! request's parts, so REST handlers (as extractors) and socket handshakes use the same code.
//! Tokens are never read from the query string (it ends up in logs). A merchant token must
//! also be a current session (`sessions`): a disabled account's, or one issued before its
//! password changed, is refused like a forged one.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::{Role, Tokens};
use crate::domain::account::SessionId;
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
    /// Which login of the account this is.
    pub session: SessionId,
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

/// Why no merchant is behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMerchant {
    /// Missing, malformed, forged or expired token, or a session that is over: a bare 401.
    Unauthorized,
    /// The session of an account this instance has not seen could not be read (the
    /// database is down): a bare 503, so the clients do not drop the merchant to the login.
    Unavailable,
}

impl IntoResponse for NoMerchant {
    fn into_response(self) -> Response {
        match self {
            NoMerchant::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
            NoMerchant::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The merchant token of a request: the `token` header, an `Authorization: Bearer` header
/// or the session cookie, in that order.
fn merchant_token(parts: &Parts) -> Option<String> {
    header(parts, "token")
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
        })
}

/// The merchant behind a `token` header, an `Authorization: Bearer` header or the session
/// cookie, if it is valid and its session current.
pub async fn merchant_from_parts(tokens: &Tokens, parts: &Parts) -> Result<Merchant, NoMerchant> {
    let token = merchant_token(parts).ok_or(NoMerchant::Unauthorized)?;
    merchant_from_token(tokens, &token).await
}

/// The merchant of a token (the richer socket protocol's auth message carries one), if it is
/// valid and its session current.
pub async fn merchant_from_token(tokens: &Tokens, token: &str) -> Result<Merchant, NoMerchant> {
    let claims = tokens
        .check(token, Role::Merchant)
        .ok_or(NoMerchant::Unauthorized)?;
    let sessions = tokens.sessions().ok_or(NoMerchant::Unauthorized)?;
    let m = Merchant {
        employee_id: claims.uid,
        shop_id: ShopId::new(claims.shop).ok_or(NoMerchant::Unauthorized)?,
        session: SessionId {
            generation: claims.generation,
            sid: claims.sid,
        },
    };
    match sessions
        .admits(m.employee_id, m.shop_id.get(), m.session)
        .await
    {
        Ok(true) => Ok(m),
        Ok(false) => Err(NoMerchant::Unauthorized),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a merchant's session state");
            Err(NoMerchant::Unavailable)
        }
    }
}

/// True while the merchant's session is current, from memory only (see
/// [`Sessions::still_admits`](super::sessions::Sessions::still_admits)).
pub fn still_current(tokens: &Tokens, m: &Merchant) -> bool {
    tokens
        .sessions()
        .is_some_and(|s| s.still_admits(m.employee_id, m.shop_id.get(), m.session))
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
    type Rejection = NoMerchant;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        merchant_from_parts(&Tokens::from_ref(state), parts).await
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
