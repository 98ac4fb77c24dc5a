//! Configuring CSI factor sets (ADMIN, SPEC §5).

use async_graphql::{Context, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::csi::{
    ArchiveCsiFactorSetInput, CreateCsiFactorSetInput, PublishCsiFactorSetInput,
    ReviseCsiFactorSetInput, UpdateCsiFactorSetInput,
};
use crate::graphql::object::csi::CsiFactorSet;
use crate::graphql::payload::csi::{
    ArchiveCsiFactorSetPayload, CreateCsiFactorSetPayload, PublishCsiFactorSetPayload,
    ReviseCsiFactorSetPayload, UpdateCsiFactorSetPayload,
};
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
    ) -> ApiResult<CreateCsiFactorSetPayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let set = ctx.services()?.csi.create(actor, input.into()).await?;
        Ok(CreateCsiFactorSetPayload {
            client_mutation_id,
            factor_set: CsiFactorSet(set),
        })
    }

    /// Changes a DRAFT (ADMIN). Send the `lockVersion` you read: if someone
    /// saved in between, this is `CONFLICT` and nothing changes.
    async fn update_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft version's id and the changes.")] input: UpdateCsiFactorSetInput,
    ) -> ApiResult<UpdateCsiFactorSetPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &input.id)?;
        let client_mutation_id = input.client_mutation_id.clone();
        let set = ctx.services()?.csi.update(actor, id, input.into()).await?;
        Ok(UpdateCsiFactorSetPayload {
            client_mutation_id,
            factor_set: CsiFactorSet(set),
        })
    }

    /// Publishes a DRAFT (ADMIN): it is frozen from now on.
    async fn publish_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft version.")] input: PublishCsiFactorSetInput,
    ) -> ApiResult<PublishCsiFactorSetPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &input.id)?;
        let set = ctx.services()?.csi.publish(actor, id).await?;
        Ok(PublishCsiFactorSetPayload {
            client_mutation_id: input.client_mutation_id,
            factor_set: CsiFactorSet(set),
        })
    }

    /// Starts the next DRAFT version from a PUBLISHED one, copying its factors
    /// (ADMIN). Ratings of the published version keep their weights.
    async fn revise_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The published version.")] input: ReviseCsiFactorSetInput,
    ) -> ApiResult<ReviseCsiFactorSetPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &input.id)?;
        let set = ctx.services()?.csi.revise(actor, id).await?;
        Ok(ReviseCsiFactorSetPayload {
            client_mutation_id: input.client_mutation_id,
            factor_set: CsiFactorSet(set),
        })
    }

    /// Archives every version of the set's family (ADMIN); `CONFLICT` while an
    /// ACTIVE survey uses one of them.
    async fn archive_csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Any version of the set.")] input: ArchiveCsiFactorSetInput,
    ) -> ApiResult<ArchiveCsiFactorSetPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &input.id)?;
        let set = ctx.services()?.csi.archive(actor, id).await?;
        Ok(ArchiveCsiFactorSetPayload {
            client_mutation_id: input.client_mutation_id,
            factor_set: CsiFactorSet(set),
        })
    }
}
