//! Checks done before a socket or event stream is accepted: the `Origin` must be allowed,
//! the caller must be a merchant (session cookie or `Authorization`/`token` header; never a
//! query-string token), and the caps must leave room (sockets in all and per shop,
//! connections in handshake). Refusals are plain 401 / 403 / 503 before any upgrade.

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;

use super::Sockets;
use crate::auth::Tokens;
use crate::auth::identity::{Merchant, merchant_from_parts};
use crate::hub::limits::Full;

/// A slot among the connections in handshake (`--max-handshakes`), held from the upgrade
/// request until the socket or stream is live.
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        metrics::gauge!("sky_handshakes_in_progress").decrement(1.0);
    }
}

/// Counts a refusal in `sky_connections_refused_total{reason}`.
pub fn count_refusal(reason: &'static str) {
    metrics::counter!("sky_connections_refused_total", "reason" => reason).increment(1);
}

/// The refusal of a handshake over a cap: 503 with `Retry-After: 1`, counted.
pub fn refuse(reason: &'static str) -> Response {
    count_refusal(reason);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "1")],
    )
        .into_response()
}

/// The close frame for a socket the hub refused after its upgrade (the richer protocol
/// learns its shop from the auth message): 1013 "try again later", counted.
pub fn refused_after_upgrade(full: Full) -> (u16, &'static str) {
    count_refusal(full.reason());
    (super::session::CLOSE_TRY_AGAIN, full.close_reason())
}

/// Admits one more socket or stream (of `shop`, when known before the upgrade), or the
/// refusal's `reason` (answer it with [`refuse`]): the hub holds its most sockets, in all or
/// for the shop, or too many connections are in handshake.
pub fn admit(s: &Sockets, shop: Option<i64>) -> Result<Admitted, &'static str> {
    s.hub.room_for(shop).map_err(Full::reason)?;
    let permit = s
        .handshakes
        .clone()
        .try_acquire_owned()
        .map_err(|_| "handshakes")?;
    metrics::gauge!("sky_handshakes_in_progress").increment(1.0);
    Ok(Admitted { _permit: permit })
}

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
