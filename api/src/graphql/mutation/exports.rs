//! CSV exports: a signed, short-lived download link (`GET /exports/{token}`).

use async_graphql::{Context, Object};
use chrono::Utc;
use domain::exports::ExportSpec;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::export::CreateExportInput;
use crate::graphql::object::export::CreateExportPayload;
use crate::graphql::scalar::DateTime;

#[derive(Default)]
pub struct ExportMutation;

#[Object]
impl ExportMutation {
    /// A link to download survey responses, customers or ledger entries as
    /// CSV (MANAGER+; AGENT is `FORBIDDEN`). The link works for a few minutes
    /// (`RAPPORT_EXPORT_LINK_TTL`, 5 minutes by default); the file is
    /// streamed when it is fetched. `NOT_FOUND` for an unknown survey or
    /// programme; `BAD_USER_INPUT` for a parameter the kind lacks or does not
    /// take.
    async fn create_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to export.")] input: CreateExportInput,
    ) -> ApiResult<CreateExportPayload> {
        let actor = ctx.actor()?;
        let services = ctx.services()?;
        let spec = ExportSpec::try_from(&input)?;
        services.exports.authorize(actor, &spec).await?;
        let (token, expires_at) = services
            .export_links
            .issue(actor.user_id, &spec, Utc::now());
        Ok(CreateExportPayload {
            client_mutation_id: input.client_mutation_id,
            url: format!("{}/exports/{token}", services.public_url),
            expires_at: DateTime(expires_at),
            filename: spec.filename(),
        })
    }
}
