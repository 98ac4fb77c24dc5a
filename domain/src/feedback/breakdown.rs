//! A survey's CSAT and NPS broken down: per customer segment
//! (`SurveyResults.segments`, small segments suppressed as
//! [`crate::segments`] rules) and per trend period with the significance of
//! each step (`SurveyResults.trend`).
//!
//! Both are one grouped statement over the survey's responses and answers:
//! per group the distinct responses and the counts CSAT and NPS are made of
//! (RATING answers and those of 4–5; NPS promoters, passives, detractors).

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{ConnectionTrait, QueryResult};

use super::model::Survey;
use crate::csi::confidence::{self, Confidence, Method, Significance};
use crate::csi::report::{bucket_of, periods, Granularity};
use crate::error::DomainResult;
use crate::segments::{customer_segments, suppress, SegmentBy, SegmentHead};
use crate::sql::Sql;

/// The counts behind CSAT and NPS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnswerScores {
    /// RATING answers.
    pub rating_answers: i64,
    /// RATING answers of 4–5.
    pub satisfied: i64,
    /// NPS answers of 9–10.
    pub promoters: i64,
    /// NPS answers of 7–8.
    pub passives: i64,
    /// NPS answers of 0–6.
    pub detractors: i64,
}

/// The SQL columns of [`AnswerScores`] over `a` (answers) and `q`
/// (questions), left-joined to the responses.
const SCORE_COLUMNS: &str = "\
    SUM(CASE WHEN q.kind = 'RATING' AND a.rating IS NOT NULL THEN 1 ELSE 0 END) AS rating_answers, \
    SUM(CASE WHEN q.kind = 'RATING' AND a.rating >= 4 THEN 1 ELSE 0 END) AS satisfied, \
    SUM(CASE WHEN q.kind = 'NPS' AND a.rating >= 9 THEN 1 ELSE 0 END) AS promoters, \
    SUM(CASE WHEN q.kind = 'NPS' AND a.rating IN (7, 8) THEN 1 ELSE 0 END) AS passives, \
    SUM(CASE WHEN q.kind = 'NPS' AND a.rating <= 6 THEN 1 ELSE 0 END) AS detractors";

/// The answers of the survey's responses `r`.
const ANSWERS_JOIN: &str = " LEFT JOIN survey_answers a ON a.response_id = r.id \
    LEFT JOIN survey_questions q ON q.id = a.question_id";

impl AnswerScores {
    fn from_row(row: &QueryResult) -> DomainResult<Self> {
        let get = |column: &str| -> DomainResult<i64> {
            Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
        };
        Ok(Self {
            rating_answers: get("rating_answers")?,
            satisfied: get("satisfied")?,
            promoters: get("promoters")?,
            passives: get("passives")?,
            detractors: get("detractors")?,
        })
    }

    /// NPS answers.
    pub fn nps_answers(&self) -> i64 {
        self.promoters + self.passives + self.detractors
    }

    /// Share of 4–5 among RATING answers, percent, 2 places.
    pub fn csat(&self) -> Option<Decimal> {
        percent(self.satisfied, self.rating_answers)
    }

    /// `%promoters − %detractors`, percent points, 2 places.
    pub fn nps(&self) -> Option<Decimal> {
        percent(self.promoters - self.detractors, self.nps_answers())
    }

    /// 95 % Wilson interval of `csat`.
    pub fn csat_confidence(&self) -> Confidence {
        Confidence::new(
            Method::Wilson,
            self.rating_answers,
            confidence::wilson(self.satisfied, self.rating_answers),
            2,
        )
    }

    /// 95 % normal interval of `nps`.
    pub fn nps_confidence(&self) -> Confidence {
        Confidence::new(
            Method::NpsNormal,
            self.nps_answers(),
            confidence::nps_interval(self.promoters, self.detractors, self.nps_answers()),
            2,
        )
    }

    /// Pooled two-proportion z test of this CSAT against `before`'s.
    pub fn csat_change_since(&self, before: &AnswerScores) -> Significance {
        confidence::two_proportions(
            self.satisfied,
            self.rating_answers,
            before.satisfied,
            before.rating_answers,
        )
        .into()
    }

    /// z test of this NPS against `before`'s (variances summed).
    pub fn nps_change_since(&self, before: &AnswerScores) -> Significance {
        confidence::nps_difference(
            (self.promoters, self.detractors, self.nps_answers()),
            (before.promoters, before.detractors, before.nps_answers()),
        )
        .into()
    }
}

/// `part / whole · 100`, 2 places half away from zero; `None` for 0 answers.
pub(super) fn percent(part: i64, whole: i64) -> Option<Decimal> {
    (whole > 0).then(|| {
        (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    })
}

/// One segment of a survey's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveySegment {
    pub key: String,
    pub label: String,
    /// `None` when suppressed: no figure, no count.
    pub figures: Option<SurveySegmentFigures>,
}

/// The figures of a segment that is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveySegmentFigures {
    /// Responses of the segment's customers.
    pub responses: i64,
    pub scores: AnswerScores,
}

/// The survey's CSAT and NPS per segment of `by`, sorted by key; segments
/// with fewer than `threshold` responses are suppressed.
pub(super) async fn segments(
    db: &impl ConnectionTrait,
    survey_id: i64,
    by: SegmentBy,
    threshold: i64,
) -> DomainResult<Vec<SurveySegment>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(&format!(
        "SELECT seg.seg_key AS seg_key, MIN(seg.seg_label) AS seg_label, \
         COUNT(DISTINCT r.id) AS responses, {SCORE_COLUMNS} \
         FROM survey_responses r JOIN ({}) seg ON seg.customer_id = r.customer_id{ANSWERS_JOIN} \
         WHERE r.survey_id = ",
        customer_segments(by)
    ))
    .bind(survey_id)
    .push(" GROUP BY seg.seg_key");
    let mut rows = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        let head = SegmentHead {
            key: row.try_get("", "seg_key")?,
            label: row.try_get("", "seg_label")?,
            responses: row.try_get("", "responses")?,
        };
        rows.push((head, AnswerScores::from_row(&row)?));
    }
    let mut heads: Vec<SegmentHead> = rows.iter().map(|(h, _)| h.clone()).collect();
    let hidden = suppress(&mut heads, threshold);
    Ok(heads
        .into_iter()
        .zip(hidden)
        .map(|(head, hidden)| {
            let figures = (!hidden).then(|| SurveySegmentFigures {
                responses: head.responses,
                scores: rows
                    .iter()
                    .find(|(h, _)| h.key == head.key)
                    .map(|(_, s)| *s)
                    .unwrap_or_default(),
            });
            SurveySegment {
                key: head.key,
                label: head.label,
                figures,
            }
        })
        .collect())
}

/// One period of a survey's CSAT and NPS trend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyTrendPoint {
    /// `2026-01`, `2026-Q1` or `2026`.
    pub period: String,
    /// First day counted.
    pub start: NaiveDate,
    /// First day no longer counted.
    pub end: NaiveDate,
    /// Responses submitted in the period.
    pub responses: i64,
    pub scores: AnswerScores,
    /// CSAT against the previous point (two-proportion z test); `None` for
    /// the first point.
    pub csat_change: Option<Significance>,
    /// NPS against the previous point (difference of two NPS, z test);
    /// `None` for the first point.
    pub nps_change: Option<Significance>,
}

/// The survey's CSAT and NPS per period of `granularity` over `[from, to)`,
/// empty periods included, each with the significance of its change since
/// the point before.
///
/// # Errors
/// `BAD_USER_INPUT` on `granularity` beyond the most trend periods;
/// database failures.
pub(super) async fn trend(
    db: &impl ConnectionTrait,
    survey: &Survey,
    (from, to): (NaiveDate, NaiveDate),
    granularity: Granularity,
) -> DomainResult<Vec<SurveyTrendPoint>> {
    let periods = periods(from, to, granularity)?;
    let backend = db.get_database_backend();
    let bucket = bucket_of(backend, granularity, "r.submitted_at");
    let mut sql = Sql::new(backend);
    sql.push(&format!(
        "SELECT {bucket} AS bucket, COUNT(DISTINCT r.id) AS responses, {SCORE_COLUMNS} \
         FROM survey_responses r{ANSWERS_JOIN} WHERE r.survey_id = "
    ))
    .bind(survey.id)
    .push(" AND r.submitted_at >= ")
    .bind(crate::csi::report::midnight(from))
    .push(" AND r.submitted_at < ")
    .bind(crate::csi::report::midnight(to))
    .push(&format!(" GROUP BY {bucket}"));
    let mut found = std::collections::HashMap::new();
    for row in db.query_all_raw(sql.build()).await? {
        let bucket: String = row.try_get("", "bucket")?;
        let responses: i64 = row.try_get("", "responses")?;
        found.insert(bucket, (responses, AnswerScores::from_row(&row)?));
    }
    let mut before: Option<AnswerScores> = None;
    Ok(periods
        .into_iter()
        .map(|(period, start, end)| {
            let (responses, scores) = found.remove(&period).unwrap_or_default();
            let csat_change = before.map(|b| scores.csat_change_since(&b));
            let nps_change = before.map(|b| scores.nps_change_since(&b));
            before = Some(scores);
            SurveyTrendPoint {
                period,
                start,
                end,
                responses,
                scores,
                csat_change,
                nps_change,
            }
        })
        .collect())
}
