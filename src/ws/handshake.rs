//! Checks done before a socket or event stream is accepted: the `Origin` must be allowed and
//! the caller must be a merchant (session cookie or `Authorization`/`token` header; never a
//! query-string token). Refusals are plain 401 / 403 before any upgrade.

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::auth::Tokens;
use crate::auth::identity::{Merchant, merchant_from_parts};

/// Why a handshake was refused.
#[derive(Debug)]
pub enum Refused {
    /// No valid session: 401.
    Unauthorized,
    /// Cross-origin: 403.
    Origin,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
            Refused::Origin => StatusCode::FORBIDDEN.into_response(),
        }
    }
}

/// True when the request's `Origin` is allowed: listed in `SKY_ALLOWED_ORIGINS`, or (when
/// that is empty) naming the same host as the `Host` header. Requests without `Origin` come
/// from non-browser clients, which cannot be driven by another site, and pass.
pub fn origin_allowed(allowed_origins: &[String], parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    let allowed = if allowed_origins.is_empty() {
        let host = parts
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        origin
            .split_once("://")
            .map(|(_, h)| h.eq_ignore_ascii_case(host))
            .unwrap_or(false)
    } else {
        allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    };
    if !allowed {
        let host = parts
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        tracing::warn!(
            origin,
            host,
            "socket refused: Origin not allowed. Behind a proxy that rewrites Host (the course's nginx \
             sends Host: webservers), set SKY_ALLOWED_ORIGINS (--allowed-origins) to the page's origin, \
             e.g. SKY_ALLOWED_ORIGINS=http://localhost"
        );
    }
    allowed
}

/// The merchant behind a handshake, after the origin check.
pub fn authenticate(
    allowed_origins: &[String],
    tokens: &Tokens,
    parts: &Parts,
) -> Result<Merchant, Refused> {
    if !origin_allowed(allowed_origins, parts) {
        return Err(Refused::Origin);
    }
    merchant_from_parts(tokens, parts).ok_or(Refused::Unauthorized)
}
