//! Domain events: what one area tells the others, in one place.
//!
//! The area that owns a change (and its transaction) dispatches the event
//! here; this module alone names the areas that react, and runs them inside
//! the same transaction, so a failure rolls the whole change back. The
//! owning area never names its subscribers: the arrows between areas run one
//! way (customers → events → loyalty, feedback; loyalty and feedback read
//! customers' types, never the other way round).
//!
//! | Event | Dispatched by | Subscribers, in order |
//! |---|---|---|
//! | [`purchase_recorded`] | `CustomerService::record_purchase` | loyalty (enrolment, earning, referral bonus) |
//! | [`customer_erased`] | `CustomerService::erase` | loyalty (adjustment notes), feedback (free texts, live invitations), webhooks |
//! | [`customer_churned`] | `customers::churn` | webhooks |
//! | [`response_submitted`] | `feedback::submission::record` | webhooks |
//! | [`follow_up_created`] | `feedback::submission::record` | webhooks |
//! | [`points_credited`] | `loyalty::ledger::append` (every credit) | webhooks |
//! | [`reward_redeemed`] | `loyalty::rewards::redeem` | webhooks |

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::customers::Purchase;
use crate::error::DomainResult;

/// A purchase was stored. Runs in the recording transaction.
///
/// # Errors
/// What a subscriber reports (`BAD_USER_INPUT` on `amount` when the points
/// would overflow; database failures); the caller's transaction then rolls
/// back.
pub(crate) async fn purchase_recorded(
    db: &impl ConnectionTrait,
    purchase: &Purchase,
) -> DomainResult<()> {
    crate::loyalty::on_purchase_recorded(db, purchase).await
}

/// Customer `customer_id`'s personal data was blanked at `at`. Runs in the
/// erasure's transaction. Returns the tables in which the subscribers
/// removed free text (whose old row versions the scrubber then removes).
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub(crate) async fn customer_erased(
    db: &impl ConnectionTrait,
    customer_id: i64,
    at: DateTime<Utc>,
) -> DomainResult<Vec<&'static str>> {
    let mut changed = crate::loyalty::on_customer_erased(db, customer_id).await?;
    changed.extend(crate::feedback::on_customer_erased(db, customer_id, at).await?);
    crate::webhooks::on_customer_erased(db, customer_id, at).await?;
    Ok(changed)
}

/// Customer `customer_id` churned at `at` for `reason` (its stored code).
/// Runs in the churn's transaction.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub(crate) async fn customer_churned(
    db: &impl ConnectionTrait,
    customer_id: i64,
    reason: &str,
    at: DateTime<Utc>,
) -> DomainResult<()> {
    crate::webhooks::on_customer_churned(db, customer_id, reason, at).await
}

/// A survey response was stored. Runs in the submission's transaction.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub(crate) async fn response_submitted(
    db: &impl ConnectionTrait,
    response: &SubmittedResponse,
) -> DomainResult<()> {
    crate::webhooks::on_response_submitted(
        db,
        response.response_id,
        response.survey_id,
        response.customer_id,
        response.submitted_at,
        response.csi,
        response.points_awarded,
    )
    .await
}

/// What [`response_submitted`] tells.
pub(crate) struct SubmittedResponse {
    pub response_id: i64,
    pub survey_id: i64,
    pub customer_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub csi: Option<rust_decimal::Decimal>,
    pub points_awarded: i64,
}

/// A follow-up was opened for response `response_id` of survey
/// `survey_id`. Runs in the submission's transaction.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub(crate) async fn follow_up_created(
    db: &impl ConnectionTrait,
    response_id: i64,
    survey_id: i64,
) -> DomainResult<()> {
    crate::webhooks::on_follow_up_created(db, response_id, survey_id).await
}

/// Points were credited (`entry.delta > 0`). Runs in the crediting
/// transaction.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub(crate) async fn points_credited(
    db: &impl ConnectionTrait,
    entry: &entity::ledger_entries::Model,
) -> DomainResult<()> {
    crate::webhooks::on_points_credited(db, entry).await
}

/// A reward was redeemed. Runs in the redemption's transaction.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub(crate) async fn reward_redeemed(
    db: &impl ConnectionTrait,
    redeemed: &crate::webhooks::Redeemed,
) -> DomainResult<()> {
    crate::webhooks::on_reward_redeemed(db, redeemed).await
}
