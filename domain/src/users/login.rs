//! Login: the per-client gate, the failure throttle and the password check.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use sha2::{Digest, Sha256};

use super::gate::ClientGate;
use super::sessions::{self, IssuedSession, SessionSettings};
use super::{
    PasswordHasher, User, ACCOUNT_SLOWDOWN, ACCOUNT_SLOWDOWN_AFTER, MAX_FAILED_LOGINS,
    THROTTLE_WINDOW_MINUTES,
};
use crate::error::{DomainError, DomainResult};
use crate::validation::{Email, Password};
use entity::{login_failures, users};

/// Checks a login through the client's gate and the throttle, and opens a
/// session on success.
pub(super) async fn login(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    gate: &ClientGate,
    settings: &SessionSettings,
    email: &str,
    password: String,
    client: &str,
) -> DomainResult<(User, IssuedSession)> {
    let password = Password::for_login(password)?;
    let _slot = gate.enter(client).await?;
    let shared = gate.enter_shared(db, client).await?;
    let result = check(db, hasher, settings, email, password, client).await;
    if let Some(slot) = shared {
        slot.release().await;
    }
    result
}

/// The throttle and the password check, within the client's slot.
async fn check(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    settings: &SessionSettings,
    email: &str,
    password: Password,
    client: &str,
) -> DomainResult<(User, IssuedSession)> {
    let email_key = throttle_key(email);
    let client_key = client_key(client);
    let now = Utc::now();
    let window_start = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    // The attempt is counted as a failure *before* the password is checked,
    // then this client's failures are counted including it: of any number
    // of simultaneous guesses, only the first MAX_FAILED_LOGINS to be
    // recorded see a count within the limit. A success clears the record.
    let attempt = login_failures::ActiveModel {
        email_key: Set(email_key.clone()),
        client_key: Set(client_key.clone()),
        occurred_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let from_client = login_failures::Entity::find()
        .filter(login_failures::Column::EmailKey.eq(email_key.clone()))
        .filter(login_failures::Column::ClientKey.eq(client_key.clone()))
        .filter(login_failures::Column::OccurredAt.gt(window_start))
        .count(db)
        .await?;
    if from_client > MAX_FAILED_LOGINS {
        // A refused attempt checked nothing, so it does not extend the lock.
        login_failures::Entity::delete_by_id(attempt.id)
            .exec(db)
            .await?;
        return Err(DomainError::RateLimited {
            retry_after_secs: (THROTTLE_WINDOW_MINUTES * 60) as u64,
        });
    }
    let on_account = login_failures::Entity::find()
        .filter(login_failures::Column::EmailKey.eq(email_key.clone()))
        .filter(login_failures::Column::OccurredAt.gt(window_start))
        .count(db)
        .await?;
    // Failures before this attempt, from every client: slow down, never refuse.
    if on_account.saturating_sub(1) >= ACCOUNT_SLOWDOWN_AFTER {
        tokio::time::sleep(ACCOUNT_SLOWDOWN).await;
    }
    let user = match Email::parse("email", email) {
        Ok(parsed) => {
            users::Entity::find()
                .filter(users::Column::Email.eq(parsed.as_ref()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = hasher.verify(password, stored_hash).await?;
    match user {
        Some(user) if verified && user.active => {
            // Only this client's failures: a success elsewhere must not
            // give a guessing client a fresh allowance.
            login_failures::Entity::delete_many()
                .filter(login_failures::Column::EmailKey.eq(email_key))
                .filter(login_failures::Column::ClientKey.eq(client_key))
                .exec(db)
                .await?;
            let user = User::try_from(user)?;
            let session = sessions::issue(db, settings, user.id, None, None).await?;
            Ok((user, session))
        }
        // The failure was recorded before the check.
        _ => Err(DomainError::Unauthenticated),
    }
}

/// The throttle key of a login attempt: a hash of the normalised e-mail, so the
/// table holds no addresses and unknown e-mails are throttled like known ones.
fn throttle_key(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// The client half of the key: a hash of the client address, for the same reason.
fn client_key(client: &str) -> String {
    hex::encode(Sha256::digest(format!("client:{client}").as_bytes()))
}
