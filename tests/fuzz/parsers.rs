//! Parsers driven directly: the `/ws/v2` client message parser against a model of what it
//! must accept, and the image content check on pictures changed, cut and padded.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use sky_takeout::ws::rich::{ClientMsg, parse};

use crate::strategies::{J, Pools, any_json, edge_int, text};

/// A generated client message: a structured object, any JSON, any text, or JSON cut short.
#[derive(Debug, Clone)]
enum Msg {
    Structured(Vec<(String, J)>),
    Json(J),
    Text(String),
    Cut(Vec<(String, J)>, Index),
}

fn field(name: &'static str, right: BoxedStrategy<J>) -> BoxedStrategy<Option<(String, J)>> {
    proptest::option::weighted(
        0.7,
        prop_oneof![4 => right, 1 => any_json(), 1 => Just(J::Null)]
            .prop_map(move |v| (name.to_string(), v)),
    )
    .boxed()
}

fn structured() -> impl Strategy<Value = Vec<(String, J)>> {
    let kind = prop_oneof![
        6 => proptest::sample::select(vec!["auth", "ack", "ping"]).prop_map(|s| J::Str(s.into())),
        1 => proptest::sample::select(vec!["Auth", "ACK", "pong", "", "auth "]).prop_map(|s| J::Str(s.into())),
        1 => any_json(),
    ];
    (
        proptest::option::weighted(0.95, kind.prop_map(|k| ("type".to_string(), k))),
        field("token", text().prop_map(J::Str).boxed()),
        field("lastSeq", edge_int().prop_map(J::Int).boxed()),
        field("alertId", edge_int().prop_map(J::Int).boxed()),
        proptest::option::weighted(0.1, (text(), any_json())),
    )
        .prop_map(|(t, token, seq, alert, extra)| {
            [t, token, seq, alert, extra]
                .into_iter()
                .flatten()
                .collect()
        })
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        8 => structured().prop_map(Msg::Structured),
        1 => any_json().prop_map(Msg::Json),
        1 => any::<String>().prop_map(Msg::Text),
        1 => (structured(), any::<Index>()).prop_map(|(s, i)| Msg::Cut(s, i)),
    ]
}

fn render(fields: &[(String, J)], pools: &Pools) -> String {
    // Written by hand so duplicate keys stay duplicates (a map would merge them).
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), v.value(pools)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// What the parser must answer for a structured message: `Some(msg)` when it is one, `None`
/// when it is not; unknown when keys repeat (serde's rule for duplicates is its own).
fn model(fields: &[(String, J)]) -> Option<Option<ClientMsg>> {
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v);
    let opt_int = |v: Option<&J>| match v {
        None | Some(J::Null) => Some(None),
        Some(J::Int(i)) => Some(Some(*i)),
        _ => None,
    };
    Some(match get("type") {
        Some(J::Str(t)) if t == "ping" => Some(ClientMsg::Ping),
        Some(J::Str(t)) if t == "ack" => match get("alertId") {
            Some(J::Int(i)) => Some(ClientMsg::Ack { alert_id: *i }),
            _ => None,
        },
        Some(J::Str(t)) if t == "auth" => {
            let token = match get("token") {
                None | Some(J::Null) => Some(None),
                Some(J::Str(s)) => Some(Some(s.clone())),
                _ => None,
            };
            match (token, opt_int(get("lastSeq"))) {
                (Some(token), Some(last_seq)) => Some(ClientMsg::Auth { token, last_seq }),
                _ => None,
            }
        }
        _ => None,
    })
}

/// The client message parser: never panics; a structured message parses exactly as the model
/// says.
pub fn run_messages(cases: u32) {
    let pools = Pools::default();
    let mut runner = crate::runner("ws-messages", cases);
    let result = runner.run(&msg(), |m| {
        match &m {
            Msg::Structured(fields) => {
                let got = parse(&render(fields, &pools)).ok();
                if let Some(want) = model(fields) {
                    prop_assert_eq!(got, want, "{}", render(fields, &pools));
                }
            }
            Msg::Json(j) => {
                let _ = parse(&j.value(&pools).to_string());
            }
            Msg::Text(t) => {
                let _ = parse(t);
            }
            Msg::Cut(fields, i) => {
                let s = render(fields, &pools);
                let mut end = i.index(s.len());
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                prop_assert!(
                    parse(&s[..end]).is_err(),
                    "a cut message parsed: {:?}",
                    &s[..end]
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("message parser fuzzing failed: {e}");
    }
    crate::report("ws-messages", cases as u64);
}

/// The image content check: never panics; what it accepts starts with its type's signature.
pub fn run_images(cases: u32) {
    use crate::common::images::{JPEG, PNG, WEBP};
    let base = proptest::sample::select(vec![PNG.to_vec(), JPEG.to_vec(), WEBP.to_vec()]);
    let strategy = prop_oneof![
        4 => (base.clone(), proptest::collection::vec((any::<Index>(), any::<u8>()), 1..4)).prop_map(|(mut b, edits)| {
            for (i, v) in edits { let n = i.index(b.len()); b[n] = v; }
            b
        }),
        2 => (base.clone(), any::<Index>()).prop_map(|(b, i)| b[..i.index(b.len())].to_vec()),
        1 => (base.clone(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(mut b, t)| { b.extend(t); b }),
        1 => (base, any::<Index>(), proptest::collection::vec(any::<u8>(), 0..16)).prop_map(|(mut b, i, t)| {
            let n = i.index(b.len());
            b.splice(n..n, t);
            b
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..128),
    ];
    let mut runner = crate::runner("images", cases);
    let result = runner.run(&strategy, |bytes| {
        if let Ok(p) = sky_takeout::domain::image::check(&bytes) {
            let sig: &[u8] = match p.kind.extension() {
                "png" => b"\x89PNG",
                "jpg" => b"\xff\xd8",
                _ => b"RIFF",
            };
            prop_assert!(bytes.starts_with(sig), "accepted without its signature");
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("image check fuzzing failed: {e}");
    }
    crate::report("images", cases as u64);
}
