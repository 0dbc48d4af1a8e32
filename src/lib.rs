//! sky-takeout: the Sky Take-Out (苍穹外卖) order backend, rebuilt around alerts that are
//! never lost, never leaked and never block. Read top-down:

/// The alert model, durable log use cases, relay, brokers, hub and delivery tracker.
pub mod alerts;
/// Wiring: builds everything, serves, shuts down.
pub mod app;
/// Tokens and password hashing.
pub mod auth;
/// Settings from flags, environment and the TOML file; the only reader of them.
pub mod config;
/// REST endpoints, the reply envelope, extractors.
pub mod http;
/// The order state machine (pure) and the order use cases.
pub mod orders;
/// Payment providers: mock and WeChat Pay notification verification.
pub mod payment;
/// Connection pool (SQLite | PostgreSQL), migrations, seeding, the SQL that changes rows.
pub mod store;
/// Scheduled jobs: payment timeouts, delivery completion, re-alerts.
pub mod tasks;
/// The injectable clock and the contract's time formats.
pub mod time;
/// `sky-takeout watch`: a terminal merchant screen.
pub mod watch;
/// The embedded merchant dashboard and socket test page.
pub mod web;
/// The sockets (legacy and richer protocol) and SSE.
pub mod ws;
