//! WebSocket protocol errors at the frame level, with a raw TCP client: every broken frame
//! gets the close code RFC 6455 assigns (1002 protocol error, 1007 invalid data, 1009 too
//! big) and then the server closes the TCP connection; every client close is answered; binary
//! frames are what docs/protocol.md says they are. On all three socket states: the stock
//! page's `/ws/{sid}`, `/ws/v2/alerts` before its auth message and after it.

mod common;

use std::time::Duration;

use common::{Backend, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(5);

/// A raw client connection after a successful upgrade.
struct Raw {
    tcp: TcpStream,
    /// Bytes read but not yet parsed.
    buf: Vec<u8>,
}

/// What the server sent before it ended the connection.
#[derive(Debug, Default)]
struct Ending {
    /// Text frames seen before the close.
    texts: Vec<String>,
    /// The close frame's code and reason; `None` when no close frame came.
    close: Option<(Option<u16>, String)>,
    /// The server closed the TCP connection (after its close frame) in time.
    tcp_closed: bool,
}

/// A client frame: FIN, RSV bits (0..=7), opcode, masked or not, payload.
fn frame(fin: bool, rsv: u8, opcode: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            f.push(mask_bit | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(mask_bit | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// A well-formed masked final frame.
fn ok_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, 0, opcode, true, payload)
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

impl Raw {
    /// Opens `path` with the upgrade handshake and `extra` header lines.
    async fn open(app: &TestApp, path: &str, extra: &str) -> Raw {
        let mut tcp = TcpStream::connect(&app.host).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n",
            app.host
        );
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Raw {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(i) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(raw.fill().await, "the server answers the handshake");
        };
        let head = String::from_utf8_lossy(&raw.buf[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{path}: {head}");
        raw.buf.drain(..end);
        raw
    }

    /// Reads more bytes; false at EOF, on an error or after `WAIT`.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(WAIT, self.tcp.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            _ => false,
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        // The server may already have closed: a write error is part of what is observed.
        let _ = self.tcp.write_all(bytes).await;
    }

    /// The next server frame (opcode, payload), or `None` when the connection ended.
    async fn next_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if let Some((len, header)) = parse_len(&self.buf)
                && self.buf.len() >= header + len
            {
                let opcode = self.buf[0] & 0x0f;
                let payload = self.buf[header..header + len].to_vec();
                self.buf.drain(..header + len);
                return Some((opcode, payload));
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Text frames until the close frame, then whether the TCP connection ends.
    async fn ending(&mut self) -> Ending {
        let mut out = Ending::default();
        while let Some((opcode, payload)) = self.next_frame().await {
            match opcode {
                1 => out
                    .texts
                    .push(String::from_utf8_lossy(&payload).to_string()),
                8 => {
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    let reason =
                        String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).to_string();
                    out.close = Some((code, reason));
                    break;
                }
                _ => {}
            }
        }
        if out.close.is_some() {
            // Answer the server's close as a client would; then the server must end the TCP
            // connection (it may already have).
            self.send(&ok_frame(8, &[])).await;
            let mut rest = [0u8; 1024];
            out.tcp_closed = loop {
                match tokio::time::timeout(WAIT, self.tcp.read(&mut rest)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => break true,
                    Ok(Ok(_)) => continue,
                    Err(_) => break false,
                }
            };
        }
        out
    }
}

/// (payload length, header length) of the frame at the start of `b`, once the header is in.
fn parse_len(b: &[u8]) -> Option<(usize, usize)> {
    let l = *b.get(1)? & 0x7f;
    match l {
        126 => Some((u16::from_be_bytes([*b.get(2)?, *b.get(3)?]) as usize, 4)),
        127 => Some((
            u64::from_be_bytes(b.get(2..10)?.try_into().ok()?) as usize,
            10,
        )),
        n => Some((n as usize, 2)),
    }
}

/// A broken input and the close code it must get.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    code: u16,
}

fn cases() -> Vec<Case> {
    let big = vec![b'a'; 64 * 1024 + 1];
    let half = vec![b'a'; 40 * 1024];
    let mut v = vec![
        Case {
            name: "invalid UTF-8 in a text frame",
            bytes: ok_frame(1, &[b'{', 0xff, 0xfe]),
            code: 1007,
        },
        Case {
            name: "invalid UTF-8 across text fragments",
            bytes: [
                frame(false, 0, 1, true, b"ok \xc3"),
                frame(true, 0, 0, true, b"("),
            ]
            .concat(),
            code: 1007,
        },
        Case {
            name: "one frame over 64 KiB",
            bytes: ok_frame(1, &big),
            code: 1009,
        },
        Case {
            name: "a message over 64 KiB in two fragments",
            bytes: [
                frame(false, 0, 1, true, &half),
                frame(true, 0, 0, true, &half),
            ]
            .concat(),
            code: 1009,
        },
        Case {
            name: "an unmasked frame",
            bytes: frame(true, 0, 1, false, b"{}"),
            code: 1002,
        },
        Case {
            name: "a continuation with nothing to continue",
            bytes: frame(true, 0, 0, true, b"x"),
            code: 1002,
        },
        Case {
            name: "a new text frame inside a fragmented one",
            bytes: [frame(false, 0, 1, true, b"a"), ok_frame(1, b"b")].concat(),
            code: 1002,
        },
        Case {
            name: "a fragmented ping",
            bytes: frame(false, 0, 9, true, b"p"),
            code: 1002,
        },
        Case {
            name: "a ping over 125 bytes",
            bytes: ok_frame(9, &[b'p'; 126]),
            code: 1002,
        },
        Case {
            name: "a close frame with a 1-byte payload",
            bytes: ok_frame(8, &[3]),
            code: 1002,
        },
        Case {
            name: "a close reason that is not UTF-8",
            bytes: ok_frame(8, &close_payload(1000, &[0xff])),
            code: 1007,
        },
        Case {
            name: "close code 1005 (reserved)",
            bytes: ok_frame(8, &close_payload(1005, b"")),
            code: 1002,
        },
        Case {
            name: "close code 999",
            bytes: ok_frame(8, &close_payload(999, b"")),
            code: 1002,
        },
    ];
    for rsv in [4, 2, 1] {
        v.push(Case {
            name: "a reserved bit set",
            bytes: frame(true, rsv, 1, true, b"{}"),
            code: 1002,
        });
    }
    for op in (3..=7).chain(11..=15) {
        v.push(Case {
            name: "a reserved opcode",
            bytes: ok_frame(op, b"x"),
            code: 1002,
        });
    }
    v
}

/// How a test reaches the state where a frame is sent.
#[derive(Clone, Copy, Debug)]
enum Where {
    Legacy,
    RichBeforeAuth,
    RichAfterAuth,
}

async fn open_at(app: &TestApp, cookie: &str, token: &str, at: Where) -> Raw {
    match at {
        Where::Legacy => {
            Raw::open(
                app,
                "/ws/raw",
                &format!("Cookie: {cookie}\r\nOrigin: http://{}\r\n", app.host),
            )
            .await
        }
        Where::RichBeforeAuth => Raw::open(app, "/ws/v2/alerts", "").await,
        Where::RichAfterAuth => {
            let mut raw = Raw::open(app, "/ws/v2/alerts", "").await;
            raw.send(&ok_frame(
                1,
                format!(r#"{{"type":"auth","token":"{token}"}}"#).as_bytes(),
            ))
            .await;
            let (op, welcome) = raw.next_frame().await.expect("welcome");
            assert_eq!(op, 1);
            assert!(String::from_utf8_lossy(&welcome).contains("welcome"));
            raw
        }
    }
}

const EVERYWHERE: [Where; 3] = [Where::Legacy, Where::RichBeforeAuth, Where::RichAfterAuth];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_frames_get_the_rfc_close_code_and_the_connection_ends() {
    let app = common::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for at in EVERYWHERE {
        for case in cases() {
            let mut raw = open_at(&app, &admin.cookie, &admin.token, at).await;
            raw.send(&case.bytes).await;
            let end = raw.ending().await;
            checked += 1;
            let got = end.close.as_ref().and_then(|(c, _)| *c);
            if got != Some(case.code) || !end.tcp_closed {
                failures.push(format!(
                    "{at:?}, {}: expected close {} then EOF, got {:?} (TCP closed: {})",
                    case.name, case.code, end.close, end.tcp_closed
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_close_is_answered() {
    let app = common::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    let mut failures = Vec::new();
    for at in EVERYWHERE {
        for (name, payload, echo) in [
            (
                "close 1000 with a reason",
                close_payload(1000, b"bye"),
                Some(1000),
            ),
            (
                "close 4000 (application range)",
                close_payload(4000, b""),
                Some(4000),
            ),
            ("close without a code", Vec::new(), None),
        ] {
            let mut raw = open_at(&app, &admin.cookie, &admin.token, at).await;
            raw.send(&ok_frame(8, &payload)).await;
            let end = raw.ending().await;
            let got = end.close.as_ref().map(|(c, _)| *c);
            if got != Some(echo) || !end.tcp_closed {
                failures.push(format!(
                    "{at:?}, {name}: expected the echo {echo:?} then EOF, got {:?}",
                    end.close
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_frames_are_what_the_protocol_document_says() {
    let app = common::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    // The richer protocol: anything that is not one of its messages closes with 4002, before
    // auth too, and the reason names the binary frame (not an auth timeout).
    for at in [Where::RichBeforeAuth, Where::RichAfterAuth] {
        let mut raw = open_at(&app, &admin.cookie, &admin.token, at).await;
        raw.send(&ok_frame(2, b"\x00\x01")).await;
        let end = raw.ending().await;
        let (code, reason) = end.close.clone().unwrap_or_default();
        assert_eq!(code, Some(4002), "{at:?}: {end:?}");
        assert!(
            reason.contains("binary"),
            "{at:?}: the reason names it: {reason:?}"
        );
        assert!(end.tcp_closed, "{at:?}");
    }
    // The stock page's socket ignores what the client sends, binary included.
    let mut raw = open_at(&app, &admin.cookie, &admin.token, Where::Legacy).await;
    raw.send(&ok_frame(2, b"\x00\x01")).await;
    raw.send(&ok_frame(1, b"hello")).await;
    raw.send(&ok_frame(8, &close_payload(1000, b""))).await;
    let end = raw.ending().await;
    assert_eq!(
        end.close.map(|(c, _)| c),
        Some(Some(1000)),
        "still open until the client closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_before_auth_are_answered_and_do_not_end_the_wait() {
    let app = common::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    let mut raw = Raw::open(&app, "/ws/v2/alerts", "").await;
    raw.send(&ok_frame(9, b"hi")).await;
    let (op, payload) = raw.next_frame().await.expect("a pong");
    assert_eq!((op, payload.as_slice()), (10, &b"hi"[..]));
    raw.send(&ok_frame(
        1,
        format!(r#"{{"type":"auth","token":"{}"}}"#, admin.token).as_bytes(),
    ))
    .await;
    let (op, welcome) = raw.next_frame().await.expect("welcome after the ping");
    assert_eq!(op, 1);
    assert!(String::from_utf8_lossy(&welcome).contains("welcome"));
}

/// A socket whose opening cannot read the alert log (here: every connection of the SQLite
/// pool held, as a reconnect storm holds them) is closed with 1013 "try again later" once the
/// pool's wait ends, on both protocols, within the dashboard's 15 s connect timeout; never
/// left to end in a bare TCP drop (which a browser reports as 1006) after sqlx's 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opening_that_cannot_read_the_log_closes_with_1013() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let app = common::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    // A screen already open: the session is known and the shop's feed exists, so the
    // handshakes below get as far as the log reads (the replay, the stock page's backlog).
    let (mut open, _) = admin.rich_ws(None).await;
    // An alert the new sockets must read (a replay from `lastSeq` 0, the stock page's
    // backlog): a connect with nothing to read would not need the log at all (`hub::memo`).
    let c = app.customer("storm").await;
    c.paid_order(app.first_dish(1).await).await;
    assert!(
        common::next_json(&mut open, Duration::from_secs(5))
            .await
            .is_some()
    );
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(app.state.store.pool().acquire().await.unwrap());
    }
    let url = format!("{}/ws/v2/alerts", app.ws_base);
    let mut rich = common::connect(&url, None, None).await.unwrap();
    let auth = format!(r#"{{"type":"auth","token":"{}","lastSeq":0}}"#, admin.token);
    rich.send(Message::text(auth)).await.unwrap();
    let url = format!("{}/ws/storm", app.ws_base);
    let origin = format!("http://{}", app.host);
    let mut legacy = common::connect(&url, Some(&admin.cookie), Some(&origin))
        .await
        .unwrap();
    let wait = Duration::from_secs(14);
    let (rich_code, legacy_code) = tokio::join!(
        common::close_code(&mut rich, wait),
        common::close_code(&mut legacy, wait)
    );
    drop(held);
    assert_eq!(rich_code, Some(1013), "/ws/v2/alerts");
    assert_eq!(legacy_code, Some(1013), "/ws/{{sid}}");
    app.shutdown().await;
}
