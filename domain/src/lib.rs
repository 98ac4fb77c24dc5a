//! Rapport's business services and rules, independent of HTTP and GraphQL.
//!
//! Each area is a module named by its noun; services take an [`auth::Actor`]
//! and validated input, and every public mutation runs in one transaction.

pub mod auth;
pub mod cluster;
pub mod csi;
pub mod customers;
pub mod db;
pub mod error;
pub(crate) mod events;
pub mod exports;
pub mod feedback;
pub mod keyset;
pub mod loyalty;
pub mod metrics;
pub mod money;
pub mod outbox;
pub mod pagination;
pub mod segments;
pub(crate) mod sql;
pub mod users;
pub mod validation;
pub mod webhooks;

pub use error::{DomainError, DomainResult, FoundExt};
