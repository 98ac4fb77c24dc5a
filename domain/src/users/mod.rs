//! Staff users: accounts, passwords, login throttling and refresh sessions.
//!
//! Access tokens (JWTs) are minted by the API layer; this module decides who
//! may have one and keeps the rotating refresh tokens.
//!
//! [`UserService`] (here) holds the operations, each checking the actor's
//! capability and delegating to `accounts` (users), `login` (gate, throttle,
//! password check) and `sessions` (refresh tokens).

mod accounts;
mod gate;
mod login;
mod password;
mod sessions;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};

use crate::auth::{Actor, Capability, Role};
use crate::db::begin_write;
use crate::error::{DomainError, DomainResult};
use crate::pagination::{Page, PageRequest};
use entity::users;

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
        accounts::create(&self.db, &self.hasher, email, password, role).await
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
        login::login(
            &self.db,
            &self.hasher,
            &self.gate,
            &self.sessions,
            email,
            password,
            client,
        )
        .await
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
        let refreshed = sessions::refresh(&txn, &self.sessions, refresh_token).await?;
        txn.commit().await?;
        let Some((user, session)) = refreshed else {
            return Err(DomainError::Unauthenticated);
        };
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
        accounts::find(&self.db, id).await
    }

    /// One user, or `None`: any user for an ADMIN, oneself for everyone
    /// else (as `me`); another user is `FORBIDDEN` below ADMIN.
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn get(&self, actor: &Actor, id: i64) -> DomainResult<Option<User>> {
        if id != actor.user_id {
            actor.require(Capability::ManageUsers)?;
        }
        accounts::find(&self.db, id).await
    }

    /// A page of users, oldest first (ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN` for non-admins.
    pub async fn list(
        &self,
        actor: &Actor,
        request: &PageRequest<i64>,
    ) -> DomainResult<Page<User>> {
        actor.require(Capability::ManageUsers)?;
        accounts::page(&self.db, request).await
    }

    /// How many users exist (ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN` for non-admins.
    pub async fn count(&self, actor: &Actor) -> DomainResult<i64> {
        actor.require(Capability::ManageUsers)?;
        accounts::count(&self.db).await
    }

    /// Checks that `actor` may read other users, for fields that follow a
    /// link to a user (who redeemed, adjusted or resolved): the rule of
    /// [`Self::list`], so a link never shows a role a user it could not list.
    ///
    /// # Errors
    /// `FORBIDDEN` for non-admins.
    pub fn authorize_user_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ManageUsers)
    }

    /// Users by id, for the batch loader behind links to a user; callers
    /// check [`Self::authorize_user_read`] first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn users_by_ids(&self, ids: &[i64]) -> DomainResult<HashMap<i64, User>> {
        accounts::by_ids(&self.db, ids).await
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
        accounts::update(&self.db, user_id, |m| {
            m.role = Set(role.as_str().to_owned())
        })
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
        let user = accounts::update(&self.db, user_id, |m| m.active = Set(false)).await?;
        sessions::revoke_user(&self.db, user_id).await?;
        Ok(user)
    }

    /// Whether any user exists (the first-run experience creates demo users).
    ///
    /// # Errors
    /// Only on database failure.
    pub async fn any_exist(db: &impl ConnectionTrait) -> DomainResult<bool> {
        Ok(users::Entity::find().count(db).await? > 0)
    }
}
