//! Scheduled work that runs once per due time across every process.
//!
//! Each process ticks on its own; at a tick, a job that is due claims the
//! row `(job, due_at)` in `job_runs` with a lease. One statement decides:
//! an insert, or, when the row exists, a take-over only if it never
//! finished and its lease has run out. So of any number of processes
//! ticking at once exactly one runs the job, a finished run is never
//! repeated, and when the holder dies mid-run another process takes over
//! at its first tick after the lease ends. The job's own idempotency (the
//! ledger's unique source keys) stays the last line of defence should a
//! holder outlive its lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::now_millis;
use crate::error::DomainResult;
use crate::sql::Params;

/// A claimed run: the holder finishes it with [`Lease::finish`].
#[derive(Debug)]
pub struct Lease {
    job: &'static str,
    due_at: i64,
    holder: String,
}

/// Claims the run of `job` due at `due` for `holder`, for `lease`; `None`
/// when the run finished already or another holder's lease is current.
///
/// # Errors
/// Database failures.
pub async fn claim(
    db: &DatabaseConnection,
    job: &'static str,
    due: DateTime<Utc>,
    holder: &str,
    lease: Duration,
) -> DomainResult<Option<Lease>> {
    let now = now_millis();
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    let mut params = Params::new();
    params
        .bind("job", job)
        .bind("due_at", due.timestamp_millis())
        .bind("holder", holder)
        .bind("lease_until", now.saturating_add(lease_ms))
        .bind("now", now);
    let statement = params.statement(
        db.get_database_backend(),
        "INSERT INTO job_runs (job, due_at, holder, lease_until, started_at) \
         VALUES (:job, :due_at, :holder, :lease_until, :now) \
         ON CONFLICT (job, due_at) DO UPDATE SET holder = excluded.holder, \
         lease_until = excluded.lease_until, started_at = excluded.started_at \
         WHERE job_runs.finished_at IS NULL AND job_runs.lease_until < :now",
    )?;
    let claimed = db.execute_raw(statement).await?.rows_affected() == 1;
    Ok(claimed.then(|| Lease {
        job,
        due_at: due.timestamp_millis(),
        holder: holder.to_owned(),
    }))
}

impl Lease {
    /// Marks the run finished, so no process runs it again.
    ///
    /// # Errors
    /// Database failures (the run then counts as unfinished: another
    /// process repeats it after the lease, which the job's idempotency
    /// makes harmless).
    pub async fn finish(self, db: &DatabaseConnection) -> DomainResult<()> {
        let mut params = Params::new();
        params
            .bind("job", self.job)
            .bind("due_at", self.due_at)
            .bind("holder", self.holder)
            .bind("now", now_millis());
        let statement = params.statement(
            db.get_database_backend(),
            "UPDATE job_runs SET finished_at = :now \
             WHERE job = :job AND due_at = :due_at AND holder = :holder",
        )?;
        db.execute_raw(statement).await?;
        Ok(())
    }
}
