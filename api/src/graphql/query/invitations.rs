//! `surveyInvitations`: a survey's invitations as staff see them.
//!
//! A root field with a `surveyId` argument, like `surveyResponses`, rather
//! than a field of `Survey`: every role reads surveys but only MANAGER+ may
//! see invitations, and a refusal here is one clean `FORBIDDEN` instead of a
//! null inside a survey the caller may read.

// Relay connections take four page arguments plus filters and the context.
#![allow(clippy::too_many_arguments)]

use async_graphql::{Context, Object, ID};
use domain::feedback::InvitationFilter;
use domain::pagination::PageRequest;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::invitation::SurveyInvitationFilter;
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::invitation::SurveyInvitation;
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct InvitationQuery;

#[Object]
impl InvitationQuery {
    /// A survey's invitations, newest first, with their status now (MANAGER+,
    /// like inviting). Never shows a token.
    async fn survey_invitations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey.")] survey_id: ID,
        #[graphql(desc = "Narrow the invitations.")] filter: Option<SurveyInvitationFilter>,
        #[graphql(desc = "Page size forwards (≤ 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size backwards (≤ 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<SurveyInvitation>> {
        let actor = ctx.actor()?.clone();
        let survey_id = parse_id(NodeType::Survey, "surveyId", &survey_id)?;
        let filter: InvitationFilter = filter.unwrap_or_default().try_into()?;
        let page = PageRequest::parse(first, after, last, before)?;
        let services = ctx.services()?.clone();
        let page = services
            .surveys
            .invitations(&actor, survey_id, &filter, page)
            .await?;
        Ok(counted(page, SurveyInvitation, move || {
            let (services, actor, filter) = (services.clone(), actor.clone(), filter.clone());
            async move {
                Ok(services
                    .surveys
                    .count_invitations(&actor, survey_id, &filter)
                    .await?)
            }
        }))
    }
}
