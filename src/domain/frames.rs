//! The alert protocols' text frames (docs/protocol.md), built here once for every adapter:
//! the stock page's frame for `/ws/{sid}`, and the richer protocol's events, which
//! `/ws/v2/alerts` sends as text frames and `/ws/v2/sse` as the data of its SSE events.

use serde::Serialize;

use super::alert::AlertRecord;
use crate::time::fmt_seconds;

/// The REST page a client fetches what a truncated replay left out from.
pub const REST_PAGE: &str = "/admin/alerts?beforeSeq=";

#[derive(Serialize)]
struct LegacyFrame<'a> {
    #[serde(rename = "type")]
    kind: i64,
    #[serde(rename = "orderId")]
    order_id: i64,
    content: &'a str,
}

/// The richer protocol's alert frame (see docs/protocol.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RichAlert<'a> {
    event: &'static str,
    seq: i64,
    id: i64,
    #[serde(rename = "type")]
    kind: i64,
    order_id: i64,
    order_number: &'a str,
    content: &'a str,
    time: String,
    realert: i64,
    handled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RichHandled<'a> {
    event: &'static str,
    alert_ids: &'a [i64],
    order_id: i64,
}

/// The stock page's frame: exactly `{"type":1,"orderId":123,"content":"订单号：…"}`.
pub fn legacy_frame(a: &AlertRecord) -> String {
    serde_json::to_string(&LegacyFrame {
        kind: a.kind,
        order_id: a.order_id,
        content: &a.content,
    })
    .expect("plain struct serializes")
}

/// The richer protocol's `alert` frame.
pub fn rich_alert_frame(a: &AlertRecord, handled: bool) -> String {
    serde_json::to_string(&RichAlert {
        event: "alert",
        seq: a.seq,
        id: a.id,
        kind: a.kind,
        order_id: a.order_id,
        order_number: &a.order_number,
        content: &a.content,
        time: fmt_seconds(a.created_at),
        realert: a.realert,
        handled,
    })
    .expect("plain struct serializes")
}

/// The richer protocol's `handled` frame.
pub fn rich_handled_frame(alert_ids: &[i64], order_id: i64) -> String {
    serde_json::to_string(&RichHandled {
        event: "handled",
        alert_ids,
        order_id,
    })
    .expect("plain struct serializes")
}

/// The replay's control events (`welcome`, `truncated`, `live`), serialized from structs: a
/// `json!` value built a map (an allocation per key) for every connect's `welcome`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Welcome<'a> {
    event: &'static str,
    shop_id: i64,
    seq: i64,
    unhandled: &'a [i64],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Truncated {
    event: &'static str,
    from_seq: i64,
    to_seq: i64,
    rest: &'static str,
}

#[derive(Serialize)]
struct Live {
    event: &'static str,
    seq: i64,
}

/// `welcome`: the shop, its sequence now and up to 200 unhandled alert ids (newest first).
pub fn welcome_frame(shop_id: i64, seq: i64, unhandled: &[i64]) -> String {
    serde_json::to_string(&Welcome {
        event: "welcome",
        shop_id,
        seq,
        unhandled,
    })
    .expect("plain struct serializes")
}

/// `truncated`: the replay left out `from_seq..=to_seq`; fetch them from [`REST_PAGE`].
pub fn truncated_frame(from_seq: i64, to_seq: i64) -> String {
    serde_json::to_string(&Truncated {
        event: "truncated",
        from_seq,
        to_seq,
        rest: REST_PAGE,
    })
    .expect("plain struct serializes")
}

/// `live`: the replay is over; live alerts after `seq` follow.
pub fn live_frame(seq: i64) -> String {
    serde_json::to_string(&Live { event: "live", seq }).expect("plain struct serializes")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::alert::tests::alert;

    #[test]
    fn legacy_frame_is_byte_exact() {
        assert_eq!(
            legacy_frame(&alert()),
            r#"{"type":1,"orderId":123,"content":"订单号：1718000000000"}"#
        );
    }

    #[test]
    fn rich_frame_carries_everything() {
        let v: serde_json::Value =
            serde_json::from_str(&rich_alert_frame(&alert(), false)).unwrap();
        assert_eq!(v["event"], "alert");
        assert_eq!(v["seq"], 3);
        assert_eq!(v["id"], 9);
        assert_eq!(v["type"], 1);
        assert_eq!(v["orderId"], 123);
        assert_eq!(v["orderNumber"], "1718000000000");
        assert_eq!(v["content"], "订单号：1718000000000");
        assert!(v["time"].is_string());
    }

    #[test]
    fn replay_frames_name_their_event() {
        assert_eq!(
            welcome_frame(1, 57, &[101, 99]),
            r#"{"event":"welcome","shopId":1,"seq":57,"unhandled":[101,99]}"#
        );
        let v: serde_json::Value = serde_json::from_str(&truncated_frame(42, 56)).unwrap();
        assert_eq!(
            v,
            json!({"event": "truncated", "fromSeq": 42, "toSeq": 56, "rest": "/admin/alerts?beforeSeq="})
        );
        assert_eq!(live_frame(57), r#"{"event":"live","seq":57}"#);
    }
}
