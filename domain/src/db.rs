//! Connecting to the database and opening write transactions.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pool and timeout settings.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// Most connections the pool opens; `None` picks the engine's default
    /// (see [`default_max_connections`]).
    pub max_connections: Option<u32>,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
    /// How long PostgreSQL lets one statement run; SQLite's busy timeout.
    pub statement_timeout: Duration,
    /// Counts every statement sent, for tests and benchmarks that prove a
    /// page costs a constant number of round-trips.
    pub statement_counter: Arc<AtomicU64>,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
            statement_counter: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// Opens a pool on a SQLite or PostgreSQL URL.
///
/// SQLite runs in WAL mode with foreign keys on and a busy timeout, so several
/// connections can read while one writes. PostgreSQL gets a statement timeout.
///
/// # Errors
/// Fails when the URL is invalid or the database cannot be reached.
pub async fn connect(url: &str, settings: &DbSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let sqlite = url.starts_with("sqlite:");
    let max_connections = settings
        .max_connections
        .unwrap_or_else(|| default_max_connections(sqlite));
    let busy = settings.statement_timeout;
    let statement_timeout_ms = settings.statement_timeout.as_millis().to_string();
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .idle_timeout(Duration::from_secs(300))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(busy)
                .foreign_keys(true)
                .create_if_missing(true)
        })
        .map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", statement_timeout_ms.as_str())])
        });
    let mut db = Database::connect(options).await?;
    if let Some(file) = sqlite_file(&db) {
        lock_gates().entry(file).or_insert_with(|| {
            Arc::new(WriteGate {
                turn: Arc::new(Semaphore::new(1)),
                patience: busy,
            })
        });
    }
    let counter = settings.statement_counter.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        if info.elapsed > SLOW_STATEMENT {
            tracing::warn!(
                elapsed_ms = info.elapsed.as_millis() as u64,
                failed = info.failed,
                "slow statement"
            );
        }
    });
    Ok(db)
}

/// The pool size when none is configured.
///
/// PostgreSQL: 16; its connections are cheap for this process and its server
/// does the work. SQLite runs every statement on its connection's own thread
/// in this process, each connection with its own page cache and statement
/// cache, and lets one writer in at a time: beyond two connections per core
/// a larger pool adds memory (16 connections: 142 MB peak under the
/// benchmark, 4: 77 MB) and no throughput (BENCHMARKS.md, round 3). At least
/// 4, at most 16.
pub fn default_max_connections(sqlite: bool) -> u32 {
    if !sqlite {
        return 16;
    }
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(cores * 2).unwrap_or(16).clamp(4, 16)
}

/// Statements slower than this are logged (without their parameters).
const SLOW_STATEMENT: Duration = Duration::from_millis(500);

/// Begins a transaction that will write.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front so
/// that a read lock never has to be upgraded ("database is locked"). SQLite has
/// one writer at a time and its busy handler makes the others sleep and retry
/// with a growing back-off (up to 100 ms), so the lock often sits free while
/// every waiter sleeps. Writers of this process therefore first queue for their
/// turn on the file's [`WriteGate`], in arrival order, before they take a
/// connection; the busy timeout still arbitrates with other processes.
///
/// # Errors
/// Fails when no turn or no connection can be had in time.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let turn = match write_gate(db) {
        Some(gate) => Some(gate.wait().await?),
        None => None,
    };
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let txn = db.begin_with_options(options).await?;
    Ok(WriteTransaction { txn, _turn: turn })
}

/// A write transaction, holding its writer's turn until it ends.
///
/// It reads and writes like the [`DatabaseTransaction`] it wraps. Dropping it
/// without [`commit`](Self::commit) rolls back, as a `DatabaseTransaction` does.
#[derive(Debug)]
pub struct WriteTransaction {
    // Declared first so the transaction ends before the turn passes on.
    txn: DatabaseTransaction,
    _turn: Option<OwnedSemaphorePermit>,
}

impl WriteTransaction {
    /// Commits; the next writer's turn starts afterwards.
    ///
    /// # Errors
    /// The database refused the commit; nothing was written.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back explicitly.
    ///
    /// # Errors
    /// The connection failed while rolling back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTransaction {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// The queue of this process's writers to one SQLite file.
struct WriteGate {
    turn: Arc<Semaphore>,
    /// How long a writer waits for its turn: the busy timeout.
    patience: Duration,
}

impl WriteGate {
    async fn wait(&self) -> Result<OwnedSemaphorePermit, DbErr> {
        let turn = self.turn.clone().acquire_owned();
        match tokio::time::timeout(self.patience, turn).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }
}

/// Gates by SQLite file: every pool opened on the same file in this process
/// shares one queue, as they share the file's single write lock.
static WRITE_GATES: LazyLock<Mutex<HashMap<PathBuf, Arc<WriteGate>>>> =
    LazyLock::new(Mutex::default);

fn lock_gates() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Arc<WriteGate>>> {
    WRITE_GATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sqlite_file(db: &DatabaseConnection) -> Option<PathBuf> {
    (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| {
        let options = db.get_sqlite_connection_pool().connect_options();
        options.get_filename().to_path_buf()
    })
}

fn write_gate(db: &DatabaseConnection) -> Option<Arc<WriteGate>> {
    let file = sqlite_file(db)?;
    lock_gates().get(&file).cloned()
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite(dir: &tempfile::TempDir, patience: Duration) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("gate.db").display());
        let settings = DbSettings {
            statement_timeout: patience,
            ..DbSettings::default()
        };
        let db = connect(&url, &settings).await.expect("connect");
        db.execute_unprepared("CREATE TABLE t (n INTEGER NOT NULL)")
            .await
            .expect("table");
        db
    }

    async fn numbers(db: &DatabaseConnection) -> Vec<i64> {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT n FROM t ORDER BY rowid",
            ))
            .await
            .expect("select");
        rows.iter()
            .map(|r| r.try_get::<i64>("", "n").expect("n"))
            .collect()
    }

    #[tokio::test]
    async fn sqlite_writers_take_turns_in_arrival_order() {
        let dir = tempfile::tempdir().expect("dir");
        let db = sqlite(&dir, Duration::from_secs(10)).await;
        let first = begin_write(&db).await.expect("first");
        let mut waiting = Vec::new();
        for n in 1..=5_i64 {
            let db = db.clone();
            waiting.push(tokio::spawn(async move {
                let txn = begin_write(&db).await.expect("turn");
                txn.execute_unprepared(&format!("INSERT INTO t (n) VALUES ({n})"))
                    .await
                    .expect("insert");
                txn.commit().await.expect("commit");
            }));
            // On the test's single-threaded runtime, yielding lets the new
            // writer run until it waits for its turn, before the next arrives.
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        first
            .execute_unprepared("INSERT INTO t (n) VALUES (0)")
            .await
            .expect("insert");
        assert!(waiting.iter().all(|w| !w.is_finished()));
        first.commit().await.expect("commit");
        for w in waiting {
            w.await.expect("writer");
        }
        assert_eq!(numbers(&db).await, vec![0, 1, 2, 3, 4, 5]);
    }

    #[tokio::test]
    async fn a_writer_that_waits_past_the_busy_timeout_gives_up_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let db = sqlite(&dir, Duration::from_millis(200)).await;
        let first = begin_write(&db).await.expect("first");
        let err = begin_write(&db).await.expect_err("no turn");
        assert!(matches!(err, DbErr::ConnectionAcquire(_)), "{err:?}");
        first.rollback().await.expect("rollback");
        let txn = begin_write(&db).await.expect("turn after rollback");
        txn.execute_unprepared("INSERT INTO t (n) VALUES (7)")
            .await
            .expect("insert");
        drop(txn);
        assert!(
            numbers(&db).await.is_empty(),
            "a dropped transaction rolls back"
        );
        let txn = begin_write(&db).await.expect("turn after drop");
        txn.commit().await.expect("commit");
    }
}
