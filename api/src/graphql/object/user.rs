//! Staff users and sessions.

use crate::graphql::scalar::{global_id, DateTime, NodeType};
use async_graphql::{Enum, Object, ID};

/// A staff role (SPEC §2).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::auth::Role")]
pub enum Role {
    /// Everything, including users and configuration.
    Admin,
    /// Customers, surveys and loyalty operations.
    Manager,
    /// Front-line staff.
    Agent,
}

/// A staff account.
pub struct User(pub domain::users::User);

#[Object]
impl User {
    /// The user's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::User, self.0.id)
    }
    /// Login e-mail, lower-cased.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Current role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// Whether the account may sign in.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}
