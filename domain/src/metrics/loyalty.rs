//! The loyalty report (SPEC §7) over `[from, to)`.
//!
//! The customers considered are those active in the period
//! ([`super::ACTIVE_IN_PERIOD`]) and matching the filter. Purchase counts are
//! lifetime counts as of the end of the period (what the customer card shows
//! on that day).
//! - repeat-purchase rate: customers with ≥ 2 purchases / customers with ≥ 1;
//! - loyal share: customers with ≥ 5 purchases / customers considered;
//! - average relationship duration in days: from `acquiredAt` to the churn in
//!   force at the end of the period, or to the end (`to` 00:00 UTC);
//! - churn by reason: churn events in the period, count and share of all
//!   churn events in the period;
//! - customers per current relationship stage and per relationship type;
//! - feedback participation: invitations created in the period that were
//!   answered by its end / invitations created in the period;
//! - points issued (positive ledger entries other than redemption and expiry
//!   corrections), redeemed (− Σ REDEMPTION) and expired (− Σ EXPIRY), for
//!   ledger entries dated in the period.

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use super::formula::{self, percent_of};
use super::kinds::{ChurnReason, RelationshipStage, RelationshipType};
use super::period::{MetricsFilter, Period};
use super::{int, ACTIVE_IN_PERIOD};
use crate::error::{DomainError, DomainResult};
use crate::sql::{epoch_seconds, Params};

/// Purchases from which a customer is a repeat customer.
pub const REPEAT_PURCHASES: i64 = 2;
/// Purchases from which a customer is loyal (SPEC §3).
pub const LOYAL_PURCHASES: i64 = 5;

/// Churn events of one reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChurnByReason {
    pub reason: ChurnReason,
    pub count: i64,
    /// Share of all churn events in the period, 2 dp; `None` when none.
    pub share_percent: Option<Decimal>,
}

/// Customers in one relationship stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomersByStage {
    pub stage: RelationshipStage,
    pub count: i64,
}

/// Customers of one relationship type (`None`: not set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomersByType {
    pub relationship_type: Option<RelationshipType>,
    pub count: i64,
}

/// The loyalty report and its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoyaltyReport {
    pub period: Period,
    /// Customers active in the period (the base of the report).
    pub customers: i64,
    /// Of them, with at least one purchase by the end.
    pub purchasing_customers: i64,
    /// With at least two purchases.
    pub repeat_customers: i64,
    /// With at least five purchases.
    pub loyal_customers: i64,
    /// `repeat / purchasing · 100`.
    pub repeat_purchase_rate_percent: Option<Decimal>,
    /// `loyal / customers · 100`.
    pub loyal_customer_share_percent: Option<Decimal>,
    /// Average days from acquisition to churn or the end of the period.
    pub average_relationship_days: Option<Decimal>,
    /// Churn events in the period.
    pub churn_count: i64,
    /// Every reason, in declaration order.
    pub churn_by_reason: Vec<ChurnByReason>,
    /// Every stage, in declaration order.
    pub customers_by_stage: Vec<CustomersByStage>,
    /// Every type in declaration order, then "not set" when any.
    pub customers_by_type: Vec<CustomersByType>,
    /// Survey invitations created in the period.
    pub survey_invitations: i64,
    /// Of them, answered by the end of the period.
    pub survey_responses: i64,
    /// `responses / invitations · 100`.
    pub feedback_participation_percent: Option<Decimal>,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub points_expired: i64,
}

async fn one(
    db: &impl ConnectionTrait,
    sql: &Params,
    text: &str,
) -> DomainResult<sea_orm::QueryResult> {
    db.query_one_raw(sql.statement(db.get_database_backend(), text)?)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("aggregate returned no row")))
}

/// Report step: churn events by reason (rows of `reason`, `n`), every
/// reason listed, with the total.
fn churn_by_reason(rows: &[sea_orm::QueryResult]) -> DomainResult<(i64, Vec<ChurnByReason>)> {
    let mut churn_counts = vec![0_i64; ChurnReason::ALL.len()];
    for row in rows {
        let reason = row
            .try_get::<String>("", "reason")?
            .parse::<ChurnReason>()?;
        if let Some(i) = ChurnReason::ALL.iter().position(|r| *r == reason) {
            churn_counts[i] += int(row, "n")?;
        }
    }
    let churn_count: i64 = churn_counts.iter().sum();
    let churn_by_reason = ChurnReason::ALL
        .iter()
        .zip(&churn_counts)
        .map(|(reason, count)| ChurnByReason {
            reason: *reason,
            count: *count,
            share_percent: percent_of(*count, churn_count),
        })
        .collect();
    Ok((churn_count, churn_by_reason))
}

/// Report step: customers per stage and per type (rows of `stage`, `kind`,
/// `n`), every stage and type listed, untyped customers last when any.
fn customers_by_stage_and_type(
    rows: &[sea_orm::QueryResult],
) -> DomainResult<(Vec<CustomersByStage>, Vec<CustomersByType>)> {
    let mut by_stage = vec![0_i64; RelationshipStage::ALL.len()];
    let mut by_type = vec![0_i64; RelationshipType::ALL.len()];
    let mut untyped = 0_i64;
    for row in rows {
        let n = int(row, "n")?;
        let stage = row
            .try_get::<String>("", "stage")?
            .parse::<RelationshipStage>()?;
        if let Some(i) = RelationshipStage::ALL.iter().position(|s| *s == stage) {
            by_stage[i] += n;
        }
        match row.try_get::<Option<String>>("", "kind")? {
            Some(raw) => {
                let kind = raw.parse::<RelationshipType>()?;
                if let Some(i) = RelationshipType::ALL.iter().position(|t| *t == kind) {
                    by_type[i] += n;
                }
            }
            None => untyped += n,
        }
    }
    let customers_by_stage = RelationshipStage::ALL
        .iter()
        .zip(by_stage)
        .map(|(stage, count)| CustomersByStage {
            stage: *stage,
            count,
        })
        .collect();
    let mut customers_by_type: Vec<CustomersByType> = RelationshipType::ALL
        .iter()
        .zip(by_type)
        .map(|(kind, count)| CustomersByType {
            relationship_type: Some(*kind),
            count,
        })
        .collect();
    if untyped > 0 {
        customers_by_type.push(CustomersByType {
            relationship_type: None,
            count: untyped,
        });
    }
    Ok((customers_by_stage, customers_by_type))
}

pub(crate) async fn compute(
    db: &impl ConnectionTrait,
    period: Period,
    filter: &MetricsFilter,
) -> DomainResult<LoyaltyReport> {
    let backend = db.get_database_backend();
    let mut sql = Params::new();
    period.bind(&mut sql);
    sql.bind("repeat", REPEAT_PURCHASES)
        .bind("loyal", LOYAL_PURCHASES);
    let conditions = filter.conditions(&mut sql);

    // Base, purchase counts and relationship durations.
    let churn_in_force = "(SELECT MIN(cr.churned_at) FROM churn_events cr \
         WHERE cr.customer_id = c.id AND cr.churned_at < :end \
         AND (cr.reactivated_at IS NULL OR cr.reactivated_at >= :end))";
    let text = format!(
        "SELECT COUNT(*) AS customers, \
         COALESCE(SUM(CASE WHEN purchases >= 1 THEN 1 ELSE 0 END), 0) AS purchasing, \
         COALESCE(SUM(CASE WHEN purchases >= :repeat THEN 1 ELSE 0 END), 0) AS repeating, \
         COALESCE(SUM(CASE WHEN purchases >= :loyal THEN 1 ELSE 0 END), 0) AS loyal, \
         CAST(COALESCE(SUM(CASE WHEN until_s > since_s THEN until_s - since_s ELSE 0 END), 0) AS BIGINT) AS seconds \
         FROM (SELECT COALESCE(p.purchases, 0) AS purchases, \
         {since} AS since_s, {until} AS until_s \
         FROM customers c LEFT JOIN (SELECT customer_id, COUNT(*) AS purchases FROM purchases \
         WHERE occurred_at < :end GROUP BY customer_id) p ON p.customer_id = c.id \
         WHERE {ACTIVE_IN_PERIOD}{conditions}) x",
        since = epoch_seconds(backend, "c.acquired_at"),
        until = epoch_seconds(backend, &format!("COALESCE({churn_in_force}, :end)")),
    );
    let base = one(db, &sql, &text).await?;
    let customers = int(&base, "customers")?;
    let purchasing = int(&base, "purchasing")?;
    let repeating = int(&base, "repeating")?;
    let loyal = int(&base, "loyal")?;
    let seconds = int(&base, "seconds")?;

    // Churn events in the period by reason.
    let text = format!(
        "SELECT ce.reason AS reason, COUNT(*) AS n FROM churn_events ce \
         JOIN customers c ON c.id = ce.customer_id \
         WHERE ce.churned_at >= :start AND ce.churned_at < :end{conditions} GROUP BY ce.reason"
    );
    let rows = db.query_all_raw(sql.statement(backend, &text)?).await?;
    let (churn_count, churn_by_reason) = churn_by_reason(&rows)?;

    // Customers per stage and type.
    let text = format!(
        "SELECT c.relationship_stage AS stage, c.relationship_type AS kind, COUNT(*) AS n \
         FROM customers c WHERE {ACTIVE_IN_PERIOD}{conditions} \
         GROUP BY c.relationship_stage, c.relationship_type"
    );
    let rows = db.query_all_raw(sql.statement(backend, &text)?).await?;
    let (customers_by_stage, customers_by_type) = customers_by_stage_and_type(&rows)?;

    // Feedback participation.
    let text = format!(
        "SELECT COUNT(*) AS invited, COALESCE(SUM(CASE WHEN EXISTS (\
         SELECT 1 FROM survey_responses r WHERE r.invitation_id = si.id AND r.submitted_at < :end) \
         THEN 1 ELSE 0 END), 0) AS responded \
         FROM survey_invitations si JOIN customers c ON c.id = si.customer_id \
         WHERE si.created_at >= :start AND si.created_at < :end{conditions}"
    );
    let feedback = one(db, &sql, &text).await?;
    let invited = int(&feedback, "invited")?;
    let responded = int(&feedback, "responded")?;

    // Points by reason.
    let text = format!(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN le.delta > 0 AND le.reason NOT IN ('REDEMPTION', 'EXPIRY') \
         THEN le.delta ELSE 0 END), 0) AS BIGINT) AS issued, \
         CAST(COALESCE(SUM(CASE WHEN le.reason = 'REDEMPTION' THEN -le.delta ELSE 0 END), 0) AS BIGINT) AS redeemed, \
         CAST(COALESCE(SUM(CASE WHEN le.reason = 'EXPIRY' THEN -le.delta ELSE 0 END), 0) AS BIGINT) AS expired \
         FROM ledger_entries le JOIN memberships m ON m.id = le.membership_id \
         JOIN customers c ON c.id = m.customer_id \
         WHERE le.occurred_at >= :start AND le.occurred_at < :end{conditions}"
    );
    let points = one(db, &sql, &text).await?;

    Ok(LoyaltyReport {
        period,
        customers,
        purchasing_customers: purchasing,
        repeat_customers: repeating,
        loyal_customers: loyal,
        repeat_purchase_rate_percent: percent_of(repeating, purchasing),
        loyal_customer_share_percent: percent_of(loyal, customers),
        average_relationship_days: formula::average_days(seconds, customers),
        churn_count,
        churn_by_reason,
        customers_by_stage,
        customers_by_type,
        survey_invitations: invited,
        survey_responses: responded,
        feedback_participation_percent: percent_of(responded, invited),
        points_issued: int(&points, "issued")?,
        points_redeemed: int(&points, "redeemed")?,
        points_expired: int(&points, "expired")?,
    })
}
