//! The error taxonomy of Rapport. Each variant documents the GraphQL
//! `extensions.code` the API layer maps it to (`api/src/graphql/error.rs`).

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Everything a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// `BAD_USER_INPUT`, with `extensions.field` naming the offending input.
    #[error("{field}: {reason}")]
    Validation { field: String, reason: String },
    /// `NOT_FOUND`: the record does not exist or the actor may not see it.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `CONFLICT`: the request contradicts the current state.
    #[error("{0}")]
    Conflict(String),
    /// `FORBIDDEN`: the actor's role lacks the capability.
    #[error("forbidden")]
    Forbidden,
    /// `UNAUTHENTICATED`: missing, invalid or revoked credentials.
    #[error("unauthenticated")]
    Unauthenticated,
    /// `RATE_LIMITED`: too many attempts; retry later.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// `INSUFFICIENT_POINTS`: the balance does not cover the debit.
    #[error("insufficient points: balance {balance}, required {required}")]
    InsufficientPoints { balance: i64, required: i64 },
    /// `OUT_OF_STOCK`: the reward has no stock left.
    #[error("out of stock")]
    OutOfStock,
    /// `INVALID_TOKEN`: an unknown invitation token.
    #[error("invalid token")]
    InvalidToken,
    /// `TOKEN_EXPIRED`: the invitation has expired.
    #[error("token expired")]
    TokenExpired,
    /// `ALREADY_SUBMITTED`: the invitation was already used.
    #[error("already submitted")]
    AlreadySubmitted,
    /// `SERVICE_UNAVAILABLE`: the database is unreachable or busy; retryable.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// `INTERNAL`: anything else; the cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Shorthand for domain results.
pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    /// A `BAD_USER_INPUT` naming `field`.
    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A `CONFLICT` with a client-facing explanation.
    pub fn conflict(reason: impl Into<String>) -> Self {
        Self::Conflict(reason.into())
    }

    /// Prefixes the field of a validation error, e.g. `factors.2.weight`.
    #[must_use]
    pub fn in_field(self, prefix: &str) -> Self {
        match self {
            Self::Validation { field, reason } => Self::Validation {
                field: format!("{prefix}.{field}"),
                reason,
            },
            other => other,
        }
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            Self::Unavailable(anyhow::Error::new(err))
        } else {
            Self::Internal(anyhow::Error::new(err).context("database operation failed"))
        }
    }
}

/// Whether a database error means "the database is not there, too busy or
/// cannot store anything now", which clients may retry, rather than a bug.
/// Decided by the engine's error codes, never by message text.
fn is_unavailable(err: &DbErr) -> bool {
    if matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    let Some(e) = sqlx_error(err) else {
        return false;
    };
    matches!(
        e,
        sea_orm::sqlx::Error::Io(_)
            | sea_orm::sqlx::Error::PoolTimedOut
            | sea_orm::sqlx::Error::PoolClosed
            | sea_orm::sqlx::Error::WorkerCrashed
    ) || match engine_code(e) {
        Some(EngineCode::Sqlite(code)) => {
            matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED | SQLITE_CANTOPEN)
                || is_sqlite_storage_fault(code)
        }
        Some(EngineCode::Postgres(state)) => {
            // 08: connection exception; 57014: query cancelled (statement
            // timeout); 57P01–57P03: the server shuts down or starts.
            state.starts_with("08")
                || state == "57014"
                || state.starts_with("57P")
                || is_postgres_storage_fault(&state)
        }
        None => false,
    }
}

/// Whether a database error means the storage refuses writes: disk full,
/// read-only, I/O error (SQLite `SQLITE_FULL` 13, `SQLITE_READONLY` 8,
/// `SQLITE_IOERR` 10 and their extended codes; PostgreSQL SQLSTATE classes 53
/// insufficient resources and 58 system error, and 25006
/// read_only_sql_transaction). Such an error is `SERVICE_UNAVAILABLE`, and
/// `/ready` reports 503 until a write succeeds again (see
/// [`crate::db::StorageHealth`]).
pub fn is_storage_fault(err: &DbErr) -> bool {
    match sqlx_error(err).and_then(engine_code) {
        Some(EngineCode::Sqlite(code)) => is_sqlite_storage_fault(code),
        Some(EngineCode::Postgres(state)) => is_postgres_storage_fault(&state),
        None => false,
    }
}

const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

fn is_sqlite_storage_fault(code: i32) -> bool {
    matches!(code & 0xff, SQLITE_READONLY | SQLITE_IOERR | SQLITE_FULL)
}

fn is_postgres_storage_fault(state: &str) -> bool {
    state.starts_with("53") || state.starts_with("58") || state == "25006"
}

/// A database's own error code: SQLite's extended result code, or
/// PostgreSQL's SQLSTATE.
enum EngineCode {
    Sqlite(i32),
    Postgres(String),
}

fn sqlx_error(err: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

fn engine_code(err: &sea_orm::sqlx::Error) -> Option<EngineCode> {
    let db = err.as_database_error()?;
    if db
        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
    {
        // The extended result code, as a decimal string.
        return db
            .code()
            .and_then(|c| c.parse().ok())
            .map(EngineCode::Sqlite);
    }
    if let Some(pg) = db.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>() {
        return Some(EngineCode::Postgres(pg.code().to_owned()));
    }
    None
}

/// Turns unique-constraint violations into `CONFLICT` where they happen.
pub trait DbResultExt<T> {
    /// Maps a unique violation to [`DomainError::Conflict`] with `reason`,
    /// and any other database error through `From<DbErr>`.
    ///
    /// # Errors
    /// Always returns the mapped error when `self` is an error.
    fn on_unique(self, reason: &str) -> DomainResult<T>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn on_unique(self, reason: &str) -> DomainResult<T> {
        self.map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::conflict(reason),
            _ => DomainError::from(err),
        })
    }
}

/// Single-record lookups answer "absent" as a value (SPEC §0: a lookup is
/// null when the record does not exist), not as an error.
pub trait FoundExt<T> {
    /// `NOT_FOUND` becomes `Ok(None)`; other errors stay.
    ///
    /// # Errors
    /// Every error but `NOT_FOUND`.
    fn found(self) -> DomainResult<Option<T>>;
}

impl<T> FoundExt<T> for DomainResult<T> {
    fn found(self) -> DomainResult<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(DomainError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// Whether the error is a unique-constraint violation.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
