//! Return on relationship (SPEC §7).
//!
//! As of the end of day `asOf` (UTC):
//! - purchasing customers: customers with at least one purchase at or before
//!   `asOf`;
//! - helped customers: of them, those with an interaction marked `helped`
//!   within the window — the `windowMonths` months ending with `asOf`,
//!   `[asOf + 1 day − windowMonths, asOf + 1 day)`;
//! - referral-or-repeat customers: of the helped, those who came by referral
//!   (`referredBy` set) or are repeat customers (at least two purchases at or
//!   before `asOf`);
//! - `rorPercent = referralOrRepeat / helped · 100`, 2 dp; `None` when no
//!   customer was helped.

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use super::formula;
use super::int;
use super::period::{MetricsFilter, Window};
use super::reason::NullReason;
use crate::error::{DomainError, DomainResult};
use crate::sql::Params;

/// Return on relationship and its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnOnRelationship {
    pub window: Window,
    pub purchasing_customers: i64,
    pub helped_customers: i64,
    pub referral_or_repeat_customers: i64,
    /// Helped customers who came by referral.
    pub referred_customers: i64,
    /// Helped customers with at least two purchases.
    pub repeat_customers: i64,
    /// `referralOrRepeat / helped · 100`, 2 dp; `None` when `helped = 0`.
    pub ror_percent: Option<Decimal>,
    /// Why `ror_percent` is `None`.
    pub reason: Option<NullReason>,
}

pub(crate) async fn compute(
    db: &impl ConnectionTrait,
    window: Window,
    filter: &MetricsFilter,
) -> DomainResult<ReturnOnRelationship> {
    let mut sql = Params::new();
    sql.bind("end", window.end)
        .bind("window_start", window.start)
        .bind("helped", true);
    let conditions = filter.conditions(&mut sql);
    let text = format!(
        "SELECT COUNT(*) AS purchasing, COALESCE(SUM(helped), 0) AS helped, \
         COALESCE(SUM(CASE WHEN helped = 1 AND (referred = 1 OR purchases >= 2) THEN 1 ELSE 0 END), 0) AS referral_or_repeat, \
         COALESCE(SUM(CASE WHEN helped = 1 AND referred = 1 THEN 1 ELSE 0 END), 0) AS referred, \
         COALESCE(SUM(CASE WHEN helped = 1 AND purchases >= 2 THEN 1 ELSE 0 END), 0) AS repeating \
         FROM (SELECT p.purchases, \
         CASE WHEN c.referred_by_id IS NOT NULL THEN 1 ELSE 0 END AS referred, \
         CASE WHEN EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id \
         AND i.helped = :helped AND i.occurred_at >= :window_start AND i.occurred_at < :end) \
         THEN 1 ELSE 0 END AS helped \
         FROM customers c JOIN (SELECT customer_id, COUNT(*) AS purchases FROM purchases \
         WHERE occurred_at < :end GROUP BY customer_id) p ON p.customer_id = c.id \
         WHERE 1 = 1{conditions}) x"
    );
    let row = db
        .query_one_raw(sql.statement(db.get_database_backend(), &text)?)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("ror returned no row")))?;
    let helped = int(&row, "helped")?;
    let referral_or_repeat = int(&row, "referral_or_repeat")?;
    let ror_percent = formula::percent_of(referral_or_repeat, helped);
    Ok(ReturnOnRelationship {
        window,
        purchasing_customers: int(&row, "purchasing")?,
        helped_customers: helped,
        referral_or_repeat_customers: referral_or_repeat,
        referred_customers: int(&row, "referred")?,
        repeat_customers: int(&row, "repeating")?,
        ror_percent,
        reason: ror_percent
            .is_none()
            .then_some(NullReason::NoHelpedCustomers),
    })
}
