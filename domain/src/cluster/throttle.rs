//! The public look-up throttle with its state in the database, so that one
//! limit holds for every process together (PostgreSQL deployments; SQLite
//! keeps the API's in-process throttle).
//!
//! The same rules as the in-process throttle: only failures that look like
//! token guessing count, and look-ups in flight count against the limit
//! until they finish, so of any number of simultaneous guesses spread over
//! any number of processes at most `max_failures` are looked up. Each
//! look-up first writes its row (in flight), then counts the client's rows;
//! every row is committed before it is counted, so the k-th row to commit
//! sees at least k rows, and a look-up proceeds only when the count is
//! within the limit. A valid token deletes its row, a guess marks it
//! failed, and a failed row counts until it leaves the window. When only
//! look-ups in flight fill the limit the request steps back (deletes its
//! row) and tries again shortly: valid submissions are delayed at worst.
//! A row left in flight by a process that died stops counting after
//! [`STALE_IN_FLIGHT`].
//!
//! Once the database refuses a client, no process can add a failure for it
//! until its oldest failure leaves the window, so the refusal holds exactly
//! that long: the process remembers it and refuses the client's further
//! requests without SQL until then (a flood of guesses costs the database
//! nothing once refused).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};

use super::now_millis;
use crate::error::{DomainError, DomainResult};
use crate::sql::Params;

/// A look-up in flight for longer than this is taken for abandoned (its
/// process died); requests are cut off well before.
pub const STALE_IN_FLIGHT: Duration = Duration::from_secs(60);
/// How long a request waits for look-ups in flight to make room before it
/// is refused with `RATE_LIMITED`.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// How often each process sweeps every client's expired rows: the first
/// look-up this long after the last sweep (or the start) does it.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// Refused clients remembered before the expired ones are forgotten.
const FORGET_AT: usize = 10_000;

/// Failures per client within a sliding window, in the database.
#[derive(Clone, Debug)]
pub struct SharedThrottle {
    db: DatabaseConnection,
    max_failures: u64,
    window: Duration,
    /// Clients the database refused, until when (see the module comment).
    refused_until: Arc<Mutex<HashMap<String, Instant>>>,
    /// When this process last swept (see [`SWEEP_EVERY`]).
    swept_at: Arc<Mutex<Instant>>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl SharedThrottle {
    /// At most `max_failures` failed look-ups per client within `window`.
    pub fn new(db: DatabaseConnection, max_failures: u64, window: Duration) -> Self {
        Self {
            db,
            max_failures,
            window,
            refused_until: Arc::default(),
            swept_at: Arc::new(Mutex::new(Instant::now())),
        }
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.refused_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The remembered refusal of `key`, if it still holds.
    fn still_refused(&self, key: &str) -> Option<DomainError> {
        let until = *self.refused().get(key)?;
        let left = until.checked_duration_since(Instant::now())?;
        Some(DomainError::RateLimited {
            retry_after_secs: left.as_secs().max(1),
        })
    }

    fn remember_refusal(&self, key: &str, wait: Duration) {
        let now = Instant::now();
        let mut refused = self.refused();
        if refused.len() >= FORGET_AT {
            refused.retain(|_, until| *until > now);
        }
        refused.insert(key.to_owned(), now + wait);
    }

    /// Runs a public operation under the throttle, counting `INVALID_TOKEN`.
    ///
    /// # Errors
    /// `RATE_LIMITED`, the operation's own error, or database failures.
    pub async fn guard<T, F>(&self, client: &str, op: F) -> DomainResult<T>
    where
        F: std::future::Future<Output = DomainResult<T>>,
    {
        let key = client_key(client);
        if let Some(refusal) = self.still_refused(&key) {
            return Err(refusal);
        }
        let id = self.begin(&key).await?;
        let mut attempt = InFlight {
            db: self.db.clone(),
            id: Some(id),
        };
        let result = op.await;
        let failed = matches!(result, Err(DomainError::InvalidToken));
        attempt.settle(failed).await?;
        result
    }

    /// Writes this look-up's row and waits until it is within the limit.
    async fn begin(&self, key: &str) -> DomainResult<i64> {
        let started = std::time::Instant::now();
        if self.sweep_due() {
            self.sweep().await?;
        }
        loop {
            let now = now_millis();
            let id = self.insert(key, now).await?;
            let (failed, total, oldest) = self.count(key, now).await?;
            if failed >= self.max_failures {
                delete(&self.db, id).await?;
                let wait_ms = oldest.saturating_add(millis(self.window)) - now;
                let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
                self.remember_refusal(key, wait);
                return Err(DomainError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
            if total <= self.max_failures {
                return Ok(id);
            }
            delete(&self.db, id).await?;
            if started.elapsed() >= MAX_WAIT {
                return Err(DomainError::RateLimited {
                    retry_after_secs: 1,
                });
            }
            // A little jitter, so that steppers-back do not meet again.
            tokio::time::sleep(Duration::from_millis(rand::random_range(20..60))).await;
        }
    }

    async fn insert(&self, key: &str, now: i64) -> DomainResult<i64> {
        let mut params = Params::new();
        params.bind("key", key).bind("now", now);
        let statement = params.statement(
            self.db.get_database_backend(),
            "INSERT INTO public_lookup_attempts (client_key, started_at) \
             VALUES (:key, :now) RETURNING id",
        )?;
        let row = self
            .db
            .query_one_raw(statement)
            .await?
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("insert returned no id")))?;
        Ok(row.try_get_by_index::<i64>(0)?)
    }

    /// The client's failures within the window, its rows that count (those
    /// failures and look-ups in flight), and its oldest failure counted.
    async fn count(&self, key: &str, now: i64) -> DomainResult<(u64, u64, i64)> {
        let mut params = Params::new();
        params
            .bind("key", key)
            .bind("window_start", now - millis(self.window))
            .bind("stale", now - millis(STALE_IN_FLIGHT))
            .bind("now", now);
        let statement = params.statement(
            self.db.get_database_backend(),
            "SELECT COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed, \
             COUNT(*) AS total, \
             COALESCE(MIN(failed_at), :now) AS oldest \
             FROM public_lookup_attempts WHERE client_key = :key \
             AND ((failed_at IS NOT NULL AND failed_at > :window_start) \
               OR (failed_at IS NULL AND started_at > :stale))",
        )?;
        let row = self
            .db
            .query_one_raw(statement)
            .await?
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("count returned no row")))?;
        let failed: i64 = row.try_get_by_index(0)?;
        let total: i64 = row.try_get_by_index(1)?;
        let oldest: i64 = row.try_get_by_index(2)?;
        Ok((
            u64::try_from(failed).unwrap_or(0),
            u64::try_from(total).unwrap_or(0),
            oldest,
        ))
    }

    /// Whether this look-up sweeps: the first one [`SWEEP_EVERY`] after the
    /// last sweep.
    fn sweep_due(&self) -> bool {
        let mut swept_at = self.swept_at.lock().unwrap_or_else(|e| e.into_inner());
        let due = swept_at.elapsed() >= SWEEP_EVERY;
        if due {
            *swept_at = Instant::now();
        }
        due
    }

    /// Deletes every client's rows that no longer count. A failure is
    /// marked within a request's lifetime of its start, so a row started
    /// before the window and the staleness limit together counts no more.
    async fn sweep(&self) -> DomainResult<()> {
        let mut params = Params::new();
        params.bind(
            "cutoff",
            now_millis() - millis(self.window) - millis(STALE_IN_FLIGHT),
        );
        let statement = params.statement(
            self.db.get_database_backend(),
            "DELETE FROM public_lookup_attempts WHERE started_at < :cutoff",
        )?;
        self.db.execute_raw(statement).await?;
        Ok(())
    }
}

/// A look-up's row while it runs. Settled when the look-up ends; if it is
/// cut off instead (timeout, client gone), the row is deleted in the
/// background, giving its place back.
struct InFlight {
    db: DatabaseConnection,
    id: Option<i64>,
}

impl InFlight {
    async fn settle(&mut self, failed: bool) -> DomainResult<()> {
        let Some(id) = self.id.take() else {
            return Ok(());
        };
        if !failed {
            return delete(&self.db, id).await;
        }
        let mut params = Params::new();
        params.bind("id", id).bind("now", now_millis());
        let statement = params.statement(
            self.db.get_database_backend(),
            "UPDATE public_lookup_attempts SET failed_at = :now WHERE id = :id",
        )?;
        self.db.execute_raw(statement).await?;
        Ok(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let (Some(id), Ok(runtime)) = (self.id.take(), tokio::runtime::Handle::try_current()) {
            let db = self.db.clone();
            runtime.spawn(async move {
                if let Err(error) = delete(&db, id).await {
                    tracing::warn!(error = %error, "abandoned look-up not cleared; it expires");
                }
            });
        }
    }
}

async fn delete(db: &DatabaseConnection, id: i64) -> DomainResult<()> {
    let mut params = Params::new();
    params.bind("id", id);
    let statement = params.statement(
        db.get_database_backend(),
        "DELETE FROM public_lookup_attempts WHERE id = :id",
    )?;
    db.execute_raw(statement).await?;
    Ok(())
}

/// The client half of the key: a hash of the client address, so the table
/// holds no addresses.
fn client_key(client: &str) -> String {
    hex::encode(Sha256::digest(format!("public:{client}").as_bytes()))
}
