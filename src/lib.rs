//! sky-takeout: the Sky Take-Out (苍穹外卖) order backend, rebuilt around alerts that are
//! never lost, never leaked and never block. Read top-down: each module uses only those
//! above it in its line of work.

/// Settings from flags, environment and the TOML file; the only reader of them.
pub mod config;
/// The injectable clock and the contract's time formats.
pub mod time;
/// Connection pool (SQLite | PostgreSQL), migrations, seeding, the SQL that changes rows.
pub mod store;
/// Tokens and password hashing.
pub mod auth;
/// The order state machine (pure) and the order use cases.
pub mod orders;
/// Payment providers: mock, WeChat Pay notification verification, login and JSAPI client.
pub mod payment;
/// The alert model, durable log use cases, relay, brokers, hub and delivery tracker.
pub mod alerts;
/// REST endpoints, the reply envelope, extractors.
pub mod http;
/// The sockets (legacy and richer protocol) and SSE.
pub mod ws;
/// The embedded merchant dashboard and socket test page.
pub mod web;
/// Scheduled jobs: payment timeouts, delivery completion, re-alerts.
pub mod tasks;
/// Wiring: builds everything, serves, shuts down.
pub mod app;
/// `sky-takeout watch`: a terminal merchant screen.
pub mod watch;
