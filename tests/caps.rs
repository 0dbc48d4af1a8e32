//! Connection caps, black-box against the binary configured through its environment:
//! sockets and streams per shop and in all, connections in handshake, and TCP connections.
//! Each refusal is the documented one (HTTP 503 with `Retry-After` before the upgrade, close
//! 1013 after it) and is counted in `/metrics` by reason.

mod common;

use std::process::Command;
use std::time::Duration;

use common::binary::Server;
use common::{close_code, connect, next_json};
use futures_util::SinkExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const WAIT: Duration = Duration::from_secs(5);

/// The binary with these settings and a second shop with merchant `m2`.
async fn server(env: &[(&str, &str)]) -> Server {
    let s = Server::start(env).await;
    // After the server seeded shop 1 and `admin`.
    let added = Command::new(env!("CARGO_BIN_EXE_sky-takeout"))
        .args(["shops", "add", "--name", "二号店", "--admin-username", "m2"])
        .args(["--admin-password", "m2-pass-123456"])
        .env("DATABASE_URL", &s.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    s
}

/// `sky_connections_refused_total{reason="…"}` in `/metrics`.
async fn refused(base: &str, reason: &str) -> u64 {
    let text = common::metrics(base).await;
    let key = format!("sky_connections_refused_total{{reason=\"{reason}\"}}");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the server's hub holds `n` sockets (`sky_connections_open`, every kind): a
/// client's handshake completes before the server's task registers its socket, and only a
/// registered socket counts against a cap.
async fn wait_registered(base: &str, n: f64) {
    let ok = common::eventually(WAIT, || async {
        let text = common::metrics(base).await;
        let open: f64 = text
            .lines()
            .filter_map(|l| l.strip_prefix("sky_connections_open{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        open >= n
    })
    .await;
    assert!(ok, "the server never held {n} sockets");
}

/// The HTTP status of a refused WebSocket handshake, with its `Retry-After`.
fn refusal(r: Result<common::Ws, WsError>) -> (u16, Option<String>) {
    match r {
        Err(WsError::Http(resp)) => (
            resp.status().as_u16(),
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, the socket was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_and_streams_over_the_shop_cap_are_refused_and_counted() {
    let s = server(&[("SKY_MAX_SOCKETS_PER_SHOP", "2")]).await;
    let admin = s.app.merchant("admin", "admin-pass-123").await;
    let _a = admin.legacy_ws("a").await;
    let (_b, _) = admin.rich_ws(None).await;
    wait_registered(&s.app.base, 2.0).await;
    // A third of shop 1: refused before the upgrade on the stock page's socket…
    let url = format!("{}/ws/c", s.app.ws_base);
    let origin = format!("http://{}", s.app.host);
    let (status, retry) = refusal(connect(&url, Some(&admin.cookie), Some(&origin)).await);
    assert_eq!((status, retry.as_deref()), (503, Some("1")));
    // …and on the stream.
    let sse = common::http()
        .get(format!("{}/ws/v2/sse", s.app.base))
        .header("token", &admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status().as_u16(), 503);
    // The richer protocol learns the shop from its auth message: closed with 1013.
    let mut rich = connect(&format!("{}/ws/v2/alerts", s.app.ws_base), None, None)
        .await
        .unwrap();
    let auth = json!({"type": "auth", "token": admin.token});
    rich.send(Message::text(auth.to_string())).await.unwrap();
    assert_eq!(close_code(&mut rich, WAIT).await, Some(1013));
    // Another shop is not affected.
    let m2 = s.app.merchant("m2", "m2-pass-123456").await;
    let (mut other, welcome) = m2.rich_ws(None).await;
    assert_eq!(welcome["shopId"], m2.shop_id);
    assert!(
        next_json(&mut other, Duration::from_millis(200))
            .await
            .is_none()
    );
    assert_eq!(refused(&s.app.base, "shop_sockets").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_over_the_global_cap_are_refused_and_counted() {
    let s = server(&[("SKY_MAX_SOCKETS", "2")]).await;
    let admin = s.app.merchant("admin", "admin-pass-123").await;
    let m2 = s.app.merchant("m2", "m2-pass-123456").await;
    let _a = admin.legacy_ws("a").await;
    let _b = m2.legacy_ws("b").await;
    // Both are live (registered, their handshake slots released).
    wait_registered(&s.app.base, 2.0).await;
    let url = format!("{}/ws/v2/alerts", s.app.ws_base);
    let (status, retry) = refusal(connect(&url, None, None).await);
    assert_eq!((status, retry.as_deref()), (503, Some("1")));
    assert_eq!(refused(&s.app.base, "sockets").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_in_handshake_are_capped() {
    let s = server(&[("SKY_MAX_HANDSHAKES", "1")]).await;
    let admin = s.app.merchant("admin", "admin-pass-123").await;
    let url = format!("{}/ws/v2/alerts", s.app.ws_base);
    // One socket upgraded but not authenticated holds the one handshake slot.
    let mut first = connect(&url, None, None).await.unwrap();
    let (status, _) = refusal(connect(&url, None, None).await);
    assert_eq!(status, 503);
    assert_eq!(refused(&s.app.base, "handshakes").await, 1);
    // Once it is live the slot is free again.
    let auth = json!({"type": "auth", "token": admin.token});
    first.send(Message::text(auth.to_string())).await.unwrap();
    assert_eq!(
        next_json(&mut first, WAIT).await.unwrap()["event"],
        "welcome"
    );
    let (_second, welcome) = admin.rich_ws(None).await;
    assert_eq!(welcome["event"], "welcome");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_over_the_cap_get_503_and_are_closed() {
    let s = server(&[("SKY_MAX_CONNECTIONS", "4"), ("SKY_MAX_SOCKETS", "2")]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(tokio::net::TcpStream::connect(&s.app.host).await.unwrap());
    }
    // Let the server accept them all before the one too many arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = tokio::net::TcpStream::connect(&s.app.host).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, extra.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(refused(&s.app.base, "connections").await >= 1);
}
