//! Sections that one process at a time may run, across every process on
//! one PostgreSQL database, over session advisory locks.
//!
//! The lock is held by a connection of its own, opened outside the pool:
//! the section itself may use every pooled connection (migrations do), and
//! when the process dies its connection closes and PostgreSQL releases the
//! lock, so a crash never leaves the others waiting.

use std::future::Future;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::driver_error;
use crate::error::DomainResult;

/// The advisory lock key held while a process migrates the schema and loads
/// demo data: `"rapport"` in ASCII, then 1.
pub const MIGRATIONS: i64 = 0x7261_7070_6f72_7401;

/// Runs `section` while holding the advisory lock `key`, waiting for any
/// other process that holds it. On SQLite (one process per file) it runs
/// `section` directly.
///
/// # Errors
/// When the lock connection cannot be opened or the lock taken; `section`'s
/// own result is returned as it is.
pub async fn exclusive<T, F>(db: &DatabaseConnection, key: i64, section: F) -> DomainResult<T>
where
    F: Future<Output = T>,
{
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(section.await);
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(driver_error)?;
    // The pool's statement timeout would cut off a wait behind a long
    // migration; this connection waits as long as the holder works.
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut conn)
        .await
        .map_err(driver_error)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut conn)
        .await
        .map_err(driver_error)?;
    let out = section.await;
    // Closing the connection releases the lock too; unlocking first makes
    // the release immediate even if the close is slow.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    Ok(out)
}

/// Numbered slots per key, held by transactions: `n` holders of one key at
/// once across every process (PostgreSQL transaction advisory locks, which
/// end with their transaction, so a dead process frees its slot).
#[derive(Clone, Copy, Debug)]
pub struct SlotLocks {
    /// The namespace (first half of the two-part advisory key).
    pub namespace: i32,
    /// Holders allowed at once per key.
    pub slots: u32,
}

/// How often a waiter for a slot tries again.
const SLOT_RETRY: Duration = Duration::from_millis(25);

impl SlotLocks {
    /// Takes one of `key`'s slots in `txn`, trying for up to `patience`;
    /// `Ok(false)` when every slot stayed taken. Each try is one statement
    /// that takes the first free slot (`pg_try_advisory_xact_lock` over the
    /// slot numbers, stopping at the first success).
    ///
    /// # Errors
    /// Database failures.
    pub async fn acquire(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        key: i32,
        patience: Duration,
    ) -> DomainResult<bool> {
        let started = std::time::Instant::now();
        loop {
            let mut sql = crate::sql::Sql::new(DatabaseBackend::Postgres);
            // The slot key mixes the caller's key with the slot number in the
            // second half; `LIMIT 1` stops at the first lock taken, so a
            // holder takes exactly one slot.
            sql.push("SELECT s FROM generate_series(0, ")
                .bind(i64::from(self.slots) - 1)
                .push(") AS s WHERE pg_try_advisory_xact_lock(")
                .bind(self.namespace)
                .push(", (")
                .bind(key)
                .push(" # (s::integer << 24))) LIMIT 1");
            if txn.query_one_raw(sql.build()).await?.is_some() {
                return Ok(true);
            }
            if started.elapsed() >= patience {
                return Ok(false);
            }
            tokio::time::sleep(SLOT_RETRY).await;
        }
    }
}
