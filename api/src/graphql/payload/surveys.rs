//! Payloads of the survey mutations.

use async_graphql::{SimpleObject, ID};

use crate::graphql::object::survey::{
    FollowUp, IssuedInvitation, SkippedInvitation, Survey, SurveyResponse,
};
use crate::graphql::scalar::Decimal;

/// The result of `createSurvey`.
#[derive(SimpleObject)]
pub struct CreateSurveyPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The new `DRAFT` survey.
    pub survey: Survey,
}

/// The result of `updateSurvey`.
#[derive(SimpleObject)]
pub struct UpdateSurveyPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The survey as changed.
    pub survey: Survey,
}

/// The result of `publishSurvey`.
#[derive(SimpleObject)]
pub struct PublishSurveyPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The survey, now `ACTIVE`.
    pub survey: Survey,
}

/// The result of `closeSurvey`.
#[derive(SimpleObject)]
pub struct CloseSurveyPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The survey, now `CLOSED`.
    pub survey: Survey,
}

/// The result of `inviteToSurvey`.
#[derive(SimpleObject)]
pub struct InviteToSurveyPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// One per invited customer.
    pub invitations: Vec<IssuedInvitation>,
    /// Customers not invited, with the reason.
    pub skipped: Vec<SkippedInvitation>,
}

/// What a respondent gets back for a stored response. The response itself
/// is staff data, so only its id is given.
#[derive(SimpleObject)]
pub struct SubmitSurveyResponsePayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The stored response's id.
    pub response_id: ID,
    /// Loyalty points credited for it.
    pub points_awarded: i64,
    /// The response's CSI (0..100), when it rated CSI factors.
    pub csi: Option<Decimal>,
    /// The locale the response was recorded in (as `surveyInvitation.locale`).
    pub locale: Option<String>,
}

/// The result of `markFeedbackHelpful`.
#[derive(SimpleObject)]
pub struct MarkFeedbackHelpfulPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The response; its `helpfulBonus` says whether this call credited it.
    pub response: SurveyResponse,
}

/// The result of `resolveFollowUp`.
#[derive(SimpleObject)]
pub struct ResolveFollowUpPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The resolved follow-up.
    pub follow_up: FollowUp,
}

/// The result of `setSurveyTranslation`.
#[derive(SimpleObject)]
pub struct SetSurveyTranslationPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The survey with its translations.
    pub survey: Survey,
}

/// The result of `removeSurveyTranslation`.
#[derive(SimpleObject)]
pub struct RemoveSurveyTranslationPayload {
    /// The `clientMutationId` of the input.
    pub client_mutation_id: Option<String>,
    /// The survey with its remaining translations.
    pub survey: Survey,
}
