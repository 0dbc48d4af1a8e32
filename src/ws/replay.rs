//! How a screen of the richer protocol starts, over a WebSocket (`rich`) or SSE (`sse`)
//! alike: it joins the shop's feed, gets `welcome`, and when it names the last sequence it saw
//! (and that is behind), the alerts it missed (at most the replay limit, the newest ones, after
//! a `truncated` notice naming the range to fetch over REST) and then `live`. One
//! implementation, so both protocols send the same events and count the same metrics.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;

use super::Sockets;
use super::handshake::LogNeed;
use crate::auth::identity::Merchant;
use crate::domain::frames::{live_frame, rich_alert_frame, truncated_frame, welcome_frame};
use crate::hub::limits::Full;
use crate::hub::memo::Recall;
use crate::hub::{ConnKind, Registration};

/// Why an opening failed.
#[derive(Debug)]
pub enum OpenError {
    /// The hub holds its most sockets (in all or for the shop): refused, retry later.
    Full(Full),
    /// The log could not be read (logged by the adapter, the connection ends).
    Log(anyhow::Error),
}

fn log(e: impl Into<anyhow::Error>) -> OpenError {
    OpenError::Log(e.into())
}

/// Most unhandled alert ids in `welcome`.
const WELCOME_UNHANDLED: i64 = 200;

/// One event of the opening: its name, its sequence (alerts only) and its frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// `welcome`, `truncated`, `alert` or `live`.
    pub event: &'static str,
    /// The alert's sequence (SSE's event id).
    pub seq: Option<i64>,
    /// The richer protocol's frame (a text frame; SSE's `data:`).
    pub frame: Utf8Bytes,
}

impl Opened {
    fn new(event: &'static str, seq: Option<i64>, frame: String) -> Opened {
        Opened {
            event,
            seq,
            frame: frame.into(),
        }
    }
}

/// A screen that joined its shop's feed, with what it is sent first.
pub struct Opening {
    /// Its membership in the feed.
    pub reg: Registration,
    /// The opening events, in order.
    pub events: Vec<Opened>,
    /// Live deliveries at or below this sequence are skipped (the client has them).
    pub skip_upto: i64,
}

/// Joins the feed of the merchant's shop (within the hub's caps, as their session, which ends
/// the connection when it is over) and builds the opening for a client that last saw
/// `last_seq`. Fails when the hub is full or the log cannot be read.
pub async fn open(
    s: &Sockets,
    m: &Merchant,
    kind: ConnKind,
    last_seq: Option<i64>,
) -> Result<Opening, OpenError> {
    let shop_id = m.shop_id.get();
    let db_seq = start_seq(s, shop_id, last_seq).await.map_err(log)?;
    // A last sequence beyond the log's (a client of a database since reset) is ignored, or
    // it would mute every live alert up to it.
    let last_seq = last_seq.filter(|l| *l <= db_seq);
    let reg = s
        .hub
        .try_register(
            shop_id,
            Some((m.employee_id, m.session)),
            kind,
            s.settings.socket_queue,
            db_seq,
        )
        .map_err(OpenError::Full)?;
    let unhandled = unhandled_ids(s, shop_id).await.map_err(log)?;
    let now = reg.live_after;
    let mut events = vec![Opened::new(
        "welcome",
        None,
        welcome_frame(shop_id, now, &unhandled),
    )];
    if let Some(last) = last_seq {
        events.extend(
            missed(s, shop_id, kind, last.max(0), now)
                .await
                .map_err(log)?,
        );
    }
    Ok(Opening {
        skip_upto: now.max(last_seq.unwrap_or(0)),
        reg,
        events,
    })
}

/// The shop's unhandled alert ids for `welcome`: what its feed remembers (no database round
/// trip while no event arrived, see `hub::memo`), else read from the log and remembered.
async fn unhandled_ids(s: &Sockets, shop_id: i64) -> anyhow::Result<Arc<[i64]>> {
    let token = match s.hub.recall_unhandled(shop_id) {
        Recall::Known(ids) => {
            s.handshakes.count_log_read(LogNeed::Unhandled, true);
            return Ok(ids);
        }
        Recall::Read(token) => token,
    };
    s.handshakes.count_log_read(LogNeed::Unhandled, false);
    let ids: Arc<[i64]> = s
        .alerts
        .unhandled_ids(shop_id, WELCOME_UNHANDLED)
        .await?
        .into();
    s.hub.remember_unhandled(shop_id, token, ids.clone());
    Ok(ids)
}

/// The sequence a new registration of the shop starts from, for a client that last saw
/// `seen` (if it says). When this instance already watches the shop, its feed's last
/// sequence: the registration starts there anyway (a feed keeps its own), so no database
/// round trip, unless the client claims more than the feed has delivered (alerts committed
/// but not yet here): then, as for a shop not watched yet, the log's last sequence.
pub async fn start_seq(s: &Sockets, shop_id: i64, seen: Option<i64>) -> anyhow::Result<i64> {
    match s.hub.last_seq(shop_id) {
        Some(fed) if seen.is_none_or(|l| l <= fed) => Ok(fed),
        _ => Ok(s.alerts.max_seq(shop_id).await?),
    }
}

/// The events replaying `(last, upto]`: at most the replay limit (the newest ones), after a
/// `truncated` notice when more were missed, then `live`. Nothing when nothing was missed.
async fn missed(
    s: &Sockets,
    shop_id: i64,
    kind: ConnKind,
    last: i64,
    upto: i64,
) -> anyhow::Result<Vec<Opened>> {
    let mut events = Vec::new();
    if upto <= last {
        return Ok(events);
    }
    let limit = s.settings.replay_limit;
    // Sequences are gapless, so the missed count is plain arithmetic.
    let from = if upto - last > limit {
        let from = upto - limit;
        events.push(Opened::new(
            "truncated",
            None,
            truncated_frame(last + 1, from),
        ));
        from
    } else {
        last
    };
    let rows = s.alerts.since(shop_id, from, upto, limit).await?;
    metrics::counter!("sky_replays_total", "kind" => kind.label()).increment(1);
    metrics::counter!("sky_replayed_alerts_total", "kind" => kind.label())
        .increment(rows.len() as u64);
    events.extend(
        rows.iter()
            .map(|(a, handled)| Opened::new("alert", Some(a.seq), rich_alert_frame(a, *handled))),
    );
    events.push(Opened::new("live", None, live_frame(upto)));
    Ok(events)
}
