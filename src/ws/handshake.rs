//! Checks done before a socket or event stream is accepted: the `Origin` must be allowed,
//! the caller must be a merchant with a current session (session cookie or
//! `Authorization`/`token` header; never a query-string token), and the caps must leave room
//! (sockets in all and per shop, connections in handshake). Refusals are plain 401 / 403 / 503
//! (503 also while a session cannot be read) before any upgrade.
//!
//! # The default origin rule, and why it is safe
//!
//! Without `SKY_ALLOWED_ORIGINS`, a page may open a socket when its origin names the host the
//! request was sent to (`Host`), or when it is a loopback origin (`http(s)://localhost`,
//! `127.0.0.0/8`, `[::1]`, any port). The second makes the course's own layout work with no
//! setting: its nginx sends `Host: webservers` while the page is `http://localhost`.
//!
//! The check exists against cross-site socket hijacking: a page of another site riding on the
//! merchant's session cookie. Allowing loopback origins does not open that door to anyone
//! remote. An `Origin` is set by the browser, not by the page, and only a server on the
//! merchant's own machine can serve a page on a loopback origin (a hostile domain that
//! resolves to 127.0.0.1 still has its own name as its origin). On a public deployment the
//! session cookie belongs to the public host and is `SameSite=Lax`, so the browser does not
//! attach it to a socket a `localhost` page opens to that host, and a page cannot set the
//! `token` header on a WebSocket: such a socket is refused as unauthenticated anyway. What
//! remains is the machine itself (another local web app on another port of `localhost` is
//! same-site with a `localhost` deployment): a program running there can already reach the
//! server directly, and the most it could do through the browser is listen to the shop's
//! alert frames (order ids) and acknowledge alerts. An explicit `SKY_ALLOWED_ORIGINS`
//! replaces the default, loopback included.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Gauge};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Sockets;
use crate::auth::Tokens;
use crate::auth::identity::{Merchant, NoMerchant, merchant_from_parts};
use crate::hub::limits::Full;

/// The slots for connections in handshake (`--max-handshakes`) and the handshake's metrics,
/// each series looked up in the recorder once, at start-up (a metrics macro looks its series
/// up on every call, and a connect made several).
pub struct Handshakes {
    slots: Arc<Semaphore>,
    in_progress: Gauge,
    /// `sky_handshake_log_reads_total` by [`LogNeed`] and outcome (`remembered`, `read`).
    log_reads: [[Counter; 2]; 2],
}

/// What an opening needed of the alert log.
#[derive(Debug, Clone, Copy)]
pub enum LogNeed {
    /// The richer protocols' unhandled ids (`welcome`).
    Unhandled,
    /// The stock page's backlog.
    Backlog,
}

impl Handshakes {
    /// `max` slots; the series are registered with the recorder installed now.
    pub fn new(max: usize) -> Handshakes {
        let reads = |what: &'static str| {
            ["remembered", "read"].map(|outcome| {
                metrics::counter!("sky_handshake_log_reads_total", "what" => what, "outcome" => outcome)
            })
        };
        Handshakes {
            slots: Arc::new(Semaphore::new(max)),
            in_progress: metrics::gauge!("sky_handshakes_in_progress"),
            log_reads: [reads("unhandled"), reads("backlog")],
        }
    }

    /// Counts an opening's need of the log: whether the feed `remembered` it or it was read.
    pub fn count_log_read(&self, what: LogNeed, remembered: bool) {
        let outcome = if remembered { 0 } else { 1 };
        self.log_reads[what as usize][outcome].increment(1);
    }
}

/// A slot among the connections in handshake (`--max-handshakes`), held from the upgrade
/// request until the socket or stream is live.
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    in_progress: Gauge,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.in_progress.decrement(1.0);
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

/// The close frame for a socket whose opening could not read the alert log (the database is
/// down, or every connection of its pool stayed busy for the pool's wait, as in a reconnect
/// storm): 1013 "try again later", counted as `reason="database"`. Never a bare TCP drop: the
/// dashboard reconnects with its backoff and replays from its last sequence, and the stock page
/// shows its error (its merchant reloads) instead of silently missing its backlog.
pub fn log_unavailable() -> (u16, &'static str) {
    count_refusal("database");
    (
        super::session::CLOSE_TRY_AGAIN,
        "alert log unavailable, try again",
    )
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
        .slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| "handshakes")?;
    let in_progress = s.handshakes.in_progress.clone();
    in_progress.increment(1.0);
    Ok(Admitted {
        _permit: permit,
        in_progress,
    })
}

/// Why a handshake was refused.
#[derive(Debug)]
pub enum Refused {
    /// No valid session: 401.
    Unauthorized,
    /// Cross-origin: 403.
    Origin,
    /// A session could not be read (database down): 503.
    Unavailable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
            Refused::Origin => StatusCode::FORBIDDEN.into_response(),
            Refused::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
}

impl From<NoMerchant> for Refused {
    fn from(n: NoMerchant) -> Refused {
        match n {
            NoMerchant::Unauthorized => Refused::Unauthorized,
            NoMerchant::Unavailable => Refused::Unavailable,
        }
    }
}

/// The hint logged with every refused origin: what is allowed and which setting to change.
pub const ORIGIN_HINT: &str = "socket refused: Origin not allowed. By default a page may connect from the \
     request's own host or from a loopback origin (http://localhost, 127.0.0.1, [::1]); to allow \
     another page origin set SKY_ALLOWED_ORIGINS (--allowed-origins), e.g. \
     SKY_ALLOWED_ORIGINS=https://merchant.example.com (this replaces the default)";

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// True when the request's `Origin` is allowed: listed in `SKY_ALLOWED_ORIGINS`, or (when
/// that is empty) naming the request's own host or a loopback host ([module docs](self)).
/// Requests without `Origin` come from non-browser clients, which cannot be driven by another
/// site, and pass.
pub fn origin_allowed(allowed_origins: &[String], parts: &Parts) -> bool {
    let Some(origin) = header(parts, "origin") else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    let host = header(parts, "host").unwrap_or_default();
    let allowed = if allowed_origins.is_empty() {
        default_allows(origin, host)
    } else {
        allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    };
    if !allowed {
        tracing::warn!(origin, host, "{ORIGIN_HINT}");
    }
    allowed
}

/// The default rule: an `http`/`https` origin whose authority is the request's `Host`, or a
/// loopback host.
pub fn default_allows(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return false;
    }
    (!host.is_empty() && authority.eq_ignore_ascii_case(host)) || is_loopback(authority)
}

/// `host[:port]` naming `localhost`, an address of 127.0.0.0/8 or `[::1]`.
fn is_loopback(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, rest)) => (h, rest.strip_prefix(':')),
            None => return false,
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The merchant behind a handshake, after the origin check.
pub async fn authenticate(
    allowed_origins: &[String],
    tokens: &Tokens,
    parts: &Parts,
) -> Result<Merchant, Refused> {
    if !origin_allowed(allowed_origins, parts) {
        return Err(Refused::Origin);
    }
    Ok(merchant_from_parts(tokens, parts).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_allows_the_own_host_and_loopback_pages_only() {
        for (origin, host) in [
            ("http://localhost", "webservers"),
            ("http://localhost:8080", "webservers"),
            ("https://LOCALHOST", "webservers"),
            ("http://127.0.0.1:5173", "webservers"),
            ("http://127.9.0.1", "webservers"),
            ("http://[::1]:80", "webservers"),
            ("https://merchant.example.com", "merchant.example.com"),
            ("http://webservers", "webservers"),
        ] {
            assert!(default_allows(origin, host), "{origin} to {host}");
        }
        for (origin, host) in [
            ("http://evil.example", "webservers"),
            ("http://localhost.evil.example", "webservers"),
            ("http://evil.localhost.example", "webservers"),
            ("http://localhost:80@evil.example", "webservers"),
            ("http://localhost:", "webservers"),
            ("http://[::1", "webservers"),
            ("http://128.0.0.1", "webservers"),
            ("http://[::2]", "webservers"),
            ("null", "webservers"),
            ("file://localhost", "webservers"),
            ("chrome-extension://abc", "webservers"),
            ("http://merchant.example.com.evil", "merchant.example.com"),
            ("http://", ""),
        ] {
            assert!(!default_allows(origin, host), "{origin} to {host}");
        }
    }

    #[test]
    fn the_refusal_names_the_setting() {
        assert!(ORIGIN_HINT.contains("SKY_ALLOWED_ORIGINS"));
        assert!(ORIGIN_HINT.contains("--allowed-origins"));
    }
}
