//! Relationship metrics (SPEC §7). Every staff role may read them.
//!
//! Periods are half-open `[from, to)` of UTC dates.

use async_graphql::{Context, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::metrics::MetricsFilter;
use crate::graphql::object::metrics::{
    CustomerValue, LoyaltyReport, RetentionRate, ReturnOnRelationship, ValuableCustomer,
};
use crate::graphql::scalar::Date;

#[derive(Default)]
pub struct MetricsQuery;

fn filter_of(filter: Option<MetricsFilter>) -> domain::metrics::MetricsFilter {
    filter.map(Into::into).unwrap_or_default()
}

#[Object]
impl MetricsQuery {
    /// Retention over the half-open period `[from, to)` of UTC dates (from
    /// `from` 00:00 UTC inclusive to `to` 00:00 UTC exclusive):
    /// `(E − N) / B · 100`. `from` after `to` or a period over ten years is
    /// `BAD_USER_INPUT`.
    async fn retention_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period (inclusive, UTC).")] from: Date,
        #[graphql(desc = "Day after the period (exclusive, UTC).")] to: Date,
        #[graphql(desc = "Only these customers.")] filter: Option<MetricsFilter>,
    ) -> ApiResult<RetentionRate> {
        let actor = ctx.actor()?;
        let rate = ctx
            .services()?
            .metrics
            .retention_rate(actor, from.0, to.0, filter_of(filter))
            .await?;
        Ok(RetentionRate(rate))
    }

    /// Return on relationship as of the end of `asOf` (UTC): of the customers
    /// who purchased at or before `asOf`, those helped within the
    /// `windowMonths` months ending with `asOf`, and of those the share who
    /// came by referral or bought at least twice.
    async fn return_on_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Last day counted (inclusive, UTC).")] as_of: Date,
        #[graphql(
            default = 12,
            desc = "Months of the helped window ending with `asOf`, 1 to 120."
        )]
        window_months: i32,
        #[graphql(desc = "Only these customers.")] filter: Option<MetricsFilter>,
    ) -> ApiResult<ReturnOnRelationship> {
        let actor = ctx.actor()?;
        let ror = ctx
            .services()?
            .metrics
            .return_on_relationship(actor, as_of.0, window_months, filter_of(filter))
            .await?;
        Ok(ReturnOnRelationship(ror))
    }

    /// Customer value over the half-open period `[from, to)` of UTC dates,
    /// one row per currency with purchases or costs in the period (ordered
    /// by currency code).
    async fn customer_value(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period (inclusive, UTC).")] from: Date,
        #[graphql(desc = "Day after the period (exclusive, UTC).")] to: Date,
        #[graphql(desc = "Only these customers.")] filter: Option<MetricsFilter>,
    ) -> ApiResult<Vec<CustomerValue>> {
        let actor = ctx.actor()?;
        let values = ctx
            .services()?
            .metrics
            .customer_value(actor, from.0, to.0, filter_of(filter))
            .await?;
        Ok(values.into_iter().map(CustomerValue).collect())
    }

    /// The `first` active customers with the highest margin over the
    /// half-open period `[from, to)` of UTC dates, in each currency (ordered
    /// by currency, then rank); ties go to the lower id.
    async fn most_valuable_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period (inclusive, UTC).")] from: Date,
        #[graphql(desc = "Day after the period (exclusive, UTC).")] to: Date,
        #[graphql(default = 10, desc = "Customers per currency, 1 to 100.")] first: i32,
        #[graphql(desc = "Only this ISO 4217 currency.")] currency: Option<String>,
        #[graphql(desc = "Only these customers.")] filter: Option<MetricsFilter>,
    ) -> ApiResult<Vec<ValuableCustomer>> {
        let actor = ctx.actor()?;
        let ranked = ctx
            .services()?
            .metrics
            .most_valuable_customers(actor, from.0, to.0, first, currency, filter_of(filter))
            .await?;
        Ok(ranked.into_iter().map(ValuableCustomer).collect())
    }

    /// The loyalty report over the half-open period `[from, to)` of UTC dates.
    async fn loyalty_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period (inclusive, UTC).")] from: Date,
        #[graphql(desc = "Day after the period (exclusive, UTC).")] to: Date,
        #[graphql(desc = "Only these customers.")] filter: Option<MetricsFilter>,
    ) -> ApiResult<LoyaltyReport> {
        let actor = ctx.actor()?;
        let report = ctx
            .services()?
            .metrics
            .loyalty_report(actor, from.0, to.0, filter_of(filter))
            .await?;
        Ok(LoyaltyReport(report))
    }
}
