//! Loyalty mutations: configuration (ADMIN), enrolment, redemptions,
//! adjustments and the daily jobs.

use crate::graphql::scalar::DateTime;
use async_graphql::{Context, Object, ID};
use domain::loyalty::{NewPromotion, NewReward};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::loyalty::{
    CreateLoyaltyProgramInput, CreatePromotionInput, UpdateLoyaltyProgramInput, UpdateRewardInput,
};
use crate::graphql::object::loyalty::{
    BirthdayRun, ExpiryRun, LoyaltyProgram, Membership, PointsAdjustment, Promotion, Redemption,
    Reward,
};
use crate::graphql::scalar::{parse_id, Date, NodeType};

#[derive(Default)]
pub struct LoyaltyMutation;

#[Object]
impl LoyaltyMutation {
    /// Creates a loyalty programme with its tiers (ADMIN).
    async fn create_loyalty_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme.")] input: CreateLoyaltyProgramInput,
    ) -> ApiResult<LoyaltyProgram> {
        let actor = ctx.actor()?;
        let program = ctx
            .services()?
            .loyalty
            .create_program(actor, input.into())
            .await?;
        Ok(LoyaltyProgram(program))
    }

    /// Changes a programme (ADMIN). Tiers, when given, replace the old ones;
    /// ledger entries already written never change.
    async fn update_loyalty_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateLoyaltyProgramInput,
    ) -> ApiResult<LoyaltyProgram> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::LoyaltyProgram, "id", &id)?;
        let program = ctx
            .services()?
            .loyalty
            .update_program(actor, id, input.into())
            .await?;
        Ok(LoyaltyProgram(program))
    }

    /// Enrols a customer in a programme (MANAGER+); `CONFLICT` if already a member.
    async fn enroll_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] program_id: ID,
        #[graphql(desc = "The customer's id.")] customer_id: ID,
    ) -> ApiResult<Membership> {
        let actor = ctx.actor()?;
        let program_id = parse_id(NodeType::LoyaltyProgram, "programId", &program_id)?;
        let customer_id = parse_id(NodeType::Customer, "customerId", &customer_id)?;
        let membership = ctx
            .services()?
            .loyalty
            .enroll(actor, program_id, customer_id)
            .await?;
        Ok(Membership(membership))
    }

    /// Creates a time-limited earning multiplier (ADMIN). Overlapping
    /// promotions do not stack: the highest multiplier applies.
    async fn create_promotion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The promotion.")] input: CreatePromotionInput,
    ) -> ApiResult<Promotion> {
        let actor = ctx.actor()?;
        let program_id = parse_id(NodeType::LoyaltyProgram, "programId", &input.program_id)?;
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
        Ok(Promotion(promotion))
    }

    /// Creates a reward (ADMIN).
    async fn create_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] program_id: ID,
        #[graphql(desc = "Display name.")] name: String,
        #[graphql(desc = "Points one redemption costs (greater than 0).")] cost_points: i64,
        #[graphql(desc = "Units available; leave out for unlimited.")] stock: Option<i64>,
    ) -> ApiResult<Reward> {
        let actor = ctx.actor()?;
        let program_id = parse_id(NodeType::LoyaltyProgram, "programId", &program_id)?;
        let reward = ctx
            .services()?
            .loyalty
            .create_reward(
                actor,
                NewReward {
                    program_id,
                    name,
                    cost_points,
                    stock,
                },
            )
            .await?;
        Ok(Reward(reward))
    }

    /// Renames, reprices, restocks or withdraws a reward (ADMIN).
    async fn update_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reward's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateRewardInput,
    ) -> ApiResult<Reward> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Reward, "id", &id)?;
        let reward = ctx
            .services()?
            .loyalty
            .update_reward(actor, id, input.into())
            .await?;
        Ok(Reward(reward))
    }

    /// Redeems a reward for a member (AGENT+): `INSUFFICIENT_POINTS` or
    /// `OUT_OF_STOCK` when it can't. A retry with the same idempotency key
    /// returns the first redemption; the same key with another payload is
    /// `CONFLICT`.
    async fn redeem_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's membership id.")] membership_id: ID,
        #[graphql(desc = "The reward's id (same programme).")] reward_id: ID,
        #[graphql(desc = "A client-chosen key (e.g. a UUID) making retries safe.")]
        idempotency_key: String,
    ) -> ApiResult<Redemption> {
        let actor = ctx.actor()?;
        let membership_id = parse_id(NodeType::Membership, "membershipId", &membership_id)?;
        let reward_id = parse_id(NodeType::Reward, "rewardId", &reward_id)?;
        let redemption = ctx
            .services()?
            .loyalty
            .redeem_reward(actor, membership_id, reward_id, &idempotency_key)
            .await?;
        Ok(Redemption(redemption))
    }

    /// Adds (positive delta) or removes (negative) points by hand (MANAGER+),
    /// as a compensating `ADJUSTMENT` entry with the actor and note. Idempotent
    /// by key like `redeemReward`.
    async fn adjust_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership's id.")] membership_id: ID,
        #[graphql(desc = "Points to add (positive) or remove (negative); not 0.")] delta: i64,
        #[graphql(desc = "Why; kept in the ledger.")] note: String,
        #[graphql(desc = "A client-chosen key (e.g. a UUID) making retries safe.")]
        idempotency_key: String,
    ) -> ApiResult<PointsAdjustment> {
        let actor = ctx.actor()?;
        let membership_id = parse_id(NodeType::Membership, "membershipId", &membership_id)?;
        let adjustment = ctx
            .services()?
            .loyalty
            .adjust_points(actor, membership_id, delta, &note, &idempotency_key)
            .await?;
        Ok(PointsAdjustment(adjustment))
    }

    /// Credits birthday bonuses for `date` to consenting members (MANAGER+),
    /// once per member and year. The server also runs this daily.
    async fn grant_birthday_bonuses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day whose birthdays are celebrated.")] date: Date,
    ) -> ApiResult<BirthdayRun> {
        let actor = ctx.actor()?;
        let run = ctx
            .services()?
            .loyalty
            .grant_birthday_bonuses(actor, date.into())
            .await?;
        Ok(run.into())
    }

    /// Writes off points expired at `asOf`, oldest lots first, as `EXPIRY`
    /// entries (MANAGER+). The server also runs this daily.
    async fn expire_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Expire lots whose expiry is at or before this moment; default now.")]
        as_of: Option<DateTime>,
    ) -> ApiResult<ExpiryRun> {
        let actor = ctx.actor()?;
        let run = ctx
            .services()?
            .loyalty
            .expire_points(actor, as_of.map_or_else(chrono::Utc::now, Into::into))
            .await?;
        Ok(run.into())
    }
}
