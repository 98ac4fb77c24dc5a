//! The Rapport server: GraphQL over HTTP on actix-web, JWT auth, CLI and
//! configuration. Transport only; business rules live in `domain`.

pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod feedback_relay;
pub mod graphql;
pub mod http;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod throttle;

pub use startup::Application;
