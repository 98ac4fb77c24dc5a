//! Customer mutations; each runs in one transaction.

use async_graphql::{Context, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::customer::{
    ChurnCustomerInput, CreateCustomerInput, EraseCustomerInput, ReactivateCustomerInput,
    RecordCostInput, RecordInteractionInput, RecordPurchaseInput, SetRelationshipStageInput,
    UpdateCustomerInput,
};
use crate::graphql::object::customer::{Cost, Customer, Interaction, Purchase};
use crate::graphql::payload::customers::{
    ChurnCustomerPayload, CreateCustomerPayload, EraseCustomerPayload, ReactivateCustomerPayload,
    RecordCostPayload, RecordInteractionPayload, RecordPurchasePayload,
    SetRelationshipStagePayload, UpdateCustomerPayload,
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
    ) -> ApiResult<CreateCustomerPayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let input = input.try_into()?;
        let customer = ctx.services()?.customers.create(actor, input).await?;
        Ok(CreateCustomerPayload {
            client_mutation_id,
            customer: Customer::new(customer),
        })
    }

    /// Changes a customer's profile (all roles). Erased customers are read-only.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id and the changes.")] input: UpdateCustomerInput,
    ) -> ApiResult<UpdateCustomerPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &input.id)?;
        let client_mutation_id = input.client_mutation_id.clone();
        let patch = input.try_into()?;
        let customer = ctx.services()?.customers.update(actor, id, patch).await?;
        Ok(UpdateCustomerPayload {
            client_mutation_id,
            customer: Customer::new(customer),
        })
    }

    /// Moves a customer to another relationship stage (MANAGER and ADMIN).
    async fn set_relationship_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id and the new stage.")] input: SetRelationshipStageInput,
    ) -> ApiResult<SetRelationshipStagePayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &input.id)?;
        let customer = ctx
            .services()?
            .customers
            .set_stage(actor, id, input.stage.into())
            .await?;
        Ok(SetRelationshipStagePayload {
            client_mutation_id: input.client_mutation_id,
            customer: Customer::new(customer),
        })
    }

    /// Records that a customer left (MANAGER and ADMIN); the stage becomes
    /// DISSOLUTION. Churning a churned customer is `CONFLICT`.
    async fn churn_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id, the reason and when.")] input: ChurnCustomerInput,
    ) -> ApiResult<ChurnCustomerPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &input.id)?;
        let customer = ctx
            .services()?
            .customers
            .churn(
                actor,
                id,
                input.reason.into(),
                input.note.as_deref(),
                input.at.map(Into::into),
            )
            .await?;
        Ok(ChurnCustomerPayload {
            client_mutation_id: input.client_mutation_id,
            customer: Customer::new(customer),
        })
    }

    /// Brings a churned customer back (MANAGER and ADMIN); the stage becomes
    /// EXPLORATION. Reactivating an active customer is `CONFLICT`.
    async fn reactivate_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id and when.")] input: ReactivateCustomerInput,
    ) -> ApiResult<ReactivateCustomerPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &input.id)?;
        let customer = ctx
            .services()?
            .customers
            .reactivate(actor, id, input.at.map(Into::into))
            .await?;
        Ok(ReactivateCustomerPayload {
            client_mutation_id: input.client_mutation_id,
            customer: Customer::new(customer),
        })
    }

    /// Records a touchpoint (all roles).
    async fn record_interaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The touchpoint.")] input: RecordInteractionInput,
    ) -> ApiResult<RecordInteractionPayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let input = input.try_into()?;
        let interaction = ctx
            .services()?
            .customers
            .record_interaction(actor, input)
            .await?;
        Ok(RecordInteractionPayload {
            client_mutation_id,
            interaction: Interaction(interaction),
        })
    }

    /// Records a purchase (all roles) and credits loyalty points in the same
    /// transaction. The same external reference twice for one customer is
    /// `CONFLICT`, never a second purchase.
    async fn record_purchase(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The purchase.")] input: RecordPurchaseInput,
    ) -> ApiResult<RecordPurchasePayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let input = input.try_into()?;
        let purchase = ctx
            .services()?
            .customers
            .record_purchase(actor, input)
            .await?;
        Ok(RecordPurchasePayload {
            client_mutation_id,
            purchase: Purchase(purchase),
        })
    }

    /// Records an acquisition or care cost (all roles).
    async fn record_cost(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cost.")] input: RecordCostInput,
    ) -> ApiResult<RecordCostPayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let input = input.try_into()?;
        let cost = ctx.services()?.customers.record_cost(actor, input).await?;
        Ok(RecordCostPayload {
            client_mutation_id,
            cost: Cost(cost),
        })
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
        #[graphql(desc = "The customer's id.")] input: EraseCustomerInput,
    ) -> ApiResult<EraseCustomerPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &input.id)?;
        let customer = ctx.services()?.customers.erase(actor, id).await?;
        Ok(EraseCustomerPayload {
            client_mutation_id: input.client_mutation_id,
            customer: Customer::new(customer),
        })
    }
}
