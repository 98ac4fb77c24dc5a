//! Retention rate (SPEC §7): `rate = (E − N) / B · 100`.
//!
//! Over the period `[from, to)`:
//! - `B` (customers at start): customers at the boundary `from` 00:00 UTC;
//! - `E` (customers at end): customers at the boundary `to` 00:00 UTC;
//! - `N` (new): customers acquired in `[from, to)`;
//! - churned: customers counted in `B` or `N` who are not customers at the end
//!   (lost inside the period, including those acquired and lost in it);
//! - reactivated: customers not in `B` or `N` (churned before the period) who
//!   came back and are customers at the end;
//! - lost (net) = churned − reactivated, so that `B + N − lost = E` always.
//!
//! "Customer at a boundary" is [`super::customer_at`]. A customer who churns
//! and is reactivated inside the period stays in `E` and is not lost.

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use super::formula;
use super::period::{MetricsFilter, Period};
use super::sql::Sql;
use super::{customer_at, int};
use crate::error::{DomainError, DomainResult};

/// Why there is no rate when `B = 0`.
pub const NO_CUSTOMERS_AT_START: &str =
    "no customers at the start of the period, so retention is undefined";

/// The retention rate and its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionRate {
    pub period: Period,
    /// `B`.
    pub customers_at_start: i64,
    /// `E`.
    pub customers_at_end: i64,
    /// `N`.
    pub new_customers: i64,
    /// `B + N − E`: churned − reactivated.
    pub lost_customers: i64,
    /// Customers of `B` or `N` not customers at the end.
    pub churned_customers: i64,
    /// Customers churned before the period, back by its end.
    pub reactivated_customers: i64,
    /// `(E − N) / B · 100`, 2 dp; `None` when `B = 0`.
    pub rate_percent: Option<Decimal>,
    /// Why `rate_percent` is `None`.
    pub reason: Option<&'static str>,
}

pub(crate) async fn compute(
    db: &impl ConnectionTrait,
    period: Period,
    filter: &MetricsFilter,
) -> DomainResult<RetentionRate> {
    let mut sql = Sql::new();
    period.bind(&mut sql);
    let conditions = filter.conditions(&mut sql);
    let text = format!(
        "SELECT COALESCE(SUM(b), 0) AS b, COALESCE(SUM(n), 0) AS n, COALESCE(SUM(e), 0) AS e, \
         COALESCE(SUM(CASE WHEN (b = 1 OR n = 1) AND e = 0 THEN 1 ELSE 0 END), 0) AS churned, \
         COALESCE(SUM(CASE WHEN b = 0 AND n = 0 AND e = 1 THEN 1 ELSE 0 END), 0) AS reactivated \
         FROM (SELECT {at_start} AS b, \
         CASE WHEN c.acquired_at >= :start AND c.acquired_at < :end THEN 1 ELSE 0 END AS n, \
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
        lost_customers: churned - reactivated,
        churned_customers: churned,
        reactivated_customers: reactivated,
        rate_percent,
        reason: rate_percent.is_none().then_some(NO_CUSTOMERS_AT_START),
    })
}
