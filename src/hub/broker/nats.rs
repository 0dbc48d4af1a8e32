//! NATS core subjects. The client reconnects and re-subscribes by itself; on every
//! (re)connect the hub re-reads the watched shops from the log, which covers whatever was
//! published while this instance was cut off.

use std::collections::HashMap;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{accept, subject};
use crate::hub::ingest::Ingest;
use crate::hub::{Hub, Watch};

/// Connects (retrying in the background), publishes queued messages and keeps one
/// subscription per watched shop.
pub async fn run(
    url: String,
    hub: Hub,
    mut outgoing: mpsc::Receiver<(i64, Vec<u8>)>,
    mut watch: mpsc::UnboundedReceiver<Watch>,
    ingest: mpsc::Sender<Ingest>,
    origin: u64,
    stop: CancellationToken,
) {
    let events = ingest.clone();
    let options = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(std::time::Duration::from_secs(2))
        .reconnect_delay_callback(|attempt| {
            std::time::Duration::from_millis((200u64 << attempt.min(5)).min(5000))
        })
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        tracing::info!("nats connected; reading missed alerts from the log");
                        metrics::counter!("sky_broker_reconnects_total").increment(1);
                        let _ = events.send(Ingest::ResyncAll).await;
                    }
                    async_nats::Event::Disconnected => {
                        tracing::warn!(
                            "nats disconnected; alerts reach only local sockets until it returns"
                        );
                    }
                    other => tracing::debug!(event = %other, "nats event"),
                }
            }
        });
    let client = match options.connect(url.as_str()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid NATS settings (--broker / SKY_BROKER)");
            return;
        }
    };
    let mut subs: HashMap<i64, JoinHandle<()>> = HashMap::new();
    for shop in hub.watched_shops() {
        subs.insert(
            shop,
            subscribe(&hub, &client, shop, ingest.clone(), origin).await,
        );
    }
    loop {
        tokio::select! {
            m = outgoing.recv() => {
                let Some((shop, payload)) = m else { break };
                match client.publish(subject(shop), payload.into()).await {
                    Ok(()) => metrics::counter!("sky_broker_published_total").increment(1),
                    Err(e) => {
                        metrics::counter!("sky_broker_dropped_total").increment(1);
                        tracing::debug!(error = %e, "nats publish failed");
                    }
                }
            }
            w = watch.recv() => match w {
                Some(Watch::Start(shop)) => {
                    if let Some(old) = subs.insert(shop, subscribe(&hub, &client, shop, ingest.clone(), origin).await) {
                        old.abort();
                    }
                    let _ = ingest.send(Ingest::Resync(shop)).await;
                }
                Some(Watch::Stop(shop)) => {
                    if let Some(t) = subs.remove(&shop) {
                        t.abort();
                    }
                }
                None => break,
            },
            _ = stop.cancelled() => break,
        }
    }
    for (_, t) in subs {
        t.abort();
    }
}

/// One shop's subscription, forwarding to the hub until aborted (dropping the subscriber
/// unsubscribes).
async fn subscribe(
    hub: &Hub,
    client: &async_nats::Client,
    shop: i64,
    ingest: mpsc::Sender<Ingest>,
    origin: u64,
) -> JoinHandle<()> {
    let sub = client.subscribe(subject(shop)).await;
    hub.tasks().spawn(async move {
        let mut sub = match sub {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(shop, error = %e, "nats subscribe failed");
                return;
            }
        };
        while let Some(m) = sub.next().await {
            if let Some(event) = accept(&m.payload, origin) {
                metrics::counter!("sky_broker_received_total").increment(1);
                let _ = ingest.send(Ingest::Event(event)).await;
            }
        }
    })
}
