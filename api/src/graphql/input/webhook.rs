//! Inputs of webhook endpoint administration.

use async_graphql::{InputObject, MaybeUndefined, ID};

use crate::graphql::object::webhook::WebhookEvent;

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where deliveries are posted: an absolute `https` URL (`http` is
    /// accepted outside production or with `RAPPORT_WEBHOOK_ALLOW_PRIVATE`),
    /// without user name or password.
    pub url: String,
    /// The events to deliver; at least one.
    pub events: Vec<WebhookEvent>,
    /// A note for staff (at most 500 characters).
    pub description: Option<String>,
    /// Whether events are delivered to it.
    #[graphql(default = true)]
    pub enabled: bool,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// Changes to a webhook endpoint: omitted fields stay, `null` clears the
/// description.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint's id.
    pub id: ID,
    /// Where deliveries are posted (as in `createWebhookEndpoint`).
    pub url: Option<String>,
    /// Replaces the subscribed events; at least one.
    pub events: Option<Vec<WebhookEvent>>,
    /// A note for staff.
    pub description: MaybeUndefined<String>,
    /// Enables or disables deliveries; enabling clears `disabledAt` and
    /// `disabledReason`.
    pub enabled: Option<bool>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The endpoint whose secret is replaced.
#[derive(InputObject)]
pub struct RotateWebhookEndpointSecretInput {
    /// The endpoint's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The endpoint to delete.
#[derive(InputObject)]
pub struct DeleteWebhookEndpointInput {
    /// The endpoint's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The delivery to send again.
#[derive(InputObject)]
pub struct RedeliverWebhookMessageInput {
    /// The delivery's id (`WebhookDelivery.id`).
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}
