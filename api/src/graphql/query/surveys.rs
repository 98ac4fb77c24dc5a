//! Queries about surveys: staff reads, and the public `surveyInvitation`.

// Relay connections take four page arguments plus filters and the context.
#![allow(clippy::too_many_arguments)]

use async_graphql::{Context, Object, ID};
use domain::feedback::ResponseFilter;
use domain::pagination::PageRequest;
use domain::FoundExt;

use crate::graphql::context::{preferred_languages, ClientAddr, ContextExt};
use crate::graphql::error::ApiResult;
use crate::graphql::input::survey::{
    FollowUpFilter, FollowUpOrder, SurveyFilter, SurveyOrder, SurveyResponseFilter,
    SurveyResponseOrder,
};
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::survey::{
    FollowUp, InvitedSurvey, Survey, SurveyResponse, SurveyResults,
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
    /// Surveys, newest first unless `orderBy` says otherwise.
    async fn surveys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which surveys to list.")] filter: Option<SurveyFilter>,
        #[graphql(desc = "Sort order; cursors belong to the order they were issued for.")]
        order_by: Option<SurveyOrder>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Survey>> {
        let actor = ctx.actor()?;
        let services = ctx.services()?;
        let filter: domain::feedback::SurveyFilter = filter.unwrap_or_default().into();
        let order = order_by.map(Into::into).unwrap_or_default();
        let page = PageRequest::parse(first, after, last, before)?;
        let page = services
            .surveys
            .surveys(actor, &filter, order, &page)
            .await?;
        let (surveys, actor) = (services.surveys.clone(), actor.clone());
        Ok(counted(page, Survey, move || {
            let (surveys, actor, filter) = (surveys.clone(), actor.clone(), filter.clone());
            async move { Ok(surveys.count_surveys(&actor, &filter).await?) }
        }))
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
    /// invalid tokens from one address. Shown in the invitation's locale,
    /// else the best match of the request's `Accept-Language`, else the
    /// survey's default locale.
    async fn survey_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The personal token from the invitation link.")] token: String,
    ) -> ApiResult<InvitedSurvey> {
        let services = ctx.services()?;
        let addr = client_addr(ctx);
        let languages = preferred_languages(ctx);
        let invited = services
            .public_throttle
            .guard(&addr, services.surveys.survey_for_token(&token, &languages))
            .await?;
        Ok(InvitedSurvey(invited))
    }

    /// Survey responses, newest submitted first unless `orderBy` says
    /// otherwise.
    async fn survey_responses(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which responses to list (by survey, customer, time, CSI, helpful mark, comment, hidden field)."
        )]
        filter: Option<SurveyResponseFilter>,
        #[graphql(desc = "Sort order; cursors belong to the order they were issued for.")]
        order_by: Option<SurveyResponseOrder>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<SurveyResponse>> {
        let actor = ctx.actor()?;
        let services = ctx.services()?;
        let filter: ResponseFilter = filter.unwrap_or_default().try_into()?;
        let order = order_by.map(Into::into).unwrap_or_default();
        let page = PageRequest::parse(first, after, last, before)?;
        let page = services
            .surveys
            .responses(actor, &filter, order, &page)
            .await?;
        let (surveys, actor) = (services.surveys.clone(), actor.clone());
        Ok(counted(page, SurveyResponse::from, move || {
            let (surveys, actor, filter) = (surveys.clone(), actor.clone(), filter.clone());
            async move { Ok(surveys.count_responses(&actor, &filter).await?) }
        }))
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

    /// Follow-ups raised by dissatisfied responses, newest first unless
    /// `orderBy` says otherwise.
    async fn follow_ups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which follow-ups to list (by status, survey, customer, age).")]
        filter: Option<FollowUpFilter>,
        #[graphql(desc = "Sort order; cursors belong to the order they were issued for.")]
        order_by: Option<FollowUpOrder>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<FollowUp>> {
        let actor = ctx.actor()?;
        let services = ctx.services()?;
        let filter: domain::feedback::FollowUpFilter = filter.unwrap_or_default().try_into()?;
        let order = order_by.map(Into::into).unwrap_or_default();
        let page = PageRequest::parse(first, after, last, before)?;
        let page = services
            .surveys
            .follow_ups(actor, &filter, order, &page)
            .await?;
        let (surveys, actor) = (services.surveys.clone(), actor.clone());
        Ok(counted(page, FollowUp, move || {
            let (surveys, actor, filter) = (surveys.clone(), actor.clone(), filter.clone());
            async move { Ok(surveys.count_follow_ups(&actor, &filter).await?) }
        }))
    }
}
