//! Staff users: accounts, passwords, login throttling and refresh sessions.
//!
//! Access tokens (JWTs) are minted by the API layer; this module decides who
//! may have one and keeps the rotating refresh tokens.

mod gate;
mod password;
mod sessions;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::auth::{Actor, Capability, Role};
use crate::db::begin_write;
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::validation::{Email, Password};
use entity::{login_failures, users};

pub use gate::{LOGIN_SLOT_WAIT, MAX_LOGINS_IN_FLIGHT_PER_CLIENT};
pub use password::PasswordHasher;
pub use sessions::{IssuedSession, SessionSettings};

/// Failed logins for one account from one client within
/// [`THROTTLE_WINDOW_MINUTES`] before that client's further attempts on that
/// account are refused.
pub const MAX_FAILED_LOGINS: u64 = 5;
/// The sliding window of the login throttle.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Failed logins for one account, from all clients together, within the
/// window from which every login to it waits [`ACCOUNT_SLOWDOWN`] before its
/// password is checked (slowed, never refused).
pub const ACCOUNT_SLOWDOWN_AFTER: u64 = 10;
/// The wait of a login to an account under attack.
pub const ACCOUNT_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// A staff account as the rest of the system sees it (no hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<users::Model> for User {
    type Error = DomainError;

    fn try_from(m: users::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: m.id,
            email: m.email,
            role: m.role.parse().map_err(|_| {
                DomainError::Internal(anyhow::anyhow!("user {} has an unknown role", m.id))
            })?,
            active: m.active,
            created_at: m.created_at,
        })
    }
}

/// Accounts, login and sessions.
#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    hasher: PasswordHasher,
    sessions: SessionSettings,
    gate: Arc<gate::ClientGate>,
}

impl UserService {
    pub fn new(db: DatabaseConnection, hasher: PasswordHasher, sessions: SessionSettings) -> Self {
        let gate = Arc::new(gate::ClientGate::new(hasher.concurrency()));
        Self {
            db,
            hasher,
            sessions,
            gate,
        }
    }

    /// Creates a staff account. Used by admins and by the CLI (actor `None`).
    ///
    /// # Errors
    /// `FORBIDDEN` for non-admins, `BAD_USER_INPUT` for a bad e-mail or weak
    /// password, `CONFLICT` when the e-mail is taken.
    #[tracing::instrument(skip(self, email, password), fields(role = %role))]
    pub async fn create_user(
        &self,
        actor: Option<&Actor>,
        email: &str,
        password: String,
        role: Role,
    ) -> DomainResult<User> {
        if let Some(actor) = actor {
            actor.require(Capability::ManageUsers)?;
        }
        let email = Email::parse("email", email)?;
        let password = Password::new_secret(password, &[email.as_ref()])?;
        let hash = self.hasher.hash(password).await?;
        let now = Utc::now();
        let model = users::ActiveModel {
            email: Set(email.into()),
            password_hash: Set(hash),
            role: Set(role.as_str().to_owned()),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .on_unique("a user with this email already exists")?;
        User::try_from(model)
    }

    /// Checks credentials and opens a session for a login from `client` (the
    /// client address as the API layer defines it).
    ///
    /// Unknown e-mails and wrong passwords take the same path, including one
    /// full hash verification, and answer the same `UNAUTHENTICATED`.
    ///
    /// Throttling (see `docs/SECURITY.md`, "Login"): failures are counted per
    /// account *and client*, so a stranger's failures never refuse the account
    /// to another client; failures on an account from every client only slow
    /// its logins down ([`ACCOUNT_SLOWDOWN`]); and each client has at most
    /// [`MAX_LOGINS_IN_FLIGHT_PER_CLIENT`] logins in flight.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` on bad credentials or an inactive account,
    /// `RATE_LIMITED` after [`MAX_FAILED_LOGINS`] failures of this client on
    /// this account in the window, or when the client's login slots stay taken.
    #[tracing::instrument(skip(self, email, password, client))]
    pub async fn login(
        &self,
        email: &str,
        password: String,
        client: &str,
    ) -> DomainResult<(User, IssuedSession)> {
        let password = Password::for_login(password)?;
        let _slot = self.gate.enter(client).await?;
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
        .insert(&self.db)
        .await?;
        let from_client = login_failures::Entity::find()
            .filter(login_failures::Column::EmailKey.eq(email_key.clone()))
            .filter(login_failures::Column::ClientKey.eq(client_key.clone()))
            .filter(login_failures::Column::OccurredAt.gt(window_start))
            .count(&self.db)
            .await?;
        if from_client > MAX_FAILED_LOGINS {
            // A refused attempt checked nothing, so it does not extend the lock.
            login_failures::Entity::delete_by_id(attempt.id)
                .exec(&self.db)
                .await?;
            return Err(DomainError::RateLimited {
                retry_after_secs: (THROTTLE_WINDOW_MINUTES * 60) as u64,
            });
        }
        let on_account = login_failures::Entity::find()
            .filter(login_failures::Column::EmailKey.eq(email_key.clone()))
            .filter(login_failures::Column::OccurredAt.gt(window_start))
            .count(&self.db)
            .await?;
        // Failures before this attempt, from every client: slow down, never refuse.
        if on_account.saturating_sub(1) >= ACCOUNT_SLOWDOWN_AFTER {
            tokio::time::sleep(ACCOUNT_SLOWDOWN).await;
        }
        let user = match Email::parse("email", email) {
            Ok(parsed) => {
                users::Entity::find()
                    .filter(users::Column::Email.eq(parsed.as_ref()))
                    .one(&self.db)
                    .await?
            }
            Err(_) => None,
        };
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        let verified = self.hasher.verify(password, stored_hash).await?;
        match user {
            Some(user) if verified && user.active => {
                // Only this client's failures: a success elsewhere must not
                // give a guessing client a fresh allowance.
                login_failures::Entity::delete_many()
                    .filter(login_failures::Column::EmailKey.eq(email_key))
                    .filter(login_failures::Column::ClientKey.eq(client_key))
                    .exec(&self.db)
                    .await?;
                let user = User::try_from(user)?;
                let session =
                    sessions::issue(&self.db, &self.sessions, user.id, None, None).await?;
                Ok((user, session))
            }
            // The failure was recorded before the check.
            _ => Err(DomainError::Unauthenticated),
        }
    }

    /// Rotates a refresh token: the presented one is spent and its successor
    /// in the same family is returned. Presenting a spent token again within
    /// the reuse interval answers the same successor; after it, it revokes the
    /// family.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for unknown, expired, reused or revoked tokens and for
    /// inactive users.
    pub async fn refresh(&self, refresh_token: &str) -> DomainResult<(User, IssuedSession)> {
        let txn = begin_write(&self.db).await?;
        let spent = sessions::spend(&txn, &self.sessions, refresh_token).await?;
        let user_id = match &spent {
            sessions::Spent::Fresh { user_id, .. } | sessions::Spent::Repeat { user_id, .. } => {
                Some(*user_id)
            }
            sessions::Spent::Refused => None,
        };
        let user = match user_id {
            Some(id) => users::Entity::find_by_id(id).one(&txn).await?,
            None => None,
        };
        let Some(user) = user.filter(|u| u.active) else {
            // A revoked family must stay revoked even though we answer with an error.
            txn.commit().await?;
            return Err(DomainError::Unauthenticated);
        };
        let session = match spent {
            sessions::Spent::Fresh { family, .. } => {
                sessions::issue(
                    &txn,
                    &self.sessions,
                    user.id,
                    Some(family),
                    Some(refresh_token),
                )
                .await?
            }
            sessions::Spent::Repeat { session, .. } => session,
            sessions::Spent::Refused => return Err(DomainError::Unauthenticated),
        };
        txn.commit().await?;
        Ok((User::try_from(user)?, session))
    }

    /// Revokes the refresh-token family of `refresh_token`.
    ///
    /// # Errors
    /// Only on database failure; unknown tokens are ignored.
    pub async fn logout(&self, refresh_token: &str) -> DomainResult<()> {
        sessions::revoke_family_of(&self.db, refresh_token).await
    }

    /// The current state of a user, for per-request checks of role and status.
    ///
    /// # Errors
    /// Only on database failure.
    pub async fn find(&self, id: i64) -> DomainResult<Option<User>> {
        users::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(User::try_from)
            .transpose()
    }

    /// All users, oldest first.
    ///
    /// # Errors
    /// `FORBIDDEN` for non-admins.
    pub async fn list(&self, actor: &Actor) -> DomainResult<Vec<User>> {
        actor.require(Capability::ManageUsers)?;
        users::Entity::find()
            .order_by_asc(users::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Changes a user's role; effective on their next request.
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, or `CONFLICT` when an admin demotes themself.
    pub async fn update_role(&self, actor: &Actor, user_id: i64, role: Role) -> DomainResult<User> {
        actor.require(Capability::ManageUsers)?;
        if actor.user_id == user_id && role != Role::Admin {
            return Err(DomainError::conflict("admins cannot demote themselves"));
        }
        self.update(user_id, |m| m.role = Set(role.as_str().to_owned()))
            .await
    }

    /// Deactivates a user and revokes their sessions; effective on their next request.
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, or `CONFLICT` when an admin deactivates themself.
    pub async fn deactivate(&self, actor: &Actor, user_id: i64) -> DomainResult<User> {
        actor.require(Capability::ManageUsers)?;
        if actor.user_id == user_id {
            return Err(DomainError::conflict("admins cannot deactivate themselves"));
        }
        let user = self.update(user_id, |m| m.active = Set(false)).await?;
        sessions::revoke_user(&self.db, user_id).await?;
        Ok(user)
    }

    async fn update(
        &self,
        user_id: i64,
        change: impl FnOnce(&mut users::ActiveModel),
    ) -> DomainResult<User> {
        let txn = begin_write(&self.db).await?;
        let model = users::Entity::find_by_id(user_id)
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let mut active: users::ActiveModel = model.into();
        change(&mut active);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        txn.commit().await?;
        User::try_from(model)
    }

    /// Whether any user exists (the first-run experience creates demo users).
    ///
    /// # Errors
    /// Only on database failure.
    pub async fn any_exist(db: &impl ConnectionTrait) -> DomainResult<bool> {
        Ok(users::Entity::find().count(db).await? > 0)
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
