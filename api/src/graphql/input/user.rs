//! Inputs of sign-in, sessions and user administration.

use async_graphql::{InputObject, ID};

use crate::graphql::object::user::Role;

/// Credentials to sign in with.
#[derive(InputObject)]
pub struct LoginInput {
    /// Login e-mail (any case).
    pub email: String,
    /// The password.
    #[graphql(secret)]
    pub password: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A refresh token to exchange for a new session.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token of the session.
    #[graphql(secret)]
    pub refresh_token: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The session to end.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The refresh token of the session.
    #[graphql(secret)]
    pub refresh_token: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A new staff account.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Login e-mail; unique.
    pub email: String,
    /// At least 12 characters and a zxcvbn strength of at least 3 of 4.
    #[graphql(secret)]
    pub password: String,
    /// The account's role.
    pub role: Role,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A user's new role.
#[derive(InputObject)]
pub struct UpdateUserRoleInput {
    /// The user's id.
    pub id: ID,
    /// The new role.
    pub role: Role,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The user to deactivate.
#[derive(InputObject)]
pub struct DeactivateUserInput {
    /// The user's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}
