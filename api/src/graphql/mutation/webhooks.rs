//! Webhook endpoint administration (ADMIN).

use async_graphql::{Context, MaybeUndefined, Object, ID};
use domain::webhooks::{EndpointInput, EndpointUpdate};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::webhook::{
    CreateWebhookEndpointInput, DeleteWebhookEndpointInput, RedeliverWebhookMessageInput,
    RotateWebhookEndpointSecretInput, UpdateWebhookEndpointInput,
};
use crate::graphql::object::webhook::{WebhookDelivery, WebhookEndpoint};
use crate::graphql::payload::webhook::{
    CreateWebhookEndpointPayload, DeleteWebhookEndpointPayload, RedeliverWebhookMessagePayload,
    RotateWebhookEndpointSecretPayload, UpdateWebhookEndpointPayload,
};
use crate::graphql::scalar::{global_id, parse_id, NodeType};

#[derive(Default)]
pub struct WebhookMutation;

/// A delivery id as `WebhookDelivery.id` shows it.
pub(crate) fn parse_delivery_id(field: &str, id: &ID) -> ApiResult<uuid::Uuid> {
    uuid::Uuid::try_parse(id.as_str()).map_err(|_| {
        ApiError::from(domain::DomainError::validation(
            field,
            "is not a delivery id",
        ))
    })
}

#[Object]
impl WebhookMutation {
    /// Creates a webhook endpoint (ADMIN) and returns its signing secret,
    /// shown this once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "URL, events, description, enabled.")] input: CreateWebhookEndpointInput,
    ) -> ApiResult<CreateWebhookEndpointPayload> {
        let actor = ctx.actor()?;
        let (endpoint, secret) = ctx
            .services()?
            .webhooks
            .create(
                actor,
                EndpointInput {
                    url: input.url,
                    events: input.events.into_iter().map(Into::into).collect(),
                    description: input.description,
                    enabled: input.enabled,
                },
            )
            .await?;
        Ok(CreateWebhookEndpointPayload {
            client_mutation_id: input.client_mutation_id,
            webhook_endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Changes a webhook endpoint (ADMIN).
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and the fields to change.")]
        input: UpdateWebhookEndpointInput,
    ) -> ApiResult<UpdateWebhookEndpointPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::WebhookEndpoint, "id", &input.id)?;
        let description = match input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(text) => Some(Some(text)),
        };
        let endpoint = ctx
            .services()?
            .webhooks
            .update(
                actor,
                id,
                EndpointUpdate {
                    url: input.url,
                    events: input
                        .events
                        .map(|events| events.into_iter().map(Into::into).collect()),
                    description,
                    enabled: input.enabled,
                },
            )
            .await?;
        Ok(UpdateWebhookEndpointPayload {
            client_mutation_id: input.client_mutation_id,
            webhook_endpoint: WebhookEndpoint(endpoint),
        })
    }

    /// Gives a webhook endpoint a new signing secret (ADMIN), shown this
    /// once. The previous secret keeps signing, beside the new one, for
    /// 24 hours.
    async fn rotate_webhook_endpoint_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: RotateWebhookEndpointSecretInput,
    ) -> ApiResult<RotateWebhookEndpointSecretPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::WebhookEndpoint, "id", &input.id)?;
        let (endpoint, secret) = ctx.services()?.webhooks.rotate_secret(actor, id).await?;
        Ok(RotateWebhookEndpointSecretPayload {
            client_mutation_id: input.client_mutation_id,
            webhook_endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Deletes a webhook endpoint (ADMIN); its queued deliveries are given
    /// up.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: DeleteWebhookEndpointInput,
    ) -> ApiResult<DeleteWebhookEndpointPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::WebhookEndpoint, "id", &input.id)?;
        ctx.services()?.webhooks.delete(actor, id).await?;
        Ok(DeleteWebhookEndpointPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_webhook_endpoint_id: global_id(NodeType::WebhookEndpoint, id),
        })
    }

    /// Queues a webhook delivery again, due now, with the same `webhook-id`
    /// and body (ADMIN).
    async fn redeliver_webhook_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] input: RedeliverWebhookMessageInput,
    ) -> ApiResult<RedeliverWebhookMessagePayload> {
        let actor = ctx.actor()?;
        let id = parse_delivery_id("id", &input.id)?;
        let delivery = ctx.services()?.webhooks.redeliver(actor, id).await?;
        Ok(RedeliverWebhookMessagePayload {
            client_mutation_id: input.client_mutation_id,
            delivery: WebhookDelivery(delivery),
        })
    }
}
