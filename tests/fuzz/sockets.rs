//! `/ws/v2/alerts` over real sockets: a generated first message (auth with a real, another
//! shop's, expired or garbage token or none, a cookie or not, any `lastSeq`; or not an auth at
//! all) and then generated messages (acks of real and absurd ids, pings, a second auth, any
//! JSON, any text, binary frames, frames over the size limit). After each one a ping probes
//! the socket: the server must answer `pong` or close with a documented code, never drop the
//! connection bare nor go silent.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::invariants::World;
use crate::strategies::{J, Pool, any_json, edge_int, text};

/// Close codes docs/protocol.md gives the server.
const DOCUMENTED: &[u16] = &[1000, 1002, 1007, 1009, 1012, 1013, 4001, 4002, 4003, 4008];

#[derive(Debug, Clone)]
enum Token {
    Real(Index),
    Expired,
    Garbage(String),
    None,
}

#[derive(Debug, Clone)]
enum Frame {
    Auth(Token, Option<J>),
    Ack(J),
    Ping,
    Json(J),
    Text(String),
    Binary(Vec<u8>),
    Huge(usize),
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        6 => any::<Index>().prop_map(Token::Real),
        1 => Just(Token::Expired),
        1 => text().prop_map(Token::Garbage),
        1 => Just(Token::None),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    let seq = proptest::option::weighted(
        0.7,
        prop_oneof![4 => edge_int().prop_map(J::Int), 1 => any_json()],
    );
    prop_oneof![
        2 => (token(), seq).prop_map(|(t, s)| Frame::Auth(t, s)),
        4 => prop_oneof![4 => any::<Index>().prop_map(|i| J::Ref(Pool::Alert, i, false)), 1 => edge_int().prop_map(J::Int), 1 => any_json()].prop_map(Frame::Ack),
        2 => Just(Frame::Ping),
        1 => any_json().prop_map(Frame::Json),
        1 => text().prop_map(Frame::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..32).prop_map(Frame::Binary),
        1 => (65_537usize..70_000).prop_map(Frame::Huge),
    ]
}

fn message(w: &World, f: &Frame) -> Message {
    let p = &w.pools;
    match f {
        Frame::Auth(t, seq) => {
            let mut v = json!({"type": "auth"});
            match t {
                Token::Real(i) => v["token"] = json!(i.get(&w.merchants).0),
                Token::Expired => v["token"] = json!(w.expired),
                Token::Garbage(g) => v["token"] = json!(g),
                Token::None => {}
            }
            if let Some(s) = seq {
                v["lastSeq"] = s.value(p);
            }
            Message::text(v.to_string())
        }
        Frame::Ack(id) => Message::text(json!({"type": "ack", "alertId": id.value(p)}).to_string()),
        Frame::Ping => Message::text(r#"{"type":"ping"}"#),
        Frame::Json(j) => Message::text(j.value(p).to_string()),
        Frame::Text(t) => Message::text(t.clone()),
        Frame::Binary(b) => Message::binary(b.clone()),
        Frame::Huge(n) => Message::text("x".repeat(*n)),
    }
}

/// Reads until `pong` (Ok(true): alive) or a close (Ok(false)), skipping other events.
async fn probe(ws: &mut crate::common::Ws, what: &str) -> Result<bool, TestCaseError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| {
                TestCaseError::fail(format!("{what}: no pong and no close within 15 s"))
            })?;
        match next {
            Some(Ok(Message::Text(t))) if t.as_str().contains(r#""event":"pong""#) => {
                return Ok(true);
            }
            Some(Ok(Message::Close(Some(f)))) => {
                let code: u16 = f.code.into();
                prop_assert!(
                    DOCUMENTED.contains(&code),
                    "{what}: undocumented close code {code}"
                );
                return Ok(false);
            }
            Some(Ok(Message::Close(None))) => {
                return Err(TestCaseError::fail(format!("{what}: close without a code")));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "{what}: connection broke: {e}"
                )));
            }
            None => {
                return Err(TestCaseError::fail(format!(
                    "{what}: dropped without a close frame"
                )));
            }
        }
    }
}

/// The socket target: `cases` connections, each a first message and up to eight more.
pub fn run(w: Arc<World>, rt: &tokio::runtime::Runtime, cases: u32) {
    let mut runner = crate::runner("ws-sockets", cases);
    let strategy = (
        any::<bool>(),
        frame(),
        proptest::collection::vec(frame(), 0..8),
    );
    let sent = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&strategy, |(cookie, first, rest)| {
        rt.block_on(async {
            w.refresh().await;
            let url = format!("{}/ws/v2/alerts", w.app.ws_base);
            let c = cookie.then(|| w.merchants[0].1.clone());
            let mut ws = crate::common::connect(&url, c.as_deref(), None)
                .await
                .map_err(|e| TestCaseError::fail(format!("handshake: {e}")))?;
            for (i, f) in std::iter::once(&first).chain(rest.iter()).enumerate() {
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let what = format!("message {i} {f:?}");
                if ws.send(message(&w, f)).await.is_err() {
                    break;
                }
                if ws.send(Message::text(r#"{"type":"ping"}"#)).await.is_err()
                    || !probe(&mut ws, &what).await?
                {
                    break;
                }
            }
            let _ = ws.close(None).await;
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("socket fuzzing failed: {e}");
    }
    rt.block_on(async { w.check().await })
        .expect("invariants after the run");
    crate::report("ws-sockets", sent.into_inner());
}
