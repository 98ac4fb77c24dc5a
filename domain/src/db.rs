//! Connecting to the database and opening write transactions.

use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::AssertSqlSafe;
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

/// How long a pooled connection may sit idle before it is pinged on checkout.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Opens a pool on a SQLite or PostgreSQL URL.
///
/// SQLite runs in WAL mode with foreign keys on, a busy timeout and
/// `secure_delete`, so several connections can read while one writes and
/// freed space is zeroed. PostgreSQL gets a statement timeout.
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
        // A pooled connection is checked with a ping only after it sat idle
        // (when a server restart or a dropped socket can have broken it):
        // the pool's default pings on every checkout, one more round trip
        // for each statement outside a transaction.
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(busy)
                .foreign_keys(true)
                .create_if_missing(true)
                // Freed space (deleted rows, old versions of changed rows,
                // freed pages) is overwritten with zeros, so an erased value
                // does not linger in the file (docs/SECURITY.md, "Erasure").
                .pragma("secure_delete", "ON")
        })
        .map_sqlx_sqlite_pool_opts(|pool| pool.after_release(|conn, _| Box::pin(released(conn))))
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

/// Whether a SQLite connection coming back to the pool may be used again.
///
/// A transaction that failed on a storage fault (disk full, I/O error) can
/// leave the connection's transaction bookkeeping out of step with SQLite's:
/// the next "transaction" on it would then run as a savepoint inside a
/// transaction that still holds the file's write lock, and every other
/// writer would wait for it. So once the connection's queued commands (such
/// as the rollback of a dropped transaction) have run, a connection still
/// inside a transaction is closed instead of reused.
async fn released(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection as _;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A dropped transaction's rollback is queued: let it run first.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("closing a SQLite connection left inside a transaction");
        return Ok(false);
    }
    Ok(true)
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
        Some(gate) => {
            let start = std::time::Instant::now();
            let turn = gate.wait().await?;
            metrics::histogram!("rapport_sqlite_write_gate_wait_seconds")
                .record(start.elapsed().as_secs_f64());
            Some(turn)
        }
        None => None,
    };
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let health = StorageHealth::of(db);
    let txn = health.note(db.begin_with_options(options).await)?;
    Ok(WriteTransaction {
        txn,
        health,
        _turn: turn,
    })
}

/// A write transaction, holding its writer's turn until it ends.
///
/// It reads and writes like the [`DatabaseTransaction`] it wraps. Dropping it
/// without [`commit`](Self::commit) rolls back, as a `DatabaseTransaction` does.
#[derive(Debug)]
pub struct WriteTransaction {
    // Declared first so the transaction ends before the turn passes on.
    txn: DatabaseTransaction,
    health: Arc<StorageHealth>,
    _turn: Option<OwnedSemaphorePermit>,
}

impl WriteTransaction {
    /// Commits; the next writer's turn starts afterwards.
    ///
    /// # Errors
    /// The database refused the commit; nothing was written.
    pub async fn commit(self) -> Result<(), DbErr> {
        let result = self.txn.commit().await;
        if result.is_ok() {
            self.health.recovered();
        }
        self.health.note(result)
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
        self.health.note(self.txn.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.health.note(self.txn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.health.note(self.txn.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.health.note(self.txn.query_all_raw(stmt).await)
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

/// Whether writes to one database currently fail on a storage fault (disk
/// full, read-only, I/O error: [`crate::error::is_storage_fault`]). Every
/// [`WriteTransaction`] reports here: a storage fault marks the database as
/// failing, a successful commit clears it. Shared by every pool on the same
/// database in this process.
#[derive(Debug, Default)]
pub struct StorageHealth {
    failing: std::sync::atomic::AtomicBool,
}

static HEALTH: LazyLock<Mutex<HashMap<String, Arc<StorageHealth>>>> = LazyLock::new(Mutex::default);

impl StorageHealth {
    /// The health of `db`'s database (its SQLite file, or its PostgreSQL
    /// server and database).
    pub fn of(db: &DatabaseConnection) -> Arc<Self> {
        let key = match db.get_database_backend() {
            DatabaseBackend::Sqlite => sqlite_file(db)
                .map(|f| format!("sqlite:{}", f.display()))
                .unwrap_or_default(),
            DatabaseBackend::Postgres => {
                let o = db.get_postgres_connection_pool().connect_options();
                format!(
                    "postgres:{}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or_default()
                )
            }
            _ => String::new(),
        };
        HEALTH
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone()
    }

    /// Whether the last write ended in a storage fault.
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::SeqCst)
    }

    fn recovered(&self) {
        self.failing.store(false, Ordering::SeqCst);
    }

    fn note<T>(&self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if let Err(e) = &result {
            if crate::error::is_storage_fault(e) {
                self.failing.store(true, Ordering::SeqCst);
            }
        }
        result
    }
}

/// Whether the database can take writes: it answers, and either no write
/// has failed on a storage fault since the last successful one, or a probe
/// write (a write transaction that rewrites the schema version stamp,
/// `PRAGMA user_version`, on SQLite, or takes a transaction id in a
/// transaction that is not read-only on PostgreSQL, and commits) succeeds
/// now. So `/ready` turns 503 as soon as
/// writes fail and back to 200 as soon as they succeed again.
pub async fn ready(db: &DatabaseConnection) -> bool {
    if !ping(db).await {
        return false;
    }
    let health = StorageHealth::of(db);
    if !health.failing() {
        return true;
    }
    probe_write(db).await.is_ok()
}

async fn probe_write(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let row = txn
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA user_version",
                ))
                .await?;
            let version: i64 = row.map_or(Ok(0), |r| r.try_get_by_index(0))?;
            txn.execute_unprepared(&format!("PRAGMA user_version = {version}"))
                .await?;
        }
        _ => {
            // A transaction id fails on a standby; a server or database set
            // to read-only transactions still hands one out, so ask as well.
            let row = txn
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT pg_current_xact_id()::text AS xid, current_setting('transaction_read_only') AS ro",
                ))
                .await?;
            let read_only: String = row.map_or(Ok(String::new()), |r| r.try_get("", "ro"))?;
            if read_only == "on" {
                return Err(DbErr::Custom("transactions are read-only".into()));
            }
        }
    }
    txn.commit().await
}

/// Removes the old copies of erased values from the database's files after
/// an erasure has committed (docs/SECURITY.md, "Erasure").
///
/// - SQLite: `secure_delete` (see [`connect`]) has already zeroed the freed
///   space in the pages the erasure wrote, but older versions of those pages
///   still sit in the write-ahead log. A `wal_checkpoint(TRUNCATE)` copies the
///   new pages into the database file and cuts the log to zero bytes. It runs
///   in its writer's turn on the [`WriteGate`], with a short busy timeout
///   ([`CHECKPOINT_PATIENCE`]) for readers that started before it, so the
///   writers queued behind it wait at most that long per attempt; between
///   attempts the turn passes on. When readers still hold the log after
///   [`CHECKPOINT_ATTEMPTS`] attempts, a background task keeps trying.
/// - PostgreSQL: the old row versions stay in the table, TOAST and index
///   pages, and a plain `VACUUM` only marks their space free: their bytes
///   stay in the pages until overwritten. Each changed table is therefore
///   rewritten (`VACUUM FULL`), then analysed, and the statistics catalogue
///   (whose samples held the old values) rewritten too. This runs in the
///   background, one run at a time; erasures that commit meanwhile are
///   covered by one more run. `VACUUM FULL` locks its table exclusively while
///   it copies it; it waits for that lock at most [`VACUUM_LOCK_PATIENCE`]
///   at a time (so queries do not queue behind it for longer) and retries.
#[derive(Debug, Default)]
pub struct Scrubber {
    /// Tables changed by erasures committed after the running scrub (if
    /// any) started.
    pending: Mutex<BTreeSet<&'static str>>,
    /// Held by the scrub that runs.
    running: tokio::sync::Mutex<()>,
}

/// How long a checkpoint waits for readers that started before it.
pub const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(1);

/// Checkpoint attempts made before the mutation returns.
pub const CHECKPOINT_ATTEMPTS: u32 = 5;

/// How long a `VACUUM FULL` waits for its table's lock before it retries.
pub const VACUUM_LOCK_PATIENCE: Duration = Duration::from_millis(200);

impl Scrubber {
    /// A scrubber with nothing pending.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Called after an erasure committed, with the tables in which it changed
    /// or deleted rows. Never fails: the erasure itself is done; what could
    /// not be scrubbed at once is logged and retried in the background.
    pub async fn after_erasure(
        self: &Arc<Self>,
        db: &DatabaseConnection,
        tables: Vec<&'static str>,
    ) {
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                match checkpoint_truncate(db, CHECKPOINT_ATTEMPTS).await {
                    Ok(true) => return,
                    Ok(false) => tracing::warn!(
                        "the write-ahead log is still in use by readers after an erasure; \
                         truncating it in the background"
                    ),
                    Err(e) => tracing::warn!(
                        error = %e,
                        "checkpoint after an erasure failed; retrying in the background"
                    ),
                }
                let db = db.clone();
                tokio::spawn(async move {
                    match checkpoint_truncate(&db, 60).await {
                        Ok(true) => tracing::info!("write-ahead log truncated after an erasure"),
                        Ok(false) => tracing::error!(
                            "the write-ahead log could not be truncated after an erasure: \
                             readers held it for a minute"
                        ),
                        Err(e) => tracing::error!(error = %e, "checkpoint after an erasure failed"),
                    }
                });
            }
            DatabaseBackend::Postgres => {
                self.pending_tables().extend(tables);
                let me = self.clone();
                let db = db.clone();
                tokio::spawn(async move {
                    let _running = me.running.lock().await;
                    // A scrub that started after this erasure committed
                    // (while this task waited) already took its tables.
                    let tables = std::mem::take(&mut *me.pending_tables());
                    if tables.is_empty() {
                        return;
                    }
                    let started = std::time::Instant::now();
                    match rewrite(&db, &tables).await {
                        Ok(()) => tracing::info!(
                            tables = ?tables,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "tables rewritten after an erasure"
                        ),
                        Err(e) => tracing::error!(
                            error = %e,
                            tables = ?tables,
                            "rewriting tables after an erasure failed"
                        ),
                    }
                });
            }
            _ => {}
        }
    }

    fn pending_tables(&self) -> std::sync::MutexGuard<'_, BTreeSet<&'static str>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn sqlx_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Exec(sea_orm::RuntimeErr::SqlxError(Arc::new(err)))
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`, up to `attempts` times; whether it
/// completed (the log is empty).
async fn checkpoint_truncate(db: &DatabaseConnection, attempts: u32) -> Result<bool, DbErr> {
    use sea_orm::sqlx::Row as _;
    let gate = write_gate(db);
    let patience = gate.as_ref().map_or(CHECKPOINT_PATIENCE, |g| g.patience);
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(CHECKPOINT_PATIENCE).await;
        }
        let _turn = match &gate {
            Some(gate) => Some(gate.wait().await?),
            None => None,
        };
        let mut conn = db
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(sqlx_err)?;
        sea_orm::sqlx::query(AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            CHECKPOINT_PATIENCE.as_millis()
        )))
        .execute(&mut *conn)
        .await
        .map_err(sqlx_err)?;
        let result = sea_orm::sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await;
        let restored = sea_orm::sqlx::query(AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            patience.as_millis()
        )))
        .execute(&mut *conn)
        .await;
        if restored.is_err() {
            // Never hand a connection with the short timeout back to the pool.
            drop(conn.detach());
        }
        // The first column is 1 when readers kept the checkpoint from completing.
        let busy: i64 = result.map_err(sqlx_err)?.try_get(0).map_err(sqlx_err)?;
        if busy == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `VACUUM FULL` of each table, `ANALYZE` of them all, then `VACUUM FULL` of
/// `pg_statistic`, on a connection of its own without the statement
/// timeout, closed afterwards.
async fn rewrite(db: &DatabaseConnection, tables: &BTreeSet<&'static str>) -> Result<(), DbErr> {
    let conn = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_err)?;
    let mut conn = conn.detach();
    let list = tables.iter().copied().collect::<Vec<_>>().join(", ");
    let mut statements = vec![
        "SET statement_timeout = 0".to_owned(),
        format!("SET lock_timeout = {}", VACUUM_LOCK_PATIENCE.as_millis()),
    ];
    statements.extend(tables.iter().map(|t| format!("VACUUM FULL {t}")));
    statements.push(format!("ANALYZE {list}"));
    // Database owners may rewrite it; other roles get a warning and a skip.
    statements.push("VACUUM FULL pg_catalog.pg_statistic".to_owned());
    let mut waited = false;
    for sql in statements {
        // A rewrite copies the row versions that some snapshot may still see:
        // before the first table (the erasures' old versions) and before
        // `pg_statistic` (the old samples, replaced by `ANALYZE`), wait until
        // the transactions older than that step are over.
        if sql.starts_with("VACUUM FULL") && (!waited || sql.contains("pg_statistic")) {
            wait_for_older_snapshots(&mut conn).await?;
            waited = true;
        }
        let mut attempts = 0;
        loop {
            match sea_orm::sqlx::query(AssertSqlSafe(sql.clone()))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                // lock_not_available: queries hold the table; try again soon.
                Err(e) if sqlstate(&e).as_deref() == Some("55P03") && attempts < 300 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(sqlx_err(e)),
            }
        }
    }
    sea_orm::sqlx::Connection::close(conn)
        .await
        .map_err(sqlx_err)?;
    Ok(())
}

/// How long a rewrite waits for transactions that started before it.
pub const SNAPSHOT_PATIENCE: Duration = Duration::from_secs(600);

/// How long a rewrite waits before it looks for older transactions: a
/// session that is still connecting (to any database) holds a snapshot for a
/// moment without showing in `pg_stat_activity`, and PostgreSQL keeps the
/// row versions it might see.
pub const SNAPSHOT_SETTLE: Duration = Duration::from_secs(1);

/// Waits [`SNAPSHOT_SETTLE`], then until no transaction that started before
/// the wait can keep the erased row versions alive: no other session of this
/// database holds a snapshot, and no session of any database holds a
/// transaction id (transaction ids are shared by the whole cluster, so a
/// writing transaction elsewhere lowers the horizon of the rewrite's own
/// snapshot) (at
/// most [`SNAPSHOT_PATIENCE`]; then the rewrite goes ahead and a warning is
/// logged). Sessions of other roles are visible only to a role with
/// `pg_read_all_stats`.
async fn wait_for_older_snapshots(conn: &mut sea_orm::sqlx::PgConnection) -> Result<(), DbErr> {
    use sea_orm::sqlx::Row as _;
    let started = std::time::Instant::now();
    let now: chrono::DateTime<chrono::Utc> = sea_orm::sqlx::query("SELECT clock_timestamp()")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(sqlx_err)?;
    tokio::time::sleep(SNAPSHOT_SETTLE).await;
    loop {
        let older: i64 = sea_orm::sqlx::query(
            "SELECT count(*) FROM pg_stat_activity \
              WHERE pid <> pg_backend_pid() AND xact_start < $1 \
                AND (backend_xid IS NOT NULL \
                     OR (datname = current_database() AND backend_xmin IS NOT NULL))",
        )
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(sqlx_err)?;
        if older == 0 {
            return Ok(());
        }
        if started.elapsed() > SNAPSHOT_PATIENCE {
            tracing::warn!(
                sessions = older,
                "transactions older than an erasure are still open; rewriting anyway: \
                 their row versions stay in the file"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn sqlstate(err: &sea_orm::sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
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
