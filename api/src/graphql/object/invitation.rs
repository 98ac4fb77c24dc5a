//! Survey invitations as staff see them: never the token or its hash; a
//! token is shown only in the payload that issued it.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};

use crate::graphql::context::ContextExt;
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
    /// The invitation's e-mails (`delivery: EMAIL`): the invitation e-mail,
    /// then its reminders; empty for a link handed out by the caller.
    async fn email_deliveries(&self, ctx: &Context<'_>) -> ApiResult<Vec<EmailDelivery>> {
        let deliveries = ctx
            .services()?
            .surveys
            .email_deliveries(ctx.actor()?, self.0.id)
            .await?;
        Ok(deliveries.into_iter().map(EmailDelivery::from).collect())
    }
}

/// How `inviteToSurvey` hands out its links.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(remote = "domain::feedback::mail::InvitationDelivery")]
pub enum InvitationDelivery {
    /// The links are returned in the payload for the caller to deliver.
    #[default]
    LinkOnly,
    /// The server e-mails each customer their link, then the survey's
    /// reminders.
    Email,
}

/// Which e-mail of an invitation.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::mail::EmailKind")]
pub enum EmailKind {
    /// The e-mail with the link, sent when invited.
    Invitation,
    /// A reminder, due `intervalDays` after the one before.
    Reminder,
}

/// Where an e-mail stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::mail::EmailState")]
pub enum EmailDeliveryState {
    /// Waiting: not yet due, or retried after a failure (see `lastError`).
    Queued,
    /// Accepted by the mail server.
    Sent,
    /// Given up: refused for good, or every attempt failed (`lastError`).
    Failed,
    /// Not sent because it was no longer needed when due: the invitation
    /// was answered, revoked or expired, the survey closed, or the customer
    /// opted out, was erased or withdrew consent (`lastError` says which).
    NotNeeded,
}

/// One e-mail of an invitation and its delivery.
pub struct EmailDelivery(domain::feedback::mail::EmailDelivery);

impl From<domain::feedback::mail::EmailDelivery> for EmailDelivery {
    fn from(delivery: domain::feedback::mail::EmailDelivery) -> Self {
        Self(delivery)
    }
}

#[Object]
impl EmailDelivery {
    /// Invitation e-mail or reminder.
    async fn kind(&self) -> EmailKind {
        self.0.kind.into()
    }
    /// Where it stands.
    async fn state(&self) -> EmailDeliveryState {
        self.0.state.into()
    }
    /// Attempts so far.
    async fn attempts(&self) -> i32 {
        i32::try_from(self.0.attempts).unwrap_or(i32::MAX)
    }
    /// Why the last attempt failed, or why it was not needed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it was queued (with the invitation).
    async fn queued_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the next attempt is due; null unless `QUEUED`.
    async fn scheduled_at(&self) -> Option<DateTime> {
        self.0.scheduled_at.map(Into::into)
    }
    /// When the mail server accepted it; null unless `SENT`.
    async fn sent_at(&self) -> Option<DateTime> {
        self.0.sent_at.map(Into::into)
    }
}

/// A survey's reminder e-mails.
#[derive(SimpleObject)]
pub struct SurveyReminders {
    /// Reminders after the invitation e-mail (0..3).
    pub count: i32,
    /// Days between the invitation e-mail and the first reminder, and
    /// between reminders (1..30).
    pub interval_days: i32,
}

impl From<domain::feedback::mail::ReminderPlan> for SurveyReminders {
    fn from(plan: domain::feedback::mail::ReminderPlan) -> Self {
        Self {
            count: plan.count,
            interval_days: plan.interval_days,
        }
    }
}

/// The result of `setSurveyReminders`.
#[derive(SimpleObject)]
pub struct SetSurveyRemindersPayload {
    /// Echoes the input's `clientMutationId`.
    pub client_mutation_id: Option<String>,
    /// The survey.
    pub survey: Survey,
    /// The reminders now set.
    pub reminders: SurveyReminders,
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
