//! Redis pub/sub. One connection publishes (redis' ConnectionManager reconnects by itself);
//! one pub/sub connection subscribes per shop and is re-established, with every watched
//! shop re-subscribed and re-read from the log, whenever it drops.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{CALL_TIMEOUT, accept, backoff, pause, subject};
use crate::hub::Hub;
use crate::hub::ingest::Ingest;
use crate::hub::watch::WatchChanges;

/// Publishes queued messages; during an outage they fail fast and are dropped.
pub async fn publisher(
    url: String,
    mut rx: mpsc::Receiver<(i64, Vec<u8>)>,
    stop: CancellationToken,
) {
    let mut conn: Option<ConnectionManager> = None;
    let mut attempt = 0;
    loop {
        let (shop, payload) = tokio::select! {
            m = rx.recv() => match m { Some(m) => m, None => return },
            _ = stop.cancelled() => return,
        };
        if conn.is_none() {
            conn = connect(&url).await;
            if conn.is_none() {
                attempt += 1;
                metrics::counter!("sky_broker_dropped_total").increment(1);
                tokio::time::sleep(backoff(attempt).min(Duration::from_millis(500))).await;
                continue;
            }
            attempt = 0;
        }
        let c = conn.as_mut().expect("connected above");
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(subject(shop))
            .arg(payload)
            .query_async(c)
            .await;
        match sent {
            Ok(_) => metrics::counter!("sky_broker_published_total").increment(1),
            Err(e) => {
                metrics::counter!("sky_broker_dropped_total").increment(1);
                tracing::debug!(error = %e, "redis publish failed");
            }
        }
    }
}

async fn connect(url: &str) -> Option<ConnectionManager> {
    let client = redis::Client::open(url).ok()?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(1)))
        .set_number_of_retries(1);
    match ConnectionManager::new_with_config(client, config).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "redis unreachable; alerts reach only local sockets until it returns");
            None
        }
    }
}

/// Keeps one subscription per watched shop and feeds received events to the hub. Every call
/// has a timeout, and every failure (connect, subscribe, unsubscribe, a lost connection) waits
/// out a growing backoff before the next attempt, so a broken broker is never hammered.
pub async fn subscriber(
    url: String,
    hub: Hub,
    watch: WatchChanges,
    ingest: mpsc::Sender<Ingest>,
    origin: u64,
    stop: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        if failures > 0 && !pause(failures, &stop).await {
            return;
        }
        let pubsub = tokio::select! {
            p = open(&url) => p,
            _ = stop.cancelled() => return,
        };
        failures = failures.saturating_add(1);
        let Some(pubsub) = pubsub else { continue };
        let (mut sink, mut stream) = pubsub.split();
        let mut subscribed: HashSet<i64> = hub.watched_shops().into_iter().collect();
        let subjects: Vec<String> = subscribed.iter().map(|s| subject(*s)).collect();
        if !subjects.is_empty() && !call(sink.subscribe(&subjects)).await {
            tracing::warn!("redis subscribe failed; retrying after a backoff");
            continue;
        }
        if failures > 1 || !subscribed.is_empty() {
            tracing::info!(
                shops = subscribed.len(),
                "redis subscription (re)established; reading missed alerts from the log"
            );
            metrics::counter!("sky_broker_reconnects_total").increment(1);
        }
        // Whatever was published while we were not subscribed is in the log.
        let _ = ingest.send(Ingest::ResyncAll).await;
        loop {
            tokio::select! {
                m = stream.next() => {
                    let Some(m) = m else { break };
                    if let Some(event) = accept(m.get_payload_bytes(), origin) {
                        metrics::counter!("sky_broker_received_total").increment(1);
                        let _ = ingest.send(Ingest::Event(event)).await;
                    }
                }
                shops = watch.changed() => {
                    if !reconcile(&mut sink, &hub, &mut subscribed, shops, &ingest).await {
                        break;
                    }
                }
                _ = stop.cancelled() => return,
            }
        }
        // A connection that worked and then dropped starts the backoff over.
        tracing::warn!("redis subscription lost; reconnecting after a backoff");
        failures = 1;
    }
}

/// Subscribes to the changed shops the hub now watches and unsubscribes from the ones it no
/// longer does. False when a call failed or timed out (the connection is re-established,
/// and with it every subscription, so the rest of the batch is not lost).
async fn reconcile(
    sink: &mut redis::aio::PubSubSink,
    hub: &Hub,
    subscribed: &mut HashSet<i64>,
    shops: Vec<i64>,
    ingest: &mpsc::Sender<Ingest>,
) -> bool {
    for shop in shops {
        let (want, have) = (hub.is_watched(shop), subscribed.contains(&shop));
        if want && !have {
            if !call(sink.subscribe(subject(shop))).await {
                return false;
            }
            subscribed.insert(shop);
            // Alerts published between the socket's log read and this subscription.
            let _ = ingest.send(Ingest::Resync(shop)).await;
        } else if !want && have {
            if !call(sink.unsubscribe(subject(shop))).await {
                return false;
            }
            subscribed.remove(&shop);
        }
    }
    true
}

/// True when the call answered in time without an error.
async fn call<T>(f: impl std::future::Future<Output = redis::RedisResult<T>>) -> bool {
    matches!(tokio::time::timeout(CALL_TIMEOUT, f).await, Ok(Ok(_)))
}

async fn open(url: &str) -> Option<redis::aio::PubSub> {
    let client = redis::Client::open(url).ok()?;
    match tokio::time::timeout(CALL_TIMEOUT, client.get_async_pubsub()).await {
        Ok(Ok(p)) => Some(p),
        _ => None,
    }
}
