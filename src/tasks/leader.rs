//! Which instance runs the scheduled jobs. On PostgreSQL the instance that holds a
//! session-level advisory lock on a dedicated connection is the leader; if it dies, its
//! connection closes, the lock is released and another instance takes over within seconds.
//! On SQLite there is one instance, which always leads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Connection;
use tokio_util::sync::CancellationToken;

use crate::store::{Backend, Store};

/// The advisory lock key of the scheduled jobs ("sky-take" in ASCII).
const LOCK_KEY: i64 = 0x736b_792d_7461_6b65;
/// How often leadership is tried or checked.
const CHECK_EVERY: Duration = Duration::from_secs(3);

/// Whether this instance leads. Cheap to clone.
#[derive(Clone, Default)]
pub struct Leader {
    flag: Arc<AtomicBool>,
}

impl Leader {
    /// True while this instance runs the scheduled jobs.
    pub fn is_leader(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Tries to become (and stay) leader until `stop`.
    pub async fn run(self, store: Store, stop: CancellationToken) {
        if store.backend() == Backend::Sqlite {
            self.flag.store(true, Ordering::Relaxed);
            return;
        }
        while !stop.is_cancelled() {
            if let Ok(conn) = store.pool().acquire().await {
                // Detached: a session lock must never go back to the pool with its connection.
                let mut conn = conn.detach();
                let got: Result<bool, _> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(LOCK_KEY)
                    .fetch_one(&mut conn)
                    .await;
                if matches!(got, Ok(true)) {
                    tracing::info!("this instance now runs the scheduled jobs");
                    self.flag.store(true, Ordering::Relaxed);
                    while !stop.is_cancelled() && conn.ping().await.is_ok() {
                        tokio::select! {
                            _ = tokio::time::sleep(CHECK_EVERY) => {}
                            _ = stop.cancelled() => {}
                        }
                    }
                    self.flag.store(false, Ordering::Relaxed);
                }
                let _ = conn.close().await;
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = stop.cancelled() => {}
            }
        }
    }
}
