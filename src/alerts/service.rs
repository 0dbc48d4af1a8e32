//! Alert use cases: acknowledging, reading the log for replays, and re-alerting orders
//! that still wait for acceptance.

use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::relay::Relay;
use crate::config::RealertSettings;
use crate::domain::alert::{AlertRecord, TYPE_NEW_ORDER};
use crate::domain::shop::ShopId;
use crate::store::{Store, StoreError, alerts as sql};
use crate::time::Clock;

/// Alert use cases.
#[derive(Clone)]
pub struct Alerts {
    store: Store,
    clock: Clock,
    relay: Relay,
    /// The log reads of sockets and streams opening (sequence, `welcome`'s unhandled ids,
    /// replay, the stock page's backlog) use at most half the pool's connections at once, so
    /// a burst of openings cannot queue payments and merchants behind it: 10,000 silent
    /// sockets opening at once on SQLite's 4 connections made the payments' p99 12 times
    /// worse and timed openings out (`scripts/faults/silent_clients.py`).
    opening_reads: Arc<Semaphore>,
}

impl Alerts {
    /// Use cases over this store, clock and relay.
    pub fn new(store: Store, clock: Clock, relay: Relay) -> Alerts {
        let opening_reads = Arc::new(Semaphore::new(opening_read_slots(
            store.pool().options().get_max_connections(),
        )));
        Alerts {
            store,
            clock,
            relay,
            opening_reads,
        }
    }

    /// A slot for one log read of an opening, waited for at most the pool's own wait; when
    /// none frees up in that time the reader gets the pool's timeout (the database is as
    /// good as unavailable for it).
    async fn opening_slot(&self) -> Result<SemaphorePermit<'_>, StoreError> {
        match tokio::time::timeout(crate::store::ACQUIRE_TIMEOUT, self.opening_reads.acquire())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(StoreError::Db(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Marks an alert of the shop (and its re-alerts) handled and tells every screen.
    /// `None` when the shop has no such alert.
    #[tracing::instrument(skip_all, fields(shop_id = shop_id.get(), alert_id = alert_id))]
    pub async fn acknowledge(
        &self,
        shop_id: ShopId,
        alert_id: i64,
        by: i64,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        let shop_id = shop_id.get();
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let Some((order_id, ids)) =
            sql::handle_alert(tx.conn(), shop_id, alert_id, by, now).await?
        else {
            return Ok(None);
        };
        tx.commit().await?;
        self.relay.handled(shop_id, order_id, ids.clone());
        Ok(Some(ids))
    }

    /// The shop's last sequence number (an opening's read, see `opening_reads`).
    pub async fn max_seq(&self, shop_id: i64) -> Result<i64, StoreError> {
        let _slot = self.opening_slot().await?;
        sql::max_seq(self.store.pool(), shop_id).await
    }

    /// Alerts with `after < seq <= upto`, oldest first, with their handled flag (a replay: an
    /// opening's read).
    pub async fn since(
        &self,
        shop_id: i64,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
        let _slot = self.opening_slot().await?;
        sql::range(self.store.pool(), shop_id, after, upto, limit).await
    }

    /// The stock page's backlog, up to `upto`, oldest first: the alerts no screen has received
    /// (and nobody handled), and those raised at or after `since` (ms: the page's upgrade, so
    /// an alert raised while its opening waited is not lost because another screen got it).
    /// An opening's read.
    pub async fn undelivered(
        &self,
        shop_id: i64,
        upto: i64,
        since: i64,
        limit: i64,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let _slot = self.opening_slot().await?;
        sql::undelivered(self.store.pool(), shop_id, upto, since, limit).await
    }

    /// Now on the clock the alerts' times are written with (ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Ids of unhandled alerts, newest first (`welcome`: an opening's read).
    pub async fn unhandled_ids(&self, shop_id: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
        let _slot = self.opening_slot().await?;
        sql::unhandled_ids(self.store.pool(), shop_id, limit).await
    }

    /// A page of the shop's alerts, newest first, before `before_seq`.
    pub async fn page(
        &self,
        shop_id: ShopId,
        before_seq: i64,
        only_unhandled: bool,
        limit: i64,
    ) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
        let shop_id = shop_id.get();
        sql::page(
            self.store.pool(),
            shop_id,
            before_seq,
            only_unhandled,
            limit,
        )
        .await
    }

    /// Raises the re-alerts that are due. Each is claimed by a conditional update, so
    /// overlapping ticks or instances never raise one twice. Returns how many were raised.
    #[tracing::instrument(skip_all)]
    pub async fn realert_due(&self, r: &RealertSettings) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        let due = sql::realert_due(
            self.store.pool(),
            now - r.delay.as_millis() as i64,
            now - r.interval.as_millis() as i64,
            r.max as i64,
            500,
        )
        .await?;
        let mut raised = 0;
        for d in due {
            let mut tx = self.store.begin().await?;
            if !sql::claim_realert(tx.conn(), d.order_id, d.realert_count, now).await? {
                continue;
            }
            let alert = sql::insert(
                tx.conn(),
                d.shop_id,
                TYPE_NEW_ORDER,
                d.realert_count + 1,
                d.order_id,
                &d.number,
                now,
            )
            .await?;
            tx.commit().await?;
            metrics::counter!("sky_alerts_realerted_total").increment(1);
            self.relay.committed(vec![alert]);
            raised += 1;
        }
        Ok(raised)
    }
}

/// Slots for openings' log reads: half the pool (at least one), so the other half is always
/// left to payments, order actions and pages.
fn opening_read_slots(pool_connections: u32) -> usize {
    (pool_connections as usize / 2).max(1)
}

#[cfg(test)]
mod opening_tests {
    use super::opening_read_slots;

    #[test]
    fn openings_leave_half_the_pool_to_everyone_else() {
        assert_eq!(opening_read_slots(4), 2, "SQLite's pool");
        assert_eq!(opening_read_slots(16), 8, "PostgreSQL's pool");
        assert_eq!(opening_read_slots(1), 1);
    }
}
