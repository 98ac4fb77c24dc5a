//! Reports split by customer segment (`CsiReport.segments`,
//! `SurveyResults.segments`) and a survey's CSAT and NPS trend
//! (`SurveyResults.trend`). Segments smaller than the threshold are
//! suppressed: no figure and no count. Rules in docs/csi.md#segments.

use async_graphql::{Enum, Object};
use domain::csi::segments::{CsiSegment as Segment, SegmentFactor};
use domain::feedback::{AnswerScores, SurveySegment as DomainSurveySegment, SurveyTrendPoint};

use crate::graphql::object::confidence::{ConfidenceInterval, SignificanceTest};
use crate::graphql::scalar::{Date, Decimal};

/// The customer attribute a report is split by. Current values count (the
/// stage or tier a customer has now, not when they answered).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::segments::SegmentBy")]
pub enum SegmentBy {
    /// The customer's relationship type; customers without one are in no
    /// segment.
    RelationshipType,
    /// The customer's relationship stage.
    Stage,
    /// The loyalty tier reached in each programme (a member of several
    /// programmes counts in each programme's tier).
    Tier,
    /// Each of the customer's tags (a customer with several tags counts in
    /// each).
    Tag,
}

/// One customer segment of a CSI report; all figures are null when
/// `suppressed`.
pub struct CsiSegment(pub Segment);

#[Object]
impl CsiSegment {
    /// The segment: the enum name (`SELF_SERVICE`, `COMMITMENT`), the
    /// tier's numeric id, or the tag.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The tier's name; otherwise the key.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// True when the segment has fewer responses than `minResponses`
    /// (or is the smallest other one when only one has): no figure or count
    /// is shown, so no individual can be singled out.
    async fn suppressed(&self) -> bool {
        self.0.figures.is_none()
    }
    /// Distinct responses of the segment's customers; null when suppressed.
    async fn response_count(&self) -> Option<i64> {
        self.0.figures.as_ref().map(|f| f.response_count)
    }
    /// Factor ratings of the segment's customers; null when suppressed.
    async fn rating_count(&self) -> Option<i64> {
        self.0.figures.as_ref().map(|f| f.rating_count)
    }
    /// The index under the report's weights (0..100); null when suppressed.
    async fn index(&self) -> Option<Decimal> {
        self.0
            .figures
            .as_ref()
            .and_then(|f| f.index)
            .map(Into::into)
    }
    /// `Σ wᵢ·x̄ᵢ / Σ wᵢ` on the rating scale; null when suppressed.
    async fn weighted_mean(&self) -> Option<Decimal> {
        self.0
            .figures
            .as_ref()
            .and_then(|f| f.weighted_mean)
            .map(Into::into)
    }
    /// Per factor, in the set's order; empty when suppressed.
    async fn factors(&self) -> Vec<CsiSegmentFactor> {
        self.0
            .figures
            .as_ref()
            .map(|f| f.factors.iter().cloned().map(CsiSegmentFactor).collect())
            .unwrap_or_default()
    }
}

/// One factor within a CSI segment.
pub struct CsiSegmentFactor(pub SegmentFactor);

#[Object]
impl CsiSegmentFactor {
    /// Factor key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Factor label.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Ratings of this factor in the segment.
    async fn rating_count(&self) -> i64 {
        self.0.rating_count
    }
    /// Mean rating on the set's scale; null without ratings.
    async fn mean(&self) -> Option<Decimal> {
        self.0.mean.map(Into::into)
    }
    /// The mean on 0..100; null without ratings.
    async fn score(&self) -> Option<Decimal> {
        self.0.score.map(Into::into)
    }
    /// 95 % Student t interval of `score` (`sampleSize`: ratings).
    async fn score_interval(&self) -> ConfidenceInterval {
        ConfidenceInterval(self.0.score_confidence)
    }
}

/// One customer segment of a survey's results; all figures are null when
/// `suppressed`.
pub struct SurveySegment(pub DomainSurveySegment);

impl SurveySegment {
    fn scores(&self) -> Option<&AnswerScores> {
        self.0.figures.as_ref().map(|f| &f.scores)
    }
}

#[Object]
impl SurveySegment {
    /// The segment: the enum name, the tier's numeric id, or the tag.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The tier's name; otherwise the key.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// True when the segment has fewer responses than `minResponses` (or is
    /// the smallest other one when only one has): no figure or count.
    async fn suppressed(&self) -> bool {
        self.0.figures.is_none()
    }
    /// Responses of the segment's customers; null when suppressed.
    async fn response_count(&self) -> Option<i64> {
        self.0.figures.as_ref().map(|f| f.responses)
    }
    /// Share of 4–5 among RATING answers, percent (2 decimals); null when
    /// suppressed or without RATING answers.
    async fn csat(&self) -> Option<Decimal> {
        self.scores().and_then(AnswerScores::csat).map(Into::into)
    }
    /// 95 % Wilson interval of `csat`; null when suppressed.
    async fn csat_interval(&self) -> Option<ConfidenceInterval> {
        self.scores()
            .map(|s| ConfidenceInterval(s.csat_confidence()))
    }
    /// RATING answers; null when suppressed.
    async fn rating_answers(&self) -> Option<i64> {
        self.scores().map(|s| s.rating_answers)
    }
    /// `%promoters − %detractors` (2 decimals); null when suppressed or
    /// without NPS answers.
    async fn nps(&self) -> Option<Decimal> {
        self.scores().and_then(AnswerScores::nps).map(Into::into)
    }
    /// 95 % interval of `nps`; null when suppressed.
    async fn nps_interval(&self) -> Option<ConfidenceInterval> {
        self.scores()
            .map(|s| ConfidenceInterval(s.nps_confidence()))
    }
    /// NPS answers; null when suppressed.
    async fn nps_answers(&self) -> Option<i64> {
        self.scores().map(AnswerScores::nps_answers)
    }
}

/// One period of a survey's CSAT and NPS trend.
pub struct SurveyTrend(pub SurveyTrendPoint);

#[Object(name = "SurveyTrendPoint")]
impl SurveyTrend {
    /// `2026-01`, `2026-Q1` or `2026`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// First day counted (the period's start, or the survey's first day).
    async fn start(&self) -> Date {
        self.0.start.into()
    }
    /// First day no longer counted.
    async fn end(&self) -> Date {
        self.0.end.into()
    }
    /// Responses submitted in the period.
    async fn responses(&self) -> i64 {
        self.0.responses
    }
    /// Share of 4–5 among the period's RATING answers, percent (2 decimals);
    /// null without RATING answers.
    async fn csat(&self) -> Option<Decimal> {
        self.0.scores.csat().map(Into::into)
    }
    /// 95 % Wilson interval of `csat`.
    async fn csat_interval(&self) -> ConfidenceInterval {
        ConfidenceInterval(self.0.scores.csat_confidence())
    }
    /// RATING answers in the period.
    async fn rating_answers(&self) -> i64 {
        self.0.scores.rating_answers
    }
    /// Whether `csat` differs significantly from the previous point's
    /// (pooled two-proportion z test); null for the first point.
    async fn csat_change(&self) -> Option<SignificanceTest> {
        self.0.csat_change.map(SignificanceTest)
    }
    /// `%promoters − %detractors` in the period (2 decimals); null without
    /// NPS answers.
    async fn nps(&self) -> Option<Decimal> {
        self.0.scores.nps().map(Into::into)
    }
    /// 95 % interval of `nps`.
    async fn nps_interval(&self) -> ConfidenceInterval {
        ConfidenceInterval(self.0.scores.nps_confidence())
    }
    /// NPS answers in the period.
    async fn nps_answers(&self) -> i64 {
        self.0.scores.nps_answers()
    }
    /// NPS answers of 9–10.
    async fn promoters(&self) -> i64 {
        self.0.scores.promoters
    }
    /// NPS answers of 0–6.
    async fn detractors(&self) -> i64 {
        self.0.scores.detractors
    }
    /// Whether `nps` differs significantly from the previous point's (z test
    /// of the difference, NPS variances summed); null for the first point.
    async fn nps_change(&self) -> Option<SignificanceTest> {
        self.0.nps_change.map(SignificanceTest)
    }
}
