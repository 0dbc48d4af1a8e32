//! sky-takeout: the Sky Take-Out (苍穹外卖) order backend, rebuilt around alerts that are
//! never lost, never leaked and never block. Read it top-down: the modules below are in
//! layer order, each documented at its `mod` line.
//!
//! # Layers
//!
//! Top to bottom; a module may use only the modules on the lines above it, never one beside
//! or below it. `scripts/check-layers.py` (run by `.ci/run`) reads this table and every
//! `crate::…` path of every module, and fails naming the file, the line and the edge. A name
//! written `usecases/*` also seals its groups: no group of `usecases` uses another. `[not
//! store]` forbids the adapters the store although it is above them: they reach the database
//! only through use cases.
//!
//! ```text
//! config      settings from flags, env and TOML, validated; opens no connections
//! time        the injectable clock and the contract's time formats
//! domain      pure types and rules (state machine, cart rules, alerts, frames, money)
//! store       the SQL; returns domain types; status lists built from domain constants
//! blobs       image files: the storage port, a local folder or an S3-compatible bucket
//! auth        tokens, password hashing, the merchant or customer behind a request, sessions
//! payment     WeChat Pay: notification verification, login and JSAPI client
//! hub         fan-out ring to this instance's sockets, brokers, gap repair
//! alerts      relay (the only publisher), marks, delivery tracker, alert use cases
//! usecases/*  every business rule and write transaction, one group per file
//! http        [not store] REST adapters (parse, call a use case, render), the dashboard
//! ws          [not store] socket and SSE adapters: /ws/{sid}, /ws/v2/alerts, /ws/v2/sse
//! tasks       scheduled jobs: payment timeouts, delivery completion, re-alerts
//! app         AppState and its substates, routes, Application, ops endpoints, metrics
//! cli         `sky-takeout watch` and `shops add|list`
//! ```
//!
//! How the adapters reach the use cases without knowing `app`: axum substates. Every handler
//! takes the piece it needs (`State<Orders>`, `State<Carts>`, the `Sockets` bundle for the
//! socket adapters), the `Merchant`/`Customer` extractors of `auth::identity` are generic over
//! any state with `Tokens: FromRef<S>`, and every `http`/`ws` module exposes
//! `router::<S>()` bounded by the `FromRef`s it needs. `app::state::AppState` implements
//! `FromRef` for each piece and `app::routes` assembles the routers with it. The operations
//! endpoints (`/metrics`, `/healthz`, `/readyz`) observe the process's wiring (the recorder,
//! the shutdown token, the pool) and so live in `app`, not in `http`. The alert use cases stay
//! in `alerts` next to the relay they feed, above `usecases`, which hand their committed alerts
//! to the same relay.

#![warn(missing_docs)]

/// Settings: the only reader of flags, environment and the TOML file. `layer` merges the
/// sources field by field, `resolve` validates them into `Settings` (a bad value names its
/// flag), `wechat` holds the WeChat settings and the merchant key's PEM parser.
pub mod config;
/// The injectable clock (tests move it instead of sleeping) and the contract's time formats.
pub mod time;
/// Pure types and rules, shared by every use case that needs one: the order state machine,
/// orders and their totals, the cart's one-shop rule and 999 cap, addresses, accounts, shops,
/// the menu, alert records and events, the protocols' frames, money. No tokio, sqlx or axum.
pub mod domain;
/// Storage: the pool (SQLite | PostgreSQL through sqlx's `Any`), migrations, demo data and
/// all the SQL, one file per table group, returning domain types.
pub mod store;
/// Uploaded images: the storage port with its two implementations (a local folder, an
/// S3-compatible bucket through `object_store`), the URLs clients fetch them at, and the demo
/// menu's embedded pictures.
pub mod blobs;
/// Tokens (JWT, HS256 on ring: `hs256`), password hashing (argon2, off the async threads;
/// `gate` bounds the verifications outsiders can start, `throttle` locks accounts and client
/// addresses after failed logins, `client` names the address), `identity`: the merchant (of a
/// real shop, a `ShopId`) or customer behind a request's headers or cookie, for REST and
/// sockets alike, and `sessions`: whether a merchant's session is still current, from memory.
pub mod auth;
/// WeChat Pay API v3: verification of payment notifications, and the client of the login code
/// exchange and of JSAPI orders.
pub mod payment;
/// This instance's sockets per shop: one ring of deliveries per shop read by each socket from
/// its own position, the caps on sockets in all and per shop (`limits`), the ingest loop that
/// drops duplicates and repairs gaps from the log, the brokers (Redis, NATS) that carry events
/// between instances and the coalescing set of shops they must (un)subscribe (`watch`).
pub mod hub;
/// The alert log's use cases (acknowledge, replay reads, re-alerts), the relay (the only
/// publisher), and the tracker that marks alerts delivered in batches.
pub mod alerts;
/// Use cases: orders, payments, carts, addresses, accounts, shops, menu, catalog (the
/// merchant's menu), employees, images, workspace, reports. Every business rule and every
/// write transaction lives here; adapters only parse, call and render.
pub mod usecases;
/// REST: one module per resource group (customer `user/`, merchant `admin/`, WeChat's
/// `notify`), the reply envelope and its errors, extractors, views, and `web` (the embedded
/// dashboard and socket test page).
pub mod http;
/// The sockets: the stock page's `/ws/{sid}`, the richer protocol at `/ws/v2/alerts` and its
/// SSE twin, with one handshake check (origin, session, caps), one opening (`replay`) and one
/// socket loop (`session`: every write under a deadline, RFC 6455 close codes).
pub mod ws;
/// Scheduled jobs over the use cases (payment timeouts, delivery completion, re-alerts), run by
/// the leader among instances.
pub mod tasks;
/// Wiring: `AppState` and its substates, the route assembly, the operations endpoints, the
/// metrics recorder, the capped listener (connections, write deadline), and `Application`
/// (build, bind, serve, shut down within the deadline with one tracker of every task).
pub mod app;
/// The command line's other commands: `watch` (a terminal merchant screen) and
/// `shops add|list`.
pub mod cli;
