//! Builds the service (store, hub, broker, relay, use cases, router), owns the shutdown
//! token and every long-lived task. `Application::build` binds the listener (port 0 in tests)
//! and exposes the real port; `run_until` serves until the given future resolves.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use axum::extract::FromRef;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerts::relay::{self, Relay};
use crate::alerts::service::Alerts;
use crate::alerts::tracker::Tracker;
use crate::auth::{Tokens, hash_password, random_string};
use crate::config::{BrokerUrl, Settings};
use crate::hub::Hub;
use crate::hub::broker::Broker;
use crate::hub::ingest::Ingest;
use crate::orders::service::Orders;
use crate::payment::wechat::Verifier;
use crate::payment::wechat_api::WechatClient;
use crate::store::{Store, seed, shops};
use crate::time::Clock;

/// Everything a request handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Database.
    pub store: Store,
    /// Clock (movable in tests).
    pub clock: Clock,
    /// Token signer.
    pub tokens: Tokens,
    /// Order use cases.
    pub orders: Orders,
    /// Alert use cases.
    pub alerts: Alerts,
    /// In-process hub.
    pub hub: Hub,
    /// Delivery tracker.
    pub tracker: Tracker,
    /// Settings.
    pub settings: Arc<Settings>,
    /// WeChat Pay verifier, in wechat mode.
    pub wechat: Option<Arc<Verifier>>,
    /// Client of the WeChat login and WeChat Pay APIs, in wechat mode.
    pub wechat_api: Option<Arc<WechatClient>>,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Metrics registry.
    pub metrics: PrometheusHandle,
}

impl FromRef<AppState> for () {
    fn from_ref(_: &AppState) {}
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    background: CancellationToken,
    tasks: TaskTracker,
    relay_rx: Option<tokio::sync::mpsc::Receiver<crate::domain::alert::Event>>,
    relay: Relay,
    ingest_tx: tokio::sync::mpsc::Sender<crate::hub::ingest::Ingest>,
    ingest_rx: Option<tokio::sync::mpsc::Receiver<crate::hub::ingest::Ingest>>,
}

/// The process-wide Prometheus recorder (metrics macros use one global recorder).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "sky_commit_to_socket_seconds".into(),
                    ),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .expect("buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Ignore the error of a second install (another Application in the same test process).
            if metrics::set_global_recorder(recorder).is_ok() {
                describe_metrics();
            }
            handle
        })
        .clone()
}

/// Describes every metric and makes each appear at zero from the start, so dashboards and
/// alert rules see them before the first event.
fn describe_metrics() {
    use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge};
    describe_gauge!(
        "sky_connections_open",
        "Open alert connections by kind (legacy, rich, sse)"
    );
    describe_counter!(
        "sky_alerts_created_total",
        "Alerts written to the log, by type and re-alert"
    );
    describe_counter!(
        "sky_alerts_delivered_total",
        "Alerts written to a first socket on this instance"
    );
    describe_counter!("sky_alerts_acknowledged_total", "Alerts marked handled");
    describe_counter!("sky_alerts_realerted_total", "Re-alerts raised");
    describe_histogram!(
        "sky_commit_to_socket_seconds",
        "From the alert's commit to its first socket write"
    );
    describe_counter!(
        "sky_slow_socket_closes_total",
        "Sockets closed because they could not keep up (4008)"
    );
    describe_counter!(
        "sky_replays_total",
        "Connects that replayed alerts from the log"
    );
    describe_counter!("sky_replayed_alerts_total", "Alerts replayed from the log");
    describe_counter!(
        "sky_alert_gaps_repaired_total",
        "Sequence gaps filled from the log"
    );
    describe_counter!(
        "sky_alerts_duplicates_dropped_total",
        "Duplicate publishes dropped by sequence"
    );
    describe_counter!(
        "sky_broker_published_total",
        "Events published to the broker"
    );
    describe_counter!(
        "sky_broker_received_total",
        "Events received from other instances"
    );
    describe_counter!(
        "sky_broker_dropped_total",
        "Events not published because the broker was down or behind"
    );
    describe_counter!("sky_broker_reconnects_total", "Broker (re)connections");
    describe_counter!(
        "sky_payment_notifications_refused_total",
        "WeChat Pay notifications that failed verification"
    );
    for kind in ["legacy", "rich", "sse"] {
        gauge!("sky_connections_open", "kind" => kind).increment(0.0);
        counter!("sky_slow_socket_closes_total", "kind" => kind).increment(0);
        counter!("sky_replays_total", "kind" => kind).increment(0);
        counter!("sky_replayed_alerts_total", "kind" => kind).increment(0);
    }
    for name in [
        "sky_alerts_delivered_total",
        "sky_alerts_acknowledged_total",
        "sky_alerts_realerted_total",
        "sky_alert_gaps_repaired_total",
        "sky_alerts_duplicates_dropped_total",
    ] {
        counter!(name).increment(0);
    }
}

impl Application {
    /// Connects, migrates, seeds, binds. Fails with a message naming what is wrong.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// As [`Application::build`], with a given clock (tests move it).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        let store = Store::connect(&settings.database_url)
            .await
            .with_context(|| {
                format!(
                    "cannot open the database (--database-url / DATABASE_URL = {})",
                    redact(&settings.database_url)
                )
            })?;
        if settings.demo_data {
            seed_if_empty(&store, &settings, &clock).await?;
        }
        let secret = match &settings.jwt_secret {
            Some(s) => s.clone(),
            None => {
                shops::setting_get_or_init(store.pool(), "jwt_secret", &random_string(48)).await?
            }
        };
        let tokens = Tokens::new(secret.as_bytes(), settings.token_ttl);
        let wechat = match &settings.wechat {
            Some(w) => Some(Arc::new(
                Verifier::new(
                    &w.platform_key_pem,
                    &w.api_v3_key,
                    w.platform_serial.clone(),
                    w.max_skew_secs,
                )
                .map_err(|e| {
                    anyhow::anyhow!(
                        "invalid setting SKY_WECHAT_PLATFORM_KEY / SKY_WECHAT_API_V3_KEY: {e}"
                    )
                })?,
            )),
            None => None,
        };
        let wechat_api = match (&settings.wechat, &wechat) {
            (Some(w), Some(verifier)) => Some(Arc::new(
                WechatClient::new(w, verifier.clone())
                    .map_err(|e| anyhow::anyhow!("cannot start the WeChat client: {e}"))?,
            )),
            _ => None,
        };
        if settings.allow_anonymous_ws {
            tracing::warn!(
                "SKY_ALLOW_ANONYMOUS_WS is on: anyone who reaches /ws/{{sid}} hears every alert of shop 1"
            );
        }
        let listener = TcpListener::bind(settings.listen).await.with_context(|| {
            format!(
                "cannot listen on {} (--listen / SKY_LISTEN)",
                settings.listen
            )
        })?;
        let (ingest_tx, ingest_rx) = tokio::sync::mpsc::channel(8192);
        let hub = Hub::new();
        let (relay, relay_rx) = Relay::new(16_384);
        let orders = Orders::new(
            store.clone(),
            clock.clone(),
            relay.clone(),
            settings.reminder_window,
        );
        let alerts = Alerts::new(store.clone(), clock.clone(), relay.clone());
        let state = AppState {
            store,
            clock,
            tokens,
            orders,
            alerts,
            hub,
            tracker: Tracker::default(),
            settings: Arc::new(settings),
            wechat,
            wechat_api,
            shutdown: CancellationToken::new(),
            metrics: metrics_handle(),
        };
        Ok(Application {
            listener,
            state,
            background: CancellationToken::new(),
            tasks: TaskTracker::new(),
            relay_rx: Some(relay_rx),
            relay,
            ingest_tx,
            ingest_rx: Some(ingest_rx),
        })
    }

    /// The bound address (the real port when built with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The shared state (tests use its clock and use cases directly).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Starts the background tasks (relay, hub, tracker, scheduled jobs). Separate from
    /// serving so tests can drive them.
    fn start_background(&mut self) {
        let s = &self.state;
        let stop = self.background.clone();
        let ingest_rx = self.ingest_rx.take().expect("started once");
        self.tasks.spawn(
            s.hub
                .clone()
                .run_ingest(ingest_rx, s.store.clone(), stop.clone()),
        );
        let broker = Broker::start(
            &s.settings.broker,
            &s.hub,
            self.ingest_tx.clone(),
            stop.clone(),
        );
        if s.settings.broker != BrokerUrl::Memory {
            // Safety net for a message a broker dropped with nothing after it to reveal the
            // gap: compare the watched shops with the log every few seconds (one query).
            let ingest = self.ingest_tx.clone();
            let stop = stop.clone();
            self.tasks.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                loop {
                    tokio::select! {
                        _ = tick.tick() => { let _ = ingest.send(Ingest::ResyncAll).await; }
                        _ = stop.cancelled() => return,
                    }
                }
            });
        }
        let outlets = relay::Outlets {
            local: self.ingest_tx.clone(),
            broker,
        };
        let relay_rx = self.relay_rx.take().expect("started once");
        self.tasks.spawn(relay::run(
            relay_rx,
            self.relay.clone(),
            s.store.clone(),
            outlets,
            stop.clone(),
        ));
        self.tasks
            .spawn(s.tracker.clone().run(s.store.clone(), stop.clone()));
        let leader = crate::tasks::leader::Leader::default();
        self.tasks
            .spawn(leader.clone().run(s.store.clone(), stop.clone()));
        let jobs = crate::tasks::Jobs {
            orders: s.orders.clone(),
            alerts: s.alerts.clone(),
            clock: s.clock.clone(),
            settings: (*s.settings).clone(),
            leader,
        };
        self.tasks.spawn(crate::tasks::run(jobs, stop.clone()));
        let metrics = s.metrics.clone();
        self.tasks.spawn(async move {
            // Drains histogram samples into buckets so memory stays flat without scrapes.
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! { _ = tick.tick() => metrics.run_upkeep(), _ = stop.cancelled() => return }
            }
        });
    }

    /// Serves until `shutdown` resolves, then: stop accepting, close sockets with 1012, let
    /// in-flight requests finish, stop the background tasks, all within the deadline.
    pub async fn run_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.start_background();
        let state = self.state.clone();
        let token = state.shutdown.clone();
        let deadline = state.settings.shutdown_deadline;
        let router = crate::http::router(state.clone());
        let serve_token = token.clone();
        let listener = axum::serve::ListenerExt::tap_io(self.listener, tune_socket);
        let server = axum::serve(listener, router)
            .with_graceful_shutdown(async move { serve_token.cancelled().await });
        let server = tokio::spawn(async move { server.await });
        tokio::select! {
            _ = shutdown => tracing::info!("shutdown requested"),
            _ = token.cancelled() => {}
        }
        token.cancel();
        if tokio::time::timeout(deadline, server).await.is_err() {
            tracing::warn!(?deadline, "requests still running at the shutdown deadline");
        }
        state.tracker.flush(&state.store).await;
        self.background.cancel();
        self.tasks.close();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.tasks.wait()).await;
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Per-connection socket options. No Nagle delay: alerts are small and latency matters. A
/// fixed send buffer (the kernel doubles it to 64 KiB) instead of loopback autotuning (which
/// grows to megabytes): a screen that stops reading then blocks its writer after ~800 frames,
/// its bounded queue fills and it is closed as slow, instead of the kernel hoarding data.
fn tune_socket(tcp: &mut tokio::net::TcpStream) {
    let _ = tcp.set_nodelay(true);
    let _ = socket2::SockRef::from(&*tcp).set_send_buffer_size(32 * 1024);
}

async fn seed_if_empty(store: &Store, settings: &Settings, clock: &Clock) -> anyhow::Result<()> {
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_string(16), true),
    };
    let hash = hash_password(password.clone()).await;
    if seed::seed_demo(store, &hash, clock.now_ms()).await? {
        if generated {
            tracing::warn!(
                password,
                "created shop 1 with merchant account `admin`; its generated password is shown once here (set SKY_ADMIN_PASSWORD to choose it)"
            );
        } else {
            tracing::info!(
                "created shop 1 with merchant account `admin` (password from SKY_ADMIN_PASSWORD)"
            );
        }
    }
    Ok(())
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}
