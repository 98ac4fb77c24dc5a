//! Configuring CSI factor sets (ADMIN, SPEC §5).

use async_graphql::{Context, Object, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::csi::{CreateCsiFactorSetInput, UpdateCsiFactorSetInput};
use crate::graphql::object::csi::CsiFactorSet;
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct CsiMutation;

#[Object]
impl CsiMutation {
    /// Creates version 1 of a factor set as a DRAFT (ADMIN).
    async fn create_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name, scale and factors.")] input: CreateCsiFactorSetInput,
    ) -> ApiResult<CsiFactorSet> {
        let actor = ctx.actor()?;
        let set = ctx.services()?.csi.create(actor, input.into()).await?;
        Ok(CsiFactorSet(set))
    }

    /// Changes a DRAFT (ADMIN). Send the `lockVersion` you read: if someone
    /// saved in between, this is `CONFLICT` and nothing changes.
    async fn update_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft version's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateCsiFactorSetInput,
    ) -> ApiResult<CsiFactorSet> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &id)?;
        let set = ctx.services()?.csi.update(actor, id, input.into()).await?;
        Ok(CsiFactorSet(set))
    }

    /// Publishes a DRAFT (ADMIN): it is frozen from now on.
    async fn publish_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft version's id.")] id: ID,
    ) -> ApiResult<CsiFactorSet> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &id)?;
        Ok(CsiFactorSet(ctx.services()?.csi.publish(actor, id).await?))
    }

    /// Starts the next DRAFT version from a PUBLISHED one, copying its factors
    /// (ADMIN). Ratings of the published version keep their weights.
    async fn revise_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The published version's id.")] id: ID,
    ) -> ApiResult<CsiFactorSet> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &id)?;
        Ok(CsiFactorSet(ctx.services()?.csi.revise(actor, id).await?))
    }

    /// Archives every version of the set's family (ADMIN); `CONFLICT` while an
    /// ACTIVE survey uses one of them.
    async fn archive_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Any version's id.")] id: ID,
    ) -> ApiResult<CsiFactorSet> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &id)?;
        Ok(CsiFactorSet(ctx.services()?.csi.archive(actor, id).await?))
    }
}
