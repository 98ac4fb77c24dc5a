//! The query root, merged from one object per area (one per line).

mod csi;
mod customers;
mod invitations;
mod loyalty;
mod metrics;
mod node;
pub mod surveys;
mod users;
mod webhooks;

use async_graphql::MergedObject;

/// All queries.
#[derive(MergedObject, Default)]
#[rustfmt::skip]
pub struct Query(
    users::UserQuery,
    loyalty::LoyaltyQuery,
    customers::CustomerQuery,
    csi::CsiQuery,
    surveys::SurveyQuery,
    invitations::InvitationQuery,
    metrics::MetricsQuery,
    webhooks::WebhookQuery,
    node::NodeQuery,
);
