//! SQLite's writer thread: one rusqlite connection on its own OS thread that runs each hot
//! write (a payment with its alert, the relay's and the hub's delivery marks) as one call.
//!
//! Through sqlx every statement is a hop to sqlx's SQLite worker thread and back (a channel
//! send, a futex wake-up each way) and every transaction a pool checkout; a payment was five
//! such hops. Here the caller sends one job and awaits one reply; the job's statements run back
//! to back on this thread, prepared once and cached.
//!
//! Jobs that queue up while a transaction runs share the next one (group commit): each runs
//! under its own `SAVEPOINT`, so a failing job changes nothing and the others still commit, and
//! every caller hears back only after the `COMMIT` (a reply never reports a write that could
//! still roll back). The thread takes the store's writer lock around each transaction, the lock
//! [`super::Store::begin`] takes too, so the two kinds of writers queue in one line and never
//! meet in SQLite's busy handler.

use std::path::Path;
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OpenFlags, ffi};
use tokio::sync::{Mutex, oneshot};

use super::StoreError;

/// The most jobs one transaction takes: enough to absorb a burst, few enough that the writer
/// lock is never held for long.
const MAX_BATCH: usize = 128;

/// Prepared statements kept per connection (the payment's three variants, the alert's two, the
/// two marks, with room to spare).
const STATEMENT_CACHE: usize = 32;

/// A handle to the writer thread. Cheap to clone; the thread ends when the last handle drops.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

/// Where the writer's connection goes.
pub(crate) enum Target<'a> {
    /// A database file (already created and migrated through the pool).
    File(&'a Path),
    /// A named shared-cache in-memory database (the pool's `mode=memory` name).
    Memory(&'a str),
}

impl Writer {
    /// Opens the connection and starts the thread. `lock` is the store's writer lock.
    pub(crate) fn open(target: Target<'_>, lock: Arc<Mutex<()>>) -> Result<Writer, StoreError> {
        let rw = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match target {
            Target::File(path) => Connection::open_with_flags(path, rw)?,
            Target::Memory(name) => Connection::open_with_flags(
                name,
                rw | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_MEMORY
                    | OpenFlags::SQLITE_OPEN_SHARED_CACHE,
            )?,
        };
        // the pool's connections' settings
        for pragma in super::SQLITE_PRAGMAS {
            conn.execute_batch(pragma)?;
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, &queue, &lock))
            .map_err(|e| StoreError::Writer(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { jobs })
    }

    /// Runs `work` in a write transaction on the writer thread and answers its result once the
    /// transaction committed. An `Err` from `work` rolls back everything it wrote.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Task { work, reply }))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?.map_err(StoreError::from)
    }
}

fn gone() -> StoreError {
    StoreError::Writer("the writer thread has stopped".into())
}

/// One queued write, type-erased.
trait Job: Send {
    /// Runs the work, inside a savepoint when `savepoint`; answers what to send after commit.
    fn run(self: Box<Self>, conn: &Connection, savepoint: bool) -> Box<dyn Reply>;
    /// The transaction could not start: answers the error without running.
    fn fail(self: Box<Self>, error: rusqlite::Error);
}

/// A job's result, held until its transaction's end.
trait Reply: Send {
    /// True when the work failed (its writes are already undone).
    fn failed(&self) -> bool;
    /// Sends the result, or `error` when the transaction did not commit.
    fn send(self: Box<Self>, error: Option<rusqlite::Error>);
}

struct Task<F, T> {
    work: F,
    reply: oneshot::Sender<rusqlite::Result<T>>,
}

struct Done<T> {
    outcome: rusqlite::Result<T>,
    reply: oneshot::Sender<rusqlite::Result<T>>,
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection, savepoint: bool) -> Box<dyn Reply> {
        let Task { work, reply } = *self;
        let outcome = if savepoint {
            conn.execute_batch("SAVEPOINT job")
                .and_then(|()| match work(conn) {
                    Ok(v) => conn.execute_batch("RELEASE job").map(|()| v),
                    Err(e) => {
                        // undo this job only; the others of the batch stay
                        let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                        Err(e)
                    }
                })
        } else {
            work(conn)
        };
        Box::new(Done { outcome, reply })
    }

    fn fail(self: Box<Self>, error: rusqlite::Error) {
        let _ = self.reply.send(Err(error));
    }
}

impl<T: Send + 'static> Reply for Done<T> {
    fn failed(&self) -> bool {
        self.outcome.is_err()
    }

    fn send(self: Box<Self>, error: Option<rusqlite::Error>) {
        let result = match error {
            Some(e) => Err(e),
            None => self.outcome,
        };
        // the caller may have gone (a dropped request): its write stands regardless
        let _ = self.reply.send(result);
    }
}

/// The thread's loop: take what is queued, run it in one transaction, answer, repeat.
fn serve(conn: Connection, queue: &mpsc::Receiver<Box<dyn Job>>, lock: &Mutex<()>) {
    // jobs / transactions: how many writes share a commit
    let transactions = metrics::counter!("sky_sqlite_writer_transactions_total");
    let jobs = metrics::counter!("sky_sqlite_writer_jobs_total");
    while let Ok(first) = queue.recv() {
        let _writer = lock.blocking_lock();
        let mut batch = vec![first];
        // what arrived while waiting for the lock joins this transaction
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        transactions.increment(1);
        jobs.increment(batch.len() as u64);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            for job in batch {
                job.fail(copy(&e));
            }
            continue;
        }
        let alone = batch.len() == 1;
        let replies: Vec<Box<dyn Reply>> = batch
            .into_iter()
            .map(|job| job.run(&conn, !alone))
            .collect();
        let lone_failure = alone && replies[0].failed();
        let end = conn
            .execute_batch(if lone_failure { "ROLLBACK" } else { "COMMIT" })
            .err();
        if end.is_some() && !conn.is_autocommit() {
            // a failed COMMIT can leave the transaction open: end it before the next batch
            let _ = conn.execute_batch("ROLLBACK");
        }
        // a lone failed job reports its own error, whatever its ROLLBACK answered
        let end = end.filter(|_| !lone_failure);
        for reply in replies {
            reply.send(end.as_ref().map(copy));
        }
    }
}

/// The same error again, for each job of a batch whose transaction failed.
fn copy(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (Writer, Arc<Mutex<()>>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE); \
             INSERT INTO t (v) VALUES ('taken');",
        )
        .unwrap();
        drop(conn);
        let lock = Arc::new(Mutex::new(()));
        let w = Writer::open(Target::File(&path), lock.clone()).unwrap();
        (w, lock, dir)
    }

    async fn count(w: &Writer) -> i64 {
        w.run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_failing_job_undoes_only_itself_and_the_batch_commits() {
        let (w, lock, _dir) = writer();
        // holding the writer lock while 40 jobs queue makes them one batch; every third writes
        // a row of its own and then repeats a taken value (UNIQUE), so it fails half-way and
        // must leave nothing behind while the others commit
        let held = lock.lock().await;
        let runs: Vec<_> = (0..40)
            .map(|i| {
                let w = w.clone();
                tokio::spawn(async move {
                    w.run(move |c| {
                        c.execute("INSERT INTO t (v) VALUES (?1)", [format!("own-{i}")])?;
                        if i % 3 == 0 {
                            c.execute("INSERT INTO t (v) VALUES ('taken')", [])?;
                        }
                        Ok(i)
                    })
                    .await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drop(held);
        let mut failed = 0;
        for r in runs {
            if r.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 14);
        assert_eq!(count(&w).await, 1 + 26);
    }

    #[tokio::test]
    async fn a_lone_failing_job_rolls_back() {
        let (w, _lock, _dir) = writer();
        let r = w
            .run(|c| {
                c.execute("INSERT INTO t (v) VALUES ('a')", [])?;
                c.execute("INSERT INTO t (v) VALUES ('a')", [])?;
                Ok(())
            })
            .await;
        assert!(r.is_err());
        assert_eq!(count(&w).await, 1, "only the row written before");
        // and the connection is usable afterwards, outside any transaction
        w.run(|c| c.execute("INSERT INTO t (v) VALUES ('b')", []))
            .await
            .unwrap();
        assert_eq!(count(&w).await, 2);
    }

    #[tokio::test]
    async fn a_reply_comes_after_the_commit() {
        let (w, _lock, dir) = writer();
        w.run(|c| c.execute("INSERT INTO t (v) VALUES ('seen')", []))
            .await
            .unwrap();
        // another connection sees the row as soon as the caller has its answer
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        let n: i64 = other
            .query_row("SELECT count(*) FROM t WHERE v = 'seen'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
