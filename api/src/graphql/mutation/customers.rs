//! Customer mutations; each runs in one transaction.

use crate::graphql::scalar::DateTime;
use async_graphql::{Context, Object, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::customer::{
    CreateCustomerInput, RecordCostInput, RecordInteractionInput, RecordPurchaseInput,
    UpdateCustomerInput,
};
use crate::graphql::object::customer::{
    ChurnReason, Cost, Customer, Interaction, Purchase, RelationshipStage,
};
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer (all roles).
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new customer.")] input: CreateCustomerInput,
    ) -> ApiResult<Customer> {
        let actor = ctx.actor()?;
        let input = input.try_into()?;
        let customer = ctx.services()?.customers.create(actor, input).await?;
        Ok(Customer::new(customer))
    }

    /// Changes a customer's profile (all roles). Erased customers are read-only.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateCustomerInput,
    ) -> ApiResult<Customer> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let patch = input.try_into()?;
        let customer = ctx.services()?.customers.update(actor, id, patch).await?;
        Ok(Customer::new(customer))
    }

    /// Moves a customer to another relationship stage (MANAGER and ADMIN).
    async fn set_relationship_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "The new stage.")] stage: RelationshipStage,
    ) -> ApiResult<Customer> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let customer = ctx
            .services()?
            .customers
            .set_stage(actor, id, stage.into())
            .await?;
        Ok(Customer::new(customer))
    }

    /// Records that a customer left (MANAGER and ADMIN); the stage becomes
    /// DISSOLUTION. Churning a churned customer is `CONFLICT`.
    async fn churn_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "Why they left.")] reason: ChurnReason,
        #[graphql(desc = "Free-text note; required for OTHER.")] note: Option<String>,
        #[graphql(desc = "When they left (default now).")] at: Option<DateTime>,
    ) -> ApiResult<Customer> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let customer = ctx
            .services()?
            .customers
            .churn(
                actor,
                id,
                reason.into(),
                note.as_deref(),
                at.map(Into::into),
            )
            .await?;
        Ok(Customer::new(customer))
    }

    /// Brings a churned customer back (MANAGER and ADMIN); the stage becomes
    /// EXPLORATION. Reactivating an active customer is `CONFLICT`.
    async fn reactivate_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "When they came back (default now).")] at: Option<DateTime>,
    ) -> ApiResult<Customer> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let customer = ctx
            .services()?
            .customers
            .reactivate(actor, id, at.map(Into::into))
            .await?;
        Ok(Customer::new(customer))
    }

    /// Records a touchpoint (all roles).
    async fn record_interaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The touchpoint.")] input: RecordInteractionInput,
    ) -> ApiResult<Interaction> {
        let actor = ctx.actor()?;
        let input = input.try_into()?;
        let interaction = ctx
            .services()?
            .customers
            .record_interaction(actor, input)
            .await?;
        Ok(Interaction(interaction))
    }

    /// Records a purchase (all roles) and credits loyalty points in the same
    /// transaction. The same external reference twice for one customer is
    /// `CONFLICT`, never a second purchase.
    async fn record_purchase(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The purchase.")] input: RecordPurchaseInput,
    ) -> ApiResult<Purchase> {
        let actor = ctx.actor()?;
        let input = input.try_into()?;
        let purchase = ctx
            .services()?
            .customers
            .record_purchase(actor, input)
            .await?;
        Ok(Purchase(purchase))
    }

    /// Records an acquisition or care cost (all roles).
    async fn record_cost(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cost.")] input: RecordCostInput,
    ) -> ApiResult<Cost> {
        let actor = ctx.actor()?;
        let input = input.try_into()?;
        let cost = ctx.services()?.customers.record_cost(actor, input).await?;
        Ok(Cost(cost))
    }

    /// Erases a customer's personal data (MANAGER and ADMIN): name becomes
    /// "Erased customer"; e-mail, phone, birthday, locale, tags and free texts
    /// are removed; ids, amounts and dates stay so metrics and point sums are
    /// unchanged. Who erased whom and when is recorded. The old copies of the
    /// erased values are then removed from the database files: on SQLite
    /// before the answer, on PostgreSQL by a rewrite of the changed tables
    /// in the background (docs/SECURITY.md, "Erasure").
    async fn erase_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
    ) -> ApiResult<Customer> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let customer = ctx.services()?.customers.erase(actor, id).await?;
        Ok(Customer::new(customer))
    }
}
