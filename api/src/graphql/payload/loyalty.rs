//! Payloads of the loyalty mutations.

use async_graphql::SimpleObject;

use crate::graphql::object::loyalty::{
    LedgerEntry, LoyaltyProgram, Membership, Promotion, Redemption, Reward,
};

/// The result of `createLoyaltyProgram`.
#[derive(SimpleObject)]
pub struct CreateLoyaltyProgramPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new programme.
    pub loyalty_program: LoyaltyProgram,
}

/// The result of `updateLoyaltyProgram`.
#[derive(SimpleObject)]
pub struct UpdateLoyaltyProgramPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The programme as changed.
    pub loyalty_program: LoyaltyProgram,
}

/// The result of `enrollCustomer`.
#[derive(SimpleObject)]
pub struct EnrollCustomerPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new membership.
    pub membership: Membership,
}

/// The result of `createPromotion`.
#[derive(SimpleObject)]
pub struct CreatePromotionPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new promotion.
    pub promotion: Promotion,
}

/// The result of `createReward`.
#[derive(SimpleObject)]
pub struct CreateRewardPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new reward.
    pub reward: Reward,
}

/// The result of `updateReward`.
#[derive(SimpleObject)]
pub struct UpdateRewardPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The reward as changed.
    pub reward: Reward,
}

/// The result of `redeemReward` (the first redemption again for a retry
/// with the same idempotency key).
#[derive(SimpleObject)]
pub struct RedeemRewardPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The redemption.
    pub redemption: Redemption,
    /// The membership, as it is now.
    pub membership: Membership,
    /// The reward redeemed.
    pub reward: Reward,
    /// The `REDEMPTION` ledger entry.
    pub ledger_entry: LedgerEntry,
}

/// The result of `adjustPoints` (the first adjustment again for a retry
/// with the same idempotency key).
#[derive(SimpleObject)]
pub struct AdjustPointsPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The membership, as it is now.
    pub membership: Membership,
    /// The `ADJUSTMENT` ledger entry.
    pub ledger_entry: LedgerEntry,
}

/// The result of `grantBirthdayBonuses`.
#[derive(SimpleObject)]
pub struct GrantBirthdayBonusesPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// Members credited now (not those already credited this year).
    pub members_credited: i64,
    /// Points credited now.
    pub points_credited: i64,
}

/// The result of `expirePoints`.
#[derive(SimpleObject)]
pub struct ExpirePointsPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// Memberships that lost points.
    pub memberships_affected: i64,
    /// `EXPIRY` entries written.
    pub entries_written: i64,
    /// Points written off.
    pub points_expired: i64,
}
