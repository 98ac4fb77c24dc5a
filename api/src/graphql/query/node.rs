//! Relay object identification: `node(id:)` and `nodes(ids:)`.
//!
//! Each id is read with the domain call of its type's own lookup, so the
//! same role rules apply. A malformed or forged id, an unknown record and a
//! record the role may not read all answer null: no error tells them apart,
//! so an id reveals nothing about what exists.

use async_graphql::{Context, Object, ID};
use domain::auth::Actor;
use domain::{DomainError, DomainResult, FoundExt};
use futures::future::try_join_all;

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::object::csi::{CsiFactor, CsiFactorSet};
use crate::graphql::object::customer::{Cost, Customer, Interaction, Purchase};
use crate::graphql::object::invitation::SurveyInvitation;
use crate::graphql::object::loyalty::{
    LedgerEntry, LoyaltyProgram, Membership, Promotion, Redemption, Reward,
};
use crate::graphql::object::node::Node;
use crate::graphql::object::survey::{FollowUp, Survey, SurveyQuestion, SurveyResponse};
use crate::graphql::object::user::User;
use crate::graphql::object::webhook::WebhookEndpoint;
use crate::graphql::scalar::{decode, NodeType};

/// Most ids one `nodes` call takes.
pub const MAX_NODES: usize = 100;

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id, read with the rules of its type's own
    /// lookup. Null when the id is malformed or of no known type, when the
    /// record does not exist, and when the caller's role may not read it.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as any object's `id` field gives it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        let actor = ctx.actor()?;
        fetch(ctx, actor, &id).await
    }

    /// The objects with these global ids, in the order given, each as
    /// `node(id:)` answers it (null where it answers null). At most 100 ids;
    /// more is `BAD_USER_INPUT` on `ids`.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids (at most 100).")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        let actor = ctx.actor()?;
        if ids.len() > MAX_NODES {
            return Err(ApiError::bad_input("ids", "at most 100 ids per call"));
        }
        try_join_all(ids.iter().map(|id| fetch(ctx, actor, id))).await
    }
}

/// A lookup's answer as a `Node`.
fn node<T, N: Into<Node>>(
    found: DomainResult<Option<T>>,
    wrap: impl FnOnce(T) -> N,
) -> DomainResult<Option<Node>> {
    found.map(|record| record.map(|r| wrap(r).into()))
}

async fn fetch(ctx: &Context<'_>, actor: &Actor, id: &ID) -> ApiResult<Option<Node>> {
    let Some((kind, key)) = decode(id) else {
        return Ok(None);
    };
    let services = ctx.services()?;
    let (customers, loyalty, surveys) = (&services.customers, &services.loyalty, &services.surveys);
    let found = match kind {
        NodeType::Customer => node(customers.get(actor, key).await.found(), Customer::new),
        NodeType::Interaction => node(customers.interaction(actor, key).await, Interaction),
        NodeType::Purchase => node(customers.purchase(actor, key).await, Purchase),
        NodeType::Cost => node(customers.cost(actor, key).await, Cost),
        NodeType::LoyaltyProgram => node(loyalty.program(actor, key).await, LoyaltyProgram),
        NodeType::Membership => node(loyalty.membership(actor, key).await, Membership),
        NodeType::LedgerEntry => node(loyalty.ledger_entry(actor, key).await, LedgerEntry),
        NodeType::Reward => node(loyalty.reward(actor, key).await, Reward),
        NodeType::Promotion => node(loyalty.promotion(actor, key).await, Promotion),
        NodeType::Redemption => node(loyalty.redemption(actor, key).await, Redemption),
        NodeType::CsiFactorSet => node(services.csi.get(actor, key).await.found(), CsiFactorSet),
        NodeType::CsiFactor => node(services.csi.factor(actor, key).await, CsiFactor),
        NodeType::Survey => node(surveys.survey(actor, key).await.found(), Survey),
        NodeType::SurveyQuestion => node(surveys.question(actor, key).await, SurveyQuestion),
        NodeType::SurveyResponse => node(
            surveys.response(actor, key).await.found(),
            SurveyResponse::from,
        ),
        NodeType::FollowUp => node(surveys.follow_up(actor, key).await, FollowUp),
        NodeType::User => node(services.users.get(actor, key).await, User),
        NodeType::WebhookEndpoint => node(
            services.webhooks.get(actor, key).await.found(),
            WebhookEndpoint,
        ),
        NodeType::SurveyInvitation => node(
            surveys.invitation(actor, key).await.found(),
            SurveyInvitation,
        ),
    };
    match found {
        Ok(found) => Ok(found),
        // Invisible answers as absent.
        Err(DomainError::Forbidden | DomainError::NotFound(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
