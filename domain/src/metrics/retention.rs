//! Retention rate (SPEC §7): `rate = (E − N) / B · 100`.
//!
//! Over the period `[from, to)`:
//! - `B` (customers at start): customers at the boundary `from` 00:00 UTC;
//! - `E` (customers at end): customers at the boundary `to` 00:00 UTC;
//! - `N` (new): customers who *became* customers inside the period — acquired
//!   in `[from, to)`, or not customers at `from` (churned before it) and
//!   reactivated in `[from, to)`. A won-back customer is a customer gained;
//! - reactivated: the part of `N` won back (churned before the period,
//!   reactivated inside it), whatever happens to them afterwards;
//! - churned = lost: customers counted in `B` or `N` who are not customers at
//!   the end (including those gained and lost again inside the period).
//!
//! `B` and `N` are disjoint and every customer at the end is in one of them,
//! so `E ≤ B + N`: `lost = B + N − E ≥ 0` and the rate never exceeds 100.
//!
//! "Customer at a boundary" is [`super::customer_at`]. A customer of `B` who
//! churns and is reactivated inside the period stays in `B` and `E`, is not new
//! and not lost. A customer won back and churned again inside the period is in
//! `N` and lost, exactly like one acquired and lost inside it.

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use super::formula;
use super::period::{MetricsFilter, Period};
use super::reason::NullReason;
use super::{customer_at, int};
use crate::error::{DomainError, DomainResult};
use crate::sql::Params;

/// The retention rate and its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionRate {
    pub period: Period,
    /// `B`.
    pub customers_at_start: i64,
    /// `E`.
    pub customers_at_end: i64,
    /// `N`: acquired or won back inside the period.
    pub new_customers: i64,
    /// `B + N − E`, never negative.
    pub lost_customers: i64,
    /// Customers of `B` or `N` not customers at the end (= `lost_customers`).
    pub churned_customers: i64,
    /// The part of `N` won back: churned before the period, reactivated in it.
    pub reactivated_customers: i64,
    /// `(E − N) / B · 100`, 2 dp; `None` when `B = 0`.
    pub rate_percent: Option<Decimal>,
    /// Why `rate_percent` is `None`.
    pub reason: Option<NullReason>,
}

pub(crate) async fn compute(
    db: &impl ConnectionTrait,
    period: Period,
    filter: &MetricsFilter,
) -> DomainResult<RetentionRate> {
    let mut sql = Params::new();
    period.bind(&mut sql);
    let conditions = filter.conditions(&mut sql);
    // `won`: acquired before the period, not a customer at its start, and the
    // churn in force then was reactivated inside it. Such a churn event exists
    // only for a customer not in `B`, so `b`, `acquired` and `won` are disjoint.
    let text = format!(
        "SELECT COALESCE(SUM(b), 0) AS b, COALESCE(SUM(acquired + won), 0) AS n, \
         COALESCE(SUM(e), 0) AS e, COALESCE(SUM(won), 0) AS reactivated, \
         COALESCE(SUM(CASE WHEN (b = 1 OR acquired = 1 OR won = 1) AND e = 0 THEN 1 ELSE 0 END), 0) \
         AS churned \
         FROM (SELECT {at_start} AS b, \
         CASE WHEN c.acquired_at >= :start THEN 1 ELSE 0 END AS acquired, \
         CASE WHEN c.acquired_at < :start AND EXISTS (\
         SELECT 1 FROM churn_events cw WHERE cw.customer_id = c.id \
         AND cw.churned_at < :start AND cw.reactivated_at >= :start \
         AND cw.reactivated_at < :end) THEN 1 ELSE 0 END AS won, \
         {at_end} AS e \
         FROM customers c WHERE c.acquired_at < :end{conditions}) x",
        at_start = customer_at("start"),
        at_end = customer_at("end"),
    );
    let row = db
        .query_one_raw(sql.statement(db.get_database_backend(), &text)?)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("retention returned no row")))?;
    let (b, n, e) = (int(&row, "b")?, int(&row, "n")?, int(&row, "e")?);
    let churned = int(&row, "churned")?;
    let reactivated = int(&row, "reactivated")?;
    let rate_percent = formula::retention_percent(b, e, n);
    Ok(RetentionRate {
        period,
        customers_at_start: b,
        customers_at_end: e,
        new_customers: n,
        lost_customers: b + n - e,
        churned_customers: churned,
        reactivated_customers: reactivated,
        rate_percent,
        reason: rate_percent
            .is_none()
            .then_some(NullReason::NoCustomersAtStart),
    })
}
