//! The delivery tracker: records the first write of each alert on this instance (as a
//! "delivered" mark, batched by `marks`) and observes the commit-to-socket latency.

use tokio_util::sync::CancellationToken;

use super::marks::Marks;
use crate::hub::delivery::Delivery;
use crate::store::Store;
use crate::store::alerts::Mark;
use crate::time::wall_ms;

/// Records first deliveries ("a screen received alert X"). Cheap to clone.
#[derive(Clone)]
pub struct Tracker {
    delivered: Marks,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            delivered: Marks::new(Mark::Delivered),
        }
    }
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
        metrics::counter!("sky_alerts_delivered_total").increment(1);
        self.delivered.add(&[id]);
    }

    /// Records replayed alerts as received.
    pub fn replayed(&self, ids: &[i64]) {
        self.delivered.add(ids);
    }

    /// Writes pending marks now.
    pub async fn flush(&self, store: &Store) {
        self.delivered.flush(store).await;
    }

    /// Flushes periodically until `stop`.
    pub async fn run(self, store: Store, stop: CancellationToken) {
        self.delivered.run(store, stop).await;
    }
}
