//! Payloads of webhook endpoint administration.

use async_graphql::{SimpleObject, ID};

use crate::graphql::object::webhook::{WebhookDelivery, WebhookEndpoint};

/// The result of `createWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new endpoint.
    pub webhook_endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), shown this once: store it now.
    pub secret: String,
}

/// The result of `updateWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct UpdateWebhookEndpointPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The endpoint as changed.
    pub webhook_endpoint: WebhookEndpoint,
}

/// The result of `rotateWebhookEndpointSecret`.
#[derive(SimpleObject)]
pub struct RotateWebhookEndpointSecretPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The endpoint; `previousSecretExpiresAt` says until when the old
    /// secret still signs.
    pub webhook_endpoint: WebhookEndpoint,
    /// The new signing secret (`whsec_…`), shown this once.
    pub secret: String,
}

/// The result of `deleteWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The deleted endpoint's id.
    pub deleted_webhook_endpoint_id: ID,
}

/// The result of `redeliverWebhookMessage`.
#[derive(SimpleObject)]
pub struct RedeliverWebhookMessagePayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The delivery, queued again with the same `webhookId`.
    pub delivery: WebhookDelivery,
}
