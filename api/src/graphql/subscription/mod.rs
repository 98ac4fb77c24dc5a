//! The subscription root, served over `/graphql/ws` (graphql-ws).

use std::sync::Arc;

use async_graphql::{Context, Subscription as GqlSubscription, ID};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiError;
use crate::graphql::object::survey::SurveyResponse;
use crate::graphql::scalar::{parse_id, NodeType};

/// All subscriptions. The WebSocket handler authenticates the connection in
/// `connection_init` and puts the staff `Actor` into the connection data.
#[derive(Default)]
pub struct Subscription;

#[GqlSubscription]
impl Subscription {
    /// New survey responses as they are stored (staff with ReadSurveys),
    /// whichever server process stored them (on PostgreSQL through
    /// LISTEN/NOTIFY; responses stored while a process's listening connection
    /// is being re-established are not delivered). A subscriber that falls
    /// more than 256 responses behind skips ahead.
    async fn feedback_received(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this survey's responses; all surveys when omitted.")]
        survey_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = SurveyResponse>> {
        let actor = ctx.actor()?;
        ctx.services()?
            .surveys
            .authorize_response_read(actor)
            .map_err(ApiError::from)?;
        let survey_id = survey_id
            .map(|id| parse_id(NodeType::Survey, "surveyId", &id))
            .transpose()?;
        let receiver = ctx.services()?.feedback_events.subscribe();
        Ok(futures::stream::unfold(
            receiver,
            move |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(response) if survey_id.is_none_or(|id| id == response.survey_id) => {
                            let response = Arc::unwrap_or_clone(response);
                            return Some((SurveyResponse::from(response), rx));
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}
