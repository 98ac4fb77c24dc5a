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

/// Whether a database error means "the database is not there or too busy",
/// which clients may retry, rather than a bug.
fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            let text = e.to_string();
            matches!(
                &**e,
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::WorkerCrashed
            ) || text.contains("database is locked")
                || text.contains("unable to open database")
                || text.contains("canceling statement due to statement timeout")
                || text.contains("terminating connection")
        }
        _ => false,
    }
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

/// Whether the error is a unique-constraint violation.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
