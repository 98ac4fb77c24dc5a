//! Queries about loyalty programmes, memberships and rewards.

use async_graphql::{Context, Object, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::object::loyalty::{LoyaltyProgram, Membership, Promotion, Reward};
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct LoyaltyQuery;

#[Object]
impl LoyaltyQuery {
    /// Every loyalty programme.
    async fn loyalty_programs(&self, ctx: &Context<'_>) -> ApiResult<Vec<LoyaltyProgram>> {
        let actor = ctx.actor()?;
        let programs = ctx.services()?.loyalty.programs(actor).await?;
        Ok(programs.into_iter().map(LoyaltyProgram).collect())
    }

    /// One programme; null when it does not exist.
    async fn loyalty_program(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] id: ID,
    ) -> ApiResult<Option<LoyaltyProgram>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::LoyaltyProgram, "id", &id)?;
        let program = ctx.services()?.loyalty.program(actor, id).await?;
        Ok(program.map(LoyaltyProgram))
    }

    /// One membership; null when it does not exist.
    async fn membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The membership's id.")] id: ID,
    ) -> ApiResult<Option<Membership>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Membership, "id", &id)?;
        let membership = ctx.services()?.loyalty.membership(actor, id).await?;
        Ok(membership.map(Membership))
    }

    /// A programme's rewards, cheapest first.
    async fn rewards(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] program_id: ID,
    ) -> ApiResult<Vec<Reward>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::LoyaltyProgram, "programId", &program_id)?;
        let rewards = ctx.services()?.loyalty.rewards(actor, id).await?;
        Ok(rewards.into_iter().map(Reward).collect())
    }

    /// A programme's promotions, latest start first.
    async fn promotions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] program_id: ID,
    ) -> ApiResult<Vec<Promotion>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::LoyaltyProgram, "programId", &program_id)?;
        let promotions = ctx.services()?.loyalty.promotions(actor, id).await?;
        Ok(promotions.into_iter().map(Promotion).collect())
    }
}
