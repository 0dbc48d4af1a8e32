//! An event ready to write: its frames built once and shared by every socket of the shop.

use std::sync::atomic::AtomicBool;

use axum::extract::ws::Utf8Bytes;

use crate::domain::alert::Event;
use crate::domain::frames::{legacy_frame, rich_alert_frame, rich_handled_frame};

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
}
