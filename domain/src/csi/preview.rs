//! `csiReportPreview`: what a published version's report would have been
//! under the weights of a draft of the same family, side by side with the
//! report as published.
//!
//! The ratings are the published version's, aggregated once by the same SQL
//! as [`super::report::report`]; both reports are built from those
//! aggregates by the same function, one with the published weights and one
//! with the draft's ([`Weighting::by_key`]: factors matched by key, a factor
//! added in the draft has no data, a removed one is left out). Nothing is
//! written: no version, rating or stored response CSI changes.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use crate::csi::compute;
use crate::csi::factor_sets::load;
use crate::csi::report::{
    build, collect, exact_delta, plan, CsiReport, FactorResult, ReportQuery, Weighting,
};
use crate::csi::types::{FactorSet, FactorSetStatus};
use crate::error::{DomainError, DomainResult};

/// What a preview covers: a report query on a published version, and the
/// draft whose weights to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewQuery {
    /// The period, filter and granularity; `factor_set_id` is the published
    /// version whose ratings count.
    pub report: ReportQuery,
    /// A `DRAFT` of the same family with the same scale.
    pub draft_id: i64,
}

/// How a factor fares between the published version and the draft.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FactorChange {
    /// In both (matched by key); its weight may differ.
    Kept,
    /// Only in the draft: no ratings exist for it yet ("no data").
    Added,
    /// Only in the published version: the draft leaves it out.
    Removed,
}

/// One factor's weight and priority, published and under the draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorDifference {
    pub key: String,
    /// The draft's label, or the published one for a removed factor.
    pub label: String,
    pub change: FactorChange,
    /// `None` for an added factor.
    pub published: Option<FactorResult>,
    /// `None` for a removed factor.
    pub preview: Option<FactorResult>,
    /// Draft share − published share, from the exact shares, rounded once;
    /// `None` unless kept.
    pub normalized_weight_delta: Option<Decimal>,
    /// Published rank − draft rank: positive when the factor moves up (is to
    /// be improved sooner) under the draft; `None` unless kept.
    pub priority_change: Option<i32>,
}

/// One trend period's index, published and under the draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendDifference {
    pub period: String,
    pub start: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
    pub published_index: Option<Decimal>,
    pub preview_index: Option<Decimal>,
    /// Draft − published of the unrounded indices, rounded once.
    pub index_delta: Option<Decimal>,
    pub response_count: i64,
}

/// The published report, the report under the draft's weights, and their
/// differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsiPreview {
    /// The report of the published version, as `csiReport` answers it.
    pub published: CsiReport,
    /// The same ratings under the draft's weights (its `factor_set` is the
    /// draft).
    pub preview: CsiReport,
    /// Draft − published index over the period, unrounded then rounded once.
    pub index_delta: Option<Decimal>,
    /// Draft − published weighted mean, likewise.
    pub weighted_mean_delta: Option<Decimal>,
    /// Draft − published index of the previous period, likewise.
    pub previous_period_index_delta: Option<Decimal>,
    /// One per trend period, in order.
    pub trend: Vec<TrendDifference>,
    /// The draft's factors in its priority order, then the removed ones in
    /// the published order.
    pub factors: Vec<FactorDifference>,
}

/// Checks that `draft` may be tried on the ratings of `published`.
fn check_pair(published: &FactorSet, draft: &FactorSet) -> DomainResult<()> {
    if published.status == FactorSetStatus::Draft {
        return Err(DomainError::validation(
            "factorSetId",
            format!(
                "version {} (id {}) is a DRAFT and has no ratings; give a published version",
                published.version, published.id
            ),
        ));
    }
    if draft.status != FactorSetStatus::Draft {
        return Err(DomainError::validation(
            "draftId",
            format!(
                "version {} (id {}) is {}; give a DRAFT revision (reviseCsiFactorSet)",
                draft.version, draft.id, draft.status
            ),
        ));
    }
    if draft.family_id != published.family_id {
        return Err(DomainError::validation(
            "draftId",
            format!(
                "belongs to another factor set (family {}), not to family {}",
                draft.family_id, published.family_id
            ),
        ));
    }
    if draft.scale != published.scale {
        return Err(DomainError::validation(
            "draftId",
            format!(
                "has the scale {}..{}, the published version {}..{}; ratings cannot be compared",
                draft.scale.min, draft.scale.max, published.scale.min, published.scale.max
            ),
        ));
    }
    Ok(())
}

/// The report of a published version beside the report its ratings would
/// give under a draft's weights.
///
/// # Errors
/// `BAD_USER_INPUT` as [`super::report::report`], on `factorSetId` for a
/// draft given as the published version, and on `draftId` for a version that
/// is not a `DRAFT`, a draft of another family or of another scale;
/// `NOT_FOUND` for an unknown version or survey.
#[tracing::instrument(skip(db))]
pub async fn preview(db: &impl ConnectionTrait, query: PreviewQuery) -> DomainResult<CsiPreview> {
    let report_query = &query.report;
    let plan = plan(report_query)?;
    let (published, draft) = futures::try_join!(
        load(db, report_query.factor_set_id),
        load(db, query.draft_id)
    )?;
    check_pair(&published, &draft)?;
    let data = collect(db, &published, report_query, &plan, None).await?;

    let before = build(
        report_query,
        &plan,
        &data,
        &published,
        &Weighting::own(&published),
    );
    let after = build(
        report_query,
        &plan,
        &data,
        &draft,
        &Weighting::by_key(&draft, &published),
    );

    let trend = after
        .report
        .trend
        .iter()
        .zip(&before.report.trend)
        .zip(after.trend.iter().zip(&before.trend))
        .map(|((now, was), (exact_now, exact_was))| TrendDifference {
            period: now.period.clone(),
            start: now.start,
            end: now.end,
            published_index: was.index,
            preview_index: now.index,
            index_delta: exact_delta(*exact_now, *exact_was),
            response_count: now.response_count,
        })
        .collect();

    Ok(CsiPreview {
        index_delta: exact_delta(after.overall, before.overall),
        weighted_mean_delta: match (after.overall, before.overall) {
            (Some(now), Some(was)) => Some(compute::round(now.weighted_mean - was.weighted_mean)),
            _ => None,
        },
        previous_period_index_delta: exact_delta(after.previous, before.previous),
        trend,
        factors: differences(&published, &draft, &before.report, &after.report),
        published: before.report,
        preview: after.report,
    })
}

/// Per-factor weight and priority changes, by key.
fn differences(
    published: &FactorSet,
    draft: &FactorSet,
    before: &CsiReport,
    after: &CsiReport,
) -> Vec<FactorDifference> {
    let mut was: HashMap<&str, &FactorResult> =
        before.factors.iter().map(|f| (f.key.as_str(), f)).collect();
    let mut out: Vec<FactorDifference> = after
        .factors
        .iter()
        .map(|now| {
            let old = was.remove(now.key.as_str());
            let kept = old.is_some();
            let share_delta = match (draft.factor(&now.key), published.factor(&now.key)) {
                (Some(d), Some(p)) if kept && d.share.whole > Decimal::ZERO => {
                    // One subtraction of exact quotients, rounded once.
                    Some(compute::round(
                        d.share.part / d.share.whole - p.share.part / p.share.whole,
                    ))
                }
                _ => None,
            };
            FactorDifference {
                key: now.key.clone(),
                label: now.label.clone(),
                change: if kept {
                    FactorChange::Kept
                } else {
                    FactorChange::Added
                },
                priority_change: old.map(|o| o.priority - now.priority),
                published: old.cloned(),
                preview: Some(now.clone()),
                normalized_weight_delta: share_delta,
            }
        })
        .collect();
    // Removed factors, in the published version's order.
    out.extend(published.factors.iter().filter_map(|f| {
        was.remove(f.key.as_str()).map(|old| FactorDifference {
            key: old.key.clone(),
            label: old.label.clone(),
            change: FactorChange::Removed,
            published: Some(old.clone()),
            preview: None,
            normalized_weight_delta: None,
            priority_change: None,
        })
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csi::compute::Scale;
    use chrono::Utc;

    fn set(id: i64, family_id: i64, status: FactorSetStatus, scale: (i32, i32)) -> FactorSet {
        let now = Utc::now();
        FactorSet {
            id,
            family_id,
            name: "Airline trip".into(),
            version: 1,
            status,
            scale: Scale {
                min: scale.0,
                max: scale.1,
            },
            lock_version: 1,
            created_at: now,
            updated_at: now,
            published_at: None,
            factors: Vec::new(),
        }
    }

    fn field(result: DomainResult<()>) -> String {
        match result {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_draft_of_the_same_family_and_scale_is_accepted() {
        use FactorSetStatus::{Archived, Draft, Published};
        let published = set(1, 1, Published, (1, 5));
        assert!(check_pair(&published, &set(2, 1, Draft, (1, 5))).is_ok());
        let cases = [
            ("another family", set(3, 3, Draft, (1, 5)), "draftId"),
            ("another scale", set(2, 1, Draft, (0, 10)), "draftId"),
            (
                "a published version",
                set(1, 1, Published, (1, 5)),
                "draftId",
            ),
            (
                "an archived version",
                set(2, 1, Archived, (1, 5)),
                "draftId",
            ),
        ];
        for (case, draft, expected) in cases {
            assert_eq!(field(check_pair(&published, &draft)), expected, "{case}");
        }
        let draft = set(2, 1, Draft, (1, 5));
        assert_eq!(field(check_pair(&draft, &draft)), "factorSetId");
    }
}
