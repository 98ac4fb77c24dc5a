//! Activity on a customer: touchpoints (interactions), purchases and costs.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use entity::{costs, interactions, purchases};

use super::records::writable;
use super::types::*;
use super::MAX_NOTE_LEN;
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::money::Money;
use crate::validation::optional_text;

/// A touchpoint to record.
#[derive(Clone, Debug)]
pub struct NewInteraction {
    pub customer_id: i64,
    pub channel: Channel,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub helped: bool,
}

/// A purchase to record.
#[derive(Clone, Debug)]
pub struct NewPurchase {
    pub customer_id: i64,
    pub money: Money,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub external_ref: String,
}

/// A cost to record.
#[derive(Clone, Debug)]
pub struct NewCost {
    /// `None` for costs not tied to one customer (a campaign).
    pub customer_id: Option<i64>,
    pub kind: CostKind,
    pub money: Money,
    /// Defaults to today.
    pub incurred_on: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Checks a touchpoint before the transaction opens; returns the trimmed
/// summary and the instant (defaulting to `now`).
pub(crate) fn check_interaction(
    input: &NewInteraction,
    now: DateTime<Utc>,
) -> DomainResult<(Option<String>, DateTime<Utc>)> {
    let summary = optional_text("summary", input.summary.as_deref(), MAX_NOTE_LEN)?;
    let occurred_at = input.occurred_at.unwrap_or(now);
    not_in_future("occurredAt", occurred_at, now)?;
    Ok((summary, occurred_at))
}

/// Inserts a checked touchpoint on a writable customer.
pub(crate) async fn insert_interaction(
    txn: &impl ConnectionTrait,
    input: NewInteraction,
    summary: Option<String>,
    occurred_at: DateTime<Utc>,
    recorded_by: i64,
    now: DateTime<Utc>,
) -> DomainResult<interactions::Model> {
    writable(txn, input.customer_id).await?;
    let model = interactions::ActiveModel {
        customer_id: Set(input.customer_id),
        channel: Set(input.channel.as_str().to_owned()),
        occurred_at: Set(occurred_at),
        summary: Set(summary),
        helped: Set(input.helped),
        recorded_by: Set(Some(recorded_by)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(model)
}

/// Checks a purchase before the transaction opens; returns the external
/// reference and the instant (defaulting to `now`).
pub(crate) fn check_purchase(
    input: &NewPurchase,
    now: DateTime<Utc>,
) -> DomainResult<(String, DateTime<Utc>)> {
    let external_ref = crate::validation::required_text("externalRef", &input.external_ref, 200)?;
    let occurred_at = input.occurred_at.unwrap_or(now);
    not_in_future("occurredAt", occurred_at, now)?;
    Ok((external_ref, occurred_at))
}

/// Inserts a checked purchase on a writable customer, refusing one dated
/// before the customer's acquisition.
pub(crate) async fn insert_purchase(
    txn: &impl ConnectionTrait,
    input: NewPurchase,
    external_ref: String,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Purchase> {
    let customer = writable(txn, input.customer_id).await?;
    if occurred_at < customer.acquired_at {
        return Err(DomainError::validation(
            "occurredAt",
            format!(
                "must not be before the customer was acquired ({})",
                customer
                    .acquired_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
        ));
    }
    let model = purchases::ActiveModel {
        customer_id: Set(input.customer_id),
        amount_minor: Set(input.money.amount_minor()),
        currency: Set(input.money.currency().code().to_owned()),
        occurred_at: Set(occurred_at),
        external_ref: Set(external_ref),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .on_unique("this purchase (external reference) is already recorded for the customer")?;
    Purchase::try_from(model)
}

/// Checks a cost before the transaction opens; returns the trimmed note and
/// the day (defaulting to today).
pub(crate) fn check_cost(
    input: &NewCost,
    now: DateTime<Utc>,
) -> DomainResult<(Option<String>, NaiveDate)> {
    let note = optional_text("note", input.note.as_deref(), MAX_NOTE_LEN)?;
    let incurred_on = input.incurred_on.unwrap_or_else(|| now.date_naive());
    if incurred_on > (now + chrono::Duration::days(1)).date_naive() {
        return Err(DomainError::validation(
            "incurredOn",
            "must not be more than a day in the future",
        ));
    }
    Ok((note, incurred_on))
}

/// Inserts a checked cost, on a writable customer when it names one.
pub(crate) async fn insert_cost(
    txn: &impl ConnectionTrait,
    input: NewCost,
    note: Option<String>,
    incurred_on: NaiveDate,
    now: DateTime<Utc>,
) -> DomainResult<costs::Model> {
    if let Some(customer_id) = input.customer_id {
        writable(txn, customer_id).await?;
    }
    let model = costs::ActiveModel {
        customer_id: Set(input.customer_id),
        kind: Set(input.kind.as_str().to_owned()),
        amount_minor: Set(input.money.amount_minor()),
        currency: Set(input.money.currency().code().to_owned()),
        incurred_on: Set(incurred_on),
        note: Set(note),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(model)
}
