//! Payloads of the CSI factor-set mutations.

use async_graphql::SimpleObject;

use crate::graphql::object::csi::CsiFactorSet;

/// The result of `createCsiFactorSet`.
#[derive(SimpleObject)]
pub struct CreateCsiFactorSetPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new DRAFT, version 1.
    pub factor_set: CsiFactorSet,
}

/// The result of `updateCsiFactorSet`.
#[derive(SimpleObject)]
pub struct UpdateCsiFactorSetPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The DRAFT as changed.
    pub factor_set: CsiFactorSet,
}

/// The result of `publishCsiFactorSet`.
#[derive(SimpleObject)]
pub struct PublishCsiFactorSetPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The published version.
    pub factor_set: CsiFactorSet,
}

/// The result of `reviseCsiFactorSet`.
#[derive(SimpleObject)]
pub struct ReviseCsiFactorSetPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new DRAFT version.
    pub factor_set: CsiFactorSet,
}

/// The result of `archiveCsiFactorSet`.
#[derive(SimpleObject)]
pub struct ArchiveCsiFactorSetPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The version given, now archived with its family.
    pub factor_set: CsiFactorSet,
}
