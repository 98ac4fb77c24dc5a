//! `csiReport`: the index of one factor-set version over a period, per-factor
//! means, scores and priorities, a trend series and the previous period.
//!
//! Aggregation happens in SQL: the database returns one row per period with
//! the response count and, per factor, `SUM(rating)` and `COUNT(*)`
//! (grouped first per response, [`super::pivot`]), never individual ratings,
//! so memory does not grow with the number of responses. Rust then applies SPEC §5's formula
//! to the factor means (`compute::index`).
//!
//! A report is per *version*: each version keeps its own weights, and ratings
//! point to the version they were given under, so revising a set never changes
//! a past report. Periods are half-open date ranges `[from, to)` in UTC.
//!
//! The steps are [`plan`] (check the query), [`collect`] (the SQL aggregates,
//! no weights) and [`build`] (the figures under a [`Weighting`]).
//! `csiReportPreview` ([`super::preview`]) collects once and builds twice,
//! with the published and with a draft's weights.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait};

use crate::csi::compute::{self, CsiValue, Priority, Scale};
use crate::csi::confidence::{self, Confidence, Method, Moments, Significance};
use crate::csi::drivers;
use crate::csi::factor_sets::{current, load, versions_of_families};
use crate::csi::pass::{self, DriverColumns, Pass, SegmentJoin};
use crate::csi::pivot::{self, Scope};
use crate::csi::types::{Factor, FactorSet};
use crate::customers::RelationshipType;
use crate::error::{DomainError, DomainResult};
use crate::segments::{SegmentBy, SegmentHead};
use crate::sql::Sql;
use entity::surveys;

/// Most trend periods one report returns.
pub const MAX_TREND_PERIODS: usize = 600;

/// The length of one trend period.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// Calendar months, labelled `2026-01`.
    Month,
    /// Calendar quarters, labelled `2026-Q1`.
    Quarter,
    /// Calendar years, labelled `2026`.
    Year,
}

impl Granularity {
    fn months(self) -> u32 {
        match self {
            Self::Month => 1,
            Self::Quarter => 3,
            Self::Year => 12,
        }
    }

    /// The first day of the period holding `date`.
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        let month0 = date.month0() - date.month0() % self.months();
        NaiveDate::from_ymd_opt(date.year(), month0 + 1, 1).unwrap_or(date)
    }

    /// The label of the period starting at `start`, as the SQL expression of
    /// [`bucket_expr`] spells it.
    fn label(self, start: NaiveDate) -> String {
        match self {
            Self::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Self::Quarter => format!("{:04}-Q{}", start.year(), start.month0() / 3 + 1),
            Self::Year => format!("{:04}", start.year()),
        }
    }
}

/// Which ratings count. Every given criterion applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only ratings of customers with this tag.
    pub tag: Option<String>,
    /// Only ratings of customers of this relationship type.
    pub relationship_type: Option<RelationshipType>,
    /// Only ratings given in responses to this survey.
    pub survey_id: Option<i64>,
}

/// What a report covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    /// The factor-set *version*; with `across_family`, the family's id.
    pub factor_set_id: i64,
    /// Report every published version of the family `factor_set_id` together,
    /// under the current version's weights (see [`report`]).
    pub across_family: bool,
    /// First day, inclusive (UTC).
    pub from: NaiveDate,
    /// Last day, exclusive (UTC).
    pub to: NaiveDate,
    pub granularity: Granularity,
    pub filter: ReportFilter,
    /// Also compute the 95 % intervals of the indices and the significance
    /// of their changes (one grouped pass per response instead of the
    /// distinct-response count; see [`aggregate`]).
    pub confidence: bool,
    /// Also read derived importance's sums in the report's own pass over
    /// the ratings ([`super::drivers::drivers`] then runs no statement).
    pub drivers: bool,
    /// Also read the figures per segment of this attribute in the same
    /// pass, when it is one column of the customer (stage, relationship
    /// type); [`super::segments::segments`] then runs no statement for it.
    pub segments: Option<SegmentBy>,
}

/// One factor's line in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorResult {
    pub key: String,
    pub label: String,
    pub weight: Decimal,
    pub normalized_weight: Decimal,
    /// Ratings of this factor in the period.
    pub rating_count: i64,
    /// Mean rating on the set's scale; `None` without ratings.
    pub mean: Option<Decimal>,
    /// The mean on 0..=100; `None` without ratings.
    pub score: Option<Decimal>,
    /// `weight / Σ weights × (100 − score)`: importance × shortfall,
    /// from exact values, rounded once.
    pub priority_score: Option<Decimal>,
    /// 1 = improve first. Factors without ratings rank last.
    pub priority: i32,
    /// 95 % Student t interval of `score` (on 0..=100), from the ratings'
    /// sum of squares.
    pub score_confidence: Confidence,
}

/// One period of the trend series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendPoint {
    /// `2026-01`, `2026-Q1` or `2026`.
    pub period: String,
    /// First day counted (the period's start, or `from` if later).
    pub start: NaiveDate,
    /// First day no longer counted (the next period's start, or `to` if earlier).
    pub end: NaiveDate,
    pub index: Option<Decimal>,
    pub weighted_mean: Option<Decimal>,
    pub response_count: i64,
    pub rating_count: i64,
    /// 95 % interval of `index` (when the query asked for confidence).
    pub index_confidence: Option<Confidence>,
    /// Whether the index changed significantly since the previous trend
    /// point (Welch's t test); `None` for the first point or without
    /// confidence.
    pub change: Option<Significance>,
}

/// The same-length period just before `from`, and the change since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodComparison {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub index: Option<Decimal>,
    pub weighted_mean: Option<Decimal>,
    pub response_count: i64,
    /// `index − previous index` of the unrounded indices, rounded once;
    /// `None` when either is `None`.
    pub delta: Option<Decimal>,
    /// 95 % interval of the previous period's index (with confidence).
    pub index_confidence: Option<Confidence>,
    /// Whether the report's index differs significantly from the previous
    /// period's (Welch's t test; with confidence).
    pub change: Option<Significance>,
}

/// A CSI report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsiReport {
    pub factor_set: FactorSet,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub granularity: Granularity,
    /// 0..=100; `None` when nothing was rated.
    pub index: Option<Decimal>,
    pub weighted_mean: Option<Decimal>,
    pub response_count: i64,
    pub rating_count: i64,
    /// Ordered by priority (improve first at the top).
    pub factors: Vec<FactorResult>,
    pub trend: Vec<TrendPoint>,
    pub previous_period: PeriodComparison,
    /// What the report covers, its filter as applied (tag trimmed): the
    /// scope of figures computed on demand from the same ratings
    /// ([`super::drivers`]).
    pub query: ReportQuery,
    /// 95 % interval of `index` (when the query asked for confidence).
    pub index_confidence: Option<Confidence>,
    /// What the report's pass read for other fields.
    pub along: Along,
}

/// Sums the report's pass read for derived importance and segments
/// (`ReportQuery::drivers`, `ReportQuery::segments`); `None` when not asked
/// for, or when the pass could not give them exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Along {
    /// Sufficient statistics of the complete responses, in the order of the
    /// set's factors.
    pub(super) drivers: Option<drivers::Moments>,
    /// The attribute, and per segment its head and the sums per rated
    /// factor id.
    pub(super) segments: Option<(SegmentBy, Vec<SegmentSums>)>,
}

/// A segment's head and its sums per rated factor id.
pub(super) type SegmentSums = (SegmentHead, HashMap<i64, Sums>);

/// Sums of one factor's ratings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Sums {
    total: i64,
    count: i64,
    /// Σ rating².
    squares: i64,
}

impl Sums {
    /// From `SUM(rating)`, `COUNT(*)` and `SUM(rating²)`.
    pub(super) fn new(total: i64, count: i64, squares: i64) -> Self {
        Self {
            total,
            count,
            squares,
        }
    }

    /// `(Σ rating, count)`.
    pub(super) fn total_count(self) -> (i64, i64) {
        (self.total, self.count)
    }

    pub(super) fn add(&mut self, other: Sums) {
        self.total += other.total;
        self.count += other.count;
        self.squares += other.squares;
    }
}

/// What the database returns for one date range.
#[derive(Debug, Default)]
struct Aggregates {
    /// (factor id, bucket) → sums.
    by_factor: HashMap<(i64, String), Sums>,
    /// bucket → distinct responses.
    responses: HashMap<String, i64>,
    /// bucket → moments of the per-response index on the rating scale's
    /// span (`Σ wᵢ·(xᵢ − min) / Σ wᵢ`), when asked for.
    index: HashMap<String, Moments>,
    along: Along,
}

impl Aggregates {
    /// The aggregates of disjoint slices of one period together: every sum
    /// adds up; segments and derived importance only when every slice has
    /// them.
    fn merge(parts: Vec<Aggregates>) -> Aggregates {
        let mut out = Aggregates::default();
        let mut drivers: Option<Option<drivers::Moments>> = None;
        let mut segments: Option<Option<(SegmentBy, Vec<SegmentSums>)>> = None;
        for part in parts {
            for (key, sums) in part.by_factor {
                out.by_factor.entry(key).or_default().add(sums);
            }
            for (bucket, n) in part.responses {
                *out.responses.entry(bucket).or_default() += n;
            }
            for (bucket, moments) in part.index {
                let total = out.index.entry(bucket).or_default();
                *total = add_moments(*total, &moments);
            }
            drivers = Some(match (drivers, part.along.drivers) {
                (None, first) => first,
                (Some(Some(mut total)), Some(m)) => {
                    total.add(&m);
                    Some(total)
                }
                _ => None,
            });
            segments = Some(match (segments, part.along.segments) {
                (None, first) => first,
                (Some(Some((by, mut total))), Some((_, more))) => {
                    for (head, sums) in more {
                        add_segment(&mut total, head, sums);
                    }
                    Some((by, total))
                }
                _ => None,
            });
        }
        out.along = Along {
            drivers: drivers.flatten(),
            segments: segments.flatten(),
        };
        out
    }
}

/// Adds one segment's responses and sums to `segments`, to its entry when
/// it has one.
fn add_segment(segments: &mut Vec<SegmentSums>, head: SegmentHead, sums: HashMap<i64, Sums>) {
    match segments.iter_mut().find(|(h, _)| h.key == head.key) {
        Some((h, total)) => {
            h.responses += head.responses;
            for (id, s) in sums {
                total.entry(id).or_default().add(s);
            }
        }
        None => segments.push((head, sums)),
    }
}

/// The report's period `[from, to)` cut into consecutive whole-day slices,
/// one per core (at most [`MAX_SLICES`]), read side by side: every figure
/// is a sum, so the slices' sums add up. A period shorter than the slices
/// leaves some empty.
fn slices(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let count = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, MAX_SLICES);
    let days = (to - from).num_days().max(0);
    let mut start = from;
    (1..=count)
        .map(|i| {
            let end = if i == count {
                to.max(from)
            } else {
                from + chrono::Duration::days(days * i as i64 / count as i64)
            };
            let slice = (start, end);
            start = end;
            slice
        })
        .collect()
}

/// Most slices one report's period is read in.
pub const MAX_SLICES: usize = 4;

/// The SQL expression naming a rating's period, as [`Granularity::label`] does.
/// SQLite stores timestamps as RFC 3339 text in UTC; PostgreSQL as TIMESTAMPTZ.
fn bucket_expr(backend: DatabaseBackend, granularity: Granularity) -> &'static str {
    match (backend, granularity) {
        (DatabaseBackend::Postgres, Granularity::Month) => {
            "to_char(r.rated_at AT TIME ZONE 'UTC', 'YYYY-MM')"
        }
        (DatabaseBackend::Postgres, Granularity::Quarter) => {
            "to_char(r.rated_at AT TIME ZONE 'UTC', 'YYYY-\"Q\"Q')"
        }
        (DatabaseBackend::Postgres, Granularity::Year) => {
            "to_char(r.rated_at AT TIME ZONE 'UTC', 'YYYY')"
        }
        (_, Granularity::Month) => "substr(r.rated_at, 1, 7)",
        (_, Granularity::Quarter) => {
            "(substr(r.rated_at, 1, 4) || '-Q' || ((CAST(substr(r.rated_at, 6, 2) AS INTEGER) + 2) / 3))"
        }
        (_, Granularity::Year) => "substr(r.rated_at, 1, 4)",
    }
}

/// [`bucket_expr`] over another timestamp column (`r.submitted_at`).
pub(crate) fn bucket_of(
    backend: DatabaseBackend,
    granularity: Granularity,
    column: &str,
) -> String {
    bucket_expr(backend, granularity).replace("r.rated_at", column)
}

pub(crate) fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// Whose ratings a report reads.
#[derive(Clone, Copy, Debug)]
pub(super) enum Rated {
    /// One version's.
    Version(i64),
    /// Every version's of one family.
    Family(i64),
}

/// Appends the `WHERE` clause selecting the ratings of the report.
pub(super) fn push_scope(
    sql: &mut Sql,
    rated: Rated,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) {
    match rated {
        Rated::Version(id) => sql.push(" WHERE r.factor_set_id = ").bind(id),
        Rated::Family(id) => sql
            .push(" WHERE r.factor_set_id IN (SELECT v.id FROM csi_factor_sets v WHERE v.family_id = ")
            .bind(id)
            .push(")"),
    };
    sql.push(" AND r.rated_at >= ")
        .bind(midnight(from))
        .push(" AND r.rated_at < ")
        .bind(midnight(to));
    if let Some(tag) = &filter.tag {
        sql.push(" AND r.customer_id IN (SELECT t.customer_id FROM customer_tags t WHERE t.tag = ")
            .bind(tag.clone())
            .push(")");
    }
    if let Some(kind) = filter.relationship_type {
        sql.push(
            " AND r.customer_id IN (SELECT c.id FROM customers c WHERE c.relationship_type = ",
        )
        .bind(kind.as_str())
        .push(")");
    }
    if let Some(survey) = filter.survey_id {
        sql.push(" AND r.response_id IN (SELECT s.id FROM survey_responses s WHERE s.survey_id = ")
            .bind(survey)
            .push(")");
    }
}

/// The weights of the per-response index: rated factor id → weight (a
/// factor missing here counts with weight 0), and the scale's minimum.
#[derive(Clone, Debug, Default)]
pub(super) struct IndexWeights {
    pub(super) weights: HashMap<i64, f64>,
    pub(super) min: i32,
}

/// `expr` as a floating-point SQL value.
pub(super) fn real(backend: DatabaseBackend, expr: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("CAST({expr} AS DOUBLE PRECISION)"),
        _ => format!("(1.0 * {expr})"),
    }
}

/// `CASE r.factor_id WHEN … THEN weight … END` as a floating-point SQL
/// expression (0 for a factor without a weight).
pub(super) fn weight_case(backend: DatabaseBackend, weights: &HashMap<i64, f64>) -> String {
    let mut ids: Vec<_> = weights.iter().collect();
    ids.sort_by_key(|(id, _)| **id);
    let mut case = String::from("(CASE r.factor_id");
    for (id, w) in ids {
        // `{:?}` of an f64 always has a decimal point or an exponent.
        case.push_str(&format!(
            " WHEN {id} THEN {}",
            real(backend, &format!("{w:?}"))
        ));
    }
    case.push_str(&format!(" ELSE {} END)", real(backend, "0.0")));
    case
}

/// What else a report's pass reads, besides the report's own sums.
#[derive(Clone, Default)]
struct Also<'a> {
    /// The segment column and the attribute it stands for.
    segment: Option<(SegmentBy, &'static str)>,
    drivers: Option<DriverColumns<'a>>,
}

/// The aggregates of the ratings `rated` selects in `[from, to)`, grouped by
/// `granularity` (or not at all, bucket `"all"`): one pass ([`pass`]) gives
/// each bucket's response count, factor sums and, when asked, the moments of
/// the responses' own indices, the sums per segment and derived importance's
/// sums. When its factor sums are not exact (a response rated a factor
/// twice), the exact per-factor statements run as well, and the segments are
/// left to their own statement.
///
/// A response is a survey response; ratings recorded without one count once
/// per (customer, rated_at), which is how `ratings::record` stores a loose set
/// of ratings. Either way all of one response's ratings share `rated_at`, so
/// a response falls in exactly one bucket.
async fn aggregate(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    granularity: Option<Granularity>,
    factor_ids: &[i64],
    index_weights: Option<&IndexWeights>,
    also: Also<'_>,
) -> DomainResult<Aggregates> {
    let backend = db.get_database_backend();
    let bucket = granularity.map(|g| bucket_expr(backend, g));
    // Zero when asked for, so a slice without responses still answers.
    let mut drivers = also
        .drivers
        .as_ref()
        .map(|d| drivers::Moments::zero(d.keys.len()));
    let groups = pass::run(
        db,
        &Pass {
            scope,
            factor_ids,
            bucket,
            index: index_weights,
            segment: also.segment.map(|(_, column)| SegmentJoin::Column(column)),
            drivers: also.drivers,
        },
    )
    .await?;

    let mut out = Aggregates::default();
    let mut exact = true;
    let mut segments: Vec<SegmentSums> = Vec::new();
    for group in groups {
        *out.responses.entry(group.bucket.clone()).or_default() += group.responses;
        if index_weights.is_some() {
            let moments = out.index.entry(group.bucket.clone()).or_default();
            *moments = add_moments(*moments, &group.index);
        }
        if let Some(total) = drivers.as_mut() {
            total.add(&group.drivers);
        }
        let Some(sums) = group.sums else {
            exact = false;
            continue;
        };
        if let Some((key, label)) = group.segment {
            let head = SegmentHead {
                key,
                label,
                responses: group.responses,
            };
            add_segment(&mut segments, head, sums.clone());
        }
        for (factor_id, s) in sums {
            out.by_factor
                .entry((factor_id, group.bucket.clone()))
                .or_default()
                .add(s);
        }
    }
    if exact {
        out.along = Along {
            drivers,
            segments: also.segment.map(|(by, _)| (by, segments)),
        };
    } else {
        out.by_factor = factor_sums(db, &scope, bucket).await?;
        if let Some(weights) = index_weights {
            out.index = index_moments(db, &scope, bucket, factor_ids, weights).await?;
        }
        // Derived importance reads survey responses, which rate each factor
        // once, so its sums stand.
        out.along.drivers = drivers;
    }
    Ok(out)
}

/// The exact moments of the responses' own indices per bucket, from each
/// response's ratings weighted one by one: [`aggregate`]'s fallback.
async fn index_moments(
    db: &impl ConnectionTrait,
    scope: &Scope<'_>,
    bucket: Option<&str>,
    factor_ids: &[i64],
    weights: &IndexWeights,
) -> DomainResult<HashMap<String, Moments>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push(&format!(
        "SELECT {} AS bucket, COUNT(g.idx) AS indexed, {} AS idx_sum, {} AS idx_squares FROM (",
        if bucket.is_some() {
            "g.bucket"
        } else {
            "'all'"
        },
        real(backend, "SUM(g.idx)"),
        real(backend, "SUM(g.idx * g.idx)"),
    ));
    pivot::push_per_response(&mut sql, scope, bucket, factor_ids, Some(weights));
    sql.push(if bucket.is_some() {
        ") g GROUP BY g.bucket"
    } else {
        ") g"
    });
    let mut out = HashMap::new();
    for row in db.query_all_raw(sql.build()).await? {
        let bucket: Option<String> = row.try_get("", "bucket")?;
        let Some(bucket) = bucket else { continue };
        out.insert(bucket, pass::index_moments(&row)?);
    }
    Ok(out)
}

/// The exact per-factor sums, one row per (factor, bucket): sorts every
/// rating, so only [`aggregate`]'s fallback.
async fn factor_sums(
    db: &impl ConnectionTrait,
    scope: &Scope<'_>,
    bucket: Option<&str>,
) -> DomainResult<HashMap<(i64, String), Sums>> {
    let mut sums = Sql::new(db.get_database_backend());
    sums.push(&format!(
        "SELECT r.factor_id AS factor_id, {} AS bucket, \
         SUM(r.rating) AS total, COUNT(*) AS n, SUM(r.rating * r.rating) AS squares \
         FROM csi_ratings r",
        bucket.unwrap_or("'all'")
    ));
    push_scope(&mut sums, scope.rated, scope.from, scope.to, scope.filter);
    match bucket {
        Some(expr) => sums.push(&format!(" GROUP BY r.factor_id, {expr}")),
        None => sums.push(" GROUP BY r.factor_id"),
    };
    let mut out = HashMap::new();
    for row in db.query_all_raw(sums.build()).await? {
        out.insert(
            (row.try_get("", "factor_id")?, row.try_get("", "bucket")?),
            Sums::new(
                row.try_get("", "total")?,
                row.try_get("", "n")?,
                row.try_get("", "squares")?,
            ),
        );
    }
    Ok(out)
}

/// The weights a report applies to aggregated ratings: one line per factor
/// shown, each reading the sums of one factor id of the rated version, or
/// none. A report applies its own version's weights ([`Weighting::own`]); a
/// preview applies a draft's weights to the published version's ratings
/// ([`Weighting::by_key`]). Weights apply after aggregation, so both read the
/// same SQL aggregates.
pub(super) struct Weighting<'a> {
    scale: Scale,
    lines: Vec<(&'a Factor, Option<i64>)>,
}

impl<'a> Weighting<'a> {
    /// `set`'s weights over its own ratings.
    pub(super) fn own(set: &'a FactorSet) -> Self {
        Self {
            scale: set.scale,
            lines: set.factors.iter().map(|f| (f, Some(f.id))).collect(),
        }
    }

    /// `weights`' factors over the ratings of `rated`, matched by key: a
    /// factor `rated` lacks has no data, a factor only `rated` has is left
    /// out. The scales must be equal (the caller checks).
    pub(super) fn by_key(weights: &'a FactorSet, rated: &FactorSet) -> Self {
        Self {
            scale: rated.scale,
            lines: weights
                .factors
                .iter()
                .map(|f| (f, rated.factor(&f.key).map(|r| r.id)))
                .collect(),
        }
    }

    /// The sums a line reads, if its factor has any ratings.
    fn sums(source: Option<i64>, sums: &HashMap<i64, Sums>) -> Sums {
        source
            .and_then(|id| sums.get(&id))
            .copied()
            .unwrap_or_default()
    }

    /// Exact factor means from sums, and the index over them, unrounded.
    pub(super) fn index(&self, sums: &HashMap<i64, Sums>) -> Option<CsiValue> {
        let pairs: Vec<(Decimal, Option<Decimal>)> = self
            .lines
            .iter()
            .map(|(f, source)| {
                let s = Self::sums(*source, sums);
                let mean = (s.count > 0).then(|| Decimal::from(s.total) / Decimal::from(s.count));
                (f.weight, mean)
            })
            .collect();
        compute::exact_index(self.scale, &pairs)
    }
}

/// An unrounded index rounded for display.
fn shown(value: Option<CsiValue>) -> (Option<Decimal>, Option<Decimal>) {
    (
        value.map(|v| compute::round(v.index)),
        value.map(|v| compute::round(v.weighted_mean)),
    )
}

fn validate(query: &ReportQuery) -> DomainResult<()> {
    if query.from > query.to {
        return Err(DomainError::validation("from", "must not be after to"));
    }
    if let Some(tag) = &query.filter.tag {
        if tag.trim().is_empty() {
            return Err(DomainError::validation("filter.tag", "must not be blank"));
        }
    }
    Ok(())
}

/// The trend periods covering `[from, to)`, clipped to it: (label, start, end).
///
/// # Errors
/// `BAD_USER_INPUT` beyond [`MAX_TREND_PERIODS`].
pub(crate) fn periods(
    from: NaiveDate,
    to: NaiveDate,
    granularity: Granularity,
) -> DomainResult<Vec<(String, NaiveDate, NaiveDate)>> {
    let mut out = Vec::new();
    let mut start = granularity.start_of(from);
    while start < to {
        let next = start
            .checked_add_months(Months::new(granularity.months()))
            .ok_or_else(|| DomainError::validation("to", "is out of range"))?;
        out.push((granularity.label(start), start.max(from), next.min(to)));
        if out.len() > MAX_TREND_PERIODS {
            return Err(DomainError::validation(
                "granularity",
                format!(
                    "the period spans more than {MAX_TREND_PERIODS} trend periods; choose a coarser granularity or a shorter period"
                ),
            ));
        }
        start = next;
    }
    Ok(out)
}

/// A checked query: the filter as applied, the trend periods and the start of
/// the previous period.
pub(super) struct Plan {
    filter: ReportFilter,
    periods: Vec<(String, NaiveDate, NaiveDate)>,
    previous_from: NaiveDate,
}

/// Checks `query` before any SQL.
///
/// # Errors
/// As [`report`]'s `BAD_USER_INPUT` cases.
pub(super) fn plan(query: &ReportQuery) -> DomainResult<Plan> {
    validate(query)?;
    let filter = ReportFilter {
        tag: query.filter.tag.as_deref().map(|t| t.trim().to_owned()),
        ..query.filter.clone()
    };
    let periods = periods(query.from, query.to, query.granularity)?;
    let length = query.to - query.from;
    let previous_from = query
        .from
        .checked_sub_signed(length)
        .ok_or_else(|| DomainError::validation("from", "is out of range"))?;
    Ok(Plan {
        filter,
        periods,
        previous_from,
    })
}

/// The SQL aggregates of one version's ratings: per factor id, over the whole
/// period and per trend bucket, the response counts, and the previous period.
/// No weights enter here.
pub(super) struct Aggregated {
    totals: HashMap<i64, Sums>,
    per_bucket: HashMap<String, HashMap<i64, Sums>>,
    responses: HashMap<String, i64>,
    previous: HashMap<i64, Sums>,
    previous_responses: i64,
    /// Per bucket, moments of the per-response index (with confidence).
    index: HashMap<String, Moments>,
    /// The previous period's (with confidence).
    previous_index: Option<Moments>,
    along: Along,
}

/// Runs the report's grouped statements over the ratings of version
/// `factor_set` (after checking that a filter's survey exists).
///
/// # Errors
/// `NOT_FOUND` for an unknown survey; database failures.
pub(super) async fn collect(
    db: &impl ConnectionTrait,
    factor_set: &FactorSet,
    query: &ReportQuery,
    plan: &Plan,
    index_weights: Option<&IndexWeights>,
) -> DomainResult<Aggregated> {
    let factor_ids: Vec<i64> = factor_set.factors.iter().map(|f| f.id).collect();
    collect_rated(
        db,
        (Rated::Version(factor_set.id), &factor_ids),
        factor_set,
        query,
        plan,
        index_weights,
    )
    .await
}

/// [`collect`] over the ratings `rated` selects, whose factors are
/// `factor_ids`, for a report under `weights`' factors.
async fn collect_rated(
    db: &impl ConnectionTrait,
    (rated, factor_ids): (Rated, &[i64]),
    weights: &FactorSet,
    query: &ReportQuery,
    plan: &Plan,
    index_weights: Option<&IndexWeights>,
) -> DomainResult<Aggregated> {
    let filter = &plan.filter;
    if let Some(survey_id) = filter.survey_id {
        if surveys::Entity::find_by_id(survey_id)
            .one(db)
            .await?
            .is_none()
        {
            return Err(DomainError::NotFound("survey"));
        }
    }

    let scope = |from, to| Scope {
        rated,
        from,
        to,
        filter,
    };
    let inputs = match query.drivers {
        true => Some(drivers::inputs(db, weights, query).await?),
        false => None,
    };
    let also = Also {
        segment: query
            .segments
            .and_then(|by| crate::segments::customer_column(by).map(|column| (by, column))),
        drivers: inputs.as_ref().and_then(|i| i.columns(factor_ids)),
    };
    // Independent scans: on a pool they run side by side, the report's
    // period in slices.
    let current = futures::future::try_join_all(slices(query.from, query.to).into_iter().map(
        |(from, to)| {
            aggregate(
                db,
                scope(from, to),
                Some(query.granularity),
                factor_ids,
                index_weights,
                also.clone(),
            )
        },
    ));
    let (current, previous) = futures::try_join!(
        async { Ok(Aggregates::merge(current.await?)) },
        aggregate(
            db,
            scope(plan.previous_from, query.from),
            None,
            factor_ids,
            index_weights,
            Also::default(),
        )
    )?;

    // Whole-period sums are the sums over the buckets: SUM and COUNT add up.
    let mut totals: HashMap<i64, Sums> = HashMap::new();
    let mut per_bucket: HashMap<String, HashMap<i64, Sums>> = HashMap::new();
    for ((factor_id, bucket), sums) in current.by_factor {
        totals.entry(factor_id).or_default().add(sums);
        per_bucket
            .entry(bucket)
            .or_default()
            .insert(factor_id, sums);
    }
    Ok(Aggregated {
        totals,
        per_bucket,
        responses: current.responses,
        previous: previous
            .by_factor
            .into_iter()
            .map(|((factor_id, _), sums)| (factor_id, sums))
            .collect(),
        previous_responses: previous.responses.values().sum(),
        index: current.index,
        previous_index: index_weights.map(|_| {
            previous
                .index
                .values()
                .fold(Moments::default(), add_moments)
        }),
        along: current.along,
    })
}

/// Moments of two disjoint samples together.
fn add_moments(a: Moments, b: &Moments) -> Moments {
    Moments {
        n: a.n + b.n,
        sum: a.sum + b.sum,
        squares: a.squares + b.squares,
    }
}

impl Aggregated {
    /// The same sums keyed by other factor ids: `to` maps each rated factor
    /// id to the id of the factor (of the weighting version) it counts for;
    /// sums of factors mapped to the same id add up.
    fn remap(self, to: &HashMap<i64, i64>) -> Self {
        fn fold(sums: HashMap<i64, Sums>, to: &HashMap<i64, i64>) -> HashMap<i64, Sums> {
            let mut out: HashMap<i64, Sums> = HashMap::new();
            for (id, s) in sums {
                if let Some(target) = to.get(&id) {
                    out.entry(*target).or_default().add(s);
                }
            }
            out
        }
        Self {
            totals: fold(self.totals, to),
            per_bucket: self
                .per_bucket
                .into_iter()
                .map(|(bucket, sums)| (bucket, fold(sums, to)))
                .collect(),
            responses: self.responses,
            previous: fold(self.previous, to),
            previous_responses: self.previous_responses,
            index: self.index,
            previous_index: self.previous_index,
            along: self.along,
        }
    }
}

/// A report and the unrounded indices behind its shown figures, for
/// differences computed from them (rounded once).
pub(super) struct Built {
    pub(super) report: CsiReport,
    /// The whole period.
    pub(super) overall: Option<CsiValue>,
    /// One per trend point, in order.
    pub(super) trend: Vec<Option<CsiValue>>,
    /// The previous period.
    pub(super) previous: Option<CsiValue>,
}

/// The report of `data` under `weighting`, presented as a report of
/// `factor_set` (the version whose weights apply).
pub(super) fn build(
    query: &ReportQuery,
    plan: &Plan,
    data: &Aggregated,
    factor_set: &FactorSet,
    weighting: &Weighting<'_>,
) -> Built {
    let overall = weighting.index(&data.totals);
    let with_confidence = query.confidence && data.previous_index.is_some();
    let stats = |value: Option<CsiValue>, moments: Option<&Moments>| {
        IndexStats::new(weighting.scale, value, moments.copied().unwrap_or_default())
    };

    let mut exact_trend = Vec::with_capacity(plan.periods.len());
    let mut earlier: Option<IndexStats> = None;
    let trend = plan
        .periods
        .iter()
        .map(|(period, start, end)| {
            let sums = data.per_bucket.get(period.as_str());
            let value = sums.and_then(|s| weighting.index(s));
            exact_trend.push(value);
            let (index, weighted_mean) = shown(value);
            let (index_confidence, change) = if with_confidence {
                let now = stats(value, data.index.get(period.as_str()));
                let change = earlier.map(|before| now.change_since(&before));
                earlier = Some(now);
                (Some(now.confidence()), change)
            } else {
                (None, None)
            };
            TrendPoint {
                index_confidence,
                change,
                rating_count: sums.map_or(0, |s| s.values().map(|x| x.count).sum()),
                response_count: data.responses.get(period).copied().unwrap_or(0),
                index,
                weighted_mean,
                period: period.clone(),
                start: *start,
                end: *end,
            }
        })
        .collect();

    let previous_value = weighting.index(&data.previous);
    let (previous_index, previous_mean) = shown(previous_value);
    let (index_confidence, previous_confidence, change) = if with_confidence {
        let whole = data.index.values().fold(Moments::default(), add_moments);
        let now = stats(overall, Some(&whole));
        let before = stats(previous_value, data.previous_index.as_ref());
        (
            Some(now.confidence()),
            Some(before.confidence()),
            Some(now.change_since(&before)),
        )
    } else {
        (None, None, None)
    };
    let previous_period = PeriodComparison {
        index_confidence: previous_confidence,
        change,
        from: plan.previous_from,
        to: query.from,
        index: previous_index,
        weighted_mean: previous_mean,
        response_count: data.previous_responses,
        // From the unrounded indices: rounding each first could be off by
        // one in the last place.
        delta: exact_delta(overall, previous_value),
    };

    let (index, weighted_mean) = shown(overall);
    let report = CsiReport {
        index_confidence,
        index,
        weighted_mean,
        response_count: data.responses.values().sum(),
        rating_count: data.totals.values().map(|s| s.count).sum(),
        factors: rank(weighting, &data.totals),
        trend,
        previous_period,
        from: query.from,
        to: query.to,
        granularity: query.granularity,
        factor_set: factor_set.clone(),
        query: ReportQuery {
            filter: plan.filter.clone(),
            ..query.clone()
        },
        along: data.along.clone(),
    };
    Built {
        report,
        overall,
        trend: exact_trend,
        previous: previous_value,
    }
}

/// A period's index with the spread of its responses' indices.
#[derive(Clone, Copy, Debug)]
struct IndexStats {
    /// The report's (unrounded) index.
    index: Option<f64>,
    /// Responses with an index.
    n: i64,
    /// Sample variance of the per-response indices on 0..=100, or why none.
    variance: Result<f64, confidence::Unavailable>,
}

impl IndexStats {
    /// From the moments of the per-response index on the scale's span.
    fn new(scale: Scale, value: Option<CsiValue>, moments: Moments) -> Self {
        let k = 100.0 / f64::from(scale.max - scale.min);
        let index = value.and_then(|v| rust_decimal::prelude::ToPrimitive::to_f64(&v.index));
        Self {
            index,
            n: moments.n,
            variance: match index {
                Some(_) => moments.variance().map(|v| v * k * k),
                None => Err(confidence::Unavailable::NoResponses),
            },
        }
    }

    /// The 95 % t interval around the index.
    fn confidence(&self) -> Confidence {
        let bounds = match (self.index, self.variance) {
            (Some(index), Ok(variance)) => confidence::mean_interval(index, variance, self.n),
            (_, Err(reason)) => Err(reason),
            (None, Ok(_)) => Err(confidence::Unavailable::NoResponses),
        };
        Confidence::new(Method::StudentT, self.n, bounds, compute::RESULT_DP)
    }

    /// Welch's t test of this index against `before`.
    fn change_since(&self, before: &IndexStats) -> Significance {
        let side = |s: &IndexStats| match (s.index, s.variance) {
            (Some(index), Ok(variance)) => Ok((index, variance, s.n)),
            (_, Err(reason)) => Err(reason),
            (None, Ok(_)) => Err(confidence::Unavailable::NoResponses),
        };
        side(self)
            .and_then(|a| side(before).and_then(|b| confidence::welch(a, b)))
            .into()
    }
}

/// `now − before` of two unrounded indices, rounded once; `None` when either
/// is `None`.
pub(super) fn exact_delta(now: Option<CsiValue>, before: Option<CsiValue>) -> Option<Decimal> {
    match (now, before) {
        (Some(now), Some(before)) => Some(compute::round(now.index - before.index)),
        _ => None,
    }
}

/// The CSI report of one factor-set version over `[from, to)` (UTC dates).
///
/// - `index`: SPEC §5's aggregate: per factor the mean of its ratings, then
///   `100 · Σ wᵢ·(x̄ᵢ − min)/(max − min) / Σ wᵢ` over factors with ratings.
/// - `response_count`: distinct responses (see [`aggregate`]).
/// - `factors`: ranked by `normalizedWeight × (100 − score)`, highest first;
///   factors without ratings last.
/// - `trend`: one point per period of `granularity` overlapping the range,
///   empty periods included (index `None`, count 0).
/// - `previous_period`: `[from − (to − from), from)`.
///
/// # Errors
/// `BAD_USER_INPUT` when `from` is after `to`, for a blank tag, an unknown
/// relationship type or too many trend periods; `NOT_FOUND` for an unknown set
/// or survey.
///
/// With `across_family`, `factor_set_id` names a family (its first
/// version's id) and the report pools the ratings of every version of it
/// that was published, under the weights of the family's current version
/// (or, for an archived family, of its last published one); the report's
/// `factor_set` is that version. Factors are matched by key, so this needs
/// every such version to have the same factor keys and scale; otherwise
/// `CONFLICT` says which version differs and how.
#[tracing::instrument(skip(db))]
pub async fn report(db: &impl ConnectionTrait, query: ReportQuery) -> DomainResult<CsiReport> {
    let plan = plan(&query)?;
    if query.across_family {
        return family_report(db, &query, &plan).await;
    }
    let set = load(db, query.factor_set_id).await?;
    let weights = query
        .confidence
        .then(|| index_weights(&set, set.factors.iter().map(|f| (f.id, f.id)).collect()));
    let data = collect(db, &set, &query, &plan, weights.as_ref()).await?;
    Ok(build(&query, &plan, &data, &set, &Weighting::own(&set)).report)
}

async fn family_report(
    db: &impl ConnectionTrait,
    query: &ReportQuery,
    plan: &Plan,
) -> DomainResult<CsiReport> {
    let family_id = query.factor_set_id;
    let versions = versions_of_families(db, &[family_id])
        .await?
        .remove(&family_id)
        .unwrap_or_default();
    if versions.is_empty() {
        // A version's id that is not its family's id is refused by name.
        return Err(match load(db, family_id).await {
            Ok(set) => DomainError::validation(
                "familyId",
                format!(
                    "{family_id} is version {} of family {}; give the family's id",
                    set.version, set.family_id
                ),
            ),
            Err(e) => e,
        });
    }
    let weights = family_weights(&versions)?;
    let mut to = HashMap::new();
    for version in versions.iter().filter(|v| v.published_at.is_some()) {
        check_comparable(weights, version)?;
        for factor in &version.factors {
            if let Some(target) = weights.factor(&factor.key) {
                to.insert(factor.id, target.id);
            }
        }
    }
    let index = query.confidence.then(|| index_weights(weights, to.clone()));
    let mut rated_ids: Vec<i64> = to.keys().copied().collect();
    rated_ids.sort_unstable();
    let data = collect_rated(
        db,
        (Rated::Family(family_id), &rated_ids),
        weights,
        query,
        plan,
        index.as_ref(),
    )
    .await?
    .remap(&to);
    Ok(build(query, plan, &data, weights, &Weighting::own(weights)).report)
}

/// The per-response index weights of `set` for the rated factor ids of
/// `rated_to_factor` (rated factor id → the id of `set`'s factor it counts for).
fn index_weights(set: &FactorSet, rated_to_factor: HashMap<i64, i64>) -> IndexWeights {
    let weight = |id: i64| {
        set.factors
            .iter()
            .find(|f| f.id == id)
            .and_then(|f| rust_decimal::prelude::ToPrimitive::to_f64(&f.weight))
    };
    IndexWeights {
        weights: rated_to_factor
            .into_iter()
            .filter_map(|(rated, target)| weight(target).map(|w| (rated, w)))
            .collect(),
        min: set.scale.min,
    }
}

/// The version whose weights a family report applies: the current one, or
/// for a family without one (archived) the last that was published.
fn family_weights(versions: &[FactorSet]) -> DomainResult<&FactorSet> {
    current(versions)
        .or_else(|| {
            versions
                .iter()
                .filter(|v| v.published_at.is_some())
                .max_by_key(|v| v.version)
        })
        .ok_or_else(|| {
            DomainError::conflict(
                "no version of this CSI factor set family was published, so it has no ratings to report",
            )
        })
}

/// Fails unless `other`'s ratings can be read under `weights`: the same
/// scale and the same factor keys.
fn check_comparable(weights: &FactorSet, other: &FactorSet) -> DomainResult<()> {
    let why_not = |detail: String| {
        DomainError::conflict(format!(
            "versions {} and {} of this CSI factor set cannot be reported together: {detail}; \
             report each version with factorSetId",
            other.version, weights.version
        ))
    };
    if other.scale != weights.scale {
        return Err(why_not(format!(
            "version {} rates on {}..{}, version {} on {}..{}",
            other.version,
            other.scale.min,
            other.scale.max,
            weights.version,
            weights.scale.min,
            weights.scale.max
        )));
    }
    let keys = |s: &FactorSet| -> std::collections::BTreeSet<String> {
        s.factors.iter().map(|f| f.key.clone()).collect()
    };
    let (mine, theirs) = (keys(weights), keys(other));
    if mine != theirs {
        let only = |a: &std::collections::BTreeSet<String>,
                    b: &std::collections::BTreeSet<String>| {
            a.difference(b).cloned().collect::<Vec<_>>().join(", ")
        };
        let (added, dropped) = (only(&mine, &theirs), only(&theirs, &mine));
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("only version {} has {added}", weights.version));
        }
        if !dropped.is_empty() {
            parts.push(format!("only version {} has {dropped}", other.version));
        }
        return Err(why_not(format!(
            "their factor keys differ ({})",
            parts.join("; ")
        )));
    }
    Ok(())
}

/// The 95 % t interval of a factor's score (0..=100) from its ratings' sums.
pub(super) fn score_confidence(scale: Scale, sums: Sums) -> Confidence {
    let k = 100.0 / f64::from(scale.max - scale.min);
    let bounds = confidence::integer_variance(sums.count, sums.total, sums.squares).and_then(|v| {
        let mean = sums.total as f64 / sums.count as f64;
        confidence::mean_interval(k * (mean - f64::from(scale.min)), k * k * v, sums.count)
    });
    Confidence::new(Method::StudentT, sums.count, bounds, compute::RESULT_DP)
}

/// Per-factor lines ordered by importance × shortfall.
///
/// Priorities are compared exactly ([`Priority::cmp_exact`]), so equal
/// priorities tie and the documented rule decides: the heavier factor first,
/// then the set's order. Factors without ratings come last, in the same order.
fn rank(weighting: &Weighting<'_>, totals: &HashMap<i64, Sums>) -> Vec<FactorResult> {
    let scale = weighting.scale;
    let mut lines: Vec<(i32, Option<Priority>, FactorResult)> = weighting
        .lines
        .iter()
        .map(|(f, source)| {
            let sums = Weighting::sums(*source, totals);
            let mean = compute::mean(sums.total, sums.count);
            let score = (sums.count > 0).then(|| {
                compute::factor_score(scale, Decimal::from(sums.total) / Decimal::from(sums.count))
            });
            let priority = Priority::new(scale, f.share, sums.total, sums.count);
            (
                f.position,
                priority,
                FactorResult {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    weight: f.weight,
                    normalized_weight: f.normalized_weight,
                    rating_count: sums.count,
                    mean,
                    score,
                    priority_score: priority.map(|p| p.rounded()),
                    priority: 0,
                    score_confidence: score_confidence(scale, sums),
                },
            )
        })
        .collect();
    lines.sort_by(|(pa, a, la), (pb, b, lb)| {
        let by_priority = match (a, b) {
            (Some(a), Some(b)) => b.cmp_exact(a),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_priority
            .then_with(|| lb.weight.cmp(&la.weight))
            .then_with(|| pa.cmp(pb))
    });
    lines
        .into_iter()
        .zip(1..)
        .map(|((_, _, mut line), rank)| {
            line.priority = rank;
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn slices_cover_the_period_without_gaps() {
        let (from, to) = (date(2024, 11, 1), date(2026, 11, 1));
        let parts = slices(from, to);
        assert!((1..=MAX_SLICES).contains(&parts.len()));
        assert_eq!(parts[0].0, from);
        assert_eq!(parts[parts.len() - 1].1, to);
        for pair in parts.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "consecutive");
            assert!(pair[0].0 <= pair[0].1);
        }
        // A one-day period: one slice holds it, the others are empty.
        let day = slices(from, date(2024, 11, 2));
        assert_eq!(day.iter().filter(|(a, b)| a < b).count(), 1);
        assert_eq!(day[day.len() - 1].1, date(2024, 11, 2));
    }

    #[test]
    fn periods_cover_the_range_with_clipped_ends() {
        let months = periods(date(2026, 1, 15), date(2026, 4, 1), Granularity::Month).expect("ok");
        let labels: Vec<_> = months.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(months[0].1, date(2026, 1, 15));
        assert_eq!(months[2].2, date(2026, 4, 1));

        let quarters =
            periods(date(2025, 11, 1), date(2026, 5, 2), Granularity::Quarter).expect("ok");
        let labels: Vec<_> = quarters.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(labels, ["2025-Q4", "2026-Q1", "2026-Q2"]);

        let years = periods(date(2024, 6, 1), date(2026, 1, 1), Granularity::Year).expect("ok");
        let labels: Vec<_> = years.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(labels, ["2024", "2025"]);

        assert!(
            periods(date(2026, 1, 1), date(2026, 1, 1), Granularity::Month)
                .expect("ok")
                .is_empty()
        );
        assert!(periods(date(1900, 1, 1), date(2026, 1, 1), Granularity::Month).is_err());
    }

    #[test]
    fn bad_queries_are_refused() {
        let query = |from, to, filter| ReportQuery {
            factor_set_id: 1,
            across_family: false,
            from,
            to,
            granularity: Granularity::Month,
            filter,
            confidence: false,
            drivers: false,
            segments: None,
        };
        let field = |q: ReportQuery| match validate(&q) {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(query(
                date(2026, 2, 1),
                date(2026, 1, 1),
                ReportFilter::default()
            )),
            "from"
        );
        assert_eq!(
            field(query(
                date(2026, 1, 1),
                date(2026, 2, 1),
                ReportFilter {
                    tag: Some(" ".into()),
                    ..ReportFilter::default()
                }
            )),
            "filter.tag"
        );
    }
}
