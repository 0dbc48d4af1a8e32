//! A bound on concurrent password verifications. Each argon2 verification holds about 19 MiB
//! for tens of milliseconds on the blocking pool, and the login endpoint is open to anyone:
//! unbounded, 200 concurrent wrong-password logins took 3.7 GiB. At most `concurrency`
//! verifications run at once (about twice the cores: more only queues CPU work); a login that
//! cannot start one within `wait` gets a business error instead of queueing without end.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use tokio::sync::Semaphore;

/// No verification slot came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs password verifications, at most `concurrency` at once. Cheap to clone.
#[derive(Clone)]
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl PasswordGate {
    /// At most `concurrency` verifications at once; a caller waits at most `wait` for a slot.
    pub fn new(concurrency: usize, wait: Duration) -> PasswordGate {
        PasswordGate {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            wait,
        }
    }

    /// Twice the cores this process may use: the default concurrency.
    pub fn default_concurrency() -> usize {
        2 * std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// Waits (at most the gate's wait) for a verification slot; `Busy` when none came free.
    pub async fn slot(&self) -> Result<Slot, Busy> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                metrics::counter!("sky_login_refused_total", "reason" => "busy").increment(1);
                Busy
            })?;
        Ok(Slot { permit })
    }

    /// Checks `password` against `hash` in a slot (see [`Slot::verify`]), or `Busy`.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Busy> {
        Ok(self.slot().await?.verify(password, hash).await)
    }
}

/// A verification slot of a [`PasswordGate`].
pub struct Slot {
    permit: tokio::sync::OwnedSemaphorePermit,
}

impl Slot {
    /// Checks `password` against `hash` (false for a malformed hash) on the blocking pool.
    /// The slot is held by the blocking task itself, so a caller that goes away (a client
    /// that hung up) cannot free it before the hash is done.
    pub async fn verify(self, password: String, hash: String) -> bool {
        let permit = self.permit;
        metrics::gauge!("sky_password_checks_in_progress").increment(1.0);
        tokio::task::spawn_blocking(move || {
            let ok = verify_blocking(&password, &hash);
            metrics::gauge!("sky_password_checks_in_progress").decrement(1.0);
            drop(permit);
            ok
        })
        .await
        .unwrap_or(false)
    }
}

/// Checks a password against an argon2 PHC string (blocking). False for a malformed hash.
pub fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_n_run_at_once_and_the_rest_wait_then_give_up() {
        let hash = crate::auth::hash_password("right".into()).await;
        let gate = PasswordGate::new(1, Duration::from_millis(1));
        let results = futures_util::future::join_all(
            (0..8).map(|_| gate.verify("wrong".into(), hash.clone())),
        )
        .await;
        let busy = results.iter().filter(|r| r.is_err()).count();
        assert!(
            busy >= 1,
            "one slot, 1 ms of patience: some are turned away ({results:?})"
        );
        assert!(results.contains(&Ok(false)), "and one ran");
        let gate = PasswordGate::new(2, Duration::from_secs(30));
        assert_eq!(gate.verify("right".into(), hash.clone()).await, Ok(true));
        assert_eq!(
            gate.verify("x".into(), "not-a-hash".into()).await,
            Ok(false)
        );
        assert_eq!(gate.permits.available_permits(), 2, "every slot is back");
    }
}
