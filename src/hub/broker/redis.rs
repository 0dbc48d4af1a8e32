//! Redis pub/sub. One connection publishes (redis' ConnectionManager reconnects by itself);
//! one pub/sub connection subscribes per shop and is re-established, with every watched
//! shop re-subscribed and re-read from the log, whenever it drops.

use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{accept, backoff, subject};
use crate::hub::ingest::Ingest;
use crate::hub::{Hub, Watch};

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

/// Keeps one subscription per watched shop and feeds received events to the hub.
pub async fn subscriber(
    url: String,
    hub: Hub,
    mut watch: mpsc::UnboundedReceiver<Watch>,
    ingest: mpsc::Sender<Ingest>,
    origin: u64,
    stop: CancellationToken,
) {
    let mut attempt: u32 = 0;
    loop {
        let pubsub = tokio::select! {
            p = open(&url) => p,
            _ = stop.cancelled() => return,
        };
        let Some(pubsub) = pubsub else {
            attempt += 1;
            tokio::select! {
                _ = tokio::time::sleep(backoff(attempt)) => continue,
                _ = stop.cancelled() => return,
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let shops = hub.watched_shops();
        let subjects: Vec<String> = shops.iter().map(|s| subject(*s)).collect();
        if !subjects.is_empty() && sink.subscribe(&subjects).await.is_err() {
            continue;
        }
        if attempt > 0 || !shops.is_empty() {
            tracing::info!(
                shops = shops.len(),
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
                w = watch.recv() => {
                    let ok = match w {
                        Some(Watch::Start(shop)) => {
                            let ok = sink.subscribe(subject(shop)).await.is_ok();
                            // Alerts published between the log read and this subscription.
                            let _ = ingest.send(Ingest::Resync(shop)).await;
                            ok
                        }
                        Some(Watch::Stop(shop)) => sink.unsubscribe(subject(shop)).await.is_ok(),
                        None => return,
                    };
                    if !ok { break; }
                }
                _ = stop.cancelled() => return,
            }
        }
        tracing::warn!("redis subscription lost; reconnecting");
        attempt = 1;
    }
}

async fn open(url: &str) -> Option<redis::aio::PubSub> {
    let client = redis::Client::open(url).ok()?;
    match tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await {
        Ok(Ok(p)) => Some(p),
        _ => None,
    }
}
