//! Loyalty mutations: configuration (ADMIN), enrolment, redemptions,
//! adjustments and the daily jobs.

use async_graphql::{Context, Object};
use domain::loyalty::{NewPromotion, NewReward};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::loyalty::{
    AdjustPointsInput, CreateLoyaltyProgramInput, CreatePromotionInput, CreateRewardInput,
    EnrollCustomerInput, ExpirePointsInput, GrantBirthdayBonusesInput, RedeemRewardInput,
    UpdateLoyaltyProgramInput, UpdateRewardInput,
};
use crate::graphql::object::loyalty::{
    LedgerEntry, LoyaltyProgram, Membership, Promotion, Redemption, Reward,
};
use crate::graphql::payload::loyalty::{
    AdjustPointsPayload, CreateLoyaltyProgramPayload, CreatePromotionPayload, CreateRewardPayload,
    EnrollCustomerPayload, ExpirePointsPayload, GrantBirthdayBonusesPayload, RedeemRewardPayload,
    UpdateLoyaltyProgramPayload, UpdateRewardPayload,
};
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct LoyaltyMutation;

#[Object]
impl LoyaltyMutation {
    /// Creates a loyalty programme with its tiers (ADMIN).
    async fn create_loyalty_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme.")] input: CreateLoyaltyProgramInput,
    ) -> ApiResult<CreateLoyaltyProgramPayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let program = ctx
            .services()?
            .loyalty
            .create_program(actor, input.into())
            .await?;
        Ok(CreateLoyaltyProgramPayload {
            client_mutation_id,
            loyalty_program: LoyaltyProgram(program),
        })
    }

    /// Changes a programme (ADMIN). Tiers, when given, replace the old ones;
    /// ledger entries already written never change.
    async fn update_loyalty_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id and the changes.")] input: UpdateLoyaltyProgramInput,
    ) -> ApiResult<UpdateLoyaltyProgramPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::LoyaltyProgram, "id", &input.id)?;
        let client_mutation_id = input.client_mutation_id.clone();
        let program = ctx
            .services()?
            .loyalty
            .update_program(actor, id, input.into())
            .await?;
        Ok(UpdateLoyaltyProgramPayload {
            client_mutation_id,
            loyalty_program: LoyaltyProgram(program),
        })
    }

    /// Enrols a customer in a programme (MANAGER+); `CONFLICT` if already a member.
    async fn enroll_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme and the customer.")] input: EnrollCustomerInput,
    ) -> ApiResult<EnrollCustomerPayload> {
        let actor = ctx.actor()?;
        let program_id = parse_id(
            NodeType::LoyaltyProgram,
            "loyaltyProgramId",
            &input.loyalty_program_id,
        )?;
        let customer_id = parse_id(NodeType::Customer, "customerId", &input.customer_id)?;
        let membership = ctx
            .services()?
            .loyalty
            .enroll(actor, program_id, customer_id)
            .await?;
        Ok(EnrollCustomerPayload {
            client_mutation_id: input.client_mutation_id,
            membership: Membership(membership),
        })
    }

    /// Creates a time-limited earning multiplier (ADMIN). Overlapping
    /// promotions do not stack: the highest multiplier applies.
    async fn create_promotion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The promotion.")] input: CreatePromotionInput,
    ) -> ApiResult<CreatePromotionPayload> {
        let actor = ctx.actor()?;
        let program_id = parse_id(
            NodeType::LoyaltyProgram,
            "loyaltyProgramId",
            &input.loyalty_program_id,
        )?;
        let promotion = ctx
            .services()?
            .loyalty
            .create_promotion(
                actor,
                NewPromotion {
                    program_id,
                    name: input.name,
                    multiplier: input.multiplier.0,
                    starts_at: input.starts_at.0,
                    ends_at: input.ends_at.0,
                    tag: input.tag,
                },
            )
            .await?;
        Ok(CreatePromotionPayload {
            client_mutation_id: input.client_mutation_id,
            promotion: Promotion(promotion),
        })
    }

    /// Creates a reward (ADMIN).
    async fn create_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reward.")] input: CreateRewardInput,
    ) -> ApiResult<CreateRewardPayload> {
        let actor = ctx.actor()?;
        let program_id = parse_id(
            NodeType::LoyaltyProgram,
            "loyaltyProgramId",
            &input.loyalty_program_id,
        )?;
        let reward = ctx
            .services()?
            .loyalty
            .create_reward(
                actor,
                NewReward {
                    program_id,
                    name: input.name,
                    cost_points: input.cost_points,
                    stock: input.stock,
                },
            )
            .await?;
        Ok(CreateRewardPayload {
            client_mutation_id: input.client_mutation_id,
            reward: Reward(reward),
        })
    }

    /// Renames, reprices, restocks or withdraws a reward (ADMIN).
    async fn update_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reward's id and the changes.")] input: UpdateRewardInput,
    ) -> ApiResult<UpdateRewardPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Reward, "id", &input.id)?;
        let client_mutation_id = input.client_mutation_id.clone();
        let reward = ctx
            .services()?
            .loyalty
            .update_reward(actor, id, input.into())
            .await?;
        Ok(UpdateRewardPayload {
            client_mutation_id,
            reward: Reward(reward),
        })
    }

    /// Redeems a reward for a member (AGENT+): `INSUFFICIENT_POINTS` or
    /// `OUT_OF_STOCK` when it can't. A retry with the same idempotency key
    /// returns the first redemption; the same key with another payload is
    /// `CONFLICT`.
    async fn redeem_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership, the reward and the idempotency key.")]
        input: RedeemRewardInput,
    ) -> ApiResult<RedeemRewardPayload> {
        let actor = ctx.actor()?;
        let membership_id = parse_id(NodeType::Membership, "membershipId", &input.membership_id)?;
        let reward_id = parse_id(NodeType::Reward, "rewardId", &input.reward_id)?;
        let redemption = ctx
            .services()?
            .loyalty
            .redeem_reward(actor, membership_id, reward_id, &input.idempotency_key)
            .await?;
        Ok(RedeemRewardPayload {
            client_mutation_id: input.client_mutation_id,
            membership: Membership(redemption.membership.clone()),
            reward: Reward(redemption.reward.clone()),
            ledger_entry: LedgerEntry(redemption.entry.clone()),
            redemption: Redemption(redemption),
        })
    }

    /// Adds (positive delta) or removes (negative) points by hand (MANAGER+),
    /// as a compensating `ADJUSTMENT` entry with the actor and note. Idempotent
    /// by key like `redeemReward`.
    async fn adjust_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership, the change and the idempotency key.")]
        input: AdjustPointsInput,
    ) -> ApiResult<AdjustPointsPayload> {
        let actor = ctx.actor()?;
        let membership_id = parse_id(NodeType::Membership, "membershipId", &input.membership_id)?;
        let adjustment = ctx
            .services()?
            .loyalty
            .adjust_points(
                actor,
                membership_id,
                input.delta,
                &input.note,
                &input.idempotency_key,
            )
            .await?;
        Ok(AdjustPointsPayload {
            client_mutation_id: input.client_mutation_id,
            membership: Membership(adjustment.membership),
            ledger_entry: LedgerEntry(adjustment.entry),
        })
    }

    /// Credits birthday bonuses for `date` to consenting members (MANAGER+),
    /// once per member and year. The server also runs this daily.
    async fn grant_birthday_bonuses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day.")] input: GrantBirthdayBonusesInput,
    ) -> ApiResult<GrantBirthdayBonusesPayload> {
        let actor = ctx.actor()?;
        let run = ctx
            .services()?
            .loyalty
            .grant_birthday_bonuses(actor, input.date.into())
            .await?;
        Ok(GrantBirthdayBonusesPayload {
            client_mutation_id: input.client_mutation_id,
            members_credited: run.members_credited,
            points_credited: run.points_credited,
        })
    }

    /// Writes off points expired at `asOf`, oldest lots first, as `EXPIRY`
    /// entries (MANAGER+). The server also runs this daily.
    async fn expire_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The moment.")] input: ExpirePointsInput,
    ) -> ApiResult<ExpirePointsPayload> {
        let actor = ctx.actor()?;
        let run = ctx
            .services()?
            .loyalty
            .expire_points(actor, input.as_of.map_or_else(chrono::Utc::now, Into::into))
            .await?;
        Ok(ExpirePointsPayload {
            client_mutation_id: input.client_mutation_id,
            memberships_affected: run.memberships_affected,
            entries_written: run.entries_written,
            points_expired: run.points_expired,
        })
    }
}
