//! The caps on what this instance holds: sockets and streams in all and per shop. The hub
//! checks them under the lock that joins a feed, so concurrent handshakes cannot overshoot;
//! the adapters also ask before an upgrade ([`Hub::room_for`]) to refuse with plain HTTP.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::ring::ShopFeed;
use super::{ConnKind, Hub, Registration};
use crate::domain::account::SessionId;

/// Why the hub refused a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The instance holds its most sockets and streams (`--max-sockets`).
    Sockets,
    /// The shop holds its most sockets and streams (`--max-sockets-per-shop`).
    Shop,
}

impl Full {
    /// The `reason` label of `sky_connections_refused_total`.
    pub fn reason(self) -> &'static str {
        match self {
            Full::Sockets => "sockets",
            Full::Shop => "shop_sockets",
        }
    }

    /// The close frame's reason, after an upgrade.
    pub fn close_reason(self) -> &'static str {
        match self {
            Full::Sockets => "server at its socket limit: retry later",
            Full::Shop => "too many sockets for this shop: retry later",
        }
    }
}

impl Hub {
    /// Caps the sockets and streams of this hub: in all and per shop.
    pub fn set_limits(&self, sockets: usize, per_shop: usize) {
        self.inner.max_sockets.store(sockets, Ordering::Relaxed);
        self.inner.max_per_shop.store(per_shop, Ordering::Relaxed);
    }

    /// Whether one more socket (of `shop`, when known) would be accepted now; a hint before
    /// the upgrade, [`Hub::try_register`] decides.
    pub fn room_for(&self, shop_id: Option<i64>) -> Result<(), Full> {
        let feeds = self.inner.feeds.lock().expect("feeds lock");
        self.check_room(&feeds, shop_id)
    }

    pub(super) fn check_room(
        &self,
        feeds: &HashMap<i64, ShopFeed>,
        shop_id: Option<i64>,
    ) -> Result<(), Full> {
        if self.connections() >= self.inner.max_sockets.load(Ordering::Relaxed) {
            return Err(Full::Sockets);
        }
        let in_shop = shop_id
            .and_then(|s| feeds.get(&s))
            .map_or(0, |f| f.conns.len());
        if in_shop >= self.inner.max_per_shop.load(Ordering::Relaxed) {
            return Err(Full::Shop);
        }
        Ok(())
    }

    /// Joins the shop's feed as [`Hub::register`] does, as the login `session` of an employee
    /// (`(employee_id, session)`; closed by [`Hub::end_sessions`] when it is over), unless the
    /// hub holds its most sockets in all or for this shop.
    pub fn try_register(
        &self,
        shop_id: i64,
        session: Option<(i64, SessionId)>,
        kind: ConnKind,
        queue: usize,
        db_seq: i64,
    ) -> Result<Registration, Full> {
        self.join(shop_id, session, kind, queue, db_seq, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_hold_in_all_and_per_shop_and_free_up_on_leave() {
        let hub = Hub::new();
        hub.set_limits(3, 2);
        let a = hub.try_register(1, None, ConnKind::Rich, 8, 0).unwrap();
        let _b = hub.try_register(1, None, ConnKind::Legacy, 8, 0).unwrap();
        assert_eq!(hub.room_for(Some(1)), Err(Full::Shop));
        assert_eq!(
            hub.try_register(1, None, ConnKind::Sse, 8, 0).err(),
            Some(Full::Shop)
        );
        let _c = hub.try_register(2, None, ConnKind::Rich, 8, 0).unwrap();
        assert_eq!(hub.room_for(None), Err(Full::Sockets));
        assert_eq!(
            hub.try_register(3, None, ConnKind::Rich, 8, 0).err(),
            Some(Full::Sockets)
        );
        assert!(!hub.is_watched(3), "a refused socket leaves no feed behind");
        drop(a);
        assert_eq!(hub.room_for(Some(1)), Ok(()));
        assert!(hub.try_register(1, None, ConnKind::Rich, 8, 0).is_ok());
    }
}
