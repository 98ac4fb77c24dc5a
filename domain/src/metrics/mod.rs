//! Relationship metrics (SPEC §7): retention rate, return on relationship,
//! customer value and the loyalty report.
//!
//! Every metric is computed by a few aggregate statements (COUNT / SUM with
//! GROUP BY, correlated EXISTS) on either engine; no rows are loaded to be
//! counted in Rust. Each result carries its inputs so a dashboard can show
//! the working. Formulas, rounding and boundary rules are in `docs/metrics.md`
//! and in each submodule.
//!
//! Periods are half-open `[from, to)` in UTC dates (see [`period`]).

pub mod formula;
pub mod kinds;
pub mod period;

mod loyalty;
mod reason;
mod retention;
mod ror;
mod value;

use chrono::NaiveDate;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    IsolationLevel, TransactionTrait,
};

use crate::auth::{Actor, Capability};
use crate::error::DomainResult;

pub use kinds::{ChurnReason, RelationshipStage, RelationshipType};
pub use loyalty::{ChurnByReason, CustomersByStage, CustomersByType, LoyaltyReport};
pub use period::{MetricsFilter, Period, Window};
pub use reason::NullReason;
pub use retention::RetentionRate;
pub use ror::ReturnOnRelationship;
pub use value::{CustomerValue, ValuableCustomer};

/// Reads the relationship metrics. All operations need `ReadReports`.
#[derive(Clone)]
pub struct MetricsService {
    db: DatabaseConnection,
}

impl MetricsService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Retention over `[from, to)`: `(E − N) / B · 100`.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; `BAD_USER_INPUT` on a bad period or
    /// filter; database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn retention_rate(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        filter: MetricsFilter,
    ) -> DomainResult<RetentionRate> {
        actor.require(Capability::ReadReports)?;
        let period = Period::parse(from, to)?;
        let filter = filter.validated()?;
        let snapshot = self.snapshot().await?;
        let rate = retention::compute(&snapshot, period, &filter).await?;
        snapshot.commit().await?;
        Ok(rate)
    }

    /// Return on relationship as of the end of `as_of`, with helped customers
    /// counted over the `window_months` ending then.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; `BAD_USER_INPUT` on `windowMonths`
    /// or the filter; database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn return_on_relationship(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        window_months: i32,
        filter: MetricsFilter,
    ) -> DomainResult<ReturnOnRelationship> {
        actor.require(Capability::ReadReports)?;
        let window = Window::parse(as_of, window_months)?;
        let filter = filter.validated()?;
        let snapshot = self.snapshot().await?;
        let ror = ror::compute(&snapshot, window, &filter).await?;
        snapshot.commit().await?;
        Ok(ror)
    }

    /// Revenue, costs and per-customer value over `[from, to)`, per currency.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; `BAD_USER_INPUT` on a bad period or
    /// filter; database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn customer_value(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        filter: MetricsFilter,
    ) -> DomainResult<Vec<CustomerValue>> {
        actor.require(Capability::ReadReports)?;
        let period = Period::parse(from, to)?;
        let filter = filter.validated()?;
        let snapshot = self.snapshot().await?;
        let values = value::customer_value(&snapshot, period, &filter).await?;
        snapshot.commit().await?;
        Ok(values)
    }

    /// The `first` customers with the highest margin over `[from, to)` in
    /// each currency (or only in `currency`).
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; `BAD_USER_INPUT` on a bad period,
    /// `first` outside 1..=100, a malformed currency or a bad filter;
    /// database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn most_valuable_customers(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        first: i32,
        currency: Option<String>,
        filter: MetricsFilter,
    ) -> DomainResult<Vec<ValuableCustomer>> {
        actor.require(Capability::ReadReports)?;
        let period = Period::parse(from, to)?;
        period::check_first(first)?;
        let currency = currency.map(|c| value::parse_currency(&c)).transpose()?;
        let filter = filter.validated()?;
        let snapshot = self.snapshot().await?;
        let ranked =
            value::most_valuable(&snapshot, period, first, currency.as_deref(), &filter).await?;
        snapshot.commit().await?;
        Ok(ranked)
    }

    /// The loyalty report over `[from, to)`.
    ///
    /// # Errors
    /// `FORBIDDEN` without `ReadReports`; `BAD_USER_INPUT` on a bad period or
    /// filter; database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn loyalty_report(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        filter: MetricsFilter,
    ) -> DomainResult<LoyaltyReport> {
        actor.require(Capability::ReadReports)?;
        let period = Period::parse(from, to)?;
        let filter = filter.validated()?;
        let snapshot = self.snapshot().await?;
        let report = loyalty::compute(&snapshot, period, &filter).await?;
        snapshot.commit().await?;
        Ok(report)
    }

    /// A read-only transaction, so that the several statements of one metric
    /// see the same data: REPEATABLE READ on PostgreSQL; on SQLite (WAL) a
    /// deferred transaction reads one snapshot from its first statement.
    ///
    /// PostgreSQL's JIT is switched off for the transaction: these are
    /// index-driven aggregates over at most a few hundred thousand rows, and
    /// compiling them costs more (about a second) than running them.
    async fn snapshot(&self) -> DomainResult<DatabaseTransaction> {
        let txn = match self.db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let txn = self
                    .db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?;
                txn.execute_unprepared("SET LOCAL jit = off").await?;
                txn
            }
            _ => self.db.begin().await?,
        };
        Ok(txn)
    }
}

/// `1` when the customer `c` is a customer at the boundary `:{t}`, else `0`.
///
/// A customer counts at a boundary when acquired before it and not churned
/// just before it: no churn event before the boundary whose reactivation is
/// missing or at/after it. This is the churn-history rule ("acquired at or
/// before t, no churn event at or before t not reactivated by t") taken at
/// the last instant before the boundary, so an event at exactly midnight
/// belongs to the period that starts then and consecutive periods chain
/// (`E` of one period is `B` of the next).
pub(crate) fn customer_at(t: &str) -> String {
    format!(
        "CASE WHEN c.acquired_at < :{t} AND NOT EXISTS (\
         SELECT 1 FROM churn_events ce WHERE ce.customer_id = c.id \
         AND ce.churned_at < :{t} \
         AND (ce.reactivated_at IS NULL OR ce.reactivated_at >= :{t})) \
         THEN 1 ELSE 0 END"
    )
}

/// A condition true when customer `c` is active in the period `[:start,
/// :end)`: a customer at some instant of it (acquired before the end and not
/// churned from before the start until after the end), or a purchaser in it.
pub(crate) const ACTIVE_IN_PERIOD: &str = "((c.acquired_at < :end AND NOT EXISTS (\
     SELECT 1 FROM churn_events ca WHERE ca.customer_id = c.id \
     AND ca.churned_at < :start \
     AND (ca.reactivated_at IS NULL OR ca.reactivated_at >= :end))) \
     OR EXISTS (SELECT 1 FROM purchases pa WHERE pa.customer_id = c.id \
     AND pa.occurred_at >= :start AND pa.occurred_at < :end))";

/// Reads an integer column of an aggregate row.
pub(crate) fn int(row: &sea_orm::QueryResult, column: &str) -> DomainResult<i64> {
    Ok(row.try_get::<i64>("", column)?)
}
