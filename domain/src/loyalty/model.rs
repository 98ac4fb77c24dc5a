//! The loyalty area's domain types, built from rows and handed to the API.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{DomainError, DomainResult};
use crate::loyalty::ledger::LedgerReason;
use entity::{ledger_entries, loyalty_programs, loyalty_tiers, promotions, rewards};

/// A status level reached by lifetime points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    pub name: String,
    /// Lifetime points from which the tier applies.
    pub min_lifetime_points: i64,
    /// Multiplies purchase points earned in this tier.
    pub earn_multiplier: Decimal,
}

impl TryFrom<loyalty_tiers::Model> for Tier {
    type Error = DomainError;

    fn try_from(m: loyalty_tiers::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            earn_multiplier: stored_decimal(&m.earn_multiplier)?,
            name: m.name,
            min_lifetime_points: m.min_lifetime_points,
        })
    }
}

/// A loyalty programme with its tiers (lowest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub points_per_currency_unit: Decimal,
    pub points_expire_after_days: Option<i32>,
    pub referral_bonus_points: i64,
    pub referral_window_days: i32,
    pub birthday_bonus_points: i64,
    /// Whether a purchase by a non-member in the programme's currency enrols
    /// them (and earns).
    pub enroll_on_first_purchase: bool,
    /// Sorted by `min_lifetime_points`; the first one starts at 0.
    pub tiers: Vec<Tier>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Program {
    /// Builds a programme from its row and its tier rows (any order).
    ///
    /// # Errors
    /// `INTERNAL` when a stored decimal does not parse.
    pub fn from_rows(
        m: loyalty_programs::Model,
        tiers: Vec<loyalty_tiers::Model>,
    ) -> DomainResult<Self> {
        let mut tiers = tiers
            .into_iter()
            .map(Tier::try_from)
            .collect::<DomainResult<Vec<_>>>()?;
        tiers.sort_by_key(|t| t.min_lifetime_points);
        Ok(Self {
            id: m.id,
            points_per_currency_unit: stored_decimal(&m.points_per_currency_unit)?,
            name: m.name,
            currency: m.currency,
            points_expire_after_days: m.points_expire_after_days,
            referral_bonus_points: m.referral_bonus_points,
            referral_window_days: m.referral_window_days,
            birthday_bonus_points: m.birthday_bonus_points,
            enroll_on_first_purchase: m.enroll_on_first_purchase,
            tiers,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }

    /// When points earned at `earned_at` expire under this programme's rule.
    pub fn expiry_for(&self, earned_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.points_expire_after_days
            .map(|days| earned_at + chrono::Duration::days(i64::from(days)))
    }

    /// The tier for `lifetime_points` and the next one up, if any.
    pub fn tier_for(&self, lifetime_points: i64) -> (Option<&Tier>, Option<&Tier>) {
        tier_for(&self.tiers, lifetime_points)
    }
}

/// The highest tier whose minimum is reached, and the lowest one not yet
/// reached. `tiers` must be sorted by minimum.
pub fn tier_for(tiers: &[Tier], lifetime_points: i64) -> (Option<&Tier>, Option<&Tier>) {
    let reached = tiers
        .iter()
        .rev()
        .find(|t| t.min_lifetime_points <= lifetime_points);
    let next = tiers
        .iter()
        .find(|t| t.min_lifetime_points > lifetime_points);
    (reached, next)
}

/// A customer's membership of a programme, with its tier worked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub id: i64,
    pub customer_id: i64,
    pub program: Arc<Program>,
    pub balance: i64,
    pub lifetime_points: i64,
    pub enrolled_at: DateTime<Utc>,
}

impl Membership {
    /// The tier reached by lifetime points (the base tier at least).
    pub fn tier(&self) -> Option<&Tier> {
        self.program.tier_for(self.lifetime_points).0
    }

    /// The next tier up, if any.
    pub fn next_tier(&self) -> Option<&Tier> {
        self.program.tier_for(self.lifetime_points).1
    }

    /// Lifetime points still needed for the next tier (`None` at the top).
    pub fn points_to_next_tier(&self) -> Option<i64> {
        self.next_tier()
            .map(|t| t.min_lifetime_points.saturating_sub(self.lifetime_points))
    }
}

/// One ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub membership_id: i64,
    pub delta: i64,
    pub reason: LedgerReason,
    /// What the entry is for: `purchase:42`, `birthday:2026`, an idempotency key…
    pub reference: String,
    pub occurred_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub actor_id: Option<i64>,
    pub note: Option<String>,
}

/// The record a ledger entry credits points for, read from its reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerSource {
    /// `PURCHASE` and `PROMOTION` entries: the purchase.
    Purchase(i64),
    /// `FEEDBACK_INCENTIVE` and `HELPFUL_FEEDBACK` entries: the response.
    Response(i64),
    /// `REFERRAL` entries: the referred customer whose purchase earned it.
    ReferredCustomer(i64),
}

impl LedgerEntry {
    /// The record this entry is for, when it is one (birthdays, expiry,
    /// redemptions and adjustments have none).
    pub fn source(&self) -> Option<LedgerSource> {
        let (kind, rest) = self.reference.split_once(':')?;
        let id = rest.parse::<i64>().ok()?;
        match (self.reason, kind) {
            (LedgerReason::Purchase | LedgerReason::Promotion, "purchase") => {
                Some(LedgerSource::Purchase(id))
            }
            (LedgerReason::FeedbackIncentive, "response")
            | (LedgerReason::HelpfulFeedback, "helpful") => Some(LedgerSource::Response(id)),
            (LedgerReason::Referral, "referral") => Some(LedgerSource::ReferredCustomer(id)),
            _ => None,
        }
    }
}

impl TryFrom<ledger_entries::Model> for LedgerEntry {
    type Error = DomainError;

    fn try_from(m: ledger_entries::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            reason: LedgerReason::parse(&m.reason)?,
            id: m.id,
            membership_id: m.membership_id,
            delta: m.delta,
            reference: m.source_key,
            occurred_at: m.occurred_at,
            expires_at: m.expires_at,
            actor_id: m.actor_id,
            note: m.note,
        })
    }
}

/// A reward members can redeem points for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reward {
    pub id: i64,
    pub program_id: i64,
    pub name: String,
    pub cost_points: i64,
    /// Units left; `None` is unlimited.
    pub stock: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<rewards::Model> for Reward {
    fn from(m: rewards::Model) -> Self {
        Self {
            id: m.id,
            program_id: m.program_id,
            name: m.name,
            cost_points: m.cost_points,
            stock: m.stock,
            active: m.active,
            created_at: m.created_at,
        }
    }
}

/// A time-limited earning multiplier, optionally for one customer tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub id: i64,
    pub program_id: i64,
    pub name: String,
    pub multiplier: Decimal,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub tag: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<promotions::Model> for Promotion {
    type Error = DomainError;

    fn try_from(m: promotions::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            multiplier: stored_decimal(&m.multiplier)?,
            id: m.id,
            program_id: m.program_id,
            name: m.name,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            tag: m.tag,
            created_at: m.created_at,
        })
    }
}

/// A redeemed reward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    pub id: i64,
    pub reward: Reward,
    pub membership: Membership,
    pub entry: LedgerEntry,
    pub created_at: DateTime<Utc>,
}

/// A manual adjustment and the membership after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    pub entry: LedgerEntry,
    pub membership: Membership,
}

/// Points of one membership that will expire at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiringPoints {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// What a run of `expirePoints` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpiryRun {
    pub memberships_affected: i64,
    pub entries_written: i64,
    pub points_expired: i64,
}

/// What a run of `grantBirthdayBonuses` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BirthdayRun {
    pub members_credited: i64,
    pub points_credited: i64,
}

/// Parses a decimal the database holds as text.
///
/// # Errors
/// `INTERNAL`: stored decimals are validated on the way in.
pub(crate) fn stored_decimal(raw: &str) -> DomainResult<Decimal> {
    Decimal::from_str(raw)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored decimal {raw:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(name: &str, min: i64) -> Tier {
        Tier {
            name: name.into(),
            min_lifetime_points: min,
            earn_multiplier: Decimal::ONE,
        }
    }

    #[test]
    fn tiers_follow_lifetime_points() {
        let tiers = [tier("Bronze", 0), tier("Silver", 1000), tier("Gold", 5000)];
        let name = |(t, n): (Option<&Tier>, Option<&Tier>)| {
            (t.map(|t| t.name.clone()), n.map(|t| t.name.clone()))
        };
        let cases = [
            (0, Some("Bronze"), Some("Silver")),
            (999, Some("Bronze"), Some("Silver")),
            (1000, Some("Silver"), Some("Gold")),
            (5000, Some("Gold"), None),
            (9_999_999, Some("Gold"), None),
        ];
        for (points, reached, next) in cases {
            assert_eq!(
                name(tier_for(&tiers, points)),
                (reached.map(String::from), next.map(String::from)),
                "{points} lifetime points"
            );
        }
    }
}
