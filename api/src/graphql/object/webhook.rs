//! Webhook endpoints and their delivery logs (ADMIN).

use async_graphql::{Context, Enum, Object, ID};
use domain::outbox::MessageStatus;
use domain::pagination::PageRequest;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::scalar::{global_id, DateTime, NodeType};

/// An event a webhook endpoint can subscribe to; each has a dotted `type`
/// in the payload (docs/webhooks.md).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::webhooks::Event")]
pub enum WebhookEvent {
    /// `survey.response.submitted`: a respondent submitted a response.
    SurveyResponseSubmitted,
    /// `survey.followup.created`: a dissatisfied response opened a follow-up.
    #[graphql(name = "SURVEY_FOLLOWUP_CREATED")]
    SurveyFollowUpCreated,
    /// `loyalty.points.credited`: points were credited to a membership.
    LoyaltyPointsCredited,
    /// `loyalty.reward.redeemed`: a member redeemed a reward.
    LoyaltyRewardRedeemed,
    /// `customer.churned`: a customer was marked churned.
    CustomerChurned,
    /// `customer.erased`: a customer's personal data was erased.
    CustomerErased,
}

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::outbox::DeliveryState")]
pub enum WebhookDeliveryState {
    /// Not yet delivered; attempts remain.
    Queued,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: every attempt failed, or the failure was final.
    Failed,
}

/// A URL that receives signed event deliveries (Standard Webhooks). Its
/// secret is shown only when created or rotated.
pub struct WebhookEndpoint(pub domain::webhooks::Endpoint);

#[Object]
impl WebhookEndpoint {
    /// The endpoint's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::WebhookEndpoint, self.0.id)
    }
    /// Where deliveries are posted.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// A note for staff.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The events delivered to it.
    async fn events(&self) -> Vec<WebhookEvent> {
        self.0.events.iter().map(|e| (*e).into()).collect()
    }
    /// Whether events are delivered to it.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Until when the secret before the last rotation still signs
    /// deliveries (beside the current one); null when only one signs.
    async fn previous_secret_expires_at(&self) -> Option<DateTime> {
        self.0.previous_secret_until.map(Into::into)
    }
    /// The first failed delivery attempt since the last success; null when
    /// the last attempt succeeded.
    async fn failing_since(&self) -> Option<DateTime> {
        self.0.failing_since.map(Into::into)
    }
    /// When failing deliveries disabled the endpoint.
    async fn disabled_at(&self) -> Option<DateTime> {
        self.0.disabled_at.map(Into::into)
    }
    /// Why the endpoint was disabled (by failing deliveries).
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// When the endpoint was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the endpoint last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
    /// Deliveries to this endpoint, newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last delivery of the previous page.")] after: Option<
            String,
        >,
    ) -> ApiResult<CountedConnection<WebhookDelivery>> {
        let services = ctx.services()?;
        let actor = ctx.actor()?.clone();
        let request = PageRequest::<String>::parse(first, after, None, None)?;
        let page = services
            .webhooks
            .deliveries(&actor, self.0.id, &request)
            .await?;
        let webhooks = services.webhooks.clone();
        let id = self.0.id;
        Ok(counted(page, WebhookDelivery, move || {
            let webhooks = webhooks.clone();
            let actor = actor.clone();
            async move { Ok(webhooks.count_deliveries(&actor, id).await?) }
        }))
    }
}

/// One event sent (or to be sent) to an endpoint, with every attempt's
/// outcome summed up.
pub struct WebhookDelivery(pub MessageStatus);

#[Object]
impl WebhookDelivery {
    /// The delivery's id: the `webhook-id` header without its `msg_` prefix.
    async fn id(&self) -> ID {
        ID(self.0.id.simple().to_string())
    }
    /// The `webhook-id` header the receiver sees, the same on every attempt
    /// and redelivery.
    async fn webhook_id(&self) -> String {
        format!("msg_{}", self.0.id.simple())
    }
    /// The event.
    async fn event(&self) -> Option<WebhookEvent> {
        domain::webhooks::Event::parse(&self.0.topic).map(Into::into)
    }
    /// Where it stands.
    async fn state(&self) -> WebhookDeliveryState {
        self.0.state.into()
    }
    /// Attempts so far.
    async fn attempts(&self) -> i32 {
        i32::try_from(self.0.attempts).unwrap_or(i32::MAX)
    }
    /// The last attempt's HTTP status, when the endpoint answered.
    async fn response_status(&self) -> Option<i32> {
        self.0.last_status
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it was last attempted.
    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.0.last_attempt_at.map(Into::into)
    }
    /// When the next attempt is due (queued deliveries).
    async fn next_attempt_at(&self) -> Option<DateTime> {
        self.0.next_attempt_at.map(Into::into)
    }
    /// When the endpoint took it.
    async fn delivered_at(&self) -> Option<DateTime> {
        self.0.delivered_at.map(Into::into)
    }
    /// When the event happened (the delivery was queued).
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// The JSON body posted, as text.
    async fn payload(&self) -> String {
        self.0.payload.to_string()
    }
}
