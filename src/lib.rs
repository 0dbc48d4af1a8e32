//! sky-takeout: the Sky Take-Out (苍穹外卖) order backend, rebuilt around alerts that are
//! never lost, never leaked and never block. Read top-down: each module uses only those
//! above it in its line of work.
//!
//! # Layers
//!
//! Top to bottom, the order of the tour below; a module may use only the modules on the lines
//! above it (checked by `scripts/check-layers.py`):
//!
//! ```text
//! config    settings
//! time      the clock and time formats
//! domain    pure types and rules
//! store     the SQL
//! auth      tokens and passwords
//! payment   WeChat Pay
//! hub       fan-out ring, brokers, gap repair
//! alerts    relay, marks, tracker, alert use cases
//! usecases/* one group per file; groups never use one another
//! http      REST endpoints
//! ws        sockets and SSE
//! tasks     scheduled jobs
//! app       wiring
//! cli       the terminal client, shops add/list
//! ```

/// Settings from flags, environment and the TOML file; the only reader of them.
pub mod config;
/// The injectable clock and the contract's time formats.
pub mod time;
/// Pure types and rules.
pub mod domain;
/// Connection pool (SQLite | PostgreSQL), migrations, seeding, the SQL that changes rows.
pub mod store;
/// Tokens and password hashing.
pub mod auth;
/// Payment providers: mock, WeChat Pay notification verification, login and JSAPI client.
pub mod payment;
/// Fan-out to this instance's sockets, brokers between instances, gap repair.
pub mod hub;
/// The alert log's use cases, relay, marks and delivery tracker.
pub mod alerts;
/// Use cases: every business rule and write transaction.
pub mod usecases;
/// REST endpoints, the reply envelope, extractors.
pub mod http;
/// The sockets (legacy and richer protocol) and SSE.
pub mod ws;
/// Scheduled jobs: payment timeouts, delivery completion, re-alerts.
pub mod tasks;
/// Wiring: builds everything, serves, shuts down.
pub mod app;
/// `sky-takeout watch` and `shops`.
pub mod cli;
