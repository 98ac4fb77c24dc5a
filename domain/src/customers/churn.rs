//! Relationship stage and churn history: moving a customer between stages,
//! recording that a customer left, and bringing a churned customer back.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use entity::{churn_events, customers};

use super::records::{load, writable};
use super::types::*;
use super::MAX_NOTE_LEN;
use crate::error::{DomainError, DomainResult};
use crate::validation::optional_text;

/// Moves a writable customer to `stage` and loads it back.
pub(crate) async fn set_stage(
    txn: &impl ConnectionTrait,
    id: i64,
    stage: RelationshipStage,
) -> DomainResult<Customer> {
    let current = writable(txn, id).await?;
    let mut model: customers::ActiveModel = current.into();
    model.relationship_stage = Set(stage.as_str().to_owned());
    model.updated_at = Set(Utc::now());
    model.update(txn).await?;
    load(txn, id).await
}

/// Checks a churn's note and instant before the transaction opens; returns
/// the trimmed note and the instant (defaulting to `now`).
pub(crate) fn check_churn(
    reason: ChurnReason,
    note: Option<&str>,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DomainResult<(Option<String>, DateTime<Utc>)> {
    let note = optional_text("note", note, MAX_NOTE_LEN)?;
    if reason == ChurnReason::Other && note.is_none() {
        return Err(DomainError::validation(
            "note",
            "is required when the reason is OTHER",
        ));
    }
    let at = at.unwrap_or(now);
    not_in_future("at", at, now)?;
    Ok((note, at))
}

/// Appends a churn event at `at` and marks the customer churned
/// (`DISSOLUTION`); loads it back.
pub(crate) async fn churn(
    txn: &impl ConnectionTrait,
    id: i64,
    reason: ChurnReason,
    note: Option<String>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Customer> {
    let current = writable(txn, id).await?;
    if current.churned_at.is_some() {
        return Err(DomainError::conflict("the customer has already churned"));
    }
    if at < current.acquired_at {
        return Err(DomainError::validation(
            "at",
            "must not be before the customer was acquired",
        ));
    }
    let last_reactivation = churn_events::Entity::find()
        .filter(churn_events::Column::CustomerId.eq(id))
        .filter(churn_events::Column::ReactivatedAt.is_not_null())
        .order_by_desc(churn_events::Column::ReactivatedAt)
        .one(txn)
        .await?
        .and_then(|e| e.reactivated_at);
    if last_reactivation.is_some_and(|r| at < r) {
        return Err(DomainError::validation(
            "at",
            "must not be before the customer's last reactivation",
        ));
    }
    churn_events::ActiveModel {
        customer_id: Set(id),
        churned_at: Set(at),
        reason: Set(reason.as_str().to_owned()),
        note: Set(note.clone()),
        reactivated_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut model: customers::ActiveModel = current.into();
    model.churned_at = Set(Some(at));
    model.churn_reason = Set(Some(reason.as_str().to_owned()));
    model.churn_note = Set(note);
    model.relationship_stage = Set(RelationshipStage::Dissolution.as_str().to_owned());
    model.updated_at = Set(now);
    model.update(txn).await?;
    crate::events::customer_churned(txn, id, reason.as_str(), at).await?;
    load(txn, id).await
}

/// Checks a reactivation instant before the transaction opens; returns it
/// (defaulting to `now`).
pub(crate) fn check_reactivation(
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DomainResult<DateTime<Utc>> {
    let at = at.unwrap_or(now);
    not_in_future("at", at, now)?;
    Ok(at)
}

/// Closes the open churn event at `at`, clears the churn fields
/// (`EXPLORATION`) and loads the customer back.
pub(crate) async fn reactivate(
    txn: &impl ConnectionTrait,
    id: i64,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Customer> {
    let current = writable(txn, id).await?;
    let Some(churned_at) = current.churned_at else {
        return Err(DomainError::conflict("the customer is not churned"));
    };
    if at < churned_at {
        return Err(DomainError::validation(
            "at",
            "must not be before the customer churned",
        ));
    }
    churn_events::Entity::update_many()
        .col_expr(churn_events::Column::ReactivatedAt, Expr::value(at))
        .filter(churn_events::Column::CustomerId.eq(id))
        .filter(churn_events::Column::ReactivatedAt.is_null())
        .exec(txn)
        .await?;
    let mut model: customers::ActiveModel = current.into();
    model.churned_at = Set(None);
    model.churn_reason = Set(None);
    model.churn_note = Set(None);
    model.relationship_stage = Set(RelationshipStage::Exploration.as_str().to_owned());
    model.updated_at = Set(now);
    model.update(txn).await?;
    load(txn, id).await
}
