//! Webhook endpoints and deliveries (ADMIN).

use async_graphql::{Context, Object, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::mutation::parse_delivery_id;
use crate::graphql::object::webhook::{WebhookDelivery, WebhookEndpoint};

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook endpoint, oldest first (ADMIN).
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookEndpoint>> {
        let actor = ctx.actor()?;
        let endpoints = ctx.services()?.webhooks.list(actor).await?;
        Ok(endpoints.into_iter().map(WebhookEndpoint).collect())
    }

    /// One webhook delivery by its id (ADMIN).
    async fn webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's id (`WebhookDelivery.id`).")] id: ID,
    ) -> ApiResult<WebhookDelivery> {
        let actor = ctx.actor()?;
        let id = parse_delivery_id("id", &id)?;
        Ok(WebhookDelivery(
            ctx.services()?.webhooks.delivery(actor, id).await?,
        ))
    }
}
