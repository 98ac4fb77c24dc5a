//! Coordination between API processes that share one database (issue 18).
//!
//! Several `rapport serve` processes behind a load balancer on one
//! PostgreSQL must agree on four things, and each uses what PostgreSQL
//! already gives rather than anything home-made in between:
//!
//! | concern | module | PostgreSQL | SQLite (one process per file) |
//! |---|---|---|---|
//! | migrations once at start-up | [`lock`] | session advisory lock | runs directly |
//! | scheduled jobs once per due time | [`jobs`] | a lease row per job and due time | the same row |
//! | `feedbackReceived` across processes | [`notify`] | `LISTEN`/`NOTIFY`, ids only | the API's in-process channel |
//! | public look-up throttle in total | [`throttle`] | a table of attempts with expiry | the API's in-process throttle |
//!
//! Login failures were already rows in `login_failures`, so that limit adds
//! up across processes by construction; the per-client cap on password
//! verifications in flight uses [`lock::SlotLocks`] on PostgreSQL.

pub mod jobs;
pub mod lock;
pub mod notify;
pub mod throttle;

use crate::error::DomainError;

/// Milliseconds since the Unix epoch: how this module stores times, so
/// they compare the same on both engines.
pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A driver error below SeaORM (sqlx, used directly for `LISTEN` and for
/// connections outside the pool) as an internal error.
pub(crate) fn driver_error(err: sea_orm::sqlx::Error) -> DomainError {
    DomainError::Internal(anyhow::Error::new(err).context("database driver operation failed"))
}
