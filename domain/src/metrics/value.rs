//! Customer value (SPEC §7), per currency, and the most valuable customers.
//!
//! Over `[from, to)`, for each currency with activity:
//! - revenue: purchases in the period by the (filtered) customers;
//! - acquisition and care costs: costs incurred in the period
//!   (`incurredOn` in `[from, to)`), attributed ones of the filtered customers
//!   plus, for unattributed costs (no customer), an equal share per active
//!   customer: `unattributed · segment / base`, where `segment` is the number
//!   of filtered active customers and `base` of all active customers (without
//!   a filter the whole unattributed amount counts);
//! - customer count: customers active in the period (see
//!   [`super::ACTIVE_IN_PERIOD`]);
//! - revenue, cost and margin per customer (`/ count`), the revenue-to-cost
//!   ratio (`revenue / (acquisition + care)`, `None` when costs are zero).
//!
//! Most valuable customers, per currency: `margin = revenue − attributed care
//! costs − unattributed care costs / base`, among the active customers.
//! Acquisition costs are sunk and do not rank customers.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use super::formula::{self, equal_share, money, per_customer, round_money};
use super::period::{MetricsFilter, Period};
use super::{int, ACTIVE_IN_PERIOD};
use crate::error::{DomainError, DomainResult};
use crate::sql::Params;

/// Customer value in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerValue {
    pub period: Period,
    /// ISO 4217 code.
    pub currency: String,
    pub revenue: Decimal,
    pub acquisition_costs: Decimal,
    pub care_costs: Decimal,
    /// Customers active in the period (the same in every currency).
    pub customer_count: i64,
    pub revenue_per_customer: Option<Decimal>,
    pub cost_per_customer: Option<Decimal>,
    pub margin_per_customer: Option<Decimal>,
    /// `revenue / (acquisition + care)`, 2 dp; `None` when costs are zero.
    pub revenue_to_cost_ratio: Option<Decimal>,
}

/// One ranked customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValuableCustomer {
    /// 1 = highest margin in its currency.
    pub rank: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub currency: String,
    pub revenue: Decimal,
    /// Care costs attributed to the customer.
    pub attributed_care_costs: Decimal,
    /// The customer's equal share of unattributed care costs.
    pub shared_care_costs: Decimal,
    /// `revenue − attributed − shared`.
    pub margin: Decimal,
}

/// Validates and upper-cases an ISO 4217 code.
///
/// # Errors
/// `BAD_USER_INPUT` on `currency` unless three ASCII letters.
pub(crate) fn parse_currency(raw: &str) -> DomainResult<String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(DomainError::validation(
            "currency",
            "must be an ISO 4217 code such as EUR",
        ))
    }
}

/// Active customers: `(segment, base)` — with and without the filter.
async fn active_counts(
    db: &impl ConnectionTrait,
    period: Period,
    filter: &MetricsFilter,
) -> DomainResult<(i64, i64)> {
    let mut sql = Params::new();
    period.bind(&mut sql);
    let conditions = filter.conditions(&mut sql);
    let text = format!(
        "SELECT (SELECT COUNT(*) FROM customers c WHERE {ACTIVE_IN_PERIOD}{conditions}) AS segment, \
         (SELECT COUNT(*) FROM customers c WHERE {ACTIVE_IN_PERIOD}) AS base"
    );
    let row = db
        .query_one_raw(sql.statement(db.get_database_backend(), &text)?)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("counts returned no row")))?;
    Ok((int(&row, "segment")?, int(&row, "base")?))
}

#[derive(Default)]
struct Sums {
    revenue: i64,
    acquisition_attributed: i64,
    acquisition_shared: i64,
    care_attributed: i64,
    care_shared: i64,
}

pub(crate) async fn customer_value(
    db: &impl ConnectionTrait,
    period: Period,
    filter: &MetricsFilter,
) -> DomainResult<Vec<CustomerValue>> {
    let (segment, base) = active_counts(db, period, filter).await?;
    let mut sql = Params::new();
    period.bind(&mut sql);
    let conditions = filter.conditions(&mut sql);
    let text = format!(
        "SELECT currency, \
         CAST(SUM(revenue) AS BIGINT) AS revenue, \
         CAST(SUM(acq_attr) AS BIGINT) AS acq_attr, CAST(SUM(acq_shared) AS BIGINT) AS acq_shared, \
         CAST(SUM(care_attr) AS BIGINT) AS care_attr, CAST(SUM(care_shared) AS BIGINT) AS care_shared \
         FROM (\
         SELECT p.currency AS currency, p.amount_minor AS revenue, 0 AS acq_attr, 0 AS acq_shared, \
         0 AS care_attr, 0 AS care_shared \
         FROM purchases p JOIN customers c ON c.id = p.customer_id \
         WHERE p.occurred_at >= :start AND p.occurred_at < :end{conditions} \
         UNION ALL \
         SELECT k.currency, 0, \
         CASE WHEN k.kind = 'ACQUISITION' AND k.customer_id IS NOT NULL THEN k.amount_minor ELSE 0 END, \
         CASE WHEN k.kind = 'ACQUISITION' AND k.customer_id IS NULL THEN k.amount_minor ELSE 0 END, \
         CASE WHEN k.kind = 'CARE' AND k.customer_id IS NOT NULL THEN k.amount_minor ELSE 0 END, \
         CASE WHEN k.kind = 'CARE' AND k.customer_id IS NULL THEN k.amount_minor ELSE 0 END \
         FROM costs k LEFT JOIN customers c ON c.id = k.customer_id \
         WHERE k.incurred_on >= :from_date AND k.incurred_on < :to_date \
         AND (k.customer_id IS NULL OR (c.id IS NOT NULL{conditions}))\
         ) m GROUP BY currency ORDER BY currency"
    );
    let rows = db
        .query_all_raw(sql.statement(db.get_database_backend(), &text)?)
        .await?;
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        let currency: String = row.try_get("", "currency")?;
        let sums = Sums {
            revenue: int(&row, "revenue")?,
            acquisition_attributed: int(&row, "acq_attr")?,
            acquisition_shared: int(&row, "acq_shared")?,
            care_attributed: int(&row, "care_attr")?,
            care_shared: int(&row, "care_shared")?,
        };
        values.push(value_in(
            period,
            currency,
            &sums,
            segment,
            base,
            filter.is_empty(),
        ));
    }
    Ok(values)
}

fn value_in(
    period: Period,
    currency: String,
    sums: &Sums,
    segment: i64,
    base: i64,
    whole_base: bool,
) -> CustomerValue {
    let c = currency.as_str();
    let shared = |amount: i64| {
        if whole_base {
            money(amount, c)
        } else {
            equal_share(money(amount, c), segment, base, c)
        }
    };
    let revenue = money(sums.revenue, c);
    let acquisition = money(sums.acquisition_attributed, c) + shared(sums.acquisition_shared);
    let care = money(sums.care_attributed, c) + shared(sums.care_shared);
    let costs = acquisition + care;
    CustomerValue {
        period,
        revenue_per_customer: per_customer(revenue, segment, c),
        cost_per_customer: per_customer(costs, segment, c),
        margin_per_customer: per_customer(revenue - costs, segment, c),
        revenue_to_cost_ratio: formula::ratio(revenue, costs),
        revenue: round_money(revenue, c),
        acquisition_costs: round_money(acquisition, c),
        care_costs: round_money(care, c),
        customer_count: segment,
        currency,
    }
}

pub(crate) async fn most_valuable(
    db: &impl ConnectionTrait,
    period: Period,
    first: i32,
    currency: Option<&str>,
    filter: &MetricsFilter,
) -> DomainResult<Vec<ValuableCustomer>> {
    let backend = db.get_database_backend();
    let (_, base) = active_counts(db, period, &MetricsFilter::default()).await?;

    // Unattributed care costs per currency, shared equally by the base.
    let mut sql = Params::new();
    period.bind(&mut sql);
    let only = match currency {
        Some(code) => {
            sql.bind("currency", code.to_owned());
            " AND currency = :currency"
        }
        None => "",
    };
    let text = format!(
        "SELECT currency, CAST(SUM(amount_minor) AS BIGINT) AS amount FROM costs \
         WHERE kind = 'CARE' AND customer_id IS NULL \
         AND incurred_on >= :from_date AND incurred_on < :to_date{only} GROUP BY currency"
    );
    let mut shared: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in db.query_all_raw(sql.statement(backend, &text)?).await? {
        let code: String = row.try_get("", "currency")?;
        let amount = money(int(&row, "amount")?, &code);
        let share = if base == 0 {
            Decimal::ZERO
        } else {
            amount / Decimal::from(base)
        };
        shared.insert(code, share);
    }

    // Rank by revenue − attributed care within each currency: the shared part
    // is the same for every customer, so it does not change the order.
    let mut sql = Params::new();
    period.bind(&mut sql);
    sql.bind("first", i64::from(first));
    let only_p = currency.map_or("", |_| " AND p.currency = :currency");
    let only_k = currency.map_or("", |_| " AND k.currency = :currency");
    if let Some(code) = currency {
        sql.bind("currency", code.to_owned());
    }
    let conditions = filter.conditions(&mut sql);
    let text = format!(
        "WITH cur AS (\
         SELECT p.currency FROM purchases p WHERE p.occurred_at >= :start AND p.occurred_at < :end{only_p} \
         UNION SELECT k.currency FROM costs k WHERE k.kind = 'CARE' \
         AND k.incurred_on >= :from_date AND k.incurred_on < :to_date{only_k}), \
         act AS (SELECT c.id, c.name FROM customers c WHERE {ACTIVE_IN_PERIOD}{conditions}), \
         rev AS (SELECT p.customer_id, p.currency, SUM(p.amount_minor) AS amount FROM purchases p \
         WHERE p.occurred_at >= :start AND p.occurred_at < :end GROUP BY p.customer_id, p.currency), \
         care AS (SELECT k.customer_id, k.currency, SUM(k.amount_minor) AS amount FROM costs k \
         WHERE k.kind = 'CARE' AND k.customer_id IS NOT NULL \
         AND k.incurred_on >= :from_date AND k.incurred_on < :to_date GROUP BY k.customer_id, k.currency), \
         ranked AS (SELECT act.id, act.name, cur.currency, \
         CAST(COALESCE(rev.amount, 0) AS BIGINT) AS revenue, CAST(COALESCE(care.amount, 0) AS BIGINT) AS care, \
         ROW_NUMBER() OVER (PARTITION BY cur.currency \
         ORDER BY COALESCE(rev.amount, 0) - COALESCE(care.amount, 0) DESC, act.id) AS rn \
         FROM act CROSS JOIN cur \
         LEFT JOIN rev ON rev.customer_id = act.id AND rev.currency = cur.currency \
         LEFT JOIN care ON care.customer_id = act.id AND care.currency = cur.currency) \
         SELECT id, name, currency, revenue, care, rn FROM ranked WHERE rn <= :first \
         ORDER BY currency, rn"
    );
    let rows = db.query_all_raw(sql.statement(backend, &text)?).await?;
    let mut ranked = Vec::with_capacity(rows.len());
    for row in rows {
        let code: String = row.try_get("", "currency")?;
        let revenue = money(int(&row, "revenue")?, &code);
        let attributed = money(int(&row, "care")?, &code);
        // The row adds up as shown: margin uses the rounded share.
        let share = round_money(shared.get(&code).copied().unwrap_or(Decimal::ZERO), &code);
        ranked.push(ValuableCustomer {
            rank: int(&row, "rn")?,
            customer_id: int(&row, "id")?,
            customer_name: row.try_get("", "name")?,
            revenue: round_money(revenue, &code),
            attributed_care_costs: round_money(attributed, &code),
            shared_care_costs: share,
            margin: round_money(revenue - attributed - share, &code),
            currency: code,
        });
    }
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(parse_currency(" eur ").ok().as_deref(), Some("EUR"));
        for bad in ["", "EU", "EURO", "E1R"] {
            assert!(parse_currency(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn value_divides_by_active_customers_and_shares_unattributed_costs() {
        let day = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        let period = Period { from: day, to: day };
        let sums = Sums {
            revenue: 100_000,
            acquisition_attributed: 10_000,
            acquisition_shared: 20_000,
            care_attributed: 5_000,
            care_shared: 15_000,
        };
        // Segment of 2 out of 4 active customers bears half the shared costs.
        let v = value_in(period, "EUR".into(), &sums, 2, 4, false);
        assert_eq!(v.revenue.to_string(), "1000.00");
        assert_eq!(v.acquisition_costs.to_string(), "200.00");
        assert_eq!(v.care_costs.to_string(), "125.00");
        assert_eq!(
            v.revenue_per_customer.map(|d| d.to_string()).as_deref(),
            Some("500.00")
        );
        assert_eq!(
            v.cost_per_customer.map(|d| d.to_string()).as_deref(),
            Some("162.50")
        );
        assert_eq!(
            v.margin_per_customer.map(|d| d.to_string()).as_deref(),
            Some("337.50")
        );
        assert_eq!(
            v.revenue_to_cost_ratio.map(|d| d.to_string()).as_deref(),
            Some("3.08")
        );
        // Without a filter the whole shared amount counts.
        let all = value_in(period, "EUR".into(), &sums, 4, 4, true);
        assert_eq!(all.acquisition_costs.to_string(), "300.00");
        let none = value_in(
            period,
            "EUR".into(),
            &Sums {
                revenue: 5,
                ..Sums::default()
            },
            0,
            0,
            true,
        );
        assert_eq!(none.revenue_per_customer, None);
        assert_eq!(none.revenue_to_cost_ratio, None);
    }
}
