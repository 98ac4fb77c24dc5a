//! `CsiReport.segments`: the report's index and factor scores per customer
//! segment (relationship type, stage, loyalty tier or tag), over the same
//! ratings, period and filter as the report, small segments suppressed
//! (rules in [`crate::segments`]).
//!
//! Per segment the responses and, per factor, the `SUM`, `COUNT` and sum of
//! squares of the ratings, from one pass over the report's per-response
//! rows ([`super::pass`]), each response joined to its customer's segments.
//! For a segment attribute that is one column of the customer (stage,
//! relationship type) the report's own pass reads them, when the report was
//! asked for them ([`super::report::ReportQuery::segments`]); otherwise
//! (tags, tiers: several per customer) they take a pass of their own. The
//! report's weights apply to those sums in Rust, exactly as for the whole
//! report.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

use crate::csi::compute;
use crate::csi::confidence::Confidence;
use crate::csi::factor_sets::{load, versions_of_families};
use crate::csi::pass::{self, Pass, SegmentJoin};
use crate::csi::pivot::Scope;
use crate::csi::report::{push_scope, score_confidence, CsiReport, Rated, Sums, Weighting};
use crate::csi::types::FactorSet;
use crate::error::DomainResult;
use crate::segments::{customer_segments, suppress, SegmentBy, SegmentHead};
use crate::sql::Sql;

/// One factor within a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFactor {
    pub key: String,
    pub label: String,
    pub rating_count: i64,
    /// Mean rating on the set's scale; `None` without ratings.
    pub mean: Option<Decimal>,
    /// The mean on 0..=100; `None` without ratings.
    pub score: Option<Decimal>,
    /// 95 % Student t interval of `score`.
    pub score_confidence: Confidence,
}

/// The figures of a segment that is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsiSegmentFigures {
    /// Distinct responses of the segment's customers.
    pub response_count: i64,
    pub rating_count: i64,
    /// The index under the report's weights, 4 places.
    pub index: Option<Decimal>,
    pub weighted_mean: Option<Decimal>,
    /// In the set's factor order.
    pub factors: Vec<SegmentFactor>,
}

/// One segment of a CSI report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsiSegment {
    pub key: String,
    pub label: String,
    /// `None` when the segment is suppressed: no figure, no count.
    pub figures: Option<CsiSegmentFigures>,
}

/// The report's figures per segment of `by`, sorted by key; segments with
/// fewer than `threshold` responses are suppressed ([`suppress`]).
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, report), fields(factor_set_id = report.query.factor_set_id))]
pub async fn segments(
    db: &impl ConnectionTrait,
    report: &CsiReport,
    by: SegmentBy,
    threshold: i64,
) -> DomainResult<Vec<CsiSegment>> {
    let set = &report.factor_set;
    let query = &report.query;
    let (rated, to) = rated_factors(db, report).await?;
    let (mut heads, rated_sums) = match &report.along.segments {
        Some((read, segments)) if *read == by => segments.iter().cloned().unzip(),
        _ => {
            let scope = Scope {
                rated,
                from: query.from,
                to: query.to,
                filter: &query.filter,
            };
            own_pass(db, scope, &to, by).await?
        }
    };
    let mut by_segment: HashMap<String, HashMap<i64, Sums>> = HashMap::new();
    for (head, sums) in heads.iter().zip(rated_sums) {
        let segment = by_segment.entry(head.key.clone()).or_default();
        for (factor_id, sums) in sums {
            if let Some(target) = to.get(&factor_id) {
                segment.entry(*target).or_default().add(sums);
            }
        }
    }
    let hidden = suppress(&mut heads, threshold);
    let weighting = Weighting::own(set);
    Ok(heads
        .into_iter()
        .zip(hidden)
        .map(|(head, hidden)| {
            let figures = (!hidden).then(|| {
                let sums = by_segment.remove(&head.key).unwrap_or_default();
                figures(set, &weighting, &sums, head.responses)
            });
            CsiSegment {
                key: head.key,
                label: head.label,
                figures,
            }
        })
        .collect())
}

/// The heads and sums per rated factor id of `by`'s segments in one pass
/// of their own ([`pass`]), each response joined to its customer's segments
/// (several for tags and tiers); the exact statement when the pass's sums
/// are not exact.
async fn own_pass(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    to: &HashMap<i64, i64>,
    by: SegmentBy,
) -> DomainResult<(Vec<SegmentHead>, Vec<HashMap<i64, Sums>>)> {
    let mut factor_ids: Vec<i64> = to.keys().copied().collect();
    factor_ids.sort_unstable();
    let groups = pass::run(
        db,
        &Pass {
            scope,
            factor_ids: &factor_ids,
            bucket: None,
            index: None,
            segment: Some(SegmentJoin::Table(customer_segments(by))),
            drivers: None,
        },
    )
    .await?;
    let mut heads = Vec::with_capacity(groups.len());
    let mut sums = Vec::with_capacity(groups.len());
    let mut exact = true;
    for group in groups {
        let Some((key, label)) = group.segment else {
            continue;
        };
        match group.sums {
            Some(s) => sums.push(s),
            None => exact = false,
        }
        heads.push(SegmentHead {
            key,
            label,
            responses: group.responses,
        });
    }
    if !exact {
        let mut exact = exact_sums(db, &scope, by).await?;
        sums = heads
            .iter()
            .map(|head| exact.remove(&head.key).unwrap_or_default())
            .collect();
    }
    Ok((heads, sums))
}

/// The exact per-(segment, factor) sums, when a response rated a factor
/// twice ([`pivot::read_sums`]): looks up a customer per rating and sorts
/// every rating, so only the fallback.
async fn exact_sums(
    db: &impl ConnectionTrait,
    scope: &Scope<'_>,
    by: SegmentBy,
) -> DomainResult<HashMap<String, HashMap<i64, Sums>>> {
    let mut sums = Sql::new(db.get_database_backend());
    sums.push(&format!(
        "SELECT seg.seg_key AS seg_key, r.factor_id AS factor_id, SUM(r.rating) AS total, \
         COUNT(*) AS n, SUM(r.rating * r.rating) AS squares \
         FROM csi_ratings r JOIN ({}) seg ON seg.customer_id = r.customer_id",
        customer_segments(by)
    ));
    push_scope(&mut sums, scope.rated, scope.from, scope.to, scope.filter);
    sums.push(" GROUP BY seg.seg_key, r.factor_id");
    let mut out: HashMap<String, HashMap<i64, Sums>> = HashMap::new();
    for row in db.query_all_raw(sums.build()).await? {
        out.entry(row.try_get("", "seg_key")?).or_default().insert(
            row.try_get("", "factor_id")?,
            Sums::new(
                row.try_get("", "total")?,
                row.try_get("", "n")?,
                row.try_get("", "squares")?,
            ),
        );
    }
    Ok(out)
}

fn figures(
    set: &FactorSet,
    weighting: &Weighting<'_>,
    sums: &HashMap<i64, Sums>,
    responses: i64,
) -> CsiSegmentFigures {
    let value = weighting.index(sums);
    let factors = set
        .factors
        .iter()
        .map(|f| {
            let s = sums.get(&f.id).copied().unwrap_or_default();
            let (total, count) = s.total_count();
            SegmentFactor {
                key: f.key.clone(),
                label: f.label.clone(),
                rating_count: count,
                mean: compute::mean(total, count),
                score: (count > 0).then(|| {
                    compute::factor_score(set.scale, Decimal::from(total) / Decimal::from(count))
                }),
                score_confidence: score_confidence(set.scale, s),
            }
        })
        .collect::<Vec<_>>();
    CsiSegmentFigures {
        response_count: responses,
        rating_count: factors.iter().map(|f| f.rating_count).sum(),
        index: value.map(|v| compute::round(v.index)),
        weighted_mean: value.map(|v| compute::round(v.weighted_mean)),
        factors,
    }
}

/// The ratings the report read and, per rated factor id, the id of the
/// report's factor it counts for (by key, for a family report).
async fn rated_factors(
    db: &impl ConnectionTrait,
    report: &CsiReport,
) -> DomainResult<(Rated, HashMap<i64, i64>)> {
    let set = &report.factor_set;
    let query = &report.query;
    let versions: Vec<FactorSet> = if query.across_family {
        versions_of_families(db, &[query.factor_set_id])
            .await?
            .remove(&query.factor_set_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.published_at.is_some())
            .collect()
    } else if query.factor_set_id == set.id {
        vec![set.clone()]
    } else {
        vec![load(db, query.factor_set_id).await?]
    };
    let mut to = HashMap::new();
    for version in &versions {
        for factor in &version.factors {
            if let Some(target) = set.factor(&factor.key) {
                to.insert(factor.id, target.id);
            }
        }
    }
    let rated = if query.across_family {
        Rated::Family(query.factor_set_id)
    } else {
        Rated::Version(query.factor_set_id)
    };
    Ok((rated, to))
}
