//! The Relay `Node` interface: every object with a global id, refetchable
//! with `node(id:)` and `nodes(ids:)`.

use std::future::{ready, Ready};

use async_graphql::{Context, Interface, ID};

use crate::graphql::object::csi::{CsiFactor, CsiFactorSet};
use crate::graphql::object::customer::{Cost, Customer, Interaction, Purchase};
use crate::graphql::object::invitation::SurveyInvitation;
use crate::graphql::object::loyalty::{
    LedgerEntry, LoyaltyProgram, Membership, Promotion, Redemption, Reward,
};
use crate::graphql::object::survey::{FollowUp, Survey, SurveyQuestion, SurveyResponse};
use crate::graphql::object::user::User;
use crate::graphql::object::webhook::WebhookEndpoint;
use crate::graphql::scalar::{global_id, NodeType};

/// An object with a global id. `node(id:)` and `nodes(ids:)` fetch any of
/// them by that id, with the rules of the type's own lookup.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    method = "node_id",
    desc = "The global id: opaque, stable, unique across types."
))]
pub enum Node {
    Customer(Customer),
    Interaction(Interaction),
    Purchase(Purchase),
    Cost(Cost),
    LoyaltyProgram(LoyaltyProgram),
    Membership(Membership),
    LedgerEntry(LedgerEntry),
    Reward(Reward),
    Promotion(Promotion),
    Redemption(Redemption),
    CsiFactorSet(CsiFactorSet),
    CsiFactor(CsiFactor),
    Survey(Survey),
    SurveyQuestion(SurveyQuestion),
    SurveyResponse(SurveyResponse),
    FollowUp(FollowUp),
    SurveyInvitation(SurveyInvitation),
    User(User),
    WebhookEndpoint(WebhookEndpoint),
}

/// The type and database key behind an object's global id.
pub trait Identified {
    /// The object's type.
    const NODE: NodeType;

    /// The record's database key.
    fn key(&self) -> i64;

    /// The interface's `id` field (the object's own `id` field answers the
    /// same).
    fn node_id(&self, _ctx: &Context<'_>) -> Ready<async_graphql::Result<ID>> {
        ready(Ok(global_id(Self::NODE, self.key())))
    }
}

macro_rules! identified {
    ($($ty:ident => $key:expr;)*) => {
        $(impl Identified for $ty {
            const NODE: NodeType = NodeType::$ty;
            fn key(&self) -> i64 {
                let key: fn(&Self) -> i64 = $key;
                key(self)
            }
        })*
    };
}

identified! {
    Customer => |c| c.0 .0.id;
    Interaction => |i| i.0.id;
    Purchase => |p| p.0.id;
    Cost => |c| c.0.id;
    LoyaltyProgram => |p| p.0.id;
    Membership => |m| m.0.id;
    LedgerEntry => |e| e.0.id;
    Reward => |r| r.0.id;
    Promotion => |p| p.0.id;
    Redemption => |r| r.0.id;
    CsiFactorSet => |s| s.0.id;
    CsiFactor => |f| f.0.id;
    Survey => |s| s.0.id;
    SurveyQuestion => |q| q.0.id;
    SurveyResponse => |r| r.0.id;
    FollowUp => |f| f.0.id;
    SurveyInvitation => |i| i.0.id;
    User => |u| u.0.id;
    WebhookEndpoint => |w| w.0.id;
}
