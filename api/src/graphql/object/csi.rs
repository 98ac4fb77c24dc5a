//! CSI factor sets, presets and reports (SPEC §5).

use crate::graphql::loader::Loader;
use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{Context, Enum, Object, ID};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::loader::csi::CsiVersionsLoader;
use crate::graphql::object::csi_drivers::{
    self, CsiDrivers, CsiImportanceBasis, CsiImportancePerformance, DriversCell,
};
use crate::graphql::object::segment::{CsiSegment, SegmentBy};
use crate::graphql::scalar::{global_id, Date, NodeType};

/// The lifecycle of a factor-set version.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::FactorSetStatus")]
pub enum CsiFactorSetStatus {
    /// Editable; surveys cannot use it yet.
    Draft,
    /// Frozen and the family's current version (at most one per family):
    /// new surveys bind to it and ratings point to it.
    Published,
    /// Frozen and replaced by a newer published version of its family: still
    /// reportable, surveys already bound to it keep working, new surveys
    /// cannot bind to it.
    Superseded,
    /// Retired; kept for history and reports.
    Archived,
}

/// The length of one trend period.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::Granularity")]
pub enum Granularity {
    /// Calendar months, labelled `2026-01`.
    Month,
    /// Calendar quarters, labelled `2026-Q1`.
    Quarter,
    /// Calendar years, labelled `2026`.
    Year,
}

/// One version of a CSI factor set: a name, a rating scale and weighted factors.
pub struct CsiFactorSet(pub domain::csi::FactorSet);

#[Object]
impl CsiFactorSet {
    /// The global id of this version.
    async fn id(&self) -> ID {
        global_id(NodeType::CsiFactorSet, self.0.id)
    }
    /// The id of the family's first version, shared by every version.
    async fn family_id(&self) -> ID {
        global_id(NodeType::CsiFactorSet, self.0.family_id)
    }
    /// The set's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// 1 for the first version, then one more per revision.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// DRAFT (editable), PUBLISHED (frozen, the family's current version),
    /// SUPERSEDED (frozen, replaced by a newer version) or ARCHIVED.
    async fn status(&self) -> CsiFactorSetStatus {
        self.0.status.into()
    }
    /// Lowest rating of the scale (default 1).
    async fn scale_min(&self) -> i32 {
        self.0.scale.min
    }
    /// Highest rating of the scale (default 5).
    async fn scale_max(&self) -> i32 {
        self.0.scale.max
    }
    /// Optimistic-concurrency version: send it back with `updateCsiFactorSet`;
    /// a stale value is refused with `CONFLICT`.
    async fn lock_version(&self) -> i32 {
        self.0.lock_version
    }
    /// Σ of the factors' weights.
    async fn total_weight(&self) -> Decimal {
        self.0.total_weight().into()
    }
    /// The factors, in their configured order.
    async fn factors(&self) -> Vec<CsiFactor> {
        self.0.factors.iter().cloned().map(CsiFactor).collect()
    }
    /// Every version of this set's family, oldest first (this one included).
    async fn versions(&self, ctx: &Context<'_>) -> ApiResult<Vec<CsiFactorSet>> {
        let loader = ctx.data::<Loader<CsiVersionsLoader>>()?;
        let versions = loader.load_one(self.0.family_id).await?;
        Ok(versions
            .unwrap_or_default()
            .into_iter()
            .map(CsiFactorSet)
            .collect())
    }
    /// The family's current version: its `PUBLISHED` one, which new surveys
    /// bind to; null while the family has none (only a draft, or archived).
    async fn current_version(&self, ctx: &Context<'_>) -> ApiResult<Option<CsiFactorSet>> {
        let loader = ctx.data::<Loader<CsiVersionsLoader>>()?;
        let versions = loader.load_one(self.0.family_id).await?;
        Ok(versions
            .as_deref()
            .and_then(domain::csi::factor_sets::current)
            .cloned()
            .map(CsiFactorSet))
    }
    /// When this version was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When this version last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
    /// When this version was published, if it was.
    async fn published_at(&self) -> Option<DateTime> {
        self.0.published_at.map(Into::into)
    }
}

/// One weighted factor of a set.
pub struct CsiFactor(pub domain::csi::Factor);

#[Object]
impl CsiFactor {
    /// The factor's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::CsiFactor, self.0.id)
    }
    /// Stable key (`[a-z0-9_]{1,40}`) that survey questions refer to.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Label shown to staff and respondents.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Weight as configured (any positive decimal).
    async fn weight(&self) -> Decimal {
        self.0.weight.into()
    }
    /// `weight / Σ weights`, rounded once to 4 decimal places (half away
    /// from zero); the shown values of a set need not sum to exactly 1.
    async fn normalized_weight(&self) -> Decimal {
        self.0.normalized_weight.into()
    }
    /// 0-based position in the set.
    async fn position(&self) -> i32 {
        self.0.position
    }
}

/// A ready-made list of factors to start a set from.
pub struct CsiPreset(pub domain::csi::presets::Preset);

#[Object]
impl CsiPreset {
    /// Stable key of the preset, e.g. `acsi`.
    async fn key(&self) -> &str {
        self.0.key
    }
    /// Display name.
    async fn name(&self) -> &str {
        self.0.name
    }
    /// What the preset measures.
    async fn description(&self) -> &str {
        self.0.description
    }
    /// Suggested lowest rating.
    async fn scale_min(&self) -> i32 {
        self.0.scale.min
    }
    /// Suggested highest rating.
    async fn scale_max(&self) -> i32 {
        self.0.scale.max
    }
    /// The drivers with default weights.
    async fn factors(&self) -> Vec<CsiPresetFactor> {
        self.0
            .factors
            .iter()
            .cloned()
            .map(CsiPresetFactor)
            .collect()
    }
}

/// One driver of a preset.
pub struct CsiPresetFactor(pub domain::csi::presets::PresetFactor);

#[Object]
impl CsiPresetFactor {
    /// Factor key.
    async fn key(&self) -> &str {
        self.0.key
    }
    /// Factor label.
    async fn label(&self) -> &str {
        self.0.label
    }
    /// Default weight.
    async fn weight(&self) -> Decimal {
        self.0.weight.into()
    }
    /// What a respondent is asked to rate.
    async fn description(&self) -> &str {
        self.0.description
    }
}

/// The CSI of one factor-set version over a period.
pub struct CsiReport(pub domain::csi::CsiReport, DriversCell);

impl CsiReport {
    /// The report's object; figures derived on demand are computed once.
    pub fn new(report: domain::csi::CsiReport) -> Self {
        Self(report, DriversCell::default())
    }
}

#[Object]
impl CsiReport {
    /// The version reported on (its weights apply).
    async fn factor_set(&self) -> CsiFactorSet {
        CsiFactorSet(self.0.factor_set.clone())
    }
    /// First day counted (UTC).
    async fn from(&self) -> Date {
        self.0.from.into()
    }
    /// First day no longer counted (UTC): the period is `[from, to)`.
    async fn to(&self) -> Date {
        self.0.to.into()
    }
    /// The trend's period length.
    async fn granularity(&self) -> Granularity {
        self.0.granularity.into()
    }
    /// 0..100: `100 · Σ wᵢ·(x̄ᵢ − min)/(max − min) / Σ wᵢ` over factors with
    /// ratings; null when nothing was rated.
    async fn index(&self) -> Option<Decimal> {
        self.0.index.map(Into::into)
    }
    /// `Σ wᵢ·x̄ᵢ / Σ wᵢ` on the rating scale; null when nothing was rated.
    async fn weighted_mean(&self) -> Option<Decimal> {
        self.0.weighted_mean.map(Into::into)
    }
    /// Distinct responses with at least one rating in the period.
    async fn response_count(&self) -> i64 {
        self.0.response_count
    }
    /// Factor ratings in the period.
    async fn rating_count(&self) -> i64 {
        self.0.rating_count
    }
    /// Per factor, highest priority (improve first) at the top.
    async fn factors(&self) -> Vec<CsiFactorResult> {
        self.0
            .factors
            .iter()
            .cloned()
            .map(CsiFactorResult)
            .collect()
    }
    /// One point per period of `granularity`, empty periods included.
    async fn trend(&self) -> Vec<CsiTrendPoint> {
        self.0.trend.iter().cloned().map(CsiTrendPoint).collect()
    }
    /// The same-length period just before `from`, and the change since.
    async fn previous_period(&self) -> CsiPeriodComparison {
        CsiPeriodComparison(self.0.previous_period.clone())
    }
    /// Derived importance: how much each factor explains of the overall
    /// satisfaction rating (Johnson's relative weights), beside its stated
    /// weight, over the complete responses of this period and filter.
    /// Computed only when selected, from one aggregate query.
    async fn drivers(&self, ctx: &Context<'_>) -> ApiResult<CsiDrivers> {
        Ok(CsiDrivers(self.1.get(ctx, &self.0).await?.clone()))
    }
    /// The importance–performance map: each factor's importance (stated or
    /// derived) against its mean rating, in four quadrants divided at the
    /// means.
    async fn importance_performance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where importance comes from.")] basis: CsiImportanceBasis,
    ) -> ApiResult<CsiImportancePerformance> {
        csi_drivers::importance_performance(ctx, &self.0, &self.1, basis).await
    }
    /// The report per customer segment (relationship type, stage, loyalty
    /// tier or tag, current values), over the same ratings, period and
    /// filter, sorted by key. Segments with fewer than `minResponses`
    /// responses are suppressed (no figure, no count); when only one is,
    /// the smallest other one is suppressed with it. Computed only when
    /// selected, from one grouped query.
    async fn segments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer attribute to split by.")] by: SegmentBy,
        #[graphql(
            desc = "Fewest responses a segment needs to show figures: at least 5, and 5 when omitted."
        )]
        min_responses: Option<i64>,
    ) -> ApiResult<Vec<CsiSegment>> {
        let threshold = domain::segments::threshold(min_responses, "minResponses")?;
        let actor = ctx.actor()?;
        Ok(ctx
            .services()?
            .csi
            .segments(actor, &self.0, by.into(), threshold)
            .await?
            .into_iter()
            .map(CsiSegment)
            .collect())
    }
    /// 95 % Student t interval of `index` from the spread of the responses'
    /// own indices (`sampleSize`: responses); null in `csiReportPreview`.
    async fn index_interval(
        &self,
    ) -> Option<crate::graphql::object::confidence::ConfidenceInterval> {
        self.0
            .index_confidence
            .map(crate::graphql::object::confidence::ConfidenceInterval)
    }
}

/// One factor's line in a CSI report.
pub struct CsiFactorResult(pub domain::csi::report::FactorResult);

#[Object]
impl CsiFactorResult {
    /// Factor key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Factor label.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Configured weight.
    async fn weight(&self) -> Decimal {
        self.0.weight.into()
    }
    /// `weight / Σ weights`, rounded to 4 decimal places.
    async fn normalized_weight(&self) -> Decimal {
        self.0.normalized_weight.into()
    }
    /// Ratings of this factor in the period.
    async fn rating_count(&self) -> i64 {
        self.0.rating_count
    }
    /// Mean rating on the scale; null without ratings.
    async fn mean(&self) -> Option<Decimal> {
        self.0.mean.map(Into::into)
    }
    /// The mean on 0..100, `100 · (x̄ − min)/(max − min)`; null without ratings.
    async fn score(&self) -> Option<Decimal> {
        self.0.score.map(Into::into)
    }
    /// Importance × shortfall, `weight / Σ weights × (100 − score)` from the
    /// exact share and mean (not the rounded `normalizedWeight` and `score`),
    /// rounded to 4 places; null without ratings.
    async fn priority_score(&self) -> Option<Decimal> {
        self.0.priority_score.map(Into::into)
    }
    /// Rank, 1 = improve first (highest exact priority; a tie goes to the
    /// heavier factor, then the set's order); factors without ratings last.
    async fn priority(&self) -> i32 {
        self.0.priority
    }
    /// 95 % Student t interval of `score` (`sampleSize`: ratings).
    async fn score_interval(&self) -> crate::graphql::object::confidence::ConfidenceInterval {
        crate::graphql::object::confidence::ConfidenceInterval(self.0.score_confidence)
    }
}

/// One period of a CSI trend.
pub struct CsiTrendPoint(pub domain::csi::report::TrendPoint);

#[Object]
impl CsiTrendPoint {
    /// `2026-01`, `2026-Q1` or `2026`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// First day counted (the period's start, or the report's `from` if later).
    async fn start(&self) -> Date {
        self.0.start.into()
    }
    /// First day not counted (the next period's start, or the report's `to` if earlier).
    async fn end(&self) -> Date {
        self.0.end.into()
    }
    /// The period's index; null when nothing was rated.
    async fn index(&self) -> Option<Decimal> {
        self.0.index.map(Into::into)
    }
    /// The period's weighted mean; null when nothing was rated.
    async fn weighted_mean(&self) -> Option<Decimal> {
        self.0.weighted_mean.map(Into::into)
    }
    /// Distinct responses in the period.
    async fn response_count(&self) -> i64 {
        self.0.response_count
    }
    /// Factor ratings in the period.
    async fn rating_count(&self) -> i64 {
        self.0.rating_count
    }
    /// 95 % Student t interval of the period's `index`; null in
    /// `csiReportPreview`.
    async fn index_interval(
        &self,
    ) -> Option<crate::graphql::object::confidence::ConfidenceInterval> {
        self.0
            .index_confidence
            .map(crate::graphql::object::confidence::ConfidenceInterval)
    }
    /// Whether the index differs significantly from the previous trend
    /// point's (Welch's t test, 95 %); null for the first point and in
    /// `csiReportPreview`.
    async fn change(&self) -> Option<crate::graphql::object::confidence::SignificanceTest> {
        self.0
            .change
            .map(crate::graphql::object::confidence::SignificanceTest)
    }
}

/// The period before a report's period, for comparison.
pub struct CsiPeriodComparison(pub domain::csi::report::PeriodComparison);

#[Object]
impl CsiPeriodComparison {
    /// First day of the previous period, `from − (to − from)`.
    async fn from(&self) -> Date {
        self.0.from.into()
    }
    /// The report's `from` (exclusive end of the previous period).
    async fn to(&self) -> Date {
        self.0.to.into()
    }
    /// The previous period's index; null when nothing was rated.
    async fn index(&self) -> Option<Decimal> {
        self.0.index.map(Into::into)
    }
    /// The previous period's weighted mean.
    async fn weighted_mean(&self) -> Option<Decimal> {
        self.0.weighted_mean.map(Into::into)
    }
    /// Distinct responses in the previous period.
    async fn response_count(&self) -> i64 {
        self.0.response_count
    }
    /// Report index − previous index, from the unrounded indices, rounded to
    /// 4 places; null when either is null.
    async fn delta(&self) -> Option<Decimal> {
        self.0.delta.map(Into::into)
    }
    /// 95 % Student t interval of the previous period's index; null in
    /// `csiReportPreview`.
    async fn index_interval(
        &self,
    ) -> Option<crate::graphql::object::confidence::ConfidenceInterval> {
        self.0
            .index_confidence
            .map(crate::graphql::object::confidence::ConfidenceInterval)
    }
    /// Whether the report's index differs significantly from the previous
    /// period's (Welch's t test, 95 %); null in `csiReportPreview`.
    async fn change(&self) -> Option<crate::graphql::object::confidence::SignificanceTest> {
        self.0
            .change
            .map(crate::graphql::object::confidence::SignificanceTest)
    }
}

/// How a factor fares between the published version and the draft.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::preview::FactorChange")]
pub enum CsiFactorChange {
    /// In both versions (matched by key); its weight may differ.
    Kept,
    /// Only in the draft: no ratings exist for it yet (no data).
    Added,
    /// Only in the published version: the draft leaves it out.
    Removed,
}

/// A published version's CSI report beside the report its ratings would give
/// under the weights of a draft, with the differences.
pub struct CsiReportPreview(pub domain::csi::CsiPreview);

#[Object]
impl CsiReportPreview {
    /// The report of the published version, exactly as `csiReport` answers it.
    async fn published(&self) -> CsiReport {
        CsiReport::new(self.0.published.clone())
    }
    /// The same ratings under the draft's weights; its `factorSet` is the
    /// draft, and factors added in the draft have no data.
    async fn preview(&self) -> CsiReport {
        CsiReport::new(self.0.preview.clone())
    }
    /// Preview index − published index over the period, from the unrounded
    /// indices, rounded once to 4 places; null when either is null.
    async fn index_delta(&self) -> Option<Decimal> {
        self.0.index_delta.map(Into::into)
    }
    /// Preview − published weighted mean, likewise.
    async fn weighted_mean_delta(&self) -> Option<Decimal> {
        self.0.weighted_mean_delta.map(Into::into)
    }
    /// Preview − published index of the previous period, likewise.
    async fn previous_period_index_delta(&self) -> Option<Decimal> {
        self.0.previous_period_index_delta.map(Into::into)
    }
    /// Per trend period, in order: both indices and their difference.
    async fn trend(&self) -> Vec<CsiTrendDifference> {
        self.0
            .trend
            .iter()
            .cloned()
            .map(CsiTrendDifference)
            .collect()
    }
    /// Per factor: the draft's factors in their preview priority order, then
    /// the factors the draft removes.
    async fn factors(&self) -> Vec<CsiFactorDifference> {
        self.0
            .factors
            .iter()
            .cloned()
            .map(CsiFactorDifference)
            .collect()
    }
}

/// One trend period of a preview: the published and the preview index.
pub struct CsiTrendDifference(pub domain::csi::preview::TrendDifference);

#[Object]
impl CsiTrendDifference {
    /// `2026-01`, `2026-Q1` or `2026`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// First day counted.
    async fn start(&self) -> Date {
        self.0.start.into()
    }
    /// First day not counted.
    async fn end(&self) -> Date {
        self.0.end.into()
    }
    /// The period's index under the published weights; null when nothing was rated.
    async fn published_index(&self) -> Option<Decimal> {
        self.0.published_index.map(Into::into)
    }
    /// The period's index under the draft's weights; null when nothing was rated.
    async fn preview_index(&self) -> Option<Decimal> {
        self.0.preview_index.map(Into::into)
    }
    /// `previewIndex − publishedIndex` from the unrounded indices, rounded
    /// once to 4 places; null when either is null.
    async fn index_delta(&self) -> Option<Decimal> {
        self.0.index_delta.map(Into::into)
    }
    /// Distinct responses in the period (the same under both weights).
    async fn response_count(&self) -> i64 {
        self.0.response_count
    }
}

/// One factor of a preview: its line in each report and what changed.
pub struct CsiFactorDifference(pub domain::csi::preview::FactorDifference);

#[Object]
impl CsiFactorDifference {
    /// Factor key (factors match by key).
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The draft's label (the published one for a removed factor).
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// KEPT, ADDED (no data) or REMOVED.
    async fn change(&self) -> CsiFactorChange {
        self.0.change.into()
    }
    /// Its line in the published report; null when ADDED.
    async fn published(&self) -> Option<CsiFactorResult> {
        self.0.published.clone().map(CsiFactorResult)
    }
    /// Its line in the preview; null when REMOVED.
    async fn preview(&self) -> Option<CsiFactorResult> {
        self.0.preview.clone().map(CsiFactorResult)
    }
    /// Draft `normalizedWeight` − published one, from the exact shares,
    /// rounded once to 4 places; null unless KEPT.
    async fn normalized_weight_delta(&self) -> Option<Decimal> {
        self.0.normalized_weight_delta.map(Into::into)
    }
    /// Published `priority` − preview `priority`: positive when the factor
    /// ranks higher (improve sooner) under the draft; null unless KEPT.
    async fn priority_change(&self) -> Option<i32> {
        self.0.priority_change
    }
}
