//! Queries about surveys: staff reads, and the public `surveyInvitation`.

// Relay connections take four page arguments plus filters and the context.
#![allow(clippy::too_many_arguments)]

use async_graphql::connection::Connection;
use async_graphql::{Context, Object, ID};
use domain::feedback::FollowUpFilter;
use domain::pagination::PageRequest;
use domain::FoundExt;

use crate::graphql::context::{ClientAddr, ContextExt};
use crate::graphql::error::ApiResult;
use crate::graphql::input::survey::{status_filter, SurveyResponseFilter};
use crate::graphql::object::survey::{
    connection, FollowUp, FollowUpStatus, Survey, SurveyInvitation, SurveyResponse, SurveyResults,
    SurveyStatus,
};
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct SurveyQuery;

/// The caller's address for the public throttle.
pub fn client_addr(ctx: &Context<'_>) -> String {
    ctx.data_opt::<ClientAddr>()
        .map(|c| c.0.clone())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[Object]
impl SurveyQuery {
    /// Surveys, newest first, optionally by status.
    async fn surveys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only surveys in this status.")] status: Option<SurveyStatus>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<Connection<String, Survey>> {
        let actor = ctx.actor()?;
        let page = PageRequest::parse(first, after, last, before)?;
        let page = ctx
            .services()?
            .surveys
            .surveys(actor, status_filter(status), page)
            .await?;
        Ok(connection(page.map(Survey)))
    }

    /// One survey; null when it does not exist.
    async fn survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey's id.")] id: ID,
    ) -> ApiResult<Option<Survey>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Survey, "id", &id)?;
        let survey = ctx.services()?.surveys.survey(actor, id).await.found()?;
        Ok(survey.map(Survey))
    }

    /// Public (no staff token): the survey behind an invitation token, as the
    /// respondent sees it. `INVALID_TOKEN`, `TOKEN_EXPIRED`, `ALREADY_SUBMITTED`,
    /// or `CONFLICT` when the survey is closed; `RATE_LIMITED` after repeated
    /// invalid tokens from one address.
    async fn survey_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The personal token from the invitation link.")] token: String,
    ) -> ApiResult<SurveyInvitation> {
        let services = ctx.services()?;
        let addr = client_addr(ctx);
        let (survey, expires_at) = services
            .public_throttle
            .guard(&addr, services.surveys.survey_for_token(&token))
            .await?;
        Ok(SurveyInvitation {
            survey,
            expires_at: expires_at.into(),
        })
    }

    /// A survey's responses, newest first.
    async fn survey_responses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] survey_id: ID,
        #[graphql(desc = "Narrow the responses.")] filter: Option<SurveyResponseFilter>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<Connection<String, SurveyResponse>> {
        let actor = ctx.actor()?;
        let survey_id = parse_id(NodeType::Survey, "surveyId", &survey_id)?;
        let filter = filter.unwrap_or_default().try_into()?;
        let page = PageRequest::parse(first, after, last, before)?;
        let page = ctx
            .services()?
            .surveys
            .responses(actor, survey_id, filter, page)
            .await?;
        Ok(connection(page.map(SurveyResponse::from)))
    }

    /// One survey response; null when it does not exist.
    async fn survey_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response's id.")] id: ID,
    ) -> ApiResult<Option<SurveyResponse>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::SurveyResponse, "id", &id)?;
        let response = ctx.services()?.surveys.response(actor, id).await.found()?;
        Ok(response.map(SurveyResponse::from))
    }

    /// Invitations, responses, response rate, per-question distributions and
    /// means, CSAT and NPS of a survey.
    async fn survey_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] survey_id: ID,
    ) -> ApiResult<SurveyResults> {
        let actor = ctx.actor()?;
        let survey_id = parse_id(NodeType::Survey, "surveyId", &survey_id)?;
        Ok(SurveyResults(
            ctx.services()?.surveys.results(actor, survey_id).await?,
        ))
    }

    /// Follow-ups raised by dissatisfied responses, newest first.
    async fn follow_ups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only follow-ups in this status.")] status: Option<FollowUpStatus>,
        #[graphql(desc = "Only follow-ups of this survey's responses.")] survey_id: Option<ID>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<Connection<String, FollowUp>> {
        let actor = ctx.actor()?;
        let filter = FollowUpFilter {
            status: status.map(Into::into),
            survey_id: survey_id
                .map(|id| parse_id(NodeType::Survey, "surveyId", &id))
                .transpose()?,
        };
        let page = PageRequest::parse(first, after, last, before)?;
        let page = ctx
            .services()?
            .surveys
            .follow_ups(actor, filter, page)
            .await?;
        Ok(connection(page.map(FollowUp)))
    }
}
