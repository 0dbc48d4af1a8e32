//! Failed-login throttling, per account and per client address. `max` failures within a
//! window lock the key for the rest of that window (the lockout window, `window`): a locked
//! login is refused before any password is hashed, so guessing costs the attacker time and
//! the server nothing. A success clears the account's count (not the address's, or one valid
//! account would let an address guess the others).
//!
//! Memory is bounded: each map holds at most [`MAX_KEYS`] keys; when full, expired keys are
//! dropped, and if none is, a new key is not tracked (its address still is, and the address
//! limit then stops a spray over many names).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most keys tracked per map (accounts, addresses).
pub const MAX_KEYS: usize = 65_536;

/// What locked a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// Too many failures for this account.
    Account,
    /// Too many failures from this client address.
    Address,
}

/// The limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures of one account that lock it.
    pub per_account: u32,
    /// Failures from one client address that lock it.
    pub per_address: u32,
    /// The window failures are counted in, and the lockout that follows.
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_account: 5,
            per_address: 50,
            window: Duration::from_secs(900),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// Start of the window, Unix ms.
    since: i64,
    /// Locked until, Unix ms (0: not locked).
    until: i64,
}

struct Keys<K> {
    map: HashMap<K, Entry>,
}

impl<K> Default for Keys<K> {
    fn default() -> Self {
        Keys {
            map: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> Keys<K> {
    fn locked(&self, key: &K, now: i64) -> bool {
        self.map.get(key).is_some_and(|e| e.until > now)
    }

    fn fail(&mut self, key: K, max: u32, window: i64, now: i64) {
        if !self.map.contains_key(&key) && self.map.len() >= MAX_KEYS {
            self.map
                .retain(|_, e| e.until > now || now - e.since < window);
            if self.map.len() >= MAX_KEYS {
                metrics::counter!("sky_login_throttle_untracked_total").increment(1);
                return;
            }
        }
        let e = self.map.entry(key).or_insert(Entry {
            failures: 0,
            since: now,
            until: 0,
        });
        if now - e.since >= window {
            *e = Entry {
                failures: 0,
                since: now,
                until: 0,
            };
        }
        e.failures += 1;
        if e.failures >= max {
            e.until = now + window;
            e.failures = 0;
            e.since = now;
        }
    }
}

#[derive(Default)]
struct State {
    accounts: Keys<String>,
    addresses: Keys<IpAddr>,
}

/// The throttle. Cheap to clone; times are Unix ms from the caller's clock.
#[derive(Clone)]
pub struct LoginThrottle {
    limits: Limits,
    state: Arc<Mutex<State>>,
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new(Limits::default())
    }
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(limits: Limits) -> LoginThrottle {
        LoginThrottle {
            limits,
            state: Arc::default(),
        }
    }

    fn window_ms(&self) -> i64 {
        self.limits.window.as_millis() as i64
    }

    /// Whether a login of `account` from `address` may be tried now.
    pub fn check(&self, account: &str, address: Option<IpAddr>, now: i64) -> Result<(), Locked> {
        let s = self.state.lock().expect("throttle lock");
        if address.is_some_and(|a| s.addresses.locked(&a, now)) {
            return Err(Locked::Address);
        }
        if s.accounts.locked(&account.to_string(), now) {
            return Err(Locked::Account);
        }
        Ok(())
    }

    /// Records a failed login.
    pub fn failed(&self, account: &str, address: Option<IpAddr>, now: i64) {
        let window = self.window_ms();
        let mut s = self.state.lock().expect("throttle lock");
        s.accounts
            .fail(account.to_string(), self.limits.per_account, window, now);
        if let Some(a) = address {
            s.addresses.fail(a, self.limits.per_address, window, now);
        }
    }

    /// Records a successful login: the account's failures are forgotten.
    pub fn succeeded(&self, account: &str) {
        self.state
            .lock()
            .expect("throttle lock")
            .accounts
            .map
            .remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(Limits {
            per_account: 3,
            per_address: 5,
            window: Duration::from_secs(600),
        })
    }

    #[test]
    fn an_account_locks_after_its_failures_for_the_window() {
        let t = throttle();
        let ip: Option<IpAddr> = Some("10.0.0.1".parse().unwrap());
        for _ in 0..2 {
            t.failed("admin", ip, 0);
        }
        assert_eq!(t.check("admin", ip, MIN), Ok(()), "two of three");
        t.failed("admin", ip, MIN);
        assert_eq!(t.check("admin", None, MIN), Err(Locked::Account));
        assert_eq!(t.check("other", None, MIN), Ok(()), "only that account");
        assert_eq!(t.check("admin", None, 11 * MIN - 1), Err(Locked::Account));
        assert_eq!(
            t.check("admin", None, 11 * MIN),
            Ok(()),
            "the window passed"
        );
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up_and_success_forgets() {
        let t = throttle();
        t.failed("admin", None, 0);
        t.failed("admin", None, MIN);
        t.failed("admin", None, 11 * MIN);
        assert_eq!(t.check("admin", None, 11 * MIN), Ok(()));
        t.failed("admin", None, 11 * MIN);
        t.succeeded("admin");
        t.failed("admin", None, 12 * MIN);
        assert_eq!(t.check("admin", None, 12 * MIN), Ok(()));
    }

    #[test]
    fn an_address_spraying_many_accounts_locks() {
        let t = throttle();
        let ip: Option<IpAddr> = Some("10.0.0.9".parse().unwrap());
        for n in 0..5 {
            t.failed(&format!("user{n}"), ip, 0);
        }
        assert_eq!(t.check("fresh", ip, 1), Err(Locked::Address));
        assert_eq!(
            t.check("fresh", Some("10.0.0.8".parse().unwrap()), 1),
            Ok(())
        );
    }

    #[test]
    fn the_maps_stay_bounded() {
        let t = throttle();
        for n in 0..(MAX_KEYS + 100) {
            t.failed(&format!("spray{n}"), None, 0);
        }
        assert_eq!(t.state.lock().unwrap().accounts.map.len(), MAX_KEYS);
        // Once their window passed, old keys make room.
        t.failed("late", None, 11 * MIN);
        assert_eq!(t.state.lock().unwrap().accounts.map.len(), 1);
    }
}
