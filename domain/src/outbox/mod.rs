//! The transactional outbox: outbound messages written with the change that
//! causes them, delivered afterwards, at least once.
//!
//! A service that must tell the outside world something (an invitation
//! e-mail, a webhook event) calls [`enqueue`] on its own transaction, so
//! the message exists exactly when the change does. A worker in every
//! process then [`claim`]s due messages with a lease, hands each to the
//! deliverer of its [`Channel`] and [`settle`]s the outcome: delivered,
//! retried later with exponential back-off, or given up after the policy's
//! last attempt. A process that dies mid-delivery leaves its claim to run
//! out; the next claim after the lease delivers the message again, with the
//! same [`Message::id`], so a receiver recognises the repeat.
//!
//! On PostgreSQL several processes claim from one table with `FOR UPDATE
//! SKIP LOCKED`: each pending message goes to one of them. On SQLite one
//! process owns the file and its single writer serialises the claims.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::sql::Params;

/// How a message leaves: each channel has one deliverer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// An e-mail through the configured SMTP server.
    Email,
    /// A signed HTTP POST to a webhook endpoint.
    Webhook,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Webhook];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    fn parse(stored: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.as_str() == stored)
            .ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("unknown outbox channel {stored:?}"))
            })
    }
}

/// A message to send once the current transaction commits.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub channel: Channel,
    /// What it is about, e.g. `survey.response.submitted` or
    /// `survey.invitation`.
    pub topic: String,
    /// What it is for within its channel (an endpoint's id, an
    /// invitation's id), for status and log views.
    pub target: Option<String>,
    /// What the deliverer needs; never a secret (a token, a password hash).
    pub payload: serde_json::Value,
    /// Not before this time; now when `None` (reminders are scheduled).
    pub not_before: Option<DateTime<Utc>>,
}

/// A claimed message, handed to its channel's deliverer.
#[derive(Clone, Debug)]
pub struct Message {
    /// The same for every attempt: the receiver's de-duplication key.
    pub id: Uuid,
    pub channel: Channel,
    pub topic: String,
    pub target: Option<String>,
    pub payload: serde_json::Value,
    /// Attempts so far, this one included (1 on the first).
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// What a delivery attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it (`status`: its response code, when it has one).
    Delivered { status: Option<i32> },
    /// It failed in a way that may pass later (a timeout, a 5xx, a refused
    /// connection): retried after the policy's back-off.
    Retry { error: String, status: Option<i32> },
    /// It can never succeed (no such recipient, an endpoint that was
    /// removed): not retried.
    GiveUp { error: String, status: Option<i32> },
}

/// When to try again, and when to stop.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Wait after the first failed attempt; doubled after each further one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// Attempts in all; after the last failed one the message is given up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, … capped at 6 h, 12 attempts: about a day and
    /// a half before a message is given up.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(6 * 3600),
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempts` (1-based).
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// A message's delivery state, for staff views (an invitation's e-mail
/// status, a webhook endpoint's delivery log).
#[derive(Clone, Debug, PartialEq)]
pub struct MessageStatus {
    pub id: Uuid,
    pub topic: String,
    pub target: Option<String>,
    pub payload: serde_json::Value,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (pending messages only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet delivered; attempts remain.
    Queued,
    Delivered,
    /// Given up: the last attempt failed or the failure was final.
    Failed,
}

/// Writes `message` on `db` (the causing change's transaction); returns its
/// id.
///
/// # Errors
/// Database failures (the caller's transaction then rolls back).
pub async fn enqueue(db: &impl ConnectionTrait, message: NewMessage) -> DomainResult<Uuid> {
    let id = Uuid::new_v4();
    let now = Utc::now().timestamp_millis();
    let available_at = message
        .not_before
        .map_or(now, |at| at.timestamp_millis().max(now));
    let mut params = Params::new();
    params
        .bind("id", id.to_string())
        .bind("channel", message.channel.as_str())
        .bind("topic", message.topic)
        .bind("target", message.target)
        .bind("payload", message.payload.to_string())
        .bind("now", now)
        .bind("available_at", available_at);
    let statement = params.statement(
        db.get_database_backend(),
        "INSERT INTO outbox_messages (id, channel, topic, target, payload, created_at, available_at) \
         VALUES (:id, :channel, :topic, :target, :payload, :now, :available_at)",
    )?;
    db.execute_raw(statement).await?;
    Ok(id)
}

/// Claims up to `limit` due messages of `channels` for `holder`, for
/// `lease`, oldest due first. Each claim counts as an attempt.
///
/// # Errors
/// Database failures.
pub async fn claim(
    db: &DatabaseConnection,
    channels: &[Channel],
    holder: &str,
    limit: u64,
    lease: Duration,
) -> DomainResult<Vec<Message>> {
    if channels.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let now = Utc::now().timestamp_millis();
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    // Channel names are the code's own constants, never input.
    let channel_list = channels
        .iter()
        .map(|channel| format!("'{}'", channel.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let skip_locked = if backend == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let text = format!(
        "UPDATE outbox_messages SET claimed_by = :holder, claimed_until = :until, \
         attempts = attempts + 1, last_attempt_at = :now \
         WHERE id IN (SELECT id FROM outbox_messages \
           WHERE channel IN ({channel_list}) AND delivered_at IS NULL AND failed_at IS NULL \
           AND available_at <= :now AND (claimed_until IS NULL OR claimed_until < :now) \
           ORDER BY available_at LIMIT :limit{skip_locked}) \
         RETURNING id, channel, topic, target, payload, attempts, created_at"
    );
    let mut params = Params::new();
    params
        .bind("holder", holder)
        .bind("until", now.saturating_add(lease_ms))
        .bind("now", now)
        .bind("limit", i64::try_from(limit).unwrap_or(i64::MAX));
    let rows = db.query_all_raw(params.statement(backend, &text)?).await?;
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<DomainResult<Vec<_>>>()?;
    messages.sort_by_key(|message| message.created_at);
    Ok(messages)
}

/// Records the outcome of `holder`'s attempt at message `id`.
///
/// A delivery is recorded whoever holds the claim now (the message did
/// arrive); a failure only by the current holder, so a holder whose lease
/// ran out cannot undo its successor's work.
///
/// # Errors
/// Database failures (the claim then runs out and the message is tried
/// again: at least once).
pub async fn settle(
    db: &DatabaseConnection,
    id: Uuid,
    holder: &str,
    outcome: &Outcome,
    policy: &RetryPolicy,
) -> DomainResult<()> {
    let backend = db.get_database_backend();
    let now = Utc::now().timestamp_millis();
    let mut params = Params::new();
    params
        .bind("id", id.to_string())
        .bind("holder", holder)
        .bind("now", now);
    let text = match outcome {
        Outcome::Delivered { status } => {
            params.bind("status", *status);
            "UPDATE outbox_messages SET delivered_at = :now, claimed_by = NULL, \
             claimed_until = NULL, last_status = :status, last_error = NULL \
             WHERE id = :id AND delivered_at IS NULL"
        }
        Outcome::Retry { error, status } => {
            let attempts = attempts_of(db, id).await?;
            params
                .bind("status", *status)
                .bind("error", truncate(error))
                .bind("give_up", i32::from(attempts >= policy.max_attempts))
                .bind(
                    "next",
                    now.saturating_add(
                        i64::try_from(policy.delay(attempts).as_millis()).unwrap_or(i64::MAX / 2),
                    ),
                );
            "UPDATE outbox_messages SET claimed_by = NULL, claimed_until = NULL, \
             last_status = :status, last_error = :error, \
             available_at = :next, \
             failed_at = CASE WHEN :give_up = 1 THEN :now ELSE NULL END \
             WHERE id = :id AND claimed_by = :holder AND delivered_at IS NULL"
        }
        Outcome::GiveUp { error, status } => {
            params
                .bind("status", *status)
                .bind("error", truncate(error));
            "UPDATE outbox_messages SET claimed_by = NULL, claimed_until = NULL, \
             last_status = :status, last_error = :error, failed_at = :now \
             WHERE id = :id AND claimed_by = :holder AND delivered_at IS NULL"
        }
    };
    db.execute_raw(params.statement(backend, text)?).await?;
    Ok(())
}

/// Puts message `id` of `channel` back in the queue, due now, with a fresh
/// count of attempts and the same id (a redelivery the receiver can
/// recognise). Returns false when there is no such message.
///
/// # Errors
/// Database failures.
pub async fn requeue(db: &impl ConnectionTrait, channel: Channel, id: Uuid) -> DomainResult<bool> {
    let mut params = Params::new();
    params
        .bind("id", id.to_string())
        .bind("channel", channel.as_str())
        .bind("now", Utc::now().timestamp_millis());
    let statement = params.statement(
        db.get_database_backend(),
        "UPDATE outbox_messages SET delivered_at = NULL, failed_at = NULL, attempts = 0, \
         available_at = :now, claimed_by = NULL, claimed_until = NULL \
         WHERE id = :id AND channel = :channel",
    )?;
    Ok(db.execute_raw(statement).await?.rows_affected() == 1)
}

/// The messages of `channel` for `target`, newest first, at most `limit`.
///
/// # Errors
/// Database failures.
pub async fn for_target(
    db: &impl ConnectionTrait,
    channel: Channel,
    target: &str,
    limit: u64,
) -> DomainResult<Vec<MessageStatus>> {
    let mut params = Params::new();
    params
        .bind("channel", channel.as_str())
        .bind("target", target)
        .bind("limit", i64::try_from(limit).unwrap_or(i64::MAX));
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT id, topic, target, payload, attempts, created_at, available_at, \
         last_attempt_at, delivered_at, failed_at, last_error, last_status \
         FROM outbox_messages WHERE channel = :channel AND target = :target \
         ORDER BY created_at DESC, id DESC LIMIT :limit",
    )?;
    let rows = db.query_all_raw(statement).await?;
    rows.iter().map(status_from_row).collect()
}

/// Rewrites the payloads of the messages of `channel` for `targets` with
/// `edit`, which says whether it changed one (e.g. removes a link that
/// must not outlive its use). Pending and settled messages alike.
///
/// # Errors
/// Database failures.
pub async fn rewrite_payloads(
    db: &impl ConnectionTrait,
    channel: Channel,
    targets: &[String],
    edit: impl Fn(&mut serde_json::Value) -> bool,
) -> DomainResult<()> {
    for target in targets {
        let mut params = Params::new();
        params
            .bind("channel", channel.as_str())
            .bind("target", target.as_str());
        let statement = params.statement(
            db.get_database_backend(),
            "SELECT id, payload FROM outbox_messages WHERE channel = :channel AND target = :target",
        )?;
        for row in db.query_all_raw(statement).await? {
            let id = parse_id(&row)?;
            let mut payload = parse_payload(&row)?;
            if edit(&mut payload) {
                store_payload(db, id, &payload).await?;
            }
        }
    }
    Ok(())
}

/// Rewrites the payload of message `id` with `edit` (see
/// [`rewrite_payloads`]).
///
/// # Errors
/// Database failures.
pub async fn rewrite_payload(
    db: &impl ConnectionTrait,
    id: Uuid,
    edit: impl Fn(&mut serde_json::Value) -> bool,
) -> DomainResult<()> {
    let mut params = Params::new();
    params.bind("id", id.to_string());
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT id, payload FROM outbox_messages WHERE id = :id",
    )?;
    if let Some(row) = db.query_one_raw(statement).await? {
        let mut payload = parse_payload(&row)?;
        if edit(&mut payload) {
            store_payload(db, id, &payload).await?;
        }
    }
    Ok(())
}

async fn store_payload(
    db: &impl ConnectionTrait,
    id: Uuid,
    payload: &serde_json::Value,
) -> DomainResult<()> {
    let mut params = Params::new();
    params
        .bind("id", id.to_string())
        .bind("payload", payload.to_string());
    let statement = params.statement(
        db.get_database_backend(),
        "UPDATE outbox_messages SET payload = :payload WHERE id = :id",
    )?;
    db.execute_raw(statement).await?;
    Ok(())
}

/// The messages of `channel` for `target`, newest first, at most `limit`,
/// after message `after` in that order (from the newest when `None`).
///
/// # Errors
/// Database failures.
pub async fn for_target_after(
    db: &impl ConnectionTrait,
    channel: Channel,
    target: &str,
    after: Option<Uuid>,
    limit: u64,
) -> DomainResult<Vec<MessageStatus>> {
    let Some(after) = after else {
        return for_target(db, channel, target, limit).await;
    };
    let mut params = Params::new();
    params
        .bind("channel", channel.as_str())
        .bind("target", target)
        .bind("after", after.to_string())
        .bind("limit", i64::try_from(limit).unwrap_or(i64::MAX));
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT m.id, m.topic, m.target, m.payload, m.attempts, m.created_at, m.available_at, \
         m.last_attempt_at, m.delivered_at, m.failed_at, m.last_error, m.last_status \
         FROM outbox_messages m JOIN outbox_messages a ON a.id = :after \
         WHERE m.channel = :channel AND m.target = :target \
         AND (m.created_at < a.created_at OR (m.created_at = a.created_at AND m.id < a.id)) \
         ORDER BY m.created_at DESC, m.id DESC LIMIT :limit",
    )?;
    let rows = db.query_all_raw(statement).await?;
    rows.iter().map(status_from_row).collect()
}

/// How many messages of `channel` are for `target`.
///
/// # Errors
/// Database failures.
pub async fn count_for_target(
    db: &impl ConnectionTrait,
    channel: Channel,
    target: &str,
) -> DomainResult<i64> {
    let mut params = Params::new();
    params
        .bind("channel", channel.as_str())
        .bind("target", target);
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM outbox_messages WHERE channel = :channel AND target = :target",
    )?;
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(row.try_get("", "n")?),
        None => Ok(0),
    }
}

/// One message of `channel` by id, when it exists.
///
/// # Errors
/// Database failures.
pub async fn status(
    db: &impl ConnectionTrait,
    channel: Channel,
    id: Uuid,
) -> DomainResult<Option<MessageStatus>> {
    let mut params = Params::new();
    params
        .bind("channel", channel.as_str())
        .bind("id", id.to_string());
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT id, topic, target, payload, attempts, created_at, available_at, \
         last_attempt_at, delivered_at, failed_at, last_error, last_status \
         FROM outbox_messages WHERE channel = :channel AND id = :id",
    )?;
    db.query_one_raw(statement)
        .await?
        .as_ref()
        .map(status_from_row)
        .transpose()
}

/// Pending messages per channel (queued, not given up), for `/metrics`.
///
/// # Errors
/// Database failures.
pub async fn pending(db: &DatabaseConnection) -> DomainResult<Vec<(Channel, u64)>> {
    let statement = Params::new().statement(
        db.get_database_backend(),
        "SELECT channel, COUNT(*) AS pending FROM outbox_messages \
         WHERE delivered_at IS NULL AND failed_at IS NULL GROUP BY channel",
    )?;
    let rows = db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| {
            let channel: String = row.try_get("", "channel")?;
            let pending: i64 = row.try_get("", "pending")?;
            Ok((
                Channel::parse(&channel)?,
                u64::try_from(pending).unwrap_or(0),
            ))
        })
        .collect()
}

async fn attempts_of(db: &DatabaseConnection, id: Uuid) -> DomainResult<u32> {
    let mut params = Params::new();
    params.bind("id", id.to_string());
    let statement = params.statement(
        db.get_database_backend(),
        "SELECT attempts FROM outbox_messages WHERE id = :id",
    )?;
    let attempts: Option<i32> = match db.query_one_raw(statement).await? {
        Some(row) => Some(row.try_get("", "attempts")?),
        None => None,
    };
    Ok(attempts.map_or(0, |n| u32::try_from(n).unwrap_or(0)))
}

/// Errors are kept short: a receiver's whole error page is not a reason.
fn truncate(error: &str) -> String {
    const MAX: usize = 500;
    if error.len() <= MAX {
        return error.to_owned();
    }
    let mut end = MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

fn millis(value: i64) -> DomainResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(value)
        .single()
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("stored time {value} out of range")))
}

fn optional_millis(row: &QueryResult, column: &str) -> DomainResult<Option<DateTime<Utc>>> {
    let value: Option<i64> = row.try_get("", column)?;
    value.map(millis).transpose()
}

fn parse_id(row: &QueryResult) -> DomainResult<Uuid> {
    let id: String = row.try_get("", "id")?;
    Uuid::parse_str(&id)
        .map_err(|err| DomainError::Internal(anyhow::anyhow!("stored outbox id {id:?}: {err}")))
}

fn parse_payload(row: &QueryResult) -> DomainResult<serde_json::Value> {
    let payload: String = row.try_get("", "payload")?;
    serde_json::from_str(&payload)
        .map_err(|err| DomainError::Internal(anyhow::anyhow!("stored outbox payload: {err}")))
}

fn message_from_row(row: &QueryResult) -> DomainResult<Message> {
    let channel: String = row.try_get("", "channel")?;
    let attempts: i32 = row.try_get("", "attempts")?;
    Ok(Message {
        id: parse_id(row)?,
        channel: Channel::parse(&channel)?,
        topic: row.try_get("", "topic")?,
        target: row.try_get("", "target")?,
        payload: parse_payload(row)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: millis(row.try_get("", "created_at")?)?,
    })
}

fn status_from_row(row: &QueryResult) -> DomainResult<MessageStatus> {
    let attempts: i32 = row.try_get("", "attempts")?;
    let delivered_at = optional_millis(row, "delivered_at")?;
    let failed_at = optional_millis(row, "failed_at")?;
    let state = match (delivered_at, failed_at) {
        (Some(_), _) => DeliveryState::Delivered,
        (None, Some(_)) => DeliveryState::Failed,
        (None, None) => DeliveryState::Queued,
    };
    Ok(MessageStatus {
        id: parse_id(row)?,
        topic: row.try_get("", "topic")?,
        target: row.try_get("", "target")?,
        payload: parse_payload(row)?,
        state,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: millis(row.try_get("", "created_at")?)?,
        last_attempt_at: optional_millis(row, "last_attempt_at")?,
        next_attempt_at: if state == DeliveryState::Queued {
            Some(millis(row.try_get("", "available_at")?)?)
        } else {
            None
        },
        delivered_at,
        failed_at,
        last_error: row.try_get("", "last_error")?,
        last_status: row.try_get("", "last_status")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_the_first_delay_up_to_the_cap() {
        let policy = RetryPolicy {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(600),
            max_attempts: 8,
        };
        let delays: Vec<u64> = (1..=7).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(RetryPolicy::default().delay(40).as_secs(), 6 * 3600);
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = truncate(&long);
        assert!(cut.len() <= 504, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short"), "short");
    }
}
