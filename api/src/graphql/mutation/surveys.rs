//! Survey mutations: staff writes, and the public `submitSurveyResponse`.

use async_graphql::{Context, Object};
use domain::feedback::{SurveyDraft, SurveyPatch, MAX_ANSWERS};

use crate::graphql::context::{preferred_languages, ContextExt};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::survey::{
    answer_error, CloseSurveyInput, CreateSurveyInput, InviteToSurveyInput,
    MarkFeedbackHelpfulInput, PublishSurveyInput, RemoveSurveyTranslationInput,
    ResolveFollowUpInput, SetSurveyTranslationInput, SubmitSurveyResponseInput, UpdateSurveyInput,
};
use crate::graphql::object::invitation::InvitationDelivery;
use crate::graphql::object::survey::{
    FollowUp, IssuedInvitation, SkippedInvitation, Survey, SurveyResponse,
};
use crate::graphql::payload::surveys::{
    CloseSurveyPayload, CreateSurveyPayload, InviteToSurveyPayload, MarkFeedbackHelpfulPayload,
    PublishSurveyPayload, RemoveSurveyTranslationPayload, ResolveFollowUpPayload,
    SetSurveyTranslationPayload, SubmitSurveyResponsePayload, UpdateSurveyPayload,
};
use crate::graphql::query::surveys::client_addr;
use crate::graphql::scalar::{global_id, parse_id, NodeType};

#[derive(Default)]
pub struct SurveyMutation;

#[Object]
impl SurveyMutation {
    /// Creates a `DRAFT` survey with its questions (MANAGER+).
    async fn create_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey and its questions.")] input: CreateSurveyInput,
    ) -> ApiResult<CreateSurveyPayload> {
        let actor = ctx.actor()?;
        let client_mutation_id = input.client_mutation_id.clone();
        let draft = SurveyDraft::try_from(input)?;
        let survey = ctx.services()?.surveys.create_survey(actor, draft).await?;
        Ok(CreateSurveyPayload {
            client_mutation_id,
            survey: Survey(survey),
        })
    }

    /// Changes a `DRAFT` survey (MANAGER+); `CONFLICT` once published.
    async fn update_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey's id and the changes.")] input: UpdateSurveyInput,
    ) -> ApiResult<UpdateSurveyPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &input.id)?;
        let client_mutation_id = input.client_mutation_id.clone();
        let patch = SurveyPatch::try_from(input)?;
        let survey = ctx
            .services()?
            .surveys
            .update_survey(actor, id, patch)
            .await?;
        Ok(UpdateSurveyPayload {
            client_mutation_id,
            survey: Survey(survey),
        })
    }

    /// Publishes a `DRAFT` survey (MANAGER+): it needs a question, every
    /// `CSI_FACTOR` question must name a factor of its PUBLISHED factor set, and
    /// its programme must exist. The survey becomes `ACTIVE`.
    async fn publish_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] input: PublishSurveyInput,
    ) -> ApiResult<PublishSurveyPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &input.id)?;
        let survey = ctx.services()?.surveys.publish_survey(actor, id).await?;
        Ok(PublishSurveyPayload {
            client_mutation_id: input.client_mutation_id,
            survey: Survey(survey),
        })
    }

    /// Closes a survey (MANAGER+); its invitation tokens then answer `CONFLICT`.
    async fn close_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] input: CloseSurveyInput,
    ) -> ApiResult<CloseSurveyPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &input.id)?;
        let survey = ctx.services()?.surveys.close_survey(actor, id).await?;
        Ok(CloseSurveyPayload {
            client_mutation_id: input.client_mutation_id,
            survey: Survey(survey),
        })
    }

    /// Invites customers to an `ACTIVE` survey (MANAGER+). Each invitation's
    /// token is returned once, with its form URL. Re-inviting a customer with a
    /// live invitation revokes it and issues a new one; unknown, erased and
    /// churned customers and those who already answered are skipped. With
    /// `delivery: EMAIL` the server e-mails each link (and the survey's
    /// reminders) and skips customers without an e-mail address, marketing
    /// consent, or who opted out; `CONFLICT` when no SMTP server is
    /// configured.
    async fn invite_to_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey, the customers and the expiry.")] input: InviteToSurveyInput,
    ) -> ApiResult<InviteToSurveyPayload> {
        let actor = ctx.actor()?;
        let survey_id = parse_id(NodeType::Survey, "surveyId", &input.survey_id)?;
        if input.customer_ids.len() > domain::feedback::MAX_INVITES_PER_CALL {
            return Err(ApiError::bad_input(
                "customerIds",
                "at most 1000 customers per call",
            ));
        }
        let ids = input
            .customer_ids
            .iter()
            .enumerate()
            .map(|(i, id)| parse_id(NodeType::Customer, &format!("customerIds.{i}"), id))
            .collect::<ApiResult<Vec<_>>>()?;
        let hidden = input.recipient_fields()?;
        let services = ctx.services()?;
        let email = match input.delivery {
            InvitationDelivery::LinkOnly => None,
            InvitationDelivery::Email if !services.mail.enabled => {
                return Err(domain::error::DomainError::conflict(
                    "e-mail is not configured on this server (RAPPORT_SMTP_URL)",
                )
                .into())
            }
            InvitationDelivery::Email => Some(domain::feedback::mail::EmailRequest {
                locale: input.locale.clone(),
                day: services.mail.reminder_day,
            }),
        };
        let batch = services
            .surveys
            .invite(
                actor,
                survey_id,
                &ids,
                input.locale.as_deref(),
                &hidden,
                input.expires_at.0,
                email.as_ref(),
            )
            .await?;
        Ok(InviteToSurveyPayload {
            client_mutation_id: input.client_mutation_id,
            invitations: batch
                .issued
                .into_iter()
                .map(|i| IssuedInvitation {
                    invitation_id: global_id(NodeType::SurveyInvitation, i.invitation_id),
                    customer_id: global_id(NodeType::Customer, i.customer_id),
                    form_url: format!("{}/s/{}", services.public_url, i.token),
                    token: i.token,
                    expires_at: i.expires_at.into(),
                    reissued: i.reissued,
                })
                .collect(),
            skipped: batch
                .skipped
                .into_iter()
                .map(|(customer_id, reason)| SkippedInvitation {
                    customer_id: global_id(NodeType::Customer, customer_id),
                    reason: reason.into(),
                })
                .collect(),
        })
    }

    /// Public (no staff token): submits the answers of an invitation, once.
    /// A bad submission is rejected whole with `BAD_USER_INPUT` whose
    /// `extensions.field` is `answers.<questionId>` (or `answers` for too many),
    /// and the token stays usable. A good one is stored, the invitation used and
    /// the incentive credited exactly once.
    async fn submit_survey_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token and the answers.")] input: SubmitSurveyResponseInput,
    ) -> ApiResult<SubmitSurveyResponsePayload> {
        let services = ctx.services()?;
        if input.answers.len() > MAX_ANSWERS {
            return Err(ApiError::bad_input(
                "answers",
                "at most 200 answers per submission",
            ));
        }
        let answers = input
            .answers
            .into_iter()
            .enumerate()
            .map(|(i, a)| a.into_domain(i))
            .collect::<ApiResult<Vec<_>>>()?;
        let addr = client_addr(ctx);
        let languages = preferred_languages(ctx);
        let receipt = services
            .public_throttle
            .guard(
                &addr,
                services.surveys.submit(&input.token, answers, &languages),
            )
            .await
            .map_err(answer_error)?;
        let locale = receipt.response.locale.clone();
        // Committed: tell live dashboards (on PostgreSQL, every process heard it at commit).
        crate::feedback_relay::publish(services, receipt.response);
        Ok(SubmitSurveyResponsePayload {
            client_mutation_id: input.client_mutation_id,
            response_id: global_id(NodeType::SurveyResponse, receipt.response_id),
            points_awarded: receipt.points_awarded,
            csi: receipt.csi.map(Into::into),
            locale,
        })
    }

    /// Sets a survey's translation for one locale, replacing any earlier one
    /// (MANAGER+). Allowed while the survey is `DRAFT` (may be incomplete
    /// until publishing) or `ACTIVE` (must be complete: text corrections
    /// while a survey runs are normal); `CONFLICT` once `CLOSED`.
    async fn set_survey_translation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey, the locale and its texts.")] input: SetSurveyTranslationInput,
    ) -> ApiResult<SetSurveyTranslationPayload> {
        let actor = ctx.actor()?;
        let survey_id = parse_id(NodeType::Survey, "surveyId", &input.survey_id)?;
        let client_mutation_id = input.client_mutation_id.clone();
        let translation = input.into_domain()?;
        let survey = ctx
            .services()?
            .surveys
            .set_translation(actor, survey_id, translation)
            .await?;
        Ok(SetSurveyTranslationPayload {
            client_mutation_id,
            survey: Survey(survey),
        })
    }

    /// Removes a survey's translation for one locale (MANAGER+); `DRAFT` or
    /// `ACTIVE` only. Invitations that named it fall back to the
    /// respondent's browser languages, then the default locale.
    async fn remove_survey_translation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey and the locale.")] input: RemoveSurveyTranslationInput,
    ) -> ApiResult<RemoveSurveyTranslationPayload> {
        let actor = ctx.actor()?;
        let survey_id = parse_id(NodeType::Survey, "surveyId", &input.survey_id)?;
        let survey = ctx
            .services()?
            .surveys
            .remove_translation(actor, survey_id, &input.locale)
            .await?;
        Ok(RemoveSurveyTranslationPayload {
            client_mutation_id: input.client_mutation_id,
            survey: Survey(survey),
        })
    }

    /// Marks a response helpful and credits the survey's helpful bonus once
    /// (MANAGER+); marking it again credits nothing. The response's
    /// `helpfulBonus` says which happened.
    async fn mark_feedback_helpful(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response.")] input: MarkFeedbackHelpfulInput,
    ) -> ApiResult<MarkFeedbackHelpfulPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::SurveyResponse, "id", &input.id)?;
        let mark = ctx.services()?.surveys.mark_helpful(actor, id).await?;
        Ok(MarkFeedbackHelpfulPayload {
            client_mutation_id: input.client_mutation_id,
            response: SurveyResponse::from(mark),
        })
    }

    /// Resolves an open follow-up with a note (MANAGER+); `CONFLICT` when already resolved.
    async fn resolve_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The follow-up and what was done.")] input: ResolveFollowUpInput,
    ) -> ApiResult<ResolveFollowUpPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::FollowUp, "id", &input.id)?;
        let follow_up = ctx
            .services()?
            .surveys
            .resolve_follow_up(actor, id, &input.note)
            .await?;
        Ok(ResolveFollowUpPayload {
            client_mutation_id: input.client_mutation_id,
            follow_up: FollowUp(follow_up),
        })
    }
}
