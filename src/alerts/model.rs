//! What an alert is, and its wire frames (built once per alert, shared by every socket).

use std::sync::atomic::AtomicBool;

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};

use crate::time::fmt_seconds;

/// 来单提醒: a paid order waits for acceptance.
pub const TYPE_NEW_ORDER: i64 = 1;
/// 客户催单: the customer reminds the merchant.
pub const TYPE_REMINDER: i64 = 2;

/// One row of the durable alert log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AlertRecord {
    /// Row id (unique across shops).
    pub id: i64,
    /// Owning shop.
    pub shop_id: i64,
    /// Per-shop sequence: 1, 2, 3… without gaps, in commit order.
    pub seq: i64,
    /// 1 new order, 2 reminder.
    #[serde(rename = "type")]
    #[sqlx(rename = "type")]
    pub kind: i64,
    /// 0 for the first alert, n for the n-th re-alert of the same order.
    pub realert: i64,
    /// The order.
    pub order_id: i64,
    /// The order number.
    pub order_number: String,
    /// `订单号：<number>`.
    pub content: String,
    /// Commit-side creation time, Unix ms.
    pub created_at: i64,
}

/// `订单号：<number>` with the full-width colon the stock page expects.
pub fn content_for(order_number: &str) -> String {
    format!("订单号：{order_number}")
}

/// Something the relay publishes and every instance's hub fans out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Event {
    /// A committed alert.
    Alert(AlertRecord),
    /// Alerts that someone handled (acknowledged, or their order moved on).
    Handled {
        /// The shop.
        shop_id: i64,
        /// The alerts now handled.
        alert_ids: Vec<i64>,
        /// Their order.
        order_id: i64,
    },
}

impl Event {
    /// The shop the event belongs to.
    pub fn shop_id(&self) -> i64 {
        match self {
            Event::Alert(a) => a.shop_id,
            Event::Handled { shop_id, .. } => *shop_id,
        }
    }
}

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

/// An event ready to write: both encodings built once and shared by every socket.
#[derive(Debug)]
pub struct Delivery {
    /// Alert row id, for alert deliveries.
    pub alert_id: Option<i64>,
    /// Per-shop sequence, for alert deliveries.
    pub seq: Option<i64>,
    /// Commit time, for the commit-to-socket latency.
    pub created_at: i64,
    /// Frame for `/ws/{sid}`; `None` for events the stock page must never see.
    pub legacy: Option<Utf8Bytes>,
    /// Frame for the richer protocol and SSE.
    pub rich: Utf8Bytes,
    /// Set by the first socket that writes it, so delivery is recorded once per instance.
    pub recorded: AtomicBool,
}

impl Delivery {
    /// Builds the frames of an event.
    pub fn of(event: &Event) -> Delivery {
        match event {
            Event::Alert(a) => Delivery {
                alert_id: Some(a.id),
                seq: Some(a.seq),
                created_at: a.created_at,
                legacy: Some(legacy_frame(a).into()),
                rich: rich_alert_frame(a, false).into(),
                recorded: AtomicBool::new(false),
            },
            Event::Handled {
                alert_ids,
                order_id,
                ..
            } => Delivery {
                alert_id: None,
                seq: None,
                created_at: 0,
                legacy: None,
                rich: rich_handled_frame(alert_ids, *order_id).into(),
                recorded: AtomicBool::new(true),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> AlertRecord {
        AlertRecord {
            id: 9,
            shop_id: 1,
            seq: 3,
            kind: TYPE_NEW_ORDER,
            realert: 0,
            order_id: 123,
            order_number: "1718000000000".into(),
            content: content_for("1718000000000"),
            created_at: 0,
        }
    }

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
    fn handled_events_have_no_legacy_frame() {
        let d = Delivery::of(&Event::Handled {
            shop_id: 1,
            alert_ids: vec![1, 2],
            order_id: 5,
        });
        assert!(d.legacy.is_none());
        assert_eq!(
            d.rich.as_str(),
            r#"{"event":"handled","alertIds":[1,2],"orderId":5}"#
        );
    }

    #[test]
    fn events_round_trip_through_json() {
        let e = Event::Alert(alert());
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}
