//! What an alert is: a row of the durable log, and the events the relay publishes.

use serde::{Deserialize, Serialize};

/// 来单提醒: a paid order waits for acceptance.
pub const TYPE_NEW_ORDER: i64 = 1;
/// 客户催单: the customer reminds the merchant.
pub const TYPE_REMINDER: i64 = 2;
/// The alert does not exist (or is another shop's).
pub const NOT_FOUND: super::Refusal = super::Refusal("提醒不存在");

/// One row of the durable alert log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Row id (unique across shops).
    pub id: i64,
    /// Owning shop.
    pub shop_id: i64,
    /// Per-shop sequence: 1, 2, 3… without gaps, in commit order.
    pub seq: i64,
    /// 1 new order, 2 reminder.
    #[serde(rename = "type")]
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An alert of shop 1, as the frame tests use it.
    pub(crate) fn alert() -> AlertRecord {
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
    fn events_round_trip_through_json() {
        let e = Event::Alert(alert());
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}
