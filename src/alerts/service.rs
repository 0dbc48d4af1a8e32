//! Alert use cases: acknowledging, reading the log for replays, and re-alerting orders
//! that still wait for acceptance.

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
}

impl Alerts {
    /// Use cases over this store, clock and relay.
    pub fn new(store: Store, clock: Clock, relay: Relay) -> Alerts {
        Alerts {
            store,
            clock,
            relay,
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

    /// The shop's last sequence number.
    pub async fn max_seq(&self, shop_id: i64) -> Result<i64, StoreError> {
        sql::max_seq(self.store.pool(), shop_id).await
    }

    /// Alerts with `after < seq <= upto`, oldest first, with their handled flag.
    pub async fn since(
        &self,
        shop_id: i64,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
        sql::range(self.store.pool(), shop_id, after, upto, limit).await
    }

    /// Alerts no screen has received (and nobody handled), up to `upto`, oldest first.
    pub async fn undelivered(
        &self,
        shop_id: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        sql::undelivered(self.store.pool(), shop_id, upto, limit).await
    }

    /// Ids of unhandled alerts, newest first.
    pub async fn unhandled_ids(&self, shop_id: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
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
