//! `AppState`: everything the adapters may use, and one `FromRef` per piece, so each handler
//! takes only the substate it needs (`State<Orders>`, `State<Tokens>`…) and the adapter
//! modules never name this type.

use std::sync::Arc;

use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerts::service::Alerts;
use crate::alerts::tracker::Tracker;
use crate::auth::Tokens;
use crate::config::Settings;
use crate::hub::Hub;
use crate::store::Store;
use crate::time::Clock;
use crate::usecases::accounts::Accounts;
use crate::usecases::addresses::Addresses;
use crate::usecases::carts::Carts;
use crate::usecases::catalog::Catalog;
use crate::usecases::employees::Employees;
use crate::usecases::images::Images;
use crate::usecases::menu::Menu;
use crate::usecases::orders::Orders;
use crate::usecases::payments::Payments;
use crate::usecases::reports::Reports;
use crate::usecases::shops::Shops;
use crate::usecases::workspace::Workspace;
use crate::ws::Sockets;

/// Everything a request handler may use, behind one `Arc`: axum hands every request its own
/// clone of the router's state, which is then one reference count instead of one for each use
/// case, pool and channel inside (cloning and dropping those was 3–4 % of the server's CPU in
/// a handshake, BENCHMARKS.md §7 "Handshakes, round four"). Reads go through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl AppState {
    /// The state holding `parts`.
    pub fn new(parts: Parts) -> AppState {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Parts {
    /// Database (for the operations endpoints, tests and shutdown).
    pub store: Store,
    /// Clock (movable in tests).
    pub clock: Clock,
    /// Token signer.
    pub tokens: Tokens,
    /// Order use cases.
    pub orders: Orders,
    /// Payment use cases.
    pub payments: Payments,
    /// Cart use cases.
    pub carts: Carts,
    /// Address book use cases.
    pub addresses: Addresses,
    /// Login use cases.
    pub accounts: Accounts,
    /// Shop use cases.
    pub shops: Shops,
    /// Employee management use cases.
    pub employees: Employees,
    /// Menu use cases.
    pub menu: Menu,
    /// Image uploads and the stored images.
    pub images: Images,
    /// The merchant's menu use cases (categories, dishes, set meals).
    pub catalog: Catalog,
    /// Alert use cases.
    pub alerts: Alerts,
    /// Workspace use cases (工作台).
    pub workspace: Workspace,
    /// Report use cases (数据统计, export).
    pub reports: Reports,
    /// In-process hub.
    pub hub: Hub,
    /// Delivery tracker.
    pub tracker: Tracker,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Slots for sockets and streams in handshake (`--max-handshakes`), and their metrics.
    pub handshakes: Arc<crate::ws::handshake::Handshakes>,
    /// Every task of the service (background jobs, relay, brokers, the hub's, each socket's):
    /// shutdown waits for all of them before the database closes.
    pub tasks: TaskTracker,
    /// Metrics registry.
    pub metrics: PrometheusHandle,
}

macro_rules! substate {
    ($($field:ident: $ty:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $ty {
            fn from_ref(app: &AppState) -> $ty {
                app.$field.clone()
            }
        })*
    };
}

substate!(
    tokens: Tokens,
    orders: Orders,
    payments: Payments,
    carts: Carts,
    addresses: Addresses,
    accounts: Accounts,
    shops: Shops,
    menu: Menu,
    images: Images,
    catalog: Catalog,
    alerts: Alerts,
    workspace: Workspace,
    reports: Reports,
    employees: Employees,
);

impl FromRef<AppState> for Sockets {
    fn from_ref(app: &AppState) -> Sockets {
        Sockets {
            alerts: app.alerts.clone(),
            hub: app.hub.clone(),
            tracker: app.tracker.clone(),
            tokens: app.tokens.clone(),
            settings: app.settings.clone(),
            shutdown: app.shutdown.clone(),
            tasks: app.tasks.clone(),
            handshakes: app.handshakes.clone(),
        }
    }
}
