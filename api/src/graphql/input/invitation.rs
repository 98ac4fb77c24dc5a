//! Inputs of the staff invitation operations, each converted beside its
//! definition.

use async_graphql::{InputObject, ID};

use crate::graphql::error::ApiResult;
use crate::graphql::object::invitation::InvitationStatus;
use crate::graphql::scalar::{parse_id, DateTime, NodeType};

/// Which invitations of a survey to list; every given criterion applies.
#[derive(InputObject, Default)]
pub struct SurveyInvitationFilter {
    /// Only invitations in this status now.
    pub status: Option<InvitationStatus>,
    /// Only invitations of this customer.
    pub customer_id: Option<ID>,
}

impl TryFrom<SurveyInvitationFilter> for domain::feedback::InvitationFilter {
    type Error = crate::graphql::error::ApiError;

    fn try_from(input: SurveyInvitationFilter) -> ApiResult<Self> {
        Ok(Self {
            status: input.status.map(Into::into),
            customer_id: input
                .customer_id
                .map(|id| parse_id(NodeType::Customer, "filter.customerId", &id))
                .transpose()?,
        })
    }
}

/// Revokes an unused invitation.
#[derive(InputObject)]
pub struct RevokeSurveyInvitationInput {
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
    /// The invitation.
    pub id: ID,
}

/// Issues a new link for an invitation that was not submitted.
#[derive(InputObject)]
pub struct ReissueSurveyInvitationInput {
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
    /// The invitation to replace.
    pub id: ID,
    /// When the new link expires; in the future. Default: as long from now
    /// as the replaced invitation ran from its sending.
    pub expires_at: Option<DateTime>,
}

/// A survey's reminder e-mails: sent to invitations that were e-mailed and
/// are still pending.
#[derive(InputObject)]
pub struct SetSurveyRemindersInput {
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
    /// The survey.
    pub survey_id: ID,
    /// Reminders after the invitation e-mail: 0 (none) to 3.
    pub count: i32,
    /// Days between the invitation e-mail and the first reminder, and
    /// between reminders: 1 to 30.
    pub interval_days: i32,
}
