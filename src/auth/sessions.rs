//! Whether a merchant's session is still current, without a database round trip per request.
//!
//! Each instance keeps the session state ([`SessionState`]: shop, status, generation, the
//! login a password change kept) of the accounts it has seen, in memory. A request or socket
//! handshake reads it there; only an account not seen yet, or a token newer than what this
//! instance knows (a login elsewhere since a change), costs one query, after which it is known.
//!
//! It stays fresh two ways. A change made here (disable, enable, password change) is learnt
//! right after its commit, before the request that made it answers: on this instance the
//! account's other sessions end at once. A change made on another instance is read by
//! [`Sessions::run`], which asks the database every period (one indexed query for "changed
//! since generation N", usually empty): elsewhere they end within one period. Every change
//! draws a larger generation from one counter, so applying states only when their generation
//! is larger makes the two paths (and a lookup racing them) agree on the newest.
//!
//! When a state changes, the listener (the hub, wired by `app`) ends the account's sockets
//! that the new state no longer admits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::account::{DISABLED, SessionId, SessionState};
use crate::store::{Store, StoreError, employees};

/// Changes read per query of the poll.
const POLL_BATCH: i64 = 500;

type Listener = Box<dyn Fn(i64, SessionState) + Send + Sync>;

/// The session states this instance knows. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    states: RwLock<HashMap<i64, SessionState>>,
    /// The largest generation the poll has read.
    seen: AtomicI64,
    listener: OnceLock<Listener>,
}

impl Sessions {
    /// Nothing known yet; states are read from `store` as accounts are seen.
    pub fn new(store: Store) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                store,
                states: RwLock::new(HashMap::new()),
                seen: AtomicI64::new(0),
                listener: OnceLock::new(),
            }),
        }
    }

    /// Calls `f(employee_id, new_state)` whenever a known account's state changes (once; the
    /// hub's socket closer).
    pub fn on_change(&self, f: impl Fn(i64, SessionState) + Send + Sync + 'static) {
        let _ = self.inner.listener.set(Box::new(f));
    }

    fn known(&self, employee_id: i64) -> Option<SessionState> {
        self.inner
            .states
            .read()
            .expect("sessions lock")
            .get(&employee_id)
            .copied()
    }

    /// True when a token of this employee, shop and session is current. Answered from memory
    /// unless the account is unknown here or the token is newer than what is known.
    pub async fn admits(
        &self,
        employee_id: i64,
        shop_id: i64,
        session: SessionId,
    ) -> Result<bool, StoreError> {
        if let Some(st) = self.known(employee_id)
            && session.generation <= st.generation
        {
            return Ok(st.admits(shop_id, session));
        }
        metrics::counter!("sky_session_lookups_total").increment(1);
        let state = employees::session_state(self.inner.store.pool(), employee_id)
            .await?
            // No such account (none is ever deleted today): remember that its tokens up to
            // this one are void, so a replayed token costs no query per request.
            .unwrap_or(SessionState {
                shop_id: 0,
                status: DISABLED,
                generation: session.generation,
                keep: 0,
            });
        self.learn(employee_id, state);
        Ok(self.still_admits(employee_id, shop_id, session))
    }

    /// [`Sessions::admits`] from memory only: false when the account is not known. For the
    /// check a socket repeats once it is registered with the hub (a change between the
    /// handshake and the registration would otherwise be missed by both).
    pub fn still_admits(&self, employee_id: i64, shop_id: i64, session: SessionId) -> bool {
        self.known(employee_id)
            .is_some_and(|st| st.admits(shop_id, session))
    }

    /// Applies a state read from the database if it is newer than the known one; a change of
    /// a known account goes to the listener. True when applied.
    pub fn learn(&self, employee_id: i64, state: SessionState) -> bool {
        let previous = {
            let mut states = self.inner.states.write().expect("sessions lock");
            let old = states.get(&employee_id).copied();
            if old.is_some_and(|o| o.generation >= state.generation) {
                return false;
            }
            states.insert(employee_id, state);
            old
        };
        if previous.is_some_and(|p| p != state)
            && let Some(f) = self.inner.listener.get()
        {
            f(employee_id, state);
        }
        true
    }

    /// Reads every change after the largest generation read so far and applies it; how many
    /// rows were read.
    pub async fn poll(&self) -> Result<usize, StoreError> {
        let mut read = 0;
        loop {
            let after = self.inner.seen.load(Ordering::Acquire);
            let rows =
                employees::session_changes(self.inner.store.pool(), after, POLL_BATCH).await?;
            for (id, state) in &rows {
                if self.learn(*id, *state) {
                    metrics::counter!("sky_session_changes_applied_total").increment(1);
                }
                self.inner
                    .seen
                    .fetch_max(state.generation, Ordering::AcqRel);
            }
            read += rows.len();
            if (rows.len() as i64) < POLL_BATCH {
                return Ok(read);
            }
        }
    }

    /// Polls every `every` until `stop`: the bound on how long a change made on another
    /// instance takes to end the sessions this one serves. A failing database is logged once
    /// per outage (requests of known accounts go on being answered from memory).
    pub async fn run(self, every: Duration, stop: CancellationToken) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.cancelled() => return,
            }
            let started = std::time::Instant::now();
            match self.poll().await {
                Ok(_) => {
                    failing = false;
                    metrics::histogram!("sky_session_poll_seconds")
                        .record(started.elapsed().as_secs_f64());
                }
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "reading session changes failed; retrying every period");
                }
                Err(_) => {}
            }
        }
    }
}
