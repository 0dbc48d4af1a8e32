//! Gives the allocator's free pages back to the system after bursts of connections.

use std::sync::atomic::Ordering;
use std::time::Duration;

/// Gives the allocator's free pages back to the system a second after connections arrive or
/// leave. A burst of handshakes (each briefly holding an HTTP read buffer, a router clone and
/// its queries' state) leaves freed memory scattered between live sockets, which glibc keeps
/// resident: after 10,000 screens connect at once that is several kilobytes per screen.
pub(super) fn trim_after_burst(tasks: &tokio_util::task::TaskTracker) {
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = tasks;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::AtomicI64;
        /// When the pending trim was scheduled (ms on the wall clock), 0 when none is.
        static SCHEDULED: AtomicI64 = AtomicI64::new(0);
        let now = crate::time::wall_ms();
        let at = SCHEDULED.load(Ordering::Acquire);
        // A trim is pending (a stale mark, from a runtime that stopped, expires after 10 s).
        if (at != 0 && now - at < 10_000)
            || SCHEDULED
                .compare_exchange(at, now, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            SCHEDULED.store(0, Ordering::Release);
            return;
        }
        tasks.spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            SCHEDULED.store(0, Ordering::Release);
            let _ = tokio::task::spawn_blocking(|| {
                unsafe extern "C" {
                    fn malloc_trim(pad: usize) -> i32;
                }
                // SAFETY: glibc's malloc_trim only releases free memory; it is thread-safe.
                unsafe { malloc_trim(0) };
            })
            .await;
        });
    }
}
