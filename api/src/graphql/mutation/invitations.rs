//! Staff operations on survey invitations: revoke one, or re-issue its link.

use async_graphql::{Context, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::invitation::{
    ReissueSurveyInvitationInput, RevokeSurveyInvitationInput, SetSurveyRemindersInput,
};
use crate::graphql::object::invitation::{
    ReissueSurveyInvitationPayload, RevokeSurveyInvitationPayload, SetSurveyRemindersPayload,
    SurveyInvitation,
};
use crate::graphql::object::survey::Survey;
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct InvitationMutation;

#[Object]
impl InvitationMutation {
    /// Revokes an invitation that was not submitted (MANAGER+): its link dies
    /// at once, and the public look-up, the submission and the form page answer
    /// as for an unknown token (`INVALID_TOKEN`). `CONFLICT` when it was
    /// submitted or is already revoked.
    async fn revoke_survey_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation.")] input: RevokeSurveyInvitationInput,
    ) -> ApiResult<RevokeSurveyInvitationPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::SurveyInvitation, "id", &input.id)?;
        let invitation = ctx.services()?.surveys.revoke_invitation(actor, id).await?;
        Ok(RevokeSurveyInvitationPayload {
            client_mutation_id: input.client_mutation_id,
            invitation: SurveyInvitation(invitation),
        })
    }

    /// Issues a new link for an invitation that was not submitted (MANAGER+):
    /// the new token is returned once, and the old one is dead at once. The
    /// survey must take invitations (`ACTIVE`, before `closesAt`) and the
    /// customer must be invitable (not erased, churned or already answered);
    /// otherwise `CONFLICT`.
    async fn reissue_survey_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation and the new expiry.")] input: ReissueSurveyInvitationInput,
    ) -> ApiResult<ReissueSurveyInvitationPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::SurveyInvitation, "id", &input.id)?;
        let services = ctx.services()?;
        let reissued = services
            .surveys
            .reissue_invitation(actor, id, input.expires_at.map(|t| t.0))
            .await?;
        Ok(ReissueSurveyInvitationPayload {
            client_mutation_id: input.client_mutation_id,
            form_url: format!("{}/s/{}", services.public_url, reissued.token),
            token: reissued.token,
            invitation: SurveyInvitation(reissued.invitation),
            previous_invitation: SurveyInvitation(reissued.previous),
        })
    }

    /// Sets a survey's reminder e-mails (MANAGER+): `count` reminders,
    /// `intervalDays` apart, follow each invitation e-mailed from now on,
    /// while it is pending (not submitted, revoked or expired), the survey
    /// open and the customer still consenting. Invitations already e-mailed
    /// keep the reminders they were sent with.
    async fn set_survey_reminders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey and its reminders.")] input: SetSurveyRemindersInput,
    ) -> ApiResult<SetSurveyRemindersPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "surveyId", &input.survey_id)?;
        let (survey, plan) = ctx
            .services()?
            .surveys
            .set_reminder_plan(
                actor,
                id,
                domain::feedback::mail::ReminderPlan {
                    count: input.count,
                    interval_days: input.interval_days,
                },
            )
            .await?;
        Ok(SetSurveyRemindersPayload {
            client_mutation_id: input.client_mutation_id,
            survey: Survey(survey),
            reminders: plan.into(),
        })
    }
}
