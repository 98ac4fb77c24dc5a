//! Delivering the outbox (`domain::outbox`): one worker per process claims
//! due messages and hands each to the deliverer of its channel.
//!
//! A deliverer speaks one protocol (SMTP, HTTP webhooks) and reports an
//! [`Outcome`]; the worker records it, so retries, back-off and giving up
//! are decided in one place. Channels without a deliverer in this process
//! (no SMTP server configured, say) are left queued for a process that has
//! one, or until one is configured.

pub mod email;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use domain::outbox::{self, Channel, Message, Outcome, RetryPolicy};
use futures::StreamExt as _;
use sea_orm::DatabaseConnection;

/// Messages claimed at once; more are claimed as soon as these settle.
const BATCH: u64 = 16;
/// Deliveries in flight at once per process.
const IN_FLIGHT: usize = 8;

/// Sends the messages of one channel.
#[async_trait::async_trait]
pub trait Deliverer: Send + Sync {
    /// The channel whose messages it sends.
    fn channel(&self) -> Channel;

    /// How its failures are retried.
    fn policy(&self) -> RetryPolicy {
        RetryPolicy::default()
    }

    /// One attempt at `message`. Must finish well within the worker's
    /// lease (a deliverer bounds its own timeouts).
    async fn deliver(&self, message: &Message) -> Outcome;
}

/// How the worker paces itself.
#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    /// Pause between checks when nothing was due.
    pub poll: Duration,
    /// How long a claimed message is this process's; after it, another
    /// claim delivers it again (a process that died mid-delivery).
    pub lease: Duration,
}

/// Runs the outbox worker for the process's lifetime; returns at once when
/// no deliverer is configured.
pub async fn run(
    db: DatabaseConnection,
    deliverers: Vec<Arc<dyn Deliverer>>,
    settings: WorkerSettings,
) {
    if deliverers.is_empty() {
        return;
    }
    let holder = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let channels: Vec<Channel> = deliverers.iter().map(|d| d.channel()).collect();
    loop {
        let claimed = match outbox::claim(&db, &channels, &holder, BATCH, settings.lease).await {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(error = %error, "outbox not checked; retrying");
                Vec::new()
            }
        };
        let full_batch = claimed.len() as u64 == BATCH;
        futures::stream::iter(claimed)
            .for_each_concurrent(IN_FLIGHT, |message| {
                let db = &db;
                let holder = &holder;
                let deliverers = &deliverers;
                async move {
                    let Some(deliverer) =
                        deliverers.iter().find(|d| d.channel() == message.channel)
                    else {
                        return;
                    };
                    let outcome = deliverer.deliver(&message).await;
                    log_outcome(&message, &outcome);
                    if let Err(error) =
                        outbox::settle(db, message.id, holder, &outcome, &deliverer.policy()).await
                    {
                        tracing::warn!(error = %error, message_id = %message.id, "delivery outcome not recorded; the message is tried again after its lease");
                    }
                }
            })
            .await;
        if !full_batch {
            tokio::time::sleep(settings.poll).await;
        }
    }
}

fn log_outcome(message: &Message, outcome: &Outcome) {
    let channel = message.channel.as_str();
    match outcome {
        Outcome::Delivered { status } => {
            tracing::info!(channel, topic = %message.topic, message_id = %message.id, attempts = message.attempts, status, "message delivered");
        }
        Outcome::Retry { error, status } => {
            tracing::warn!(channel, topic = %message.topic, message_id = %message.id, attempts = message.attempts, status, error = %error, "delivery failed; retried later");
        }
        Outcome::GiveUp { error, status } => {
            tracing::warn!(channel, topic = %message.topic, message_id = %message.id, attempts = message.attempts, status, error = %error, "delivery failed for good");
        }
    }
}

/// The deliverers this process's configuration enables, one per channel.
///
/// # Errors
/// A configured channel whose settings do not work (an SMTP URL that
/// does not parse, a sender that is no address).
pub fn deliverers(
    config: &crate::config::Config,
    services: &crate::state::Services,
) -> anyhow::Result<Vec<Arc<dyn Deliverer>>> {
    // Webhooks need no configuration: their deliverer always runs.
    let mut deliverers: Vec<Arc<dyn Deliverer>> = vec![Arc::new(webhook::WebhookDeliverer::new(
        config,
        services.db.clone(),
    ))];
    if config.smtp_url.is_some() {
        deliverers.push(Arc::new(email::EmailDeliverer::new(config, services)?));
    }
    Ok(deliverers)
}
