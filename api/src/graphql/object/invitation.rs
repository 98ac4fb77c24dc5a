//! Survey invitations as staff see them: never the token or its hash; a
//! token is shown only in the payload that issued it.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};

use crate::graphql::error::ApiResult;
use crate::graphql::object::customer::Customer;
use crate::graphql::object::link;
use crate::graphql::object::survey::Survey;
use crate::graphql::scalar::{global_id, DateTime, NodeType};

/// Where an invitation stands now. Exactly one applies: a submitted
/// invitation is `SUBMITTED`, else a revoked one `REVOKED`, else one past
/// `expiresAt` `EXPIRED`, else `PENDING`.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::InvitationStatus")]
pub enum InvitationStatus {
    /// Live: the link works until `expiresAt`.
    Pending,
    /// Answered; the link is spent.
    Submitted,
    /// Not answered before `expiresAt`.
    Expired,
    /// Revoked by staff, replaced by a re-issued link, or the customer was
    /// erased; the link answers like an unknown one.
    Revoked,
}

/// One personal invitation to a survey (one token). Listed with
/// `surveyInvitations`; the token itself is never shown again.
pub struct SurveyInvitation(pub domain::feedback::Invitation);

#[Object]
impl SurveyInvitation {
    /// The invitation's id.
    async fn id(&self) -> ID {
        global_id(NodeType::SurveyInvitation, self.0.id)
    }
    /// The survey's id.
    async fn survey_id(&self) -> ID {
        global_id(NodeType::Survey, self.0.survey_id)
    }
    /// The invited customer's id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The invited customer (batched across a page of invitations).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(ctx, Some(self.0.customer_id)).await
    }
    /// The survey (batched across a page of invitations).
    async fn survey(&self, ctx: &Context<'_>) -> ApiResult<Option<Survey>> {
        link::survey(ctx, Some(self.0.survey_id)).await
    }
    /// Where the invitation stands now.
    async fn status(&self) -> InvitationStatus {
        self.0.status.into()
    }
    /// When this invitation (its token) was issued.
    async fn sent_at(&self) -> DateTime {
        self.0.sent_at.into()
    }
    /// The link works until this time.
    async fn expires_at(&self) -> DateTime {
        self.0.expires_at.into()
    }
    /// When the response was submitted; null unless `SUBMITTED`.
    async fn used_at(&self) -> Option<DateTime> {
        self.0.used_at.map(Into::into)
    }
    /// When the invitation was revoked; null unless `REVOKED`.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(Into::into)
    }
}

/// The result of `revokeSurveyInvitation`.
#[derive(SimpleObject)]
pub struct RevokeSurveyInvitationPayload {
    /// Echoes the input's `clientMutationId`.
    pub client_mutation_id: Option<String>,
    /// The invitation, now `REVOKED`.
    pub invitation: SurveyInvitation,
}

/// The result of `reissueSurveyInvitation`. The token is shown only here:
/// send the form URL to the customer and do not store the token.
#[derive(SimpleObject)]
pub struct ReissueSurveyInvitationPayload {
    /// Echoes the input's `clientMutationId`.
    pub client_mutation_id: Option<String>,
    /// The new invitation, `PENDING`.
    pub invitation: SurveyInvitation,
    /// The invitation it replaces, now `REVOKED` (or as it was, when it had
    /// already been revoked).
    pub previous_invitation: SurveyInvitation,
    /// The new personal token (43 URL-safe characters), shown once.
    pub token: String,
    /// The form page for the new token, `{publicUrl}/s/{token}`.
    pub form_url: String,
}
