//! A bound on concurrent password verifications. Each argon2 verification holds about 19 MiB
//! for tens of milliseconds on the blocking pool, and the login endpoint is open to anyone:
//! unbounded, 200 concurrent wrong-password logins took 3.7 GiB. At most `concurrency`
//! verifications run at once (about twice the cores: more only queues CPU work); a login that
//! cannot start one within `wait` gets a business error instead of queueing without end.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use tokio::sync::Semaphore;

/// No verification slot came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs password verifications, at most `concurrency` at once, each in one of at most
/// `concurrency` reusable working memories (argon2's ~19 MiB). Allocating that afresh per
/// login costs page faults on every one (glibc maps it anew, the mmap threshold being 1 MiB);
/// keeping it in the allocator's arenas kept hundreds of MiB for good. The pool is emptied
/// [`IDLE_TRIM`] after the last verification, so after a burst the memory goes back. Cheap
/// to clone.
#[derive(Clone)]
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    concurrency: usize,
    wait: Duration,
    memory: Arc<Memory>,
}

/// Working memories not in use, and whether a trim is pending.
#[derive(Default)]
struct Memory {
    free: std::sync::Mutex<Vec<Vec<argon2::Block>>>,
    trim_pending: std::sync::atomic::AtomicBool,
}

/// How long the gate must be idle before its working memory is freed.
pub const IDLE_TRIM: Duration = Duration::from_secs(10);

impl PasswordGate {
    /// At most `concurrency` verifications at once; a caller waits at most `wait` for a slot.
    pub fn new(concurrency: usize, wait: Duration) -> PasswordGate {
        let concurrency = concurrency.max(1);
        PasswordGate {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            wait,
            memory: Arc::default(),
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
        Ok(Slot {
            permit,
            gate: self.clone(),
        })
    }

    /// Frees the working memories once no verification ran for [`IDLE_TRIM`]. Called as a
    /// slot is released; at most one trim waits at a time.
    fn trim_when_idle(&self) {
        use std::sync::atomic::Ordering;
        if self.permits.available_permits() < self.concurrency
            || self.memory.trim_pending.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.memory.trim_pending.store(false, Ordering::Release);
            return;
        };
        let gate = self.clone();
        rt.spawn(async move {
            tokio::time::sleep(IDLE_TRIM).await;
            gate.memory.trim_pending.store(false, Ordering::Release);
            if gate.permits.available_permits() == gate.concurrency {
                // Every slot is free, so no memory is out: all of it is in the pool.
                gate.memory.free.lock().expect("memory lock").clear();
            } else {
                gate.trim_when_idle();
            }
        });
    }

    /// Checks `password` against `hash` in a slot (see [`Slot::verify`]), or `Busy`.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Busy> {
        Ok(self.slot().await?.verify(password, hash).await)
    }
}

/// A verification slot of a [`PasswordGate`].
pub struct Slot {
    permit: tokio::sync::OwnedSemaphorePermit,
    gate: PasswordGate,
}

impl Slot {
    /// Checks `password` against `hash` (false for a malformed hash) on the blocking pool.
    /// The slot is held by the blocking task itself, so a caller that goes away (a client
    /// that hung up) cannot free it before the hash is done.
    pub async fn verify(self, password: String, hash: String) -> bool {
        let Slot { permit, gate } = self;
        metrics::gauge!("sky_password_checks_in_progress").increment(1.0);
        tokio::task::spawn_blocking(move || {
            let free = &gate.memory.free;
            let mut memory = free.lock().expect("memory lock").pop().unwrap_or_default();
            let ok = verify_with(&mut memory, &password, &hash);
            free.lock().expect("memory lock").push(memory);
            metrics::gauge!("sky_password_checks_in_progress").decrement(1.0);
            drop(permit);
            gate.trim_when_idle();
            ok
        })
        .await
        .unwrap_or(false)
    }
}

/// Most argon2 blocks (1 KiB each) one verification may use: 64 MiB, over three times the
/// default. A stored hash asking for more is refused rather than allowed to take gigabytes.
const MAX_BLOCKS: usize = 64 * 1024;

/// Checks a password against an argon2 PHC string (blocking), in memory of its own. False for
/// a malformed hash.
pub fn verify_blocking(password: &str, hash: &str) -> bool {
    verify_with(&mut Vec::new(), password, hash)
}

/// Checks a password against an argon2 PHC string with the parameters, salt, algorithm and
/// version the string names, using (and growing) `memory` as argon2's working memory. False
/// for a malformed hash; the comparison is constant-time.
fn verify_with(memory: &mut Vec<argon2::Block>, password: &str, hash: &str) -> bool {
    use argon2::{Algorithm, Argon2, Params, Version};
    let Ok(phc) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(phc.algorithm.as_str());
    let version = phc
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&phc))
    else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
        &mut memory[..blocks],
    );
    hashed.is_ok()
        && argon2::password_hash::phc::Output::new(&out).is_ok_and(|computed| computed == *expected)
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
        assert_eq!(
            gate.memory.free.lock().unwrap().len(),
            1,
            "one memory, reused"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_working_memory_is_freed_once_the_gate_is_idle() {
        let hash = crate::auth::hash_password_blocking("pw");
        let gate = PasswordGate::new(4, Duration::from_secs(30));
        let all =
            futures_util::future::join_all((0..8).map(|_| gate.verify("x".into(), hash.clone())));
        assert!(all.await.iter().all(|r| *r == Ok(false)));
        let held = gate.memory.free.lock().unwrap().len();
        assert!(
            (1..=4).contains(&held),
            "at most one memory per slot: {held}"
        );
        tokio::time::sleep(IDLE_TRIM + Duration::from_secs(1)).await;
        assert_eq!(
            gate.memory.free.lock().unwrap().len(),
            0,
            "freed after the idle time"
        );
    }

    #[test]
    fn the_reused_memory_verifies_like_the_crate_does() {
        use argon2::password_hash::PasswordVerifier;
        let hash = crate::auth::hash_password_blocking("s3cret");
        // One memory, reused: right, wrong, right again.
        let mut memory = Vec::new();
        for (password, ok) in [("s3cret", true), ("wrong", false), ("s3cret", true)] {
            assert_eq!(verify_with(&mut memory, password, &hash), ok, "{password}");
            let h = PasswordHash::new(&hash).unwrap();
            let reference = argon2::Argon2::default().verify_password(password.as_bytes(), &h);
            assert_eq!(reference.is_ok(), ok);
        }
        // A hash made with other parameters (and another algorithm) still verifies.
        let params = argon2::Params::new(4096, 3, 1, None).unwrap();
        let other = argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params);
        let other = argon2::password_hash::PasswordHasher::hash_password(&other, b"pw")
            .unwrap()
            .to_string();
        assert!(verify_blocking("pw", &other) && !verify_blocking("px", &other));
        for junk in [
            "",
            "not-a-hash",
            "$argon2id$v=19$m=99999999,t=1,p=1$c29tZXNhbHQ$AAAA",
        ] {
            assert!(!verify_blocking("pw", junk), "{junk}");
        }
    }
}
