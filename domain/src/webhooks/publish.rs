//! Publishing events to the endpoints subscribed to them, inside the
//! transaction of the change (called through `crate::events`).
//!
//! Each publication costs one query when no endpoint is subscribed; the
//! payload, and any read it needs, is built only when one is.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{json, Value};

use super::Event;
use crate::error::DomainResult;
use crate::outbox::{self, Channel, NewMessage};
use crate::sql::Params;
use entity::{follow_ups, ledger_entries, memberships};

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The enabled endpoints subscribed to `event`.
async fn subscribers(db: &impl ConnectionTrait, event: Event) -> DomainResult<Vec<i64>> {
    let mut params = Params::new();
    params
        .bind("pattern", format!("% {} %", event.as_str()))
        .bind("enabled", true);
    let rows = db
        .query_all_raw(params.statement(
            db.get_database_backend(),
            "SELECT id FROM webhook_endpoints WHERE enabled = :enabled AND events LIKE :pattern ORDER BY id",
        )?)
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<i64>("", "id")?))
        .collect()
}

/// Queues one message per endpoint in `endpoints`, the payload
/// `{type, timestamp, data}`.
async fn enqueue(
    db: &impl ConnectionTrait,
    endpoints: &[i64],
    event: Event,
    data: Value,
) -> DomainResult<()> {
    let payload = json!({
        "type": event.as_str(),
        "timestamp": time(Utc::now()),
        "data": data,
    });
    for endpoint in endpoints {
        outbox::enqueue(
            db,
            NewMessage {
                channel: Channel::Webhook,
                topic: event.as_str().to_owned(),
                target: Some(endpoint.to_string()),
                payload: payload.clone(),
                not_before: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// `survey.response.submitted`.
///
/// # Errors
/// Database failures.
pub(crate) async fn on_response_submitted(
    db: &impl ConnectionTrait,
    response_id: i64,
    survey_id: i64,
    customer_id: i64,
    submitted_at: DateTime<Utc>,
    csi: Option<Decimal>,
    points_awarded: i64,
) -> DomainResult<()> {
    let event = Event::SurveyResponseSubmitted;
    let endpoints = subscribers(db, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let data = json!({
        "responseId": response_id,
        "surveyId": survey_id,
        "customerId": customer_id,
        "submittedAt": time(submitted_at),
        "csi": csi.map(|c| c.normalize().to_string()),
        "pointsAwarded": points_awarded,
    });
    enqueue(db, &endpoints, event, data).await
}

/// `survey.followup.created`, for the follow-up just opened for
/// `response_id`.
///
/// # Errors
/// Database failures.
pub(crate) async fn on_follow_up_created(
    db: &impl ConnectionTrait,
    response_id: i64,
    survey_id: i64,
) -> DomainResult<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let event = Event::SurveyFollowUpCreated;
    let endpoints = subscribers(db, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let Some(follow_up) = follow_ups::Entity::find()
        .filter(follow_ups::Column::ResponseId.eq(response_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let data = json!({
        "followUpId": follow_up.id,
        "responseId": response_id,
        "surveyId": survey_id,
        "customerId": follow_up.customer_id,
        "reasons": follow_up.reason.split(',').collect::<Vec<_>>(),
        "status": follow_up.status,
        "openedAt": time(follow_up.opened_at),
    });
    enqueue(db, &endpoints, event, data).await
}

/// `loyalty.points.credited`, for a credit entry just appended.
///
/// # Errors
/// Database failures.
pub(crate) async fn on_points_credited(
    db: &impl ConnectionTrait,
    entry: &ledger_entries::Model,
) -> DomainResult<()> {
    let event = Event::LoyaltyPointsCredited;
    let endpoints = subscribers(db, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let Some(membership) = memberships::Entity::find_by_id(entry.membership_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let data = json!({
        "ledgerEntryId": entry.id,
        "membershipId": membership.id,
        "programId": membership.program_id,
        "customerId": membership.customer_id,
        "points": entry.delta,
        "reason": entry.reason,
        "occurredAt": time(entry.occurred_at),
        "expiresAt": entry.expires_at.map(time),
    });
    enqueue(db, &endpoints, event, data).await
}

/// What a redemption event tells.
pub(crate) struct Redeemed {
    pub redemption_id: i64,
    pub membership_id: i64,
    pub program_id: i64,
    pub customer_id: i64,
    pub reward_id: i64,
    pub ledger_entry_id: i64,
    pub points: i64,
    pub redeemed_at: DateTime<Utc>,
}

/// `loyalty.reward.redeemed`.
///
/// # Errors
/// Database failures.
pub(crate) async fn on_reward_redeemed(
    db: &impl ConnectionTrait,
    redeemed: &Redeemed,
) -> DomainResult<()> {
    let event = Event::LoyaltyRewardRedeemed;
    let endpoints = subscribers(db, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let data = json!({
        "redemptionId": redeemed.redemption_id,
        "membershipId": redeemed.membership_id,
        "programId": redeemed.program_id,
        "customerId": redeemed.customer_id,
        "rewardId": redeemed.reward_id,
        "ledgerEntryId": redeemed.ledger_entry_id,
        "points": redeemed.points,
        "redeemedAt": time(redeemed.redeemed_at),
    });
    enqueue(db, &endpoints, event, data).await
}

/// `customer.churned` (the reason code; never the free-text note).
///
/// # Errors
/// Database failures.
pub(crate) async fn on_customer_churned(
    db: &impl ConnectionTrait,
    customer_id: i64,
    reason: &str,
    churned_at: DateTime<Utc>,
) -> DomainResult<()> {
    let event = Event::CustomerChurned;
    let endpoints = subscribers(db, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let data = json!({
        "customerId": customer_id,
        "reason": reason,
        "churnedAt": time(churned_at),
    });
    enqueue(db, &endpoints, event, data).await
}

/// `customer.erased`: the id and the time only.
///
/// # Errors
/// Database failures.
pub(crate) async fn on_customer_erased(
    db: &impl ConnectionTrait,
    customer_id: i64,
    erased_at: DateTime<Utc>,
) -> DomainResult<()> {
    let event = Event::CustomerErased;
    let endpoints = subscribers(db, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let data = json!({
        "customerId": customer_id,
        "erasedAt": time(erased_at),
    });
    enqueue(db, &endpoints, event, data).await
}
