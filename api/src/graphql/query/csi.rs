//! Queries about CSI factor sets and reports (SPEC §5).

use async_graphql::{Context, Object, ID};
use domain::csi::{PreviewQuery, ReportQuery};
use domain::pagination::{KeyCursor, PageRequest};
use domain::FoundExt;

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::csi::CsiReportFilter;
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::csi::{
    CsiFactorSet, CsiFactorSetStatus, CsiPreset, CsiReport, CsiReportPreview, Granularity,
};
use crate::graphql::object::segment::SegmentBy;
use crate::graphql::scalar::{parse_id, Date, NodeType};

#[derive(Default)]
pub struct CsiQuery;

#[Object]
impl CsiQuery {
    /// Factor-set versions, by family then version.
    async fn csi_factor_sets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only versions with this status.")] status: Option<CsiFactorSetStatus>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<CsiFactorSet>> {
        let actor = ctx.actor()?.clone();
        let services = ctx.services()?.clone();
        let status: Option<domain::csi::FactorSetStatus> = status.map(Into::into);
        let request = PageRequest::<KeyCursor<i64>>::parse(first, after, last, before)?;
        let page = services.csi.list(&actor, status, &request).await?;
        Ok(counted(page, CsiFactorSet, move || {
            let (services, actor) = (services.clone(), actor.clone());
            async move {
                services
                    .csi
                    .count(&actor, status)
                    .await
                    .map_err(ApiError::from)
            }
        }))
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

    /// The CSI of one factor-set version, or of a whole family, over
    /// `[from, to)` (UTC dates): index, per-factor means, scores and
    /// priorities, a trend and the previous period. Give exactly one of
    /// `factorSetId` and `familyId`. A family report pools the ratings of
    /// every published version of the family (SUPERSEDED ones included)
    /// under the weights of its current version, matching factors by key; it
    /// needs the same factor keys and scale in every such version, otherwise
    /// `CONFLICT` says which version differs and how.
    // The report's own arguments plus the two ways to name what is rated.
    #[allow(clippy::too_many_arguments)]
    async fn csi_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The factor-set version; its weights apply.")] factor_set_id: Option<ID>,
        #[graphql(
            desc = "A factor-set family (`CsiFactorSet.familyId`): every published version's ratings, under the current version's weights."
        )]
        family_id: Option<ID>,
        #[graphql(desc = "First day counted.")] from: Date,
        #[graphql(desc = "First day no longer counted; not before `from`.")] to: Date,
        #[graphql(desc = "Which ratings count.")] filter: Option<CsiReportFilter>,
        #[graphql(desc = "Trend period length; MONTH when omitted.")] granularity: Option<
            Granularity,
        >,
    ) -> ApiResult<CsiReport> {
        let actor = ctx.actor()?;
        let (factor_set_id, across_family) = match (factor_set_id, family_id) {
            (Some(id), None) => (parse_id(NodeType::CsiFactorSet, "factorSetId", &id)?, false),
            (None, Some(id)) => (parse_id(NodeType::CsiFactorSet, "familyId", &id)?, true),
            _ => {
                return Err(ApiError::bad_input(
                    "factorSetId",
                    "give exactly one of factorSetId and familyId",
                ))
            }
        };
        let query = ReportQuery {
            factor_set_id,
            across_family,
            from: from.0,
            to: to.0,
            granularity: granularity.unwrap_or(Granularity::Month).into(),
            filter: filter.unwrap_or_default().try_into()?,
            confidence: wants_confidence(ctx),
            drivers: wants_drivers(ctx),
            segments: wants_segments(ctx),
        };
        Ok(CsiReport::new(
            ctx.services()?.csi.report(actor, query).await?,
        ))
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
                across_family: false,
                from: from.0,
                to: to.0,
                granularity: granularity.unwrap_or(Granularity::Month).into(),
                filter: filter.unwrap_or_default().try_into()?,
                confidence: false,
                drivers: false,
                segments: None,
            },
            draft_id: parse_id(NodeType::CsiFactorSet, "draftId", &draft_id)?,
        };
        Ok(CsiReportPreview(
            ctx.services()?.csi.preview(actor, query).await?,
        ))
    }
}

/// Whether the selection asks for an index interval or a change test, which
/// cost the per-response grouping (see `domain::csi::report`).
/// Whether the selection reads derived importance (`drivers`, or the
/// importance–performance map on the derived basis, which may be spelled by
/// a variable): then the report's own pass reads its sums.
fn wants_drivers(ctx: &Context<'_>) -> bool {
    let selection = ctx.look_ahead();
    selection.field("drivers").exists()
        || selection
            .field("importancePerformance")
            .selection_fields()
            .iter()
            .any(|field| {
                field.arguments().map_or(true, |arguments| {
                    arguments.iter().any(|(name, value)| {
                        name.as_str() == "basis"
                            && *value
                                != async_graphql::Value::Enum(async_graphql::Name::new("STATED"))
                    })
                })
            })
}

/// The segment attribute of the first `segments` selection, which the
/// report's own pass then reads (when it is one column of the customer).
fn wants_segments(ctx: &Context<'_>) -> Option<domain::segments::SegmentBy> {
    ctx.look_ahead()
        .field("segments")
        .selection_fields()
        .iter()
        .find_map(|field| {
            let arguments = field.arguments().ok()?;
            let (_, value) = arguments.iter().find(|(name, _)| name.as_str() == "by")?;
            let by = <SegmentBy as async_graphql::InputType>::parse(Some(value.clone())).ok()?;
            Some(by.into())
        })
}

fn wants_confidence(ctx: &Context<'_>) -> bool {
    let selection = ctx.look_ahead();
    let (trend, previous) = (selection.field("trend"), selection.field("previousPeriod"));
    selection.field("indexInterval").exists()
        || trend.field("indexInterval").exists()
        || trend.field("change").exists()
        || previous.field("indexInterval").exists()
        || previous.field("change").exists()
}
