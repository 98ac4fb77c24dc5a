//! An in-memory sliding-window throttle for the public respondent operations
//! (`surveyInvitation`, `submitSurveyResponse`), keyed by client address.
//!
//! Only failures that look like token guessing (`INVALID_TOKEN`) count, so a
//! respondent correcting a form, or many submissions of one valid token, are
//! never throttled. [`PublicThrottle`]'s state is per process, which suits
//! SQLite (one process per file); on PostgreSQL, where several processes may
//! share the database, [`PublicLimiter`] keeps the same rules in the
//! database instead (`domain::cluster::throttle`), so the limit holds for
//! every process together.
//!
//! Lookups in flight count against the limit until they finish: of any
//! number of simultaneous guesses, at most [`MAX_FAILURES`] are looked up.
//! When failures plus lookups in flight reach the limit, further requests
//! wait for one to finish (rather than fail): a valid token frees its place,
//! an invalid one becomes a failure. So simultaneous valid submissions are
//! delayed at worst, never refused.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::cluster::throttle::SharedThrottle;
use domain::DomainError;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::Notify;

/// Failed attempts allowed per address within [`WINDOW`].
pub const MAX_FAILURES: usize = 30;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked before stale entries are swept.
const SWEEP_AT: usize = 10_000;

/// The public look-up throttle of a deployment: in this process's memory on
/// SQLite; on PostgreSQL in the database (the same limit and rules, for
/// every process together) behind the same in-process throttle, so that a
/// process's own surplus guesses wait or are refused in memory and only
/// what one process may look up reaches the shared count.
#[derive(Debug)]
pub enum PublicLimiter {
    InProcess(PublicThrottle),
    Shared {
        local: PublicThrottle,
        shared: SharedThrottle,
    },
}

impl PublicLimiter {
    /// The throttle that suits `db`'s engine.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => Self::Shared {
                local: PublicThrottle::default(),
                shared: SharedThrottle::new(db.clone(), MAX_FAILURES as u64, WINDOW),
            },
            _ => Self::InProcess(PublicThrottle::default()),
        }
    }

    /// Runs a public operation under the throttle, counting `INVALID_TOKEN`.
    ///
    /// # Errors
    /// `RATE_LIMITED`, or the operation's own error.
    pub async fn guard<T, F>(&self, addr: &str, op: F) -> Result<T, DomainError>
    where
        F: std::future::Future<Output = Result<T, DomainError>>,
    {
        match self {
            Self::InProcess(throttle) => throttle.guard(addr, op).await,
            Self::Shared { local, shared } => local.guard(addr, shared.guard(addr, op)).await,
        }
    }
}

/// One address's recent failures and lookups in flight.
#[derive(Debug, Default)]
struct Entry {
    failures: VecDeque<Instant>,
    in_flight: usize,
}

impl Entry {
    fn prune(&mut self, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.failures.pop_front();
        }
    }

    fn limited(&self, now: Instant) -> Result<(), DomainError> {
        if self.failures.len() >= MAX_FAILURES {
            let oldest = self.failures.front().copied().unwrap_or(now);
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(DomainError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(())
    }
}

/// Failure timestamps and lookups in flight per client address.
#[derive(Debug, Default)]
pub struct PublicThrottle {
    entries: Mutex<HashMap<String, Entry>>,
    /// Wakes requests waiting for a lookup in flight to finish.
    finished: Notify,
}

impl PublicThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses an address that failed too often within the window.
    ///
    /// # Errors
    /// `RATE_LIMITED` with the seconds until the oldest failure leaves the window.
    pub fn check(&self, addr: &str) -> Result<(), DomainError> {
        let now = Instant::now();
        let mut map = self.lock();
        let Some(entry) = map.get_mut(addr) else {
            return Ok(());
        };
        entry.prune(now);
        entry.limited(now)
    }

    /// Records one failed attempt.
    pub fn record_failure(&self, addr: &str) {
        let now = Instant::now();
        let mut map = self.lock();
        Self::push_failure(&mut map, addr, now);
    }

    fn push_failure(map: &mut HashMap<String, Entry>, addr: &str, now: Instant) {
        if map.len() >= SWEEP_AT {
            map.retain(|_, e| {
                e.in_flight > 0
                    || e.failures
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        let entry = map.entry(addr.to_owned()).or_default();
        entry.failures.push_back(now);
        while entry.failures.len() > MAX_FAILURES {
            entry.failures.pop_front();
        }
    }

    /// Runs a public operation under the throttle, counting `INVALID_TOKEN`.
    ///
    /// # Errors
    /// `RATE_LIMITED`, or the operation's own error.
    pub async fn guard<T, F>(&self, addr: &str, op: F) -> Result<T, DomainError>
    where
        F: std::future::Future<Output = Result<T, DomainError>>,
    {
        let mut lookup = self.begin(addr).await?;
        let result = op.await;
        lookup.failed = matches!(result, Err(DomainError::InvalidToken));
        result
    }

    /// Waits until the address may start a lookup, then counts it in flight.
    async fn begin<'a>(&'a self, addr: &'a str) -> Result<Lookup<'a>, DomainError> {
        loop {
            let finished = self.finished.notified();
            {
                let now = Instant::now();
                let mut map = self.lock();
                let entry = map.entry(addr.to_owned()).or_default();
                entry.prune(now);
                entry.limited(now)?;
                if entry.failures.len() + entry.in_flight < MAX_FAILURES {
                    entry.in_flight += 1;
                    return Ok(Lookup {
                        throttle: self,
                        addr,
                        failed: false,
                    });
                }
            }
            // Created before the lock was released, so no wake-up is missed.
            finished.await;
        }
    }
}

/// A lookup in flight. When it ends (or is cut off) it leaves the count, as a
/// failure if `failed`, and wakes the requests waiting for a place.
struct Lookup<'a> {
    throttle: &'a PublicThrottle,
    addr: &'a str,
    failed: bool,
}

impl Drop for Lookup<'_> {
    fn drop(&mut self) {
        {
            let mut map = self.throttle.lock();
            if let Some(entry) = map.get_mut(self.addr) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
            }
            if self.failed {
                PublicThrottle::push_failure(&mut map, self.addr, Instant::now());
            }
        }
        self.throttle.finished.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_max_failures_per_address() {
        let throttle = PublicThrottle::default();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.check("a").is_ok());
            throttle.record_failure("a");
        }
        assert!(matches!(
            throttle.check("a"),
            Err(DomainError::RateLimited { .. })
        ));
        assert!(
            throttle.check("b").is_ok(),
            "other addresses are unaffected"
        );
    }

    #[tokio::test]
    async fn simultaneous_guesses_are_looked_up_at_most_the_limit() {
        let throttle = PublicThrottle::default();
        let lookups = std::sync::atomic::AtomicUsize::new(0);
        let results = futures::future::join_all((0..200).map(|_| {
            throttle.guard("a", async {
                lookups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::task::yield_now().await;
                Err::<(), _>(DomainError::InvalidToken)
            })
        }))
        .await;
        assert_eq!(lookups.into_inner(), MAX_FAILURES);
        let limited = results
            .iter()
            .filter(|r| matches!(r, Err(DomainError::RateLimited { .. })))
            .count();
        assert_eq!(limited, 200 - MAX_FAILURES);
    }

    #[tokio::test]
    async fn simultaneous_valid_submissions_wait_but_are_never_refused() {
        let throttle = PublicThrottle::default();
        let results = futures::future::join_all((0..200).map(|_| {
            throttle.guard("a", async {
                tokio::task::yield_now().await;
                Ok::<(), DomainError>(())
            })
        }))
        .await;
        assert!(results.iter().all(Result::is_ok));
        assert!(
            throttle.check("a").is_ok(),
            "valid lookups leave no failure"
        );
    }

    #[tokio::test]
    async fn a_lookup_cut_off_midway_gives_its_place_back() {
        let throttle = PublicThrottle::default();
        let pending = throttle.guard("a", std::future::pending::<Result<(), DomainError>>());
        let cut = tokio::time::timeout(Duration::from_millis(10), pending).await;
        assert!(cut.is_err(), "timed out");
        let map = throttle.lock();
        let entry = map.get("a").expect("entry");
        assert_eq!((entry.in_flight, entry.failures.len()), (0, 0));
    }
}
