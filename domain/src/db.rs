//! Connecting to the database and opening write transactions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Pool and timeout settings.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// Most connections the pool opens.
    pub max_connections: u32,
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
            max_connections: 16,
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
    let busy = settings.statement_timeout;
    let statement_timeout_ms = settings.statement_timeout.as_millis().to_string();
    options
        .max_connections(settings.max_connections)
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

/// Statements slower than this are logged (without their parameters).
const SLOW_STATEMENT: Duration = Duration::from_millis(500);

/// Begins a transaction that will write.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front so
/// that concurrent writers queue on the busy timeout instead of failing with
/// "database is locked" when a read lock would have to be upgraded.
///
/// # Errors
/// Fails when no connection can be had.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options).await
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
