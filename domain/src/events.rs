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
//! | [`customer_erased`] | `CustomerService::erase` | loyalty (adjustment notes), feedback (free texts, live invitations) |

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
    Ok(changed)
}
