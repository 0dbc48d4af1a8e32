//! Records which alerts a screen has received, in batches, so that the stock page replays
//! only what no screen has seen. Also observes the commit-to-socket latency.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::model::Delivery;
use crate::store::{Store, alerts as sql};
use crate::time::wall_ms;

/// How often received marks are written.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Collects "a screen received alert X" marks. Cheap to clone.
#[derive(Clone, Default)]
pub struct Tracker {
    pending: Arc<Mutex<Vec<i64>>>,
}

impl Tracker {
    /// Called by a socket after it wrote a delivery; records the first write per instance.
    pub fn written(&self, d: &Delivery) {
        let Some(id) = d.alert_id else { return };
        if d.recorded.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let latency = (wall_ms() - d.created_at).max(0) as f64 / 1000.0;
        metrics::histogram!("sky_commit_to_socket_seconds").record(latency);
        self.pending.lock().expect("tracker lock").push(id);
    }

    /// Records replayed alerts as received.
    pub fn replayed(&self, ids: &[i64]) {
        self.pending
            .lock()
            .expect("tracker lock")
            .extend_from_slice(ids);
    }

    /// Writes pending marks now.
    pub async fn flush(&self, store: &Store) {
        let ids = std::mem::take(&mut *self.pending.lock().expect("tracker lock"));
        if ids.is_empty() {
            return;
        }
        for chunk in ids.chunks(500) {
            if let Err(e) = sql::mark_delivered(store.pool(), chunk, wall_ms()).await {
                tracing::warn!(error = %e, "recording delivered alerts failed");
            }
        }
    }

    /// Flushes periodically until `stop`, then once more.
    pub async fn run(self, store: Store, stop: CancellationToken) {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => self.flush(&store).await,
                _ = stop.cancelled() => break,
            }
        }
        self.flush(&store).await;
    }
}
