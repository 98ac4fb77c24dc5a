//! Idempotency keys for `redeemReward` and `adjustPoints`.
//!
//! A key belongs to one actor and one operation (`scope`): the unique index
//! is `(scope, actor_id, key)`, so another user, or another operation, using
//! the same key is a new request, never a `CONFLICT` or a replay of someone
//! else's result.
//!
//! The key is claimed first thing in the mutation's transaction with an insert
//! that does nothing on conflict. A concurrent request with the same key blocks
//! on the unique index (PostgreSQL) or on the write lock (SQLite) until the
//! first one commits or rolls back; it then either replays the stored result or
//! proceeds as the first. The result is stored in the same transaction, so a
//! key is never kept without its result. A failed request (for example
//! `INSUFFICIENT_POINTS`) rolls back and keeps nothing: a retry runs afresh.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult};
use entity::idempotency_keys;

/// A client-chosen key that makes a retry safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key accepted.
    pub const MAX_LEN: usize = 128;

    /// Accepts 1 to 128 printable characters (a UUID is a good choice).
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `idempotencyKey`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let key = raw.trim();
        if key.is_empty() || key.chars().count() > Self::MAX_LEN {
            return Err(DomainError::validation(
                "idempotencyKey",
                "must be 1 to 128 characters",
            ));
        }
        if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(DomainError::validation(
                "idempotencyKey",
                "must not contain spaces or control characters",
            ));
        }
        Ok(Self(key.to_owned()))
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The outcome of claiming a key.
pub(crate) enum Claim {
    /// First use: do the work, then [`complete`].
    New,
    /// A previous request with the same payload succeeded with this result.
    Replay(serde_json::Value),
}

/// A stable digest of a request's payload.
pub(crate) fn request_hash(payload: &str) -> String {
    hex::encode(Sha256::digest(payload.as_bytes()))
}

/// Claims `actor_id`'s `key` in `scope` for a request with `hash`.
///
/// # Errors
/// `CONFLICT` when the actor used the key in this scope with a different payload.
pub(crate) async fn claim(
    db: &impl ConnectionTrait,
    scope: &str,
    actor_id: i64,
    key: &IdempotencyKey,
    hash: &str,
) -> DomainResult<Claim> {
    let inserted = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
        scope: Set(scope.to_owned()),
        actor_id: Set(actor_id),
        key: Set(key.0.clone()),
        request_hash: Set(hash.to_owned()),
        response: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_keys::Column::Scope,
            idempotency_keys::Column::ActorId,
            idempotency_keys::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let existing = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::ActorId.eq(actor_id))
        .filter(idempotency_keys::Column::Key.eq(key.0.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("idempotency key vanished")))?;
    if existing.request_hash != hash {
        return Err(DomainError::conflict(
            "this idempotency key was already used for a different request",
        ));
    }
    let response = serde_json::from_str(&existing.response)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored idempotent response: {e}")))?;
    Ok(Claim::Replay(response))
}

/// Stores the result of the request that claimed `actor_id`'s `key`.
///
/// # Errors
/// Database failures.
pub(crate) async fn complete(
    db: &impl ConnectionTrait,
    scope: &str,
    actor_id: i64,
    key: &IdempotencyKey,
    response: &serde_json::Value,
) -> DomainResult<()> {
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::Response,
            sea_orm::sea_query::Expr::value(response.to_string()),
        )
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::ActorId.eq(actor_id))
        .filter(idempotency_keys::Column::Key.eq(key.0.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_and_printable() {
        for (raw, why) in [
            ("", "empty"),
            ("  ", "blank"),
            ("a b", "space"),
            ("a\u{7}", "control"),
        ] {
            assert!(IdempotencyKey::parse(raw).is_err(), "{why}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err(), "too long");
        assert!(IdempotencyKey::parse("6f1c2a9e-redeem-1").is_ok());
        assert_ne!(request_hash("1:2"), request_hash("1:3"));
    }
}
