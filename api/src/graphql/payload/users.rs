//! Payloads of sign-in, sessions and user administration.

use async_graphql::SimpleObject;

use crate::graphql::object::user::User;
use crate::graphql::scalar::DateTime;

/// Tokens of a new or refreshed session (not a GraphQL type: each payload
/// carries its fields).
pub struct Session {
    pub access_token: String,
    pub access_token_expires_at: DateTime,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime,
    pub user: User,
}

/// The result of `login`: the new session's tokens.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// Bearer token for `Authorization: Bearer …`; short-lived.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime,
    /// Single-use token for `refreshSession`; keep it secret.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime,
    /// The signed-in user.
    pub user: User,
}

impl LoginPayload {
    pub fn new(client_mutation_id: Option<String>, s: Session) -> Self {
        Self {
            client_mutation_id,
            access_token: s.access_token,
            access_token_expires_at: s.access_token_expires_at,
            refresh_token: s.refresh_token,
            refresh_token_expires_at: s.refresh_token_expires_at,
            user: s.user,
        }
    }
}

/// The result of `refreshSession`: the new session's tokens.
#[derive(SimpleObject)]
pub struct RefreshSessionPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// Bearer token for `Authorization: Bearer …`; short-lived.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime,
    /// Single-use token for the next `refreshSession`; keep it secret.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime,
    /// The signed-in user.
    pub user: User,
}

impl RefreshSessionPayload {
    pub fn new(client_mutation_id: Option<String>, s: Session) -> Self {
        Self {
            client_mutation_id,
            access_token: s.access_token,
            access_token_expires_at: s.access_token_expires_at,
            refresh_token: s.refresh_token,
            refresh_token_expires_at: s.refresh_token_expires_at,
            user: s.user,
        }
    }
}

/// The result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// Always true: the session is ended (or was already).
    pub logged_out: bool,
}

/// The result of `createUser`.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new user.
    pub user: User,
}

/// The result of `updateUserRole`.
#[derive(SimpleObject)]
pub struct UpdateUserRolePayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The user with the new role.
    pub user: User,
}

/// The result of `deactivateUser`.
#[derive(SimpleObject)]
pub struct DeactivateUserPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The deactivated user.
    pub user: User,
}
