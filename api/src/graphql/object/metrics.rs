//! Relationship metrics (SPEC §7): each result carries its inputs.
//!
//! Periods are half-open `[from, to)` of UTC dates: from `from` 00:00 UTC
//! (inclusive) to `to` 00:00 UTC (exclusive).

use crate::graphql::scalar::Decimal;
use async_graphql::{Enum, Object, ID};

use crate::graphql::scalar::{global_id, Date, NodeType};

pub use crate::graphql::object::customer::{ChurnReason, RelationshipStage, RelationshipType};

/// Why a metric's result is null; `reason` beside it says it in words.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::metrics::NullReason")]
pub enum MetricNullReason {
    /// Retention: no customers at the start of the period (`B = 0`).
    NoCustomersAtStart,
    /// Return on relationship: no purchasing customer was helped within the
    /// window.
    NoHelpedCustomers,
}

/// Retention over the period `[from, to)`:
/// `ratePercent = (customersAtEnd − newCustomers) / customersAtStart · 100`.
/// `customersAtStart + newCustomers − lostCustomers = customersAtEnd` always.
pub struct RetentionRate(pub domain::metrics::RetentionRate);

#[Object]
impl RetentionRate {
    /// First day of the period (inclusive, from 00:00 UTC).
    async fn from(&self) -> Date {
        Date(self.0.period.from)
    }
    /// Day after the period (exclusive, at 00:00 UTC).
    async fn to(&self) -> Date {
        Date(self.0.period.to)
    }
    /// `B`: customers at `from` 00:00 UTC (acquired before it and not churned
    /// just before it).
    async fn customers_at_start(&self) -> i64 {
        self.0.customers_at_start
    }
    /// `E`: customers at `to` 00:00 UTC.
    async fn customers_at_end(&self) -> i64 {
        self.0.customers_at_end
    }
    /// `N`: customers gained in `[from, to)` — acquired in it, or won back
    /// (churned before `from` and reactivated in it; see
    /// `reactivatedCustomers`).
    async fn new_customers(&self) -> i64 {
        self.0.new_customers
    }
    /// Net loss, `B + N − E`; never negative.
    async fn lost_customers(&self) -> i64 {
        self.0.lost_customers
    }
    /// Customers at the start or gained in the period who are not customers
    /// at the end (equal to `lostCustomers`).
    async fn churned_customers(&self) -> i64 {
        self.0.churned_customers
    }
    /// Win-backs: the part of `newCustomers` who had churned before the period
    /// and were reactivated in it (counted even if they churned again).
    async fn reactivated_customers(&self) -> i64 {
        self.0.reactivated_customers
    }
    /// `(E − N) / B · 100`, rounded to 2 decimal places half away from zero;
    /// null when `B = 0` (see `reason`).
    async fn rate_percent(&self) -> Option<Decimal> {
        self.0.rate_percent.map(Into::into)
    }
    /// Why `ratePercent` is null, as a code; null when it is not.
    async fn reason_code(&self) -> Option<MetricNullReason> {
        self.0.reason.map(Into::into)
    }
    /// Why `ratePercent` is null, in words (the description of
    /// `reasonCode`); null when it is not.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.map(|r| r.description())
    }
}

/// Return on relationship as of the end of `asOf` (UTC):
/// `rorPercent = referralOrRepeatCustomers / helpedCustomers · 100`.
pub struct ReturnOnRelationship(pub domain::metrics::ReturnOnRelationship);

#[Object]
impl ReturnOnRelationship {
    /// The last day counted (inclusive).
    async fn as_of(&self) -> Date {
        Date(self.0.window.as_of)
    }
    /// Months of the window ending with `asOf`.
    async fn window_months(&self) -> i32 {
        self.0.window.months
    }
    /// First day of the window (inclusive).
    async fn window_start(&self) -> Date {
        Date(self.0.window.start.date_naive())
    }
    /// Customers with at least one purchase at or before `asOf`.
    async fn purchasing_customers(&self) -> i64 {
        self.0.purchasing_customers
    }
    /// Of them, those with an interaction marked helped within the window.
    async fn helped_customers(&self) -> i64 {
        self.0.helped_customers
    }
    /// Of the helped, those who came by referral or have at least two
    /// purchases at or before `asOf`.
    async fn referral_or_repeat_customers(&self) -> i64 {
        self.0.referral_or_repeat_customers
    }
    /// Of the helped, those who came by referral.
    async fn referred_customers(&self) -> i64 {
        self.0.referred_customers
    }
    /// Of the helped, those with at least two purchases.
    async fn repeat_customers(&self) -> i64 {
        self.0.repeat_customers
    }
    /// `referralOrRepeatCustomers / helpedCustomers · 100`, 2 decimal places
    /// half away from zero; null when no customer was helped.
    async fn ror_percent(&self) -> Option<Decimal> {
        self.0.ror_percent.map(Into::into)
    }
    /// Why `rorPercent` is null, as a code; null when it is not.
    async fn reason_code(&self) -> Option<MetricNullReason> {
        self.0.reason.map(Into::into)
    }
    /// Why `rorPercent` is null, in words (the description of
    /// `reasonCode`); null when it is not.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.map(|r| r.description())
    }
}

/// Customer value over `[from, to)` in one currency. Money is rounded to the
/// currency's minor unit; unattributed costs are shared equally among active
/// customers when a filter narrows the customers.
pub struct CustomerValue(pub domain::metrics::CustomerValue);

#[Object]
impl CustomerValue {
    /// First day of the period (inclusive).
    async fn from(&self) -> Date {
        Date(self.0.period.from)
    }
    /// Day after the period (exclusive).
    async fn to(&self) -> Date {
        Date(self.0.period.to)
    }
    /// ISO 4217 code of every amount in this row.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Purchases in the period.
    async fn revenue(&self) -> Decimal {
        self.0.revenue.into()
    }
    /// Acquisition costs incurred in the period.
    async fn acquisition_costs(&self) -> Decimal {
        self.0.acquisition_costs.into()
    }
    /// Care costs incurred in the period.
    async fn care_costs(&self) -> Decimal {
        self.0.care_costs.into()
    }
    /// Customers active in the period: a customer at some instant of it, or
    /// a purchaser in it.
    async fn customer_count(&self) -> i64 {
        self.0.customer_count
    }
    /// `revenue / customerCount`; null without customers.
    async fn revenue_per_customer(&self) -> Option<Decimal> {
        self.0.revenue_per_customer.map(Into::into)
    }
    /// `(acquisitionCosts + careCosts) / customerCount`; null without customers.
    async fn cost_per_customer(&self) -> Option<Decimal> {
        self.0.cost_per_customer.map(Into::into)
    }
    /// `(revenue − costs) / customerCount`; null without customers.
    async fn margin_per_customer(&self) -> Option<Decimal> {
        self.0.margin_per_customer.map(Into::into)
    }
    /// `revenue / (acquisitionCosts + careCosts)`, 2 decimal places; null when
    /// costs are zero.
    async fn revenue_to_cost_ratio(&self) -> Option<Decimal> {
        self.0.revenue_to_cost_ratio.map(Into::into)
    }
}

/// A customer ranked by margin in one currency over `[from, to)`:
/// `margin = revenue − attributedCareCosts − sharedCareCosts`.
pub struct ValuableCustomer(pub domain::metrics::ValuableCustomer);

#[Object]
impl ValuableCustomer {
    /// 1 for the highest margin in the currency.
    async fn rank(&self) -> i64 {
        self.0.rank
    }
    /// The customer's id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The customer (batched).
    async fn customer(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::graphql::error::ApiResult<Option<crate::graphql::object::customer::Customer>> {
        crate::graphql::object::link::customer(ctx, Some(self.0.customer_id)).await
    }
    /// The customer's name (as stored; erased customers show the placeholder).
    async fn customer_name(&self) -> &str {
        &self.0.customer_name
    }
    /// ISO 4217 code of every amount in this row.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// The customer's purchases in the period.
    async fn revenue(&self) -> Decimal {
        self.0.revenue.into()
    }
    /// Care costs recorded against the customer in the period.
    async fn attributed_care_costs(&self) -> Decimal {
        self.0.attributed_care_costs.into()
    }
    /// The customer's equal share of care costs recorded without a customer.
    async fn shared_care_costs(&self) -> Decimal {
        self.0.shared_care_costs.into()
    }
    /// `revenue − attributedCareCosts − sharedCareCosts`.
    async fn margin(&self) -> Decimal {
        self.0.margin.into()
    }
}

/// Churn events of one reason in the period.
pub struct ChurnByReason(pub domain::metrics::ChurnByReason);

#[Object]
impl ChurnByReason {
    /// The reason.
    async fn reason(&self) -> ChurnReason {
        self.0.reason.into()
    }
    /// Churn events with this reason in the period.
    async fn count(&self) -> i64 {
        self.0.count
    }
    /// Share of all churn events in the period, 2 decimal places; null when
    /// there were none.
    async fn share_percent(&self) -> Option<Decimal> {
        self.0.share_percent.map(Into::into)
    }
}

/// Active customers in one relationship stage.
pub struct CustomersByStage(pub domain::metrics::CustomersByStage);

#[Object]
impl CustomersByStage {
    /// The stage (the customer's current one).
    async fn stage(&self) -> RelationshipStage {
        self.0.stage.into()
    }
    /// Active customers in it.
    async fn count(&self) -> i64 {
        self.0.count
    }
}

/// Active customers of one relationship type.
pub struct CustomersByType(pub domain::metrics::CustomersByType);

#[Object]
impl CustomersByType {
    /// The type; null for customers without one.
    async fn relationship_type(&self) -> Option<RelationshipType> {
        self.0.relationship_type.map(Into::into)
    }
    /// Active customers of it.
    async fn count(&self) -> i64 {
        self.0.count
    }
}

/// The loyalty report over `[from, to)`, over the customers active in the
/// period. Percentages have 2 decimal places (half away from zero) and are
/// null when their denominator is zero.
pub struct LoyaltyReport(pub domain::metrics::LoyaltyReport);

#[Object]
impl LoyaltyReport {
    /// First day of the period (inclusive).
    async fn from(&self) -> Date {
        Date(self.0.period.from)
    }
    /// Day after the period (exclusive).
    async fn to(&self) -> Date {
        Date(self.0.period.to)
    }
    /// Customers active in the period: the base of the report.
    async fn customers(&self) -> i64 {
        self.0.customers
    }
    /// Of them, with at least one purchase by the end of the period.
    async fn purchasing_customers(&self) -> i64 {
        self.0.purchasing_customers
    }
    /// With at least two purchases by the end of the period.
    async fn repeat_customers(&self) -> i64 {
        self.0.repeat_customers
    }
    /// With at least five purchases by the end of the period.
    async fn loyal_customers(&self) -> i64 {
        self.0.loyal_customers
    }
    /// `repeatCustomers / purchasingCustomers · 100`.
    async fn repeat_purchase_rate_percent(&self) -> Option<Decimal> {
        self.0.repeat_purchase_rate_percent.map(Into::into)
    }
    /// `loyalCustomers / customers · 100`.
    async fn loyal_customer_share_percent(&self) -> Option<Decimal> {
        self.0.loyal_customer_share_percent.map(Into::into)
    }
    /// Average days from acquisition to the churn in force at the end of the
    /// period, or to the end of the period; 2 decimal places.
    async fn average_relationship_days(&self) -> Option<Decimal> {
        self.0.average_relationship_days.map(Into::into)
    }
    /// Churn events in the period.
    async fn churn_count(&self) -> i64 {
        self.0.churn_count
    }
    /// Churn events in the period for every reason.
    async fn churn_by_reason(&self) -> Vec<ChurnByReason> {
        self.0
            .churn_by_reason
            .iter()
            .cloned()
            .map(ChurnByReason)
            .collect()
    }
    /// Active customers for every relationship stage (current stage).
    async fn customers_by_stage(&self) -> Vec<CustomersByStage> {
        self.0
            .customers_by_stage
            .iter()
            .cloned()
            .map(CustomersByStage)
            .collect()
    }
    /// Active customers for every relationship type, then those without one.
    async fn customers_by_type(&self) -> Vec<CustomersByType> {
        self.0
            .customers_by_type
            .iter()
            .cloned()
            .map(CustomersByType)
            .collect()
    }
    /// Survey invitations created in the period.
    async fn survey_invitations(&self) -> i64 {
        self.0.survey_invitations
    }
    /// Of them, answered by the end of the period.
    async fn survey_responses(&self) -> i64 {
        self.0.survey_responses
    }
    /// `surveyResponses / surveyInvitations · 100`.
    async fn feedback_participation_percent(&self) -> Option<Decimal> {
        self.0.feedback_participation_percent.map(Into::into)
    }
    /// Points credited in the period (positive ledger entries other than
    /// redemption and expiry corrections).
    async fn points_issued(&self) -> i64 {
        self.0.points_issued
    }
    /// Points redeemed in the period (net of reversals).
    async fn points_redeemed(&self) -> i64 {
        self.0.points_redeemed
    }
    /// Points expired in the period.
    async fn points_expired(&self) -> i64 {
        self.0.points_expired
    }
}
