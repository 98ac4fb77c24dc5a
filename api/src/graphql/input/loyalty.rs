//! Inputs of the loyalty mutations.

use crate::graphql::scalar::Date;
use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{Enum, InputObject, MaybeUndefined, ID};

use crate::graphql::input::customer::OrderDirection;
use crate::graphql::object::loyalty::LedgerReason;

/// A tier of a programme.
#[derive(InputObject)]
#[graphql(name = "LoyaltyTierInput")]
pub struct LoyaltyTierInput {
    /// Unique name within the programme.
    pub name: String,
    /// Lifetime points from which it applies; one tier must start at 0.
    pub min_lifetime_points: i64,
    /// Multiplier on purchase points, greater than 0 (at most 100).
    pub earn_multiplier: Decimal,
}

impl From<LoyaltyTierInput> for domain::loyalty::TierInput {
    fn from(t: LoyaltyTierInput) -> Self {
        Self {
            name: t.name,
            min_lifetime_points: t.min_lifetime_points,
            earn_multiplier: t.earn_multiplier.0,
        }
    }
}

/// A new loyalty programme.
#[derive(InputObject)]
pub struct CreateLoyaltyProgramInput {
    /// Display name.
    pub name: String,
    /// ISO 4217 code of the purchases that earn points.
    pub currency: String,
    /// Points per currency unit, greater than 0 (at most 10000).
    pub points_per_currency_unit: Decimal,
    /// Days after which earned points expire; leave out for never.
    pub points_expire_after_days: Option<i32>,
    /// Tiers, including a base tier starting at 0 lifetime points.
    pub tiers: Vec<LoyaltyTierInput>,
    /// Points for the referrer of a customer whose first purchase falls in the window.
    #[graphql(default = 0)]
    pub referral_bonus_points: i64,
    /// Days after the referred customer's acquisition that the window lasts.
    #[graphql(default = 30)]
    pub referral_window_days: i32,
    /// Points on a consenting member's birthday, once a year.
    #[graphql(default = 0)]
    pub birthday_bonus_points: i64,
    /// Enrol a customer who is not a member when they make a purchase in the
    /// programme's currency, so the purchase earns (default true).
    #[graphql(default = true)]
    pub enroll_on_first_purchase: bool,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl From<CreateLoyaltyProgramInput> for domain::loyalty::NewProgram {
    fn from(i: CreateLoyaltyProgramInput) -> Self {
        Self {
            name: i.name,
            currency: i.currency,
            points_per_currency_unit: i.points_per_currency_unit.0,
            points_expire_after_days: i.points_expire_after_days,
            tiers: i.tiers.into_iter().map(Into::into).collect(),
            referral_bonus_points: i.referral_bonus_points,
            referral_window_days: i.referral_window_days,
            birthday_bonus_points: i.birthday_bonus_points,
            enroll_on_first_purchase: i.enroll_on_first_purchase,
        }
    }
}

/// Changes to a programme; fields left out keep their value. The currency
/// cannot change.
#[derive(InputObject)]
pub struct UpdateLoyaltyProgramInput {
    /// The programme's id.
    pub id: ID,
    /// Display name.
    pub name: Option<String>,
    /// Points per currency unit, greater than 0.
    pub points_per_currency_unit: Option<Decimal>,
    /// Days after which newly earned points expire; null for never.
    pub points_expire_after_days: MaybeUndefined<i32>,
    /// Replaces all tiers (a base tier at 0 is required).
    pub tiers: Option<Vec<LoyaltyTierInput>>,
    /// Referral bonus points.
    pub referral_bonus_points: Option<i64>,
    /// Referral window in days.
    pub referral_window_days: Option<i32>,
    /// Birthday bonus points.
    pub birthday_bonus_points: Option<i64>,
    /// Enrol non-members on a purchase in the programme's currency.
    pub enroll_on_first_purchase: Option<bool>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl From<UpdateLoyaltyProgramInput> for domain::loyalty::ProgramPatch {
    fn from(i: UpdateLoyaltyProgramInput) -> Self {
        Self {
            name: i.name,
            points_per_currency_unit: i.points_per_currency_unit.map(Into::into),
            points_expire_after_days: match i.points_expire_after_days {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(days) => Some(Some(days)),
            },
            tiers: i.tiers.map(|t| t.into_iter().map(Into::into).collect()),
            referral_bonus_points: i.referral_bonus_points,
            referral_window_days: i.referral_window_days,
            birthday_bonus_points: i.birthday_bonus_points,
            enroll_on_first_purchase: i.enroll_on_first_purchase,
        }
    }
}

/// Changes to a reward; fields left out keep their value.
#[derive(InputObject)]
pub struct UpdateRewardInput {
    /// The reward's id.
    pub id: ID,
    /// Display name.
    pub name: Option<String>,
    /// Points one redemption costs (greater than 0).
    pub cost_points: Option<i64>,
    /// Units left (restock); null for unlimited.
    pub stock: MaybeUndefined<i64>,
    /// False withdraws the reward: redeeming it is then `CONFLICT`.
    pub active: Option<bool>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl From<UpdateRewardInput> for domain::loyalty::RewardPatch {
    fn from(i: UpdateRewardInput) -> Self {
        Self {
            name: i.name,
            cost_points: i.cost_points,
            stock: match i.stock {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(units) => Some(Some(units)),
            },
            active: i.active,
        }
    }
}

/// A new promotion.
#[derive(InputObject)]
pub struct CreatePromotionInput {
    /// The programme it belongs to.
    pub loyalty_program_id: ID,
    /// Display name.
    pub name: String,
    /// Multiplier on purchase points, greater than 0 (at most 100).
    pub multiplier: Decimal,
    /// First moment it applies (inclusive).
    pub starts_at: DateTime,
    /// Moment it stops applying (exclusive); after `startsAt`.
    pub ends_at: DateTime,
    /// Only customers with this tag qualify; leave out for everyone.
    pub tag: Option<String>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A customer to enrol in a programme.
#[derive(InputObject)]
pub struct EnrollCustomerInput {
    /// The programme's id.
    pub loyalty_program_id: ID,
    /// The customer's id.
    pub customer_id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A new reward.
#[derive(InputObject)]
pub struct CreateRewardInput {
    /// The programme's id.
    pub loyalty_program_id: ID,
    /// Display name.
    pub name: String,
    /// Points one redemption costs (greater than 0).
    pub cost_points: i64,
    /// Units available; leave out for unlimited.
    pub stock: Option<i64>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A reward to redeem for a member.
#[derive(InputObject)]
pub struct RedeemRewardInput {
    /// The member's membership id.
    pub membership_id: ID,
    /// The reward's id (same programme).
    pub reward_id: ID,
    /// A client-chosen key (e.g. a UUID) making retries safe.
    pub idempotency_key: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A manual change of a member's points.
#[derive(InputObject)]
pub struct AdjustPointsInput {
    /// The membership's id.
    pub membership_id: ID,
    /// Points to add (positive) or remove (negative); not 0.
    pub delta: i64,
    /// Why; kept in the ledger.
    pub note: String,
    /// A client-chosen key (e.g. a UUID) making retries safe.
    pub idempotency_key: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The day whose birthday bonuses to credit.
#[derive(InputObject)]
pub struct GrantBirthdayBonusesInput {
    /// The day whose birthdays are celebrated.
    pub date: Date,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The moment up to which points expire.
#[derive(InputObject)]
pub struct ExpirePointsInput {
    /// Expire lots whose expiry is at or before this moment; default now.
    pub as_of: Option<DateTime>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// Which ledger entries to list; every set field narrows the list.
#[derive(InputObject, Default)]
pub struct LedgerEntryFilter {
    /// Only entries with one of these reasons (all when omitted or empty).
    #[graphql(validator(max_items = 20))]
    pub reasons: Option<Vec<LedgerReason>>,
    /// Occurred at or after.
    pub occurred_from: Option<DateTime>,
    /// Occurred before (after `occurredFrom`).
    pub occurred_to: Option<DateTime>,
}

impl From<LedgerEntryFilter> for domain::loyalty::LedgerFilter {
    fn from(f: LedgerEntryFilter) -> Self {
        let mut reasons: Vec<domain::loyalty::LedgerReason> = f
            .reasons
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        reasons.sort_by_key(|r| r.as_str());
        reasons.dedup();
        Self {
            reasons,
            occurred_from: f.occurred_from.map(Into::into),
            occurred_to: f.occurred_to.map(Into::into),
        }
    }
}

/// What ledger entries are sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::loyalty::LedgerOrderField")]
pub enum LedgerEntryOrderField {
    /// The order entries were recorded in.
    Recorded,
    /// When the entry took effect (`occurredAt`).
    OccurredAt,
    /// The signed number of points (`delta`).
    Points,
}

/// How to sort ledger entries; ties are broken by id. Default: newest
/// recorded first.
#[derive(InputObject)]
pub struct LedgerEntryOrder {
    /// The sort field.
    pub field: LedgerEntryOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl From<LedgerEntryOrder> for domain::loyalty::LedgerOrder {
    fn from(o: LedgerEntryOrder) -> Self {
        Self {
            field: o.field.into(),
            direction: o.direction.into(),
        }
    }
}
