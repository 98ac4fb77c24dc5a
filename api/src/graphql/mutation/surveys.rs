//! Survey mutations: staff writes, and the public `submitSurveyResponse`.

use std::sync::Arc;

use crate::graphql::scalar::DateTime;
use async_graphql::{Context, Object, ID};
use domain::feedback::{SurveyDraft, SurveyPatch, MAX_ANSWERS};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::survey::{
    answer_error, CreateSurveyInput, SurveyAnswerInput, UpdateSurveyInput,
};
use crate::graphql::object::survey::{
    FollowUp, InviteToSurveyPayload, IssuedInvitation, SkippedInvitation, SubmissionReceipt,
    Survey, SurveyResponse,
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
    ) -> ApiResult<Survey> {
        let actor = ctx.actor()?;
        let draft = SurveyDraft::try_from(input)?;
        Ok(Survey(
            ctx.services()?.surveys.create_survey(actor, draft).await?,
        ))
    }

    /// Changes a `DRAFT` survey (MANAGER+); `CONFLICT` once published.
    async fn update_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] id: ID,
        #[graphql(desc = "The changes.")] input: UpdateSurveyInput,
    ) -> ApiResult<Survey> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &id)?;
        let patch = SurveyPatch::try_from(input)?;
        Ok(Survey(
            ctx.services()?
                .surveys
                .update_survey(actor, id, patch)
                .await?,
        ))
    }

    /// Publishes a `DRAFT` survey (MANAGER+): it needs a question, every
    /// `CSI_FACTOR` question must name a factor of its PUBLISHED factor set, and
    /// its programme must exist. The survey becomes `ACTIVE`.
    async fn publish_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] id: ID,
    ) -> ApiResult<Survey> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &id)?;
        Ok(Survey(
            ctx.services()?.surveys.publish_survey(actor, id).await?,
        ))
    }

    /// Closes a survey (MANAGER+); its invitation tokens then answer `CONFLICT`.
    async fn close_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] id: ID,
    ) -> ApiResult<Survey> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &id)?;
        Ok(Survey(
            ctx.services()?.surveys.close_survey(actor, id).await?,
        ))
    }

    /// Invites customers to an `ACTIVE` survey (MANAGER+). Each invitation's
    /// token is returned once, with its form URL. Re-inviting a customer with a
    /// live invitation revokes it and issues a new one; unknown, erased and
    /// churned customers and those who already answered are skipped.
    async fn invite_to_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] survey_id: ID,
        #[graphql(desc = "The customers to invite (≤ 1000).")] customer_ids: Vec<ID>,
        #[graphql(desc = "When the invitations expire.")] expires_at: DateTime,
    ) -> ApiResult<InviteToSurveyPayload> {
        let actor = ctx.actor()?;
        let survey_id = parse_id(NodeType::Survey, "surveyId", &survey_id)?;
        if customer_ids.len() > domain::feedback::MAX_INVITES_PER_CALL {
            return Err(ApiError::bad_input(
                "customerIds",
                "at most 1000 customers per call",
            ));
        }
        let ids = customer_ids
            .iter()
            .enumerate()
            .map(|(i, id)| parse_id(NodeType::Customer, &format!("customerIds.{i}"), id))
            .collect::<ApiResult<Vec<_>>>()?;
        let services = ctx.services()?;
        let batch = services
            .surveys
            .invite(actor, survey_id, &ids, expires_at.0)
            .await?;
        Ok(InviteToSurveyPayload {
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
        #[graphql(desc = "The personal token from the invitation link.")] token: String,
        #[graphql(desc = "One answer per answered question (≤ 200).")] answers: Vec<
            SurveyAnswerInput,
        >,
    ) -> ApiResult<SubmissionReceipt> {
        let services = ctx.services()?;
        if answers.len() > MAX_ANSWERS {
            return Err(ApiError::bad_input(
                "answers",
                "at most 200 answers per submission",
            ));
        }
        let answers = answers
            .into_iter()
            .enumerate()
            .map(|(i, a)| a.into_domain(i))
            .collect::<ApiResult<Vec<_>>>()?;
        let addr = client_addr(ctx);
        let receipt = services
            .public_throttle
            .guard(&addr, services.surveys.submit(&token, answers))
            .await
            .map_err(answer_error)?;
        // Committed: tell live dashboards. No subscriber is not an error.
        let _ = services.feedback_events.send(Arc::new(receipt.response));
        Ok(SubmissionReceipt {
            response_id: global_id(NodeType::SurveyResponse, receipt.response_id),
            points_awarded: receipt.points_awarded,
            csi: receipt.csi.map(Into::into),
        })
    }

    /// Marks a response helpful and credits the survey's helpful bonus once
    /// (MANAGER+); marking it again credits nothing. The result's
    /// `helpfulBonus` says which happened.
    async fn mark_feedback_helpful(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response.")] response_id: ID,
    ) -> ApiResult<SurveyResponse> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::SurveyResponse, "responseId", &response_id)?;
        Ok(SurveyResponse::from(
            ctx.services()?.surveys.mark_helpful(actor, id).await?,
        ))
    }

    /// Resolves an open follow-up with a note (MANAGER+); `CONFLICT` when already resolved.
    async fn resolve_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The follow-up.")] id: ID,
        #[graphql(desc = "What was done.")] note: String,
    ) -> ApiResult<FollowUp> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::FollowUp, "id", &id)?;
        Ok(FollowUp(
            ctx.services()?
                .surveys
                .resolve_follow_up(actor, id, &note)
                .await?,
        ))
    }
}
