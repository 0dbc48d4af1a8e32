//! Brokers carry published events between instances. The relay always hands an event to the
//! local hub itself, so alerts reach this instance's sockets even while a broker is down;
//! a broker only adds the other instances. Each message names the instance it came from, so
//! an instance ignores its own echo; the hubs drop duplicates by sequence and fill gaps from
//! the log, so a lost message or a whole outage loses nothing.
//!
//! Channels / subjects are per shop (`sky.shop.<id>`); an instance subscribes to the shops
//! whose sockets it holds and unsubscribes when the last one leaves.

mod nats;
mod redis;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Hub;
use super::ingest::Ingest;
use crate::config::BrokerUrl;
use crate::domain::alert::Event;

/// Outgoing messages waiting for the broker; past this, the broker is behind or down and
/// messages are dropped (the other instances repair from the log).
const OUTGOING: usize = 8192;

/// What travels on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct BrokerMsg {
    /// Instance that published it.
    pub origin: u64,
    /// The event.
    pub event: Event,
}

/// The channel or subject of a shop.
pub fn subject(shop_id: i64) -> String {
    format!("sky.shop.{shop_id}")
}

/// The broker chosen by `--broker`.
#[derive(Clone)]
pub enum Broker {
    /// One process: nothing to do beyond the local hub.
    Memory,
    /// Redis pub/sub or NATS: publishing goes through a bounded queue to a task that owns
    /// the connection, so the relay never waits on the network.
    Remote {
        /// Queue to the publishing task.
        outgoing: mpsc::Sender<(i64, Vec<u8>)>,
        /// This instance's id.
        origin: u64,
    },
}

impl Broker {
    /// Starts the broker's tasks (on the hub's tracker, so shutdown waits for them):
    /// publishing, and subscribing for the shops the hub watches (feeding the hub's ingest
    /// queue).
    pub fn start(
        url: &BrokerUrl,
        hub: &Hub,
        ingest: mpsc::Sender<Ingest>,
        stop: CancellationToken,
    ) -> Broker {
        let origin: u64 = rand::random();
        let (tx, rx) = mpsc::channel(OUTGOING);
        match url {
            BrokerUrl::Memory => return Broker::Memory,
            BrokerUrl::Redis(u) => {
                let watch = hub.watch_changes();
                hub.tasks()
                    .spawn(redis::publisher(u.clone(), rx, stop.clone()));
                hub.tasks().spawn(redis::subscriber(
                    u.clone(),
                    hub.clone(),
                    watch,
                    ingest,
                    origin,
                    stop,
                ));
            }
            BrokerUrl::Nats(u) => {
                let watch = hub.watch_changes();
                hub.tasks().spawn(nats::run(
                    u.clone(),
                    hub.clone(),
                    rx,
                    watch,
                    ingest,
                    origin,
                    stop,
                ));
            }
        }
        Broker::Remote {
            outgoing: tx,
            origin,
        }
    }

    /// Publishes an event to the other instances; never waits.
    pub fn publish(&self, event: &Event) {
        let Broker::Remote { outgoing, origin } = self else {
            return;
        };
        let msg = BrokerMsg {
            origin: *origin,
            event: event.clone(),
        };
        let payload = serde_json::to_vec(&msg).expect("events serialize");
        if outgoing.try_send((event.shop_id(), payload)).is_err() {
            metrics::counter!("sky_broker_dropped_total").increment(1);
        }
    }
}

/// Parses a broker message; `None` for garbage and for this instance's own echo.
fn accept(payload: &[u8], origin: u64) -> Option<Event> {
    match serde_json::from_slice::<BrokerMsg>(payload) {
        Ok(m) if m.origin != origin => Some(m.event),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "ignoring a malformed broker message");
            None
        }
    }
}

/// Backoff for reconnect attempts: 200 ms doubling to 5 s.
fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis((200u64 << attempt.min(5)).min(5000))
}

/// Longest wait for one broker call (subscribe, unsubscribe, publish): past it the broker is
/// taken as down (the call is dropped, or the connection re-established).
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Waits for `stop` or the backoff of `attempt`; false when stopping.
async fn pause(attempt: u32, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(backoff(attempt)) => true,
        _ = stop.cancelled() => false,
    }
}
