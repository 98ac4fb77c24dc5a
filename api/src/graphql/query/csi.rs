//! Queries about CSI factor sets and reports (SPEC §5).

use async_graphql::{Context, Object, ID};
use domain::csi::{PreviewQuery, ReportQuery};
use domain::FoundExt;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::csi::CsiReportFilter;
use crate::graphql::object::csi::{
    CsiFactorSet, CsiFactorSetStatus, CsiPreset, CsiReport, CsiReportPreview, Granularity,
};
use crate::graphql::scalar::{parse_id, Date, NodeType};

#[derive(Default)]
pub struct CsiQuery;

#[Object]
impl CsiQuery {
    /// Every factor-set version, by family then version.
    async fn csi_factor_sets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only versions with this status.")] status: Option<CsiFactorSetStatus>,
    ) -> ApiResult<Vec<CsiFactorSet>> {
        let actor = ctx.actor()?;
        let sets = ctx
            .services()?
            .csi
            .list(actor, status.map(Into::into))
            .await?;
        Ok(sets.into_iter().map(CsiFactorSet).collect())
    }

    /// One factor-set version, null when it does not exist; `versions`
    /// lists its family.
    async fn csi_factor_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The version's id.")] id: ID,
    ) -> ApiResult<Option<CsiFactorSet>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::CsiFactorSet, "id", &id)?;
        let set = ctx.services()?.csi.get(actor, id).await.found()?;
        Ok(set.map(CsiFactorSet))
    }

    /// Ready-made driver lists (ACSI) to start a factor set from.
    async fn csi_presets(&self, ctx: &Context<'_>) -> ApiResult<Vec<CsiPreset>> {
        let actor = ctx.actor()?;
        let presets = ctx.services()?.csi.presets(actor)?;
        Ok(presets.into_iter().map(CsiPreset).collect())
    }

    /// The CSI of one factor-set version over `[from, to)` (UTC dates): index,
    /// per-factor means, scores and priorities, a trend and the previous period.
    async fn csi_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The factor-set version; its weights apply.")] factor_set_id: ID,
        #[graphql(desc = "First day counted.")] from: Date,
        #[graphql(desc = "First day no longer counted; not before `from`.")] to: Date,
        #[graphql(desc = "Which ratings count.")] filter: Option<CsiReportFilter>,
        #[graphql(desc = "Trend period length; MONTH when omitted.")] granularity: Option<
            Granularity,
        >,
    ) -> ApiResult<CsiReport> {
        let actor = ctx.actor()?;
        let query = ReportQuery {
            factor_set_id: parse_id(NodeType::CsiFactorSet, "factorSetId", &factor_set_id)?,
            from: from.0,
            to: to.0,
            granularity: granularity.unwrap_or(Granularity::Month).into(),
            filter: filter.unwrap_or_default().try_into()?,
        };
        Ok(CsiReport(ctx.services()?.csi.report(actor, query).await?))
    }

    /// What the CSI report of a published version over `[from, to)` would
    /// have been under the weights of a DRAFT revision of the same family
    /// (ADMIN, MANAGER), beside the report as published, with the
    /// differences per trend period, overall and per factor. The ratings are
    /// the published version's; factors match by key, a factor added in the
    /// draft has no data and a removed one is left out. Nothing is written.
    // The arguments of `csiReport` plus `draftId`, so a client sends the same
    // variables to both.
    #[allow(clippy::too_many_arguments)]
    async fn csi_report_preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The PUBLISHED version whose ratings count.")] factor_set_id: ID,
        #[graphql(desc = "A DRAFT of the same family and scale; its weights apply.")] draft_id: ID,
        #[graphql(desc = "First day counted.")] from: Date,
        #[graphql(desc = "First day no longer counted; not before `from`.")] to: Date,
        #[graphql(desc = "Which ratings count.")] filter: Option<CsiReportFilter>,
        #[graphql(desc = "Trend period length; MONTH when omitted.")] granularity: Option<
            Granularity,
        >,
    ) -> ApiResult<CsiReportPreview> {
        let actor = ctx.actor()?;
        let query = PreviewQuery {
            report: ReportQuery {
                factor_set_id: parse_id(NodeType::CsiFactorSet, "factorSetId", &factor_set_id)?,
                from: from.0,
                to: to.0,
                granularity: granularity.unwrap_or(Granularity::Month).into(),
                filter: filter.unwrap_or_default().try_into()?,
            },
            draft_id: parse_id(NodeType::CsiFactorSet, "draftId", &draft_id)?,
        };
        Ok(CsiReportPreview(
            ctx.services()?.csi.preview(actor, query).await?,
        ))
    }
}
