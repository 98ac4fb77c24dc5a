//! Payloads of the customer mutations.

use async_graphql::SimpleObject;

use crate::graphql::object::customer::{Cost, Customer, Interaction, Purchase};

/// The result of `createCustomer`.
#[derive(SimpleObject)]
pub struct CreateCustomerPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new customer.
    pub customer: Customer,
}

/// The result of `updateCustomer`.
#[derive(SimpleObject)]
pub struct UpdateCustomerPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The customer as changed.
    pub customer: Customer,
}

/// The result of `setRelationshipStage`.
#[derive(SimpleObject)]
pub struct SetRelationshipStagePayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The customer in the new stage.
    pub customer: Customer,
}

/// The result of `churnCustomer`.
#[derive(SimpleObject)]
pub struct ChurnCustomerPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The churned customer.
    pub customer: Customer,
}

/// The result of `reactivateCustomer`.
#[derive(SimpleObject)]
pub struct ReactivateCustomerPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The reactivated customer.
    pub customer: Customer,
}

/// The result of `recordInteraction`.
#[derive(SimpleObject)]
pub struct RecordInteractionPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The recorded touchpoint.
    pub interaction: Interaction,
}

/// The result of `recordPurchase`.
#[derive(SimpleObject)]
pub struct RecordPurchasePayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The recorded purchase, with the points it earned.
    pub purchase: Purchase,
}

/// The result of `recordCost`.
#[derive(SimpleObject)]
pub struct RecordCostPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The recorded cost.
    pub cost: Cost,
}

/// The result of `eraseCustomer`.
#[derive(SimpleObject)]
pub struct EraseCustomerPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The erased customer.
    pub customer: Customer,
}
