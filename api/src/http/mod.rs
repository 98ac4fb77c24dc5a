//! HTTP endpoints: GraphQL over HTTP, WebSocket subscriptions, health checks,
//! the survey form page, GraphiQL.

pub mod client;
pub mod cors;
pub mod export;
pub mod form;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod language;
pub mod media;
pub mod metrics;
pub mod request_span;
pub mod unsubscribe;
pub mod ws;
