//! Builds the service (store, hub, broker, relay, use cases, router), owns the shutdown
//! token and every long-lived task. `Application::build` binds the listener (port 0 in tests)
//! and exposes the real port; `run_until` serves until the given future resolves.

pub mod docs;
pub mod listener;
pub mod metrics;
pub mod ops;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerts::relay::{self, Relay};
use crate::alerts::service::Alerts;
use crate::alerts::tracker::Tracker;
use crate::auth::gate::PasswordGate;
use crate::auth::sessions::Sessions;
use crate::auth::throttle::{Limits, LoginThrottle};
use crate::auth::{Tokens, hash_password, random_string};
use crate::blobs::{self, Blobs};
use crate::config::images::ImageStorage;
use crate::config::{BrokerUrl, Settings};
use crate::domain::alert::Event;
use crate::hub::Hub;
use crate::hub::broker::Broker;
use crate::hub::ingest::Ingest;
use crate::payment::wechat::Verifier;
use crate::payment::wechat_api::WechatClient;
use crate::store::{Store, seed, shops};
use crate::time::Clock;
use crate::usecases::accounts::Accounts;
use crate::usecases::addresses::Addresses;
use crate::usecases::carts::Carts;
use crate::usecases::catalog::Catalog;
use crate::usecases::employees::Employees;
use crate::usecases::images::Images;
use crate::usecases::menu::Menu;
use crate::usecases::orders::Orders;
use crate::usecases::payments::{Payments, WechatPay};
use crate::usecases::reports::Reports;
use crate::usecases::shops::Shops;
use crate::usecases::workspace::Workspace;
use state::{AppState, Parts};

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    background: CancellationToken,
    relay_rx: Option<tokio::sync::mpsc::Receiver<Event>>,
    relay: Relay,
    ingest_tx: tokio::sync::mpsc::Sender<Ingest>,
    ingest_rx: Option<tokio::sync::mpsc::Receiver<Ingest>>,
}

impl Application {
    /// Connects, migrates, seeds, binds. Fails with a message naming what is wrong.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// As [`Application::build`], with a given clock (tests move it).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        // Before anything renders a time: the wire shows the shop's zone, not the process's.
        crate::time::set_wire_zone(settings.time_zone);
        // Before the store: its SQLite writer thread takes its metric handles when it starts.
        metrics::handle();
        let store = Store::connect(&settings.database_url)
            .await
            .with_context(|| {
                format!(
                    "cannot open the database (--database-url / DATABASE_URL = {})",
                    redact(&settings.database_url)
                )
            })?;
        let listener = listener::bind(settings.listen).with_context(|| {
            format!(
                "cannot listen on {} (--listen / SKY_LISTEN)",
                settings.listen
            )
        })?;
        let blobs = images(&settings, listener.local_addr()?)?;
        if settings.demo_data {
            seed_if_empty(&store, &settings, &clock, &blobs).await?;
        }
        let secret = match &settings.jwt_secret {
            Some(s) => s.clone(),
            None => {
                shops::setting_get_or_init(store.pool(), "jwt_secret", &random_string(48)).await?
            }
        };
        let tokens = Tokens::new(secret.as_bytes(), settings.token_ttl);
        let wechat = wechat_pay(&settings)?;
        if settings.allow_anonymous_ws {
            tracing::warn!(
                "SKY_ALLOW_ANONYMOUS_WS is on: anyone who reaches /ws/{{sid}} hears every alert of shop 1"
            );
        }
        let (ingest_tx, ingest_rx) = tokio::sync::mpsc::channel(8192);
        let (relay, relay_rx) = Relay::new(16_384);
        let state = state(store, clock, tokens, &relay, wechat, blobs, settings);
        Ok(Application {
            listener,
            state,
            background: CancellationToken::new(),
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
        let tasks = &s.tasks;
        let stop = self.background.clone();
        let ingest_rx = self.ingest_rx.take().expect("started once");
        s.hub.set_ingest(self.ingest_tx.clone());
        tasks.spawn(
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
            tasks.spawn(async move {
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
        tasks.spawn(relay::run(
            relay_rx,
            self.relay.clone(),
            s.store.clone(),
            outlets,
            stop.clone(),
        ));
        tasks.spawn(s.tracker.clone().run(s.store.clone(), stop.clone()));
        if let Some(sessions) = s.tokens.sessions() {
            tasks.spawn(sessions.clone().run(s.settings.session_poll, stop.clone()));
        }
        let leader = crate::tasks::leader::Leader::default();
        tasks.spawn(leader.clone().run(s.store.clone(), stop.clone()));
        let jobs = crate::tasks::Jobs {
            orders: s.orders.clone(),
            alerts: s.alerts.clone(),
            clock: s.clock.clone(),
            settings: (*s.settings).clone(),
            leader,
        };
        tasks.spawn(crate::tasks::run(jobs, stop.clone()));
        let metrics = s.metrics.clone();
        tasks.spawn(async move {
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
        let service =
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                listener::Peer,
            >(routes::service(state.clone()));
        let serve_token = token.clone();
        let caps = state.settings.caps;
        tracing::info!(
            connections = caps.connections,
            sockets = caps.sockets,
            sockets_per_shop = caps.sockets_per_shop,
            handshakes = caps.handshakes,
            "connection caps"
        );
        let listener = listener::CappedListener::new(self.listener, caps.connections);
        let server = axum::serve(listener, service)
            .with_graceful_shutdown(async move { serve_token.cancelled().await });
        let server = tokio::spawn(async move { server.await });
        tokio::select! {
            _ = shutdown => tracing::info!("shutdown requested"),
            _ = token.cancelled() => {}
        }
        token.cancel();
        let stopping = std::time::Instant::now();
        if tokio::time::timeout(deadline, server).await.is_err() {
            tracing::warn!(?deadline, "requests still running at the shutdown deadline");
        }
        // Sockets were told to close (1012) when the token was cancelled; once they have, the
        // delivered marks are flushed and the background tasks stop. Then every task of the
        // one tracker (jobs, relay and its marks flusher, brokers, hub, sockets) is waited
        // for, within what is left of the deadline, before the pool closes under them.
        let left = || {
            deadline
                .saturating_sub(stopping.elapsed())
                .max(Duration::from_secs(2))
        };
        // A socket records a delivery after its write completes, so the last flush of the
        // delivered marks waits until every socket and stream has ended.
        if tokio::time::timeout(left(), state.hub.drained())
            .await
            .is_err()
        {
            tracing::warn!(
                sockets = state.hub.connections(),
                "sockets still open at the shutdown deadline"
            );
        }
        state.tracker.flush(&state.store).await;
        self.background.cancel();
        state.tasks.close();
        if tokio::time::timeout(left(), state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                tasks = state.tasks.len(),
                "tasks still running at the shutdown deadline; closing the database under them"
            );
        }
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The image store of the settings, for a server bound at `addr`.
fn images(settings: &Settings, addr: SocketAddr) -> anyhow::Result<Blobs> {
    let public_base = settings.images.public_base(addr);
    let blobs = Blobs::open(&settings.images, &public_base).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the image storage (--image-storage / --image-dir / SKY_S3_…): {e}"
        )
    })?;
    let storage = match &settings.images.storage {
        ImageStorage::Local { dir } => format!("folder {}", dir.display()),
        ImageStorage::S3(s) => format!("S3 bucket {}", s.bucket),
    };
    tracing::info!(
        storage,
        example = blobs.url("…"),
        "uploaded images (public base URL {public_base}: --public-base-url / SKY_PUBLIC_BASE_URL)"
    );
    Ok(blobs)
}

async fn seed_if_empty(
    store: &Store,
    settings: &Settings,
    clock: &Clock,
    blobs: &Blobs,
) -> anyhow::Result<()> {
    if !seed::unseeded(store).await? {
        return Ok(());
    }
    let pictures = blobs::demo::store(blobs).await.map_err(|e| {
        anyhow::anyhow!("cannot store the demo pictures (--image-storage / SKY_IMAGE_STORAGE): {e}")
    })?;
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_string(16), true),
    };
    let hash = hash_password(password.clone()).await;
    if seed::seed_demo(store, &hash, Some(&pictures), clock.now_ms()).await? {
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

/// WeChat Pay's verifier and client, in wechat mode.
fn wechat_pay(settings: &Settings) -> anyhow::Result<Option<WechatPay>> {
    let Some(w) = &settings.wechat else {
        return Ok(None);
    };
    let verifier = Verifier::new(
        &w.platform_key_pem,
        &w.api_v3_key,
        w.platform_serial.clone(),
        w.max_skew_secs,
    )
    .map_err(|e| {
        anyhow::anyhow!("invalid setting SKY_WECHAT_PLATFORM_KEY / SKY_WECHAT_API_V3_KEY: {e}")
    })?;
    let verifier = Arc::new(verifier);
    let client = WechatClient::new(w, verifier.clone())
        .map_err(|e| anyhow::anyhow!("cannot start the WeChat client: {e}"))?;
    Ok(Some(WechatPay {
        client: Arc::new(client),
        verifier,
        mchid: w.mchid.clone(),
    }))
}

/// The bound on password verifications of the settings.
fn login_gate(settings: &Settings) -> PasswordGate {
    PasswordGate::new(settings.login.concurrency, settings.login.wait)
}

/// The failed-login throttle of the settings.
fn login_throttle(settings: &Settings) -> LoginThrottle {
    let l = &settings.login;
    LoginThrottle::new(Limits {
        per_account: l.per_account,
        per_address: l.per_address,
        window: l.lockout,
    })
}

/// The use cases over one store, clock and relay, and the state that holds them.
fn state(
    store: Store,
    clock: Clock,
    tokens: Tokens,
    relay: &Relay,
    wechat: Option<WechatPay>,
    blobs: Blobs,
    settings: Settings,
) -> AppState {
    let (s, c) = (store.clone(), clock.clone());
    // First: the hub and the handshakes register their metric series with this recorder.
    let metrics = metrics::handle();
    let tasks = TaskTracker::new();
    let hub = Hub::with_tasks(tasks.clone());
    hub.set_limits(settings.caps.sockets, settings.caps.sockets_per_shop);
    hub.set_slow_close_grace(settings.slow_close_grace);
    let handshakes = Arc::new(crate::ws::handshake::Handshakes::new(
        settings.caps.handshakes,
    ));
    let wechat_client = wechat.as_ref().map(|w| w.client.clone());
    // Merchant tokens are checked against the session states; a change of one ends the
    // account's sockets that the new state no longer admits.
    let sessions = Sessions::new(store.clone());
    let tokens = tokens.with_sessions(sessions.clone());
    let sockets = hub.clone();
    sessions.on_change(move |employee_id, state| {
        sockets.end_sessions(employee_id, &state);
    });
    AppState::new(Parts {
        orders: Orders::new(
            s.clone(),
            c.clone(),
            relay.clone(),
            settings.reminder_window,
        ),
        payments: Payments::new(
            s.clone(),
            c.clone(),
            relay.clone(),
            settings.pay_mode,
            wechat,
        ),
        carts: Carts::new(s.clone(), c.clone()),
        addresses: Addresses::new(s.clone()),
        accounts: Accounts::new(
            s.clone(),
            c.clone(),
            tokens.clone(),
            settings.pay_mode,
            wechat_client,
        )
        .with_login_limits(login_gate(&settings), login_throttle(&settings)),
        shops: Shops::new(s.clone(), c.clone(), blobs.clone()),
        employees: Employees::new(s.clone(), c.clone(), sessions),
        menu: Menu::new(s.clone()),
        images: Images::new(blobs),
        workspace: Workspace::new(s.clone(), c.clone(), settings.time_zone),
        reports: Reports::new(s.clone(), c.clone(), settings.time_zone),
        catalog: Catalog::new(s.clone(), c.clone()),
        alerts: Alerts::new(s, c, relay.clone()),
        hub,
        tracker: Tracker::default(),
        store,
        clock,
        tokens,
        settings: Arc::new(settings),
        shutdown: CancellationToken::new(),
        handshakes,
        tasks,
        metrics,
    })
}
