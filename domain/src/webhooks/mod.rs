//! Webhooks: endpoints that receive signed event deliveries (Standard
//! Webhooks), managed by ADMINs.
//!
//! An event ([`Event`]) is published in the transaction of the change that
//! causes it: one outbox message (`domain::outbox`, channel `webhook`) per
//! enabled endpoint subscribed to it, found with one query. The message's
//! target is the endpoint's id and its payload the body sent
//! (`{type, timestamp, data}`); the API's webhook deliverer signs and posts
//! it. Payloads carry record keys and the fields a receiver needs, never
//! personal data (name, e-mail, phone), survey tokens or password hashes.
//!
//! Each endpoint has a secret (`whsec_` + base64 of 32 random bytes), shown
//! once at creation and at each rotation and stored as is (HMAC needs it).
//! After a rotation the previous secret keeps signing, beside the new one,
//! for [`PREVIOUS_SECRET_VALIDITY`]. An endpoint whose deliveries have only
//! failed for the configured period is disabled, with the reason recorded.

mod publish;

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use uuid::Uuid;

use crate::auth::{Actor, Capability};
use crate::db::begin_write;
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, Channel, MessageStatus};
use crate::pagination::{Page, PageRequest};
use crate::sql::Params;

pub(crate) use publish::{
    on_customer_churned, on_customer_erased, on_follow_up_created, on_points_credited,
    on_response_submitted, on_reward_redeemed, Redeemed,
};

/// How long the previous secret keeps signing after a rotation.
pub const PREVIOUS_SECRET_VALIDITY: Duration = Duration::from_secs(24 * 3600);
/// Longest endpoint URL.
const MAX_URL_LEN: usize = 2000;
/// Longest description.
const MAX_DESCRIPTION_LEN: usize = 500;
const NOT_FOUND: &str = "webhook endpoint";

/// What an endpoint can subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A respondent submitted a survey response.
    SurveyResponseSubmitted,
    /// A dissatisfied response opened a follow-up.
    SurveyFollowUpCreated,
    /// Points were credited to a membership.
    LoyaltyPointsCredited,
    /// A member redeemed a reward.
    LoyaltyRewardRedeemed,
    /// A customer was marked churned.
    CustomerChurned,
    /// A customer's personal data was erased.
    CustomerErased,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 6] = [
        Event::SurveyResponseSubmitted,
        Event::SurveyFollowUpCreated,
        Event::LoyaltyPointsCredited,
        Event::LoyaltyRewardRedeemed,
        Event::CustomerChurned,
        Event::CustomerErased,
    ];

    /// The event type on the wire (`type` in the payload) and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SurveyResponseSubmitted => "survey.response.submitted",
            Event::SurveyFollowUpCreated => "survey.followup.created",
            Event::LoyaltyPointsCredited => "loyalty.points.credited",
            Event::LoyaltyRewardRedeemed => "loyalty.reward.redeemed",
            Event::CustomerChurned => "customer.churned",
            Event::CustomerErased => "customer.erased",
        }
    }

    /// The event of a stored type name.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == stored)
    }
}

/// An endpoint as staff see it (never its secret).
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    /// Subscribed events, in [`Event::ALL`] order.
    pub events: Vec<Event>,
    pub enabled: bool,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// First failed attempt since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// When deliveries disabled the endpoint, and why.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new endpoint.
#[derive(Clone, Debug)]
pub struct EndpointInput {
    pub url: String,
    pub events: Vec<Event>,
    pub description: Option<String>,
    pub enabled: bool,
}

/// Changes to an endpoint; `None` keeps a value.
#[derive(Clone, Debug, Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub events: Option<Vec<Event>>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// Enabling an endpoint clears its disabled reason and failure streak.
    pub enabled: Option<bool>,
}

/// Which endpoint URLs are accepted.
#[derive(Clone, Copy, Debug, Default)]
pub struct UrlRules {
    /// Refuse `http://` (production, unless private targets are allowed).
    pub require_https: bool,
}

/// What the deliverer needs to send to an endpoint.
#[derive(Clone, Debug)]
pub struct DeliveryTarget {
    pub url: String,
    pub enabled: bool,
    /// The signing keys (the decoded part after `whsec_`): the current one,
    /// then the previous one while it is still valid.
    pub keys: Vec<Vec<u8>>,
}

/// Endpoints and their deliveries, for ADMINs.
#[derive(Clone)]
pub struct WebhookService {
    db: DatabaseConnection,
    rules: UrlRules,
}

impl WebhookService {
    /// A service on `db`, accepting URLs by `rules`.
    pub fn new(db: DatabaseConnection, rules: UrlRules) -> Self {
        Self { db, rules }
    }

    /// Every endpoint, oldest first.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; database failures.
    pub async fn list(&self, actor: &Actor) -> DomainResult<Vec<Endpoint>> {
        actor.require(Capability::ManageWebhooks)?;
        let statement = Params::new().statement(
            self.db.get_database_backend(),
            &format!("SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id"),
        )?;
        let rows = self.db.query_all_raw(statement).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// One endpoint.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; database failures.
    pub async fn get(&self, actor: &Actor, id: i64) -> DomainResult<Endpoint> {
        actor.require(Capability::ManageWebhooks)?;
        load(&self.db, id).await
    }

    /// Creates an endpoint; returns it and its secret (shown this once).
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `BAD_USER_INPUT` on `url`, `events` or
    /// `description`; database failures.
    pub async fn create(
        &self,
        actor: &Actor,
        input: EndpointInput,
    ) -> DomainResult<(Endpoint, String)> {
        actor.require(Capability::ManageWebhooks)?;
        let url = check_url(&input.url, self.rules)?;
        let events = check_events(&input.events)?;
        let description = check_description(input.description)?;
        let secret = new_secret();
        let now = Utc::now().timestamp_millis();
        let txn = begin_write(&self.db).await?;
        let mut params = Params::new();
        params
            .bind("url", url)
            .bind("description", description)
            .bind("events", events)
            .bind("enabled", input.enabled)
            .bind("secret", secret.clone())
            .bind("now", now);
        let row = txn
            .query_one_raw(params.statement(
                txn.get_database_backend(),
                "INSERT INTO webhook_endpoints (url, description, events, enabled, secret, created_at, updated_at) \
                 VALUES (:url, :description, :events, :enabled, :secret, :now, :now) RETURNING id",
            )?)
            .await?
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("insert returned no id")))?;
        let id: i64 = row.try_get("", "id")?;
        let endpoint = load(&txn, id).await?;
        txn.commit().await?;
        tracing::info!(
            endpoint_id = id,
            actor = actor.user_id,
            "webhook endpoint created"
        );
        Ok((endpoint, secret))
    }

    /// Changes an endpoint.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; `BAD_USER_INPUT` as in
    /// [`Self::create`]; database failures.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        update: EndpointUpdate,
    ) -> DomainResult<Endpoint> {
        actor.require(Capability::ManageWebhooks)?;
        let url = update
            .url
            .as_deref()
            .map(|u| check_url(u, self.rules))
            .transpose()?;
        let events = update.events.as_deref().map(check_events).transpose()?;
        let description = update.description.map(check_description).transpose()?;
        let txn = begin_write(&self.db).await?;
        let current = load(&txn, id).await?;
        let enabled = update.enabled.unwrap_or(current.enabled);
        let re_enabled = enabled && !current.enabled;
        let mut params = Params::new();
        params
            .bind("id", id)
            .bind("url", url.unwrap_or(current.url))
            .bind(
                "events",
                events.unwrap_or_else(|| events_text(&current.events)),
            )
            .bind("description", description.unwrap_or(current.description))
            .bind("enabled", enabled)
            .bind("re_enabled", i32::from(re_enabled))
            .bind("now", Utc::now().timestamp_millis());
        txn.execute_raw(params.statement(
            txn.get_database_backend(),
            "UPDATE webhook_endpoints SET url = :url, events = :events, description = :description, \
             enabled = :enabled, updated_at = :now, \
             disabled_at = CASE WHEN :re_enabled = 1 THEN NULL ELSE disabled_at END, \
             disabled_reason = CASE WHEN :re_enabled = 1 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN :re_enabled = 1 THEN NULL ELSE failing_since END \
             WHERE id = :id",
        )?)
        .await?;
        let endpoint = load(&txn, id).await?;
        txn.commit().await?;
        Ok(endpoint)
    }

    /// Gives an endpoint a new secret (returned, shown this once); the
    /// current one keeps signing beside it for
    /// [`PREVIOUS_SECRET_VALIDITY`].
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; database failures.
    pub async fn rotate_secret(&self, actor: &Actor, id: i64) -> DomainResult<(Endpoint, String)> {
        actor.require(Capability::ManageWebhooks)?;
        let secret = new_secret();
        let now = Utc::now().timestamp_millis();
        let validity = i64::try_from(PREVIOUS_SECRET_VALIDITY.as_millis()).unwrap_or(i64::MAX / 2);
        let txn = begin_write(&self.db).await?;
        let mut params = Params::new();
        params
            .bind("id", id)
            .bind("secret", secret.clone())
            .bind("now", now)
            .bind("until", now.saturating_add(validity));
        let changed = txn
            .execute_raw(params.statement(
                txn.get_database_backend(),
                "UPDATE webhook_endpoints SET previous_secret = secret, secret = :secret, \
                 previous_secret_until = :until, updated_at = :now WHERE id = :id",
            )?)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(DomainError::NotFound(NOT_FOUND));
        }
        let endpoint = load(&txn, id).await?;
        txn.commit().await?;
        tracing::info!(
            endpoint_id = id,
            actor = actor.user_id,
            "webhook secret rotated"
        );
        Ok((endpoint, secret))
    }

    /// Deletes an endpoint. Its queued deliveries are given up when their
    /// turn comes.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; database failures.
    pub async fn delete(&self, actor: &Actor, id: i64) -> DomainResult<()> {
        actor.require(Capability::ManageWebhooks)?;
        let txn = begin_write(&self.db).await?;
        let mut params = Params::new();
        params.bind("id", id);
        let deleted = txn
            .execute_raw(params.statement(
                txn.get_database_backend(),
                "DELETE FROM webhook_endpoints WHERE id = :id",
            )?)
            .await?
            .rows_affected();
        if deleted != 1 {
            return Err(DomainError::NotFound(NOT_FOUND));
        }
        txn.commit().await?;
        Ok(())
    }

    /// A page of an endpoint's deliveries, newest first. The cursor is a
    /// delivery's id.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; database failures.
    pub async fn deliveries(
        &self,
        actor: &Actor,
        id: i64,
        request: &PageRequest<String>,
    ) -> DomainResult<Page<MessageStatus>> {
        actor.require(Capability::ManageWebhooks)?;
        load(&self.db, id).await?;
        let after = request
            .cursor
            .as_deref()
            .map(|c| {
                Uuid::parse_str(c).map_err(|_| DomainError::validation("after", "unknown cursor"))
            })
            .transpose()?;
        let mut items = outbox::for_target_after(
            &self.db,
            Channel::Webhook,
            &id.to_string(),
            after,
            request.limit + 1,
        )
        .await?;
        let has_next_page = items.len() as u64 > request.limit;
        items.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
        Ok(Page {
            items: items.into_iter().map(|m| (cursor_of(m.id), m)).collect(),
            has_next_page,
            has_previous_page: after.is_some(),
        })
    }

    /// How many deliveries an endpoint has.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; database failures.
    pub async fn count_deliveries(&self, actor: &Actor, id: i64) -> DomainResult<i64> {
        actor.require(Capability::ManageWebhooks)?;
        outbox::count_for_target(&self.db, Channel::Webhook, &id.to_string()).await
    }

    /// One delivery.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND`; database failures.
    pub async fn delivery(&self, actor: &Actor, id: Uuid) -> DomainResult<MessageStatus> {
        actor.require(Capability::ManageWebhooks)?;
        outbox::status(&self.db, Channel::Webhook, id)
            .await?
            .ok_or(DomainError::NotFound("webhook delivery"))
    }

    /// Queues a delivery again, due now, with the same `webhook-id`.
    ///
    /// # Errors
    /// `FORBIDDEN` unless ADMIN; `NOT_FOUND` for an unknown delivery or one
    /// whose endpoint was deleted; database failures.
    pub async fn redeliver(&self, actor: &Actor, id: Uuid) -> DomainResult<MessageStatus> {
        actor.require(Capability::ManageWebhooks)?;
        let txn = begin_write(&self.db).await?;
        let message = outbox::status(&txn, Channel::Webhook, id)
            .await?
            .ok_or(DomainError::NotFound("webhook delivery"))?;
        let endpoint = message
            .target
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or(DomainError::NotFound("webhook delivery"))?;
        load(&txn, endpoint).await?;
        outbox::requeue(&txn, Channel::Webhook, id).await?;
        let requeued = outbox::status(&txn, Channel::Webhook, id)
            .await?
            .ok_or(DomainError::NotFound("webhook delivery"))?;
        txn.commit().await?;
        Ok(requeued)
    }
}

/// A delivery's page cursor.
fn cursor_of(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::Value::String(id.to_string()).to_string())
}

/// The URL, secrets and state of endpoint `id` for a delivery; `None` when it
/// was deleted.
///
/// # Errors
/// Database failures.
pub async fn delivery_target(
    db: &DatabaseConnection,
    id: i64,
) -> DomainResult<Option<DeliveryTarget>> {
    let mut params = Params::new();
    params.bind("id", id);
    let row = db
        .query_one_raw(params.statement(
            db.get_database_backend(),
            "SELECT url, enabled, secret, previous_secret, previous_secret_until \
             FROM webhook_endpoints WHERE id = :id",
        )?)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let now = Utc::now().timestamp_millis();
    let mut keys = vec![secret_key(&row.try_get::<String>("", "secret")?)?];
    let previous: Option<String> = row.try_get("", "previous_secret")?;
    let until: Option<i64> = row.try_get("", "previous_secret_until")?;
    if let (Some(previous), Some(until)) = (previous, until) {
        if until > now {
            keys.push(secret_key(&previous)?);
        }
    }
    Ok(Some(DeliveryTarget {
        url: row.try_get("", "url")?,
        enabled: row.try_get("", "enabled")?,
        keys,
    }))
}

/// Records the result of a delivery attempt to endpoint `id`: a success
/// ends its failure streak; a failure starts one, and disables the endpoint
/// when the streak is older than `disable_after`. Returns true when this
/// attempt disabled it.
///
/// # Errors
/// Database failures.
pub async fn record_attempt(
    db: &DatabaseConnection,
    id: i64,
    succeeded: bool,
    disable_after: Duration,
) -> DomainResult<bool> {
    let backend = db.get_database_backend();
    let now = Utc::now().timestamp_millis();
    let mut params = Params::new();
    params.bind("id", id).bind("now", now);
    if succeeded {
        db.execute_raw(params.statement(
            backend,
            "UPDATE webhook_endpoints SET failing_since = NULL \
             WHERE id = :id AND failing_since IS NOT NULL",
        )?)
        .await?;
        return Ok(false);
    }
    db.execute_raw(params.statement(
        backend,
        "UPDATE webhook_endpoints SET failing_since = :now WHERE id = :id AND failing_since IS NULL",
    )?)
    .await?;
    let period = i64::try_from(disable_after.as_millis()).unwrap_or(i64::MAX / 2);
    params
        .bind("cutoff", now.saturating_sub(period))
        .bind("enabled", true)
        .bind("disabled", false)
        .bind(
            "reason",
            format!("every delivery failed for {}", humanize(disable_after)),
        );
    let disabled = db
        .execute_raw(params.statement(
            backend,
            "UPDATE webhook_endpoints SET enabled = :disabled, disabled_at = :now, \
             disabled_reason = :reason, updated_at = :now \
             WHERE id = :id AND enabled = :enabled AND failing_since <= :cutoff",
        )?)
        .await?
        .rows_affected()
        == 1;
    if disabled {
        tracing::warn!(
            endpoint_id = id,
            "webhook endpoint disabled after failing deliveries"
        );
    }
    Ok(disabled)
}

/// A period in the largest whole unit (`5 days`, `90 seconds`).
fn humanize(period: Duration) -> String {
    let secs = period.as_secs();
    for (unit, size) in [("day", 86_400), ("hour", 3_600), ("minute", 60)] {
        if secs >= size && secs / size * size == secs {
            let n = secs / size;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{secs} second{}", if secs == 1 { "" } else { "s" })
}

const COLUMNS: &str = "id, url, description, events, enabled, previous_secret_until, \
    failing_since, disabled_at, disabled_reason, created_at, updated_at";

async fn load(db: &impl ConnectionTrait, id: i64) -> DomainResult<Endpoint> {
    let mut params = Params::new();
    params.bind("id", id);
    let row = db
        .query_one_raw(params.statement(
            db.get_database_backend(),
            &format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = :id"),
        )?)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))?;
    endpoint_from_row(&row)
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

fn endpoint_from_row(row: &QueryResult) -> DomainResult<Endpoint> {
    let events: String = row.try_get("", "events")?;
    Ok(Endpoint {
        id: row.try_get("", "id")?,
        url: row.try_get("", "url")?,
        description: row.try_get("", "description")?,
        events: parse_events(&events),
        enabled: row.try_get("", "enabled")?,
        previous_secret_until: optional_millis(row, "previous_secret_until")?
            .filter(|until| *until > Utc::now()),
        failing_since: optional_millis(row, "failing_since")?,
        disabled_at: optional_millis(row, "disabled_at")?,
        disabled_reason: row.try_get("", "disabled_reason")?,
        created_at: millis(row.try_get("", "created_at")?)?,
        updated_at: millis(row.try_get("", "updated_at")?)?,
    })
}

/// The stored form: types separated and surrounded by spaces.
fn events_text(events: &[Event]) -> String {
    let mut text = String::from(" ");
    for event in Event::ALL.into_iter().filter(|e| events.contains(e)) {
        text.push_str(event.as_str());
        text.push(' ');
    }
    text
}

fn parse_events(stored: &str) -> Vec<Event> {
    let listed: Vec<Event> = stored.split_whitespace().filter_map(Event::parse).collect();
    Event::ALL
        .into_iter()
        .filter(|e| listed.contains(e))
        .collect()
}

fn check_events(events: &[Event]) -> DomainResult<String> {
    if events.is_empty() {
        return Err(DomainError::validation(
            "events",
            "must name at least one event",
        ));
    }
    Ok(events_text(events))
}

fn check_description(description: Option<String>) -> DomainResult<Option<String>> {
    let Some(text) = description.map(|d| d.trim().to_owned()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(DomainError::validation(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    Ok((!text.is_empty()).then_some(text))
}

/// Checks an endpoint URL: absolute `https` (or `http` unless `rules`
/// require https), a host, no user name or password, no fragment.
///
/// # Errors
/// `BAD_USER_INPUT` on `url`.
pub fn check_url(raw: &str, rules: UrlRules) -> DomainResult<String> {
    let invalid = |reason: &str| DomainError::validation("url", reason);
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "must be at most {MAX_URL_LEN} characters"
        )));
    }
    let url = url::Url::parse(raw).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if !rules.require_https => {}
        "http" => return Err(invalid("must use https")),
        _ => return Err(invalid("must be an http or https URL")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not hold a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not have a fragment"));
    }
    Ok(url.to_string())
}

/// A fresh secret: `whsec_` and the standard base64 of 32 random bytes.
fn new_secret() -> String {
    format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 32]>()))
}

/// The signing key of a stored secret: its base64 part, decoded.
fn secret_key(secret: &str) -> DomainResult<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored webhook secret: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let lax = UrlRules::default();
        let strict = UrlRules {
            require_https: true,
        };
        assert_eq!(
            check_url("https://example.com/hook", strict).expect("https"),
            "https://example.com/hook"
        );
        assert!(check_url("http://example.com/hook", lax).is_ok());
        for (raw, rules) in [
            ("http://example.com/hook", strict),
            ("ftp://example.com/", lax),
            ("https://user:pass@example.com/", lax),
            ("https://user@example.com/", lax),
            ("https://example.com/#x", lax),
            ("example.com/hook", lax),
            ("file:///etc/passwd", lax),
        ] {
            let err = check_url(raw, rules).expect_err(raw);
            assert!(
                matches!(&err, DomainError::Validation { field, .. } if field == "url"),
                "{raw}: {err:?}"
            );
        }
    }

    #[test]
    fn events_round_trip_in_a_fixed_order() {
        let text = events_text(&[Event::CustomerErased, Event::SurveyResponseSubmitted]);
        assert_eq!(text, " survey.response.submitted customer.erased ");
        assert_eq!(
            parse_events(&text),
            [Event::SurveyResponseSubmitted, Event::CustomerErased]
        );
        assert!(check_events(&[]).is_err());
    }

    #[test]
    fn secrets_are_32_random_bytes() {
        let a = new_secret();
        assert!(a.starts_with("whsec_"));
        assert_eq!(secret_key(&a).expect("decodes").len(), 32);
        assert_ne!(a, new_secret());
    }

    #[test]
    fn periods_read_in_whole_units() {
        assert_eq!(humanize(Duration::from_secs(5 * 86_400)), "5 days");
        assert_eq!(humanize(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(humanize(Duration::from_secs(2)), "2 seconds");
    }
}
