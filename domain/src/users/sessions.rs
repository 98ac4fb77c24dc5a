//! Rotating refresh tokens, stored only as SHA-256 hashes.
//!
//! Each login starts a family. Refreshing spends the presented token and issues
//! the next one in its family; presenting an already spent token is treated as
//! theft and revokes the whole family (OAuth 2.0 Security BCP §4.14).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult};
use entity::refresh_tokens;

/// How long refresh tokens live.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    pub refresh_ttl: Duration,
}

/// A new refresh token, shown to the client once.
#[derive(Clone, Debug)]
pub struct IssuedSession {
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(super) async fn issue(
    db: &impl ConnectionTrait,
    settings: &SessionSettings,
    user_id: i64,
    family: Option<String>,
) -> DomainResult<IssuedSession> {
    let bytes: [u8; 32] = rand::random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
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
    })
}

/// Marks the token used. Returns its user when it was live; when it was
/// already spent, revokes its family and returns `None`.
pub(super) async fn spend(db: &impl ConnectionTrait, token: &str) -> DomainResult<Option<i64>> {
    let now = Utc::now();
    let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.used_at.is_some() {
        tracing::warn!(
            user_id = row.user_id,
            "refresh token reused; revoking its family"
        );
        revoke(db, refresh_tokens::Column::FamilyId.eq(row.family_id)).await?;
        return Ok(None);
    }
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(None);
    }
    // Conditional update: of two concurrent refreshes with one token, one wins.
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        revoke(db, refresh_tokens::Column::FamilyId.eq(row.family_id)).await?;
        return Ok(None);
    }
    Ok(Some(row.user_id))
}

pub(super) async fn family_of(
    db: &impl ConnectionTrait,
    token: &str,
) -> DomainResult<Option<String>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash(token)))
        .one(db)
        .await?
        .map(|row| row.family_id))
}

pub(super) async fn revoke_family_of(db: &impl ConnectionTrait, token: &str) -> DomainResult<()> {
    if let Some(family) = family_of(db, token).await? {
        revoke(db, refresh_tokens::Column::FamilyId.eq(family)).await?;
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
