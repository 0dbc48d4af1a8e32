//! Which shops' feeds started or stopped since a broker last looked: a set of dirty shops,
//! not a queue of events. A burst of sockets joining and leaving one shop is one entry, the
//! whole is bounded by the number of shops, and the broker reconciles each dirty shop with
//! what the hub watches *now* (subscribe, or unsubscribe), so nothing is ever replayed stale.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The shared set of dirty shops. Cheap to clone.
#[derive(Clone, Default)]
pub struct WatchChanges {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    dirty: Mutex<HashSet<i64>>,
    notify: Notify,
}

impl WatchChanges {
    /// Marks a shop whose feed started or stopped. Never waits.
    pub(super) fn mark(&self, shop_id: i64) {
        let inserted = self.inner.dirty.lock().expect("watch lock").insert(shop_id);
        if inserted {
            // notify_one keeps a permit when nobody waits, so a mark is never missed.
            self.inner.notify.notify_one();
        }
    }

    /// Waits until some shop is dirty, then takes every dirty shop (sorted).
    pub async fn changed(&self) -> Vec<i64> {
        loop {
            {
                let mut dirty = self.inner.dirty.lock().expect("watch lock");
                if !dirty.is_empty() {
                    let mut shops: Vec<i64> = dirty.drain().collect();
                    shops.sort_unstable();
                    return shops;
                }
            }
            self.inner.notify.notified().await;
        }
    }

    /// How many shops are dirty now.
    pub fn pending(&self) -> usize {
        self.inner.dirty.lock().expect("watch lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn marks_coalesce_and_are_taken_together() {
        let w = WatchChanges::default();
        for _ in 0..1000 {
            w.mark(7);
            w.mark(3);
        }
        assert_eq!(w.pending(), 2, "a burst of changes to a shop is one entry");
        assert_eq!(w.changed().await, vec![3, 7]);
        assert_eq!(w.pending(), 0);
        let waiter = {
            let w = w.clone();
            tokio::spawn(async move { w.changed().await })
        };
        tokio::task::yield_now().await;
        w.mark(9);
        assert_eq!(waiter.await.unwrap(), vec![9], "a waiting broker is woken");
    }
}
