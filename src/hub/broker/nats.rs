//! NATS core subjects. The client reconnects and re-subscribes by itself; on every
//! (re)connect the hub re-reads the watched shops from the log, which covers whatever was
//! published while this instance was cut off.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{CALL_TIMEOUT, accept, backoff, subject};
use crate::hub::Hub;
use crate::hub::ingest::Ingest;
use crate::hub::watch::WatchChanges;

/// Connects (retrying in the background), publishes queued messages and keeps one
/// subscription per watched shop. Every call to the client has a timeout; a subscription that
/// fails is retried after a growing backoff.
pub async fn run(
    url: String,
    hub: Hub,
    mut outgoing: mpsc::Receiver<(i64, Vec<u8>)>,
    watch: WatchChanges,
    ingest: mpsc::Sender<Ingest>,
    origin: u64,
    stop: CancellationToken,
) {
    let events = ingest.clone();
    let options = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(CALL_TIMEOUT)
        .reconnect_delay_callback(|attempt| backoff(attempt as u32))
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        tracing::info!("nats connected; reading missed alerts from the log");
                        metrics::counter!("sky_broker_reconnects_total").increment(1);
                        // Never wait inside the client's callback: with the ingest queue
                        // full, the periodic audit (every 5 s) reads the log instead.
                        let _ = events.try_send(Ingest::ResyncAll);
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
    let mut subs = Subscriptions {
        hub: &hub,
        client: &client,
        ingest: &ingest,
        origin,
        live: HashMap::new(),
        failed: HashSet::new(),
        failures: 0,
    };
    subs.reconcile(hub.watched_shops()).await;
    loop {
        let retry = subs.retry_delay();
        tokio::select! {
            m = outgoing.recv() => {
                let Some((shop, payload)) = m else { break };
                let sent = tokio::time::timeout(CALL_TIMEOUT, client.publish(subject(shop), payload.into())).await;
                match sent {
                    Ok(Ok(())) => metrics::counter!("sky_broker_published_total").increment(1),
                    other => {
                        metrics::counter!("sky_broker_dropped_total").increment(1);
                        tracing::debug!(timed_out = other.is_err(), "nats publish failed");
                    }
                }
            }
            shops = watch.changed() => subs.reconcile(shops).await,
            _ = tokio::time::sleep(retry.unwrap_or(Duration::MAX)), if retry.is_some() => {
                let again: Vec<i64> = subs.failed.drain().collect();
                subs.reconcile(again).await;
            }
            _ = stop.cancelled() => break,
        }
    }
    for (_, t) in subs.live.drain() {
        t.abort();
    }
}

/// This instance's per-shop subscriptions.
struct Subscriptions<'a> {
    hub: &'a Hub,
    client: &'a async_nats::Client,
    ingest: &'a mpsc::Sender<Ingest>,
    origin: u64,
    /// Forwarding task per subscribed shop (aborting it unsubscribes).
    live: HashMap<i64, JoinHandle<()>>,
    /// Shops whose subscription failed, retried after a backoff.
    failed: HashSet<i64>,
    failures: u32,
}

impl Subscriptions<'_> {
    /// Subscribes to the given shops the hub watches, drops the ones it no longer does.
    async fn reconcile(&mut self, shops: Vec<i64>) {
        for shop in shops {
            let (want, have) = (self.hub.is_watched(shop), self.live.contains_key(&shop));
            if want && !have {
                match self.subscribe(shop).await {
                    Some(task) => {
                        self.live.insert(shop, task);
                        self.failed.remove(&shop);
                        self.failures = 0;
                        // Alerts published between the socket's log read and this subscription.
                        let _ = self.ingest.send(Ingest::Resync(shop)).await;
                    }
                    None => {
                        self.failed.insert(shop);
                        self.failures = self.failures.saturating_add(1);
                    }
                }
            } else if !want {
                self.failed.remove(&shop);
                if let Some(t) = self.live.remove(&shop) {
                    t.abort();
                }
            }
        }
    }

    /// When to retry failed subscriptions, if any failed.
    fn retry_delay(&self) -> Option<Duration> {
        (!self.failed.is_empty()).then(|| backoff(self.failures))
    }

    /// One shop's subscription, forwarding to the hub until aborted (dropping the subscriber
    /// unsubscribes); `None` when the client did not take it in time.
    async fn subscribe(&self, shop: i64) -> Option<JoinHandle<()>> {
        let sub =
            match tokio::time::timeout(CALL_TIMEOUT, self.client.subscribe(subject(shop))).await {
                Ok(Ok(sub)) => sub,
                other => {
                    tracing::warn!(
                        shop,
                        timed_out = other.is_err(),
                        "nats subscribe failed; retrying after a backoff"
                    );
                    return None;
                }
            };
        let (ingest, origin) = (self.ingest.clone(), self.origin);
        Some(self.hub.tasks().spawn(async move {
            let mut sub = sub;
            while let Some(m) = sub.next().await {
                if let Some(event) = accept(&m.payload, origin) {
                    metrics::counter!("sky_broker_received_total").increment(1);
                    let _ = ingest.send(Ingest::Event(event)).await;
                }
            }
        }))
    }
}
