//! Storage: the connection pool (SQLite or PostgreSQL through sqlx's `Any` driver), migrations,
//! demo data, and all the SQL (one file per table group). Queries return the domain's types;
//! status codes in SQL text come from the domain's constants, never literals.
//!
//! Both backends run the very same SQL text: `$1`-style placeholders (SQLite accepts them),
//! `BIGINT` columns decoded as `i64`, times as Unix milliseconds and money as integer fen.

/// Implements sqlx's `FromRow` for a domain type, one column per field (`field = "column"`
/// where the names differ), so the domain stays free of sqlx.
macro_rules! from_row {
    ($ty:ty { $($field:ident $(= $col:literal)?),* $(,)? }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for $ty {
            fn from_row(row: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(Self { $($field: row.try_get(from_row!(@col $field $($col)?))?,)* })
            }
        }
    };
    (@col $field:ident $col:literal) => { $col };
    (@col $field:ident) => { stringify!($field) };
}

pub mod addresses;
pub mod alerts;
pub mod carts;
pub mod catalog;
pub mod categories;
pub mod customers;
pub mod dishes;
pub mod employees;
pub mod menu;
pub mod orders;
pub mod reports;
pub mod seed;
pub mod setmeals;
pub mod shops;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (WAL).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A storage failure. Callers turn it into an opaque 5xx and log the cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database said no.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// SQLite said no to the writer thread's connection.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread could not start or has stopped.
    #[error("database writer: {0}")]
    Writer(String),
}

impl StoreError {
    /// The database cannot be reached right now (no connection within the pool's wait, the
    /// connection broke, or the pool is closing): the caller answers "try again", not a bug.
    /// PostgreSQL's classes 08 (connection exception) and 57P (operator intervention: the
    /// server shutting down or starting) count too.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => true,
            StoreError::Db(sqlx::Error::Database(d)) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            StoreError::Writer(_) => true,
            _ => false,
        }
    }
}

/// How long a query waits for a pool connection before it fails as unavailable (sqlx's
/// default is 30 s: during a PostgreSQL outage every request would hang that long, and in a
/// reconnect storm on SQLite's four connections a socket's opening outlived the client's own
/// 15 s connect timeout, so the server kept working for screens that had already retried).
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Settings of every SQLite connection, the pool's and the writer thread's.
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
];

/// The pool plus what is needed to write safely on either backend. Behind one `Arc`: every
/// use case holds a `Store` and every request clones its use case, so a clone is one
/// reference count, not the pool's, the lock's and the writer channel's (BENCHMARKS.md §7
/// "Handshakes, round four").
#[derive(Clone)]
pub struct Store(Arc<Inner>);

struct Inner {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time. Taking this in-process lock before `BEGIN` avoids
    /// SQLITE_BUSY upgrade deadlocks between two deferred transactions, and queues writers
    /// fairly instead of spinning in the busy handler. PostgreSQL uses row locks instead.
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite's writer thread, for the hot writes (payments, delivery marks).
    writer: Option<writer::Writer>,
}

/// A write transaction. On SQLite it also holds the process's writer lock.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
    backend: Backend,
}

impl WriteTx {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Which backend this transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Commits; dropping without commit rolls back.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Connects (creating an SQLite file when missing) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let (pool, sqlite_url) = match backend {
            Backend::Sqlite => {
                let url = if url.contains(":memory:") {
                    // a named in-memory database, so the writer thread's connection can open
                    // the same one (sqlx's own `:memory:` name is private to its options)
                    static MEMORY: AtomicUsize = AtomicUsize::new(0);
                    let n = MEMORY.fetch_add(1, Ordering::Relaxed);
                    format!("sqlite:sky-memory-{}-{n}?mode=memory", std::process::id())
                } else if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                let opts = AnyConnectOptions::from_str(&url)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in SQLITE_PRAGMAS {
                                conn.execute(*pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?;
                (pool, Some(url))
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect(url)
                    .await?;
                (pool, None)
            }
        };
        migrate(&pool, backend).await?;
        // SQLite's writer thread opens what the pool created and migrated, under its lock
        let (write_lock, writer) = match sqlite_url {
            Some(url) => {
                let lock = Arc::new(Mutex::new(()));
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?;
                let name = opts.get_filename();
                let target = match name.to_str() {
                    Some(name) if url.contains("mode=memory") => writer::Target::Memory(name),
                    _ => writer::Target::File(name),
                };
                let writer = writer::Writer::open(target, lock.clone())?;
                (Some(lock), Some(writer))
            }
            None => (None, None),
        };
        Ok(Store(Arc::new(Inner {
            pool,
            backend,
            write_lock,
            writer,
        })))
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.0.pool
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    /// SQLite's writer thread (`None` on PostgreSQL).
    pub(crate) fn writer(&self) -> Option<&writer::Writer> {
        self.0.writer.as_ref()
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<WriteTx, StoreError> {
        let (writer, tx) = match &self.0.write_lock {
            // IMMEDIATE takes SQLite's write lock at BEGIN, so a transaction never reads a
            // snapshot it then cannot upgrade (SQLITE_BUSY_SNAPSHOT) when a plain pool write
            // (relay, tracker) committed in between; those wait in the busy handler instead.
            Some(lock) => (
                Some(lock.clone().lock_owned().await),
                self.0.pool.begin_with("BEGIN IMMEDIATE").await?,
            ),
            None => (None, self.0.pool.begin().await?),
        };
        Ok(WriteTx {
            tx,
            _writer: writer,
            backend: self.0.backend,
        })
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.0.pool).await.is_ok()
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.0.pool.close().await;
    }
}

async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(pool).await?,
    }
    Ok(())
}

/// Formats ids as a SQL list. Ids are `i64` values from our own rows, never user text.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `text` literally: `%`, `_` and
/// `\` in a user's filter match only themselves (a filter is text, not a pattern). Every
/// `LIKE` in the store uses this with `ESCAPE '\'`.
pub(crate) fn like_contains(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::like_contains;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("鸡"), "%鸡%");
        assert_eq!(like_contains("50%_\\"), "%50\\%\\_\\\\%");
    }
}

/// Test data on a real SQLite log, for the unit tests of the layers above (the relay, the hub).
#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;
    use crate::domain::alert::{AlertRecord, TYPE_NEW_ORDER};

    /// An SQLite store in `dir` with shop 1, one customer and orders 1..=`orders`.
    pub(crate) async fn store_with_orders(dir: &tempfile::TempDir, orders: i64) -> Store {
        let store = Store::connect(&format!("sqlite://{}/r.db", dir.path().display()))
            .await
            .unwrap();
        sqlx::raw_sql(
            "INSERT INTO shop (name, created_at) VALUES ('s', 0); \
             INSERT INTO \"user\" (openid, created_at) VALUES ('u', 0);",
        )
        .execute(store.pool())
        .await
        .unwrap();
        for i in 1..=orders {
            sqlx::query(
                "INSERT INTO orders (shop_id, number, status, user_id, address_book_id, \
                 order_time, pay_method, pay_status, amount) VALUES (1, $1, 2, 1, 1, 0, 1, 1, 1)",
            )
            .bind(format!("n{i}"))
            .execute(store.pool())
            .await
            .unwrap();
        }
        store
    }

    /// Commits an alert for the order and hands it to nobody.
    pub(crate) async fn committed_unpublished(
        store: &Store,
        order_id: i64,
        now: i64,
    ) -> AlertRecord {
        let mut tx = store.begin().await.unwrap();
        let a = super::alerts::insert(
            tx.conn(),
            1,
            TYPE_NEW_ORDER,
            0,
            order_id,
            &format!("n{order_id}"),
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        a
    }
}

#[cfg(test)]
mod unavailable_tests {
    use super::StoreError;

    #[test]
    fn an_unreachable_database_is_unavailable_and_a_bug_is_not() {
        assert!(StoreError::Db(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Db(sqlx::Error::PoolClosed).is_unavailable());
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(StoreError::Db(sqlx::Error::Io(io)).is_unavailable());
        assert!(!StoreError::Db(sqlx::Error::RowNotFound).is_unavailable());
    }
}
