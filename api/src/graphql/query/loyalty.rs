//! Queries about loyalty programmes, memberships and rewards.

use async_graphql::{Context, Object, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::loyalty::{
    promotions_connection, rewards_connection, LoyaltyProgram, Membership, Promotion, Reward,
};
use crate::graphql::scalar::{parse_id, NodeType};
use domain::pagination::PageRequest;

#[derive(Default)]
pub struct LoyaltyQuery;

#[Object]
impl LoyaltyQuery {
    /// Loyalty programmes, oldest first.
    async fn loyalty_programs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<LoyaltyProgram>> {
        let actor = ctx.actor()?.clone();
        let services = ctx.services()?.clone();
        let request = PageRequest::<i64>::parse(first, after, last, before)?;
        let page = services.loyalty.programs(&actor, &request).await?;
        Ok(counted(page, LoyaltyProgram, move || {
            let (services, actor) = (services.clone(), actor.clone());
            async move {
                services
                    .loyalty
                    .program_count(&actor)
                    .await
                    .map_err(ApiError::from)
            }
        }))
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
        #[graphql(desc = "The programme's id.")] loyalty_program_id: ID,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Reward>> {
        ctx.actor()?;
        let id = parse_id(
            NodeType::LoyaltyProgram,
            "loyaltyProgramId",
            &loyalty_program_id,
        )?;
        rewards_connection(ctx, id, first, after, last, before).await
    }

    /// A programme's promotions, latest start first.
    async fn promotions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] loyalty_program_id: ID,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Promotion>> {
        ctx.actor()?;
        let id = parse_id(
            NodeType::LoyaltyProgram,
            "loyaltyProgramId",
            &loyalty_program_id,
        )?;
        promotions_connection(ctx, id, first, after, last, before).await
    }
}
