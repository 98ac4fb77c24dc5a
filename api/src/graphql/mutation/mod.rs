//! The mutation root, merged from one object per area (one per line).

mod csi;
mod customers;
mod exports;
mod invitations;
mod loyalty;
mod surveys;
mod users;
mod webhooks;

pub(crate) use webhooks::parse_delivery_id;

use async_graphql::MergedObject;

/// All mutations. Each runs in one database transaction.
#[derive(MergedObject, Default)]
#[rustfmt::skip]
pub struct Mutation(
    users::UserMutation,
    loyalty::LoyaltyMutation,
    customers::CustomerMutation,
    csi::CsiMutation,
    surveys::SurveyMutation,
    invitations::InvitationMutation,
    webhooks::WebhookMutation,
    exports::ExportMutation,
);
