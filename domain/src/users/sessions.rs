//! Rotating refresh tokens, stored only as SHA-256 hashes.
//!
//! Each login starts a family. Refreshing spends the presented token and issues
//! the next one in its family; presenting an already spent token is treated as
//! theft and revokes the whole family (OAuth 2.0 Security BCP §4.14) — except
//! within [`SessionSettings::reuse_interval`] of its first use, when the same
//! successor is answered again, so two tabs refreshing one token at once both
//! stay signed in.
//!
//! The successor of a token obtained by refreshing is not random: it is
//! `HMAC-SHA256(successor_key, token)`, so a repeat can recompute it without
//! the server ever storing a usable token (the table keeps only hashes). The
//! key is server-side (derived from the JWT key), so a thief holding an old
//! spent token cannot compute its successor; presenting that token after the
//! interval revokes the family as before.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use hmac::{Hmac, Mac as _};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult};
use entity::{refresh_tokens, users};

/// Refresh-token lifetimes and the key that derives successors.
#[derive(Clone, Copy)]
pub struct SessionSettings {
    /// How long a refresh token lives.
    pub refresh_ttl: Duration,
    /// How long after its first use a spent token may be presented again and
    /// answered with the same successor (zero: never; every reuse revokes).
    pub reuse_interval: Duration,
    /// Secret key of the successor derivation (32 bytes, never stored).
    pub successor_key: [u8; 32],
}

impl std::fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSettings")
            .field("refresh_ttl", &self.refresh_ttl)
            .field("reuse_interval", &self.reuse_interval)
            .finish_non_exhaustive()
    }
}

/// A refresh token, shown to the client; a repeat within the reuse interval
/// shows the same one again.
#[derive(Clone, Debug)]
pub struct IssuedSession {
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// When the token was issued (whole microseconds, as stored): the access
    /// token minted with it carries this time, so a repeat mints the same one.
    pub issued_at: DateTime<Utc>,
}

impl IssuedSession {
    /// A stable identifier of this session step for the access token's `jti`:
    /// derived from the refresh token (one-way), so a repeat yields the same.
    pub fn access_token_id(&self) -> String {
        let digest = Sha256::digest(format!("rapport-access-jti:{}", self.refresh_token));
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The successor of `token` in its family.
fn successor_of(settings: &SessionSettings, token: &str) -> DomainResult<String> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(&settings.successor_key)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("successor key: {e}")))?;
    mac.update(b"rapport-refresh-successor:");
    mac.update(token.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Starts a family with a random token (`after: None`) or issues the successor
/// of the spent token `after` in `family`.
pub(super) async fn issue(
    db: &impl ConnectionTrait,
    settings: &SessionSettings,
    user_id: i64,
    family: Option<String>,
    after: Option<&str>,
) -> DomainResult<IssuedSession> {
    let token = match after {
        Some(spent) => successor_of(settings, spent)?,
        None => URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
    };
    let now = Utc::now().trunc_subsecs(6);
    let expires_at = now + settings.refresh_ttl;
    refresh_tokens::ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())),
        token_hash: Set(hash(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(IssuedSession {
        refresh_token: token,
        refresh_expires_at: expires_at,
        issued_at: now,
    })
}

/// What presenting a refresh token amounts to.
pub(super) enum Spent {
    /// A live token, now spent: issue its successor in `family`.
    Fresh { user_id: i64, family: String },
    /// A repeat within the reuse interval: answer the same successor again.
    Repeat {
        user_id: i64,
        session: IssuedSession,
    },
    /// Unknown, expired, revoked, or reused (its family is now revoked).
    Refused,
}

async fn find(
    db: &impl ConnectionTrait,
    token: &str,
) -> DomainResult<Option<refresh_tokens::Model>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash(token)))
        .one(db)
        .await?)
}

/// Marks the token used (run inside the refresh's write transaction).
pub(super) async fn spend(
    db: &impl ConnectionTrait,
    settings: &SessionSettings,
    token: &str,
) -> DomainResult<Spent> {
    let now = Utc::now();
    let Some(row) = find(db, token).await? else {
        return Ok(Spent::Refused);
    };
    if row.used_at.is_some() {
        return repeat(db, settings, token, row, now).await;
    }
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(Spent::Refused);
    }
    // Conditional update: of two concurrent refreshes with one token, one
    // wins; the other waits for it (row lock or write lock) and is a repeat.
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        let Some(row) = find(db, token).await? else {
            return Ok(Spent::Refused);
        };
        return repeat(db, settings, token, row, Utc::now()).await;
    }
    Ok(Spent::Fresh {
        user_id: row.user_id,
        family: row.family_id,
    })
}

/// A spent token presented again: within the reuse interval, and while its
/// successor is still live (neither spent nor revoked), the successor is
/// answered again; otherwise the family is revoked.
async fn repeat(
    db: &impl ConnectionTrait,
    settings: &SessionSettings,
    token: &str,
    row: refresh_tokens::Model,
    now: DateTime<Utc>,
) -> DomainResult<Spent> {
    let within = row
        .used_at
        .is_some_and(|used| now - used <= settings.reuse_interval);
    if within && row.revoked_at.is_none() {
        let successor = successor_of(settings, token)?;
        let live = find(db, &successor).await?.filter(|next| {
            next.family_id == row.family_id
                && next.used_at.is_none()
                && next.revoked_at.is_none()
                && next.expires_at > now
        });
        if let Some(next) = live {
            return Ok(Spent::Repeat {
                user_id: next.user_id,
                session: IssuedSession {
                    refresh_token: successor,
                    refresh_expires_at: next.expires_at,
                    issued_at: next.created_at,
                },
            });
        }
    }
    tracing::warn!(
        user_id = row.user_id,
        "refresh token reused; revoking its family"
    );
    revoke(db, refresh_tokens::Column::FamilyId.eq(row.family_id)).await?;
    Ok(Spent::Refused)
}

pub(super) async fn revoke_family_of(db: &impl ConnectionTrait, token: &str) -> DomainResult<()> {
    if let Some(row) = find(db, token).await? {
        revoke(db, refresh_tokens::Column::FamilyId.eq(row.family_id)).await?;
    }
    Ok(())
}

pub(super) async fn revoke_user(db: &impl ConnectionTrait, user_id: i64) -> DomainResult<()> {
    revoke(db, refresh_tokens::Column::UserId.eq(user_id)).await
}

async fn revoke(
    db: &impl ConnectionTrait,
    condition: sea_orm::sea_query::SimpleExpr,
) -> DomainResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(condition)
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(DomainError::from)?;
    Ok(())
}

/// Spends a refresh token and, for an active user, issues the next session
/// of its family (or replays the one a repeat already got). `None` when the
/// token is refused or the user inactive: the caller still commits, so that a
/// revoked family stays revoked, and answers `UNAUTHENTICATED`.
///
/// # Errors
/// Database failures.
pub(super) async fn refresh(
    txn: &impl ConnectionTrait,
    settings: &SessionSettings,
    refresh_token: &str,
) -> DomainResult<Option<(users::Model, IssuedSession)>> {
    let spent = spend(txn, settings, refresh_token).await?;
    let user_id = match &spent {
        Spent::Fresh { user_id, .. } | Spent::Repeat { user_id, .. } => Some(*user_id),
        Spent::Refused => None,
    };
    let user = match user_id {
        Some(id) => users::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let Some(user) = user.filter(|u| u.active) else {
        // A revoked family must stay revoked even though we answer with an error.
        return Ok(None);
    };
    let session = match spent {
        Spent::Fresh { family, .. } => {
            issue(txn, settings, user.id, Some(family), Some(refresh_token)).await?
        }
        Spent::Repeat { session, .. } => session,
        Spent::Refused => return Err(DomainError::Unauthenticated),
    };
    Ok(Some((user, session)))
}
