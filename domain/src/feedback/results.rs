//! Reading responses, marking feedback helpful, and a survey's results
//! (aggregated in SQL: counts grouped by question and value).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::breakdown::{percent, AnswerScores};
use super::model::{QuestionKind, Survey, SurveyResponse};
use super::surveys::load;
use crate::csi::compute;
use crate::csi::confidence::Confidence;
use crate::customers::{SortDirection, SortKey};
use crate::error::{DomainError, DomainResult};
use crate::keyset::{
    self, check_range, contains_pattern, time_key, KeyKind, OrderCursor, Ordering,
};
use crate::loyalty::{self, LedgerReason};
use crate::pagination::{Page, PageRequest};
use crate::sql::Sql;
use entity::{survey_answers, survey_invitations, survey_responses, surveys};

/// What `markFeedbackHelpful` did about the survey's helpful bonus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpfulBonus {
    /// This call marked the response and credited `points`.
    Credited { points: i64 },
    /// The response was already marked and an earlier mark credited the bonus;
    /// nothing credited now.
    AlreadyCredited,
    /// No bonus is credited for this response: the survey has no programme or
    /// a bonus of 0 points (or had, when the response was first marked).
    NoBonus,
}

/// A response marked helpful and what happened to the bonus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelpfulMark {
    pub response: SurveyResponse,
    pub bonus: HelpfulBonus,
}

/// Longest comment search text accepted.
const MAX_SEARCH_LEN: usize = 100;

/// Which responses `surveyResponses` lists; every set field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResponseFilter {
    /// Responses to this survey.
    pub survey_id: Option<i64>,
    /// Responses by this customer.
    pub customer_id: Option<i64>,
    /// Submitted at or after.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted strictly before.
    pub submitted_to: Option<DateTime<Utc>>,
    /// CSI at least this (0..100); responses without a CSI are left out.
    pub csi_min: Option<Decimal>,
    /// CSI at most this (0..100); responses without a CSI are left out.
    pub csi_max: Option<Decimal>,
    /// Marked helpful (`true`) or not (`false`).
    pub helpful: Option<bool>,
    /// With a non-empty TEXT answer (`true`) or without one (`false`).
    pub has_comment: Option<bool>,
    /// Case-insensitive substring of a TEXT answer.
    pub text: Option<String>,
    /// `(key, value)`: the response's hidden field `key` is exactly `value`.
    pub hidden_field: Option<(String, String)>,
}

/// The sort field of the response list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseOrderField {
    /// Submission time.
    SubmittedAt,
    /// The response's CSI; responses without one sort below every CSI.
    Csi,
}

/// How to order responses; ties are broken by id in the same direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseOrder {
    pub field: ResponseOrderField,
    pub direction: SortDirection,
}

impl Default for ResponseOrder {
    fn default() -> Self {
        Self {
            field: ResponseOrderField::SubmittedAt,
            direction: SortDirection::Desc,
        }
    }
}

/// The CSI as a number, with `-1` for none (below every CSI); the same
/// expression is indexed (migration `m20261128_000001`).
const CSI_KEY: &str = "COALESCE(CAST(r.csi AS NUMERIC), -1)";

fn check_csi(field: &str, value: Option<Decimal>) -> DomainResult<()> {
    match value {
        Some(v) if v < Decimal::ZERO || v > Decimal::ONE_HUNDRED => {
            Err(DomainError::validation(field, "must be between 0 and 100"))
        }
        _ => Ok(()),
    }
}

/// Validates `filter` and appends its conditions (`r` is `survey_responses`).
fn push_response_filter(sql: &mut Sql, filter: &ResponseFilter) -> DomainResult<()> {
    check_range(
        filter.submitted_from.as_ref(),
        filter.submitted_to.as_ref(),
        "filter.submittedTo",
        "submittedFrom",
    )?;
    check_csi("filter.csiMin", filter.csi_min)?;
    check_csi("filter.csiMax", filter.csi_max)?;
    if let (Some(min), Some(max)) = (filter.csi_min, filter.csi_max) {
        if min > max {
            return Err(DomainError::validation(
                "filter.csiMax",
                "must be at least csiMin",
            ));
        }
    }
    let pattern = contains_pattern("filter.text", filter.text.as_deref(), MAX_SEARCH_LEN)?;
    if let Some(id) = filter.survey_id {
        sql.push(" AND r.survey_id = ").bind(id);
    }
    if let Some((key, value)) = &filter.hidden_field {
        super::hidden_fields::push_filter(sql, key, value)?;
    }
    if let Some(id) = filter.customer_id {
        sql.push(" AND r.customer_id = ").bind(id);
    }
    if let Some(from) = filter.submitted_from {
        sql.push(" AND r.submitted_at >= ").bind(from);
    }
    if let Some(to) = filter.submitted_to {
        sql.push(" AND r.submitted_at < ").bind(to);
    }
    if let Some(min) = filter.csi_min {
        sql.push(" AND r.csi IS NOT NULL AND CAST(r.csi AS NUMERIC) >= CAST(CAST(")
            .bind(min.to_string())
            .push(" AS TEXT) AS NUMERIC)");
    }
    if let Some(max) = filter.csi_max {
        sql.push(" AND r.csi IS NOT NULL AND CAST(r.csi AS NUMERIC) <= CAST(CAST(")
            .bind(max.to_string())
            .push(" AS TEXT) AS NUMERIC)");
    }
    match filter.helpful {
        Some(true) => {
            sql.push(" AND r.helpful_at IS NOT NULL");
        }
        Some(false) => {
            sql.push(" AND r.helpful_at IS NULL");
        }
        None => {}
    }
    const COMMENT: &str = "EXISTS (SELECT 1 FROM survey_answers a \
         WHERE a.response_id = r.id AND a.text IS NOT NULL AND a.text <> '')";
    match filter.has_comment {
        Some(true) => {
            sql.push(" AND ").push(COMMENT);
        }
        Some(false) => {
            sql.push(" AND NOT ").push(COMMENT);
        }
        None => {}
    }
    if let Some(pattern) = pattern {
        sql.push(
            " AND EXISTS (SELECT 1 FROM survey_answers a WHERE a.response_id = r.id \
             AND LOWER(a.text) LIKE ",
        )
        .bind(pattern)
        .push(" ESCAPE '\\')");
    }
    Ok(())
}

/// Results of one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionResult {
    pub question_id: i64,
    pub position: i32,
    pub text: String,
    pub kind: QuestionKind,
    /// Responses that answered the question.
    pub answers: i64,
    /// Mean rating (rated kinds with answers).
    pub mean: Option<Decimal>,
    /// Value → count: every scale value for rated kinds, every option for
    /// choice kinds (a response may count once per chosen option), none for
    /// TEXT, MATRIX and DATE.
    pub distribution: Vec<(String, i64)>,
    /// For `MATRIX`: each row's results, in row order.
    pub rows: Vec<MatrixRowResult>,
    /// For `DATE`: the earliest date answered.
    pub earliest_date: Option<chrono::NaiveDate>,
    /// For `DATE`: the latest date answered.
    pub latest_date: Option<chrono::NaiveDate>,
}

/// Results of one row of a MATRIX question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixRowResult {
    /// The row's statement (default locale).
    pub row: String,
    /// Responses that rated the row.
    pub answers: i64,
    /// The row's mean rating.
    pub mean: Option<Decimal>,
    /// Each scale value (1..5) → count.
    pub distribution: Vec<(String, i64)>,
}

/// A survey's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyResults {
    pub survey_id: i64,
    /// Invitations issued and not revoked (a re-issue counts once).
    pub invitations_sent: i64,
    pub responses: i64,
    /// `responses / invitationsSent · 100`, 2 decimals.
    pub response_rate: Option<Decimal>,
    /// Share of 4–5 among all RATING answers, in percent, 2 decimals.
    pub csat: Option<Decimal>,
    pub rating_answers: i64,
    /// `%promoters (9–10) − %detractors (0–6)` over NPS answers, 2 decimals.
    pub nps: Option<Decimal>,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    /// 95 % Wilson score interval of `csat`, in percent, 2 decimals.
    pub csat_confidence: Confidence,
    /// 95 % normal interval of `nps` (multinomial variance), clipped to
    /// −100..100, 2 decimals.
    pub nps_confidence: Confidence,
    pub questions: Vec<QuestionResult>,
    /// The CSI report of the survey's factor-set version over its responses
    /// (from the survey's creation to today, by month); `None` without a set.
    pub csi: Option<crate::csi::CsiReport>,
}

/// Loads one response with its answers.
///
/// # Errors
/// `NOT_FOUND` when it does not exist.
pub(crate) async fn load_response(
    db: &impl ConnectionTrait,
    id: i64,
) -> DomainResult<SurveyResponse> {
    let model = survey_responses::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("survey response"))?;
    hydrate(db, vec![model])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("survey response"))
}

/// Responses by id with their answers (two statements): the batch function
/// behind links to a response. Missing ids are absent from the map.
///
/// # Errors
/// Database failures.
pub async fn responses_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, SurveyResponse>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let models = survey_responses::Entity::find()
        .filter(survey_responses::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(hydrate(db, models)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}

/// Attaches answers to responses with one query.
async fn hydrate(
    db: &impl ConnectionTrait,
    models: Vec<survey_responses::Model>,
) -> DomainResult<Vec<SurveyResponse>> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let mut answers: HashMap<i64, Vec<survey_answers::Model>> = HashMap::new();
    for a in survey_answers::Entity::find()
        .filter(survey_answers::Column::ResponseId.is_in(ids))
        .order_by_asc(survey_answers::Column::Id)
        .all(db)
        .await?
    {
        answers.entry(a.response_id).or_default().push(a);
    }
    models
        .into_iter()
        .map(|m| {
            let a = answers.remove(&m.id).unwrap_or_default();
            SurveyResponse::from_rows(m, a)
        })
        .collect()
}

/// How often each question of a survey was answered, rated each value and
/// chose each option, counted in SQL.
#[derive(Default)]
struct AnswerCounts {
    answered: HashMap<i64, i64>,
    ratings: HashMap<(i64, i32), i64>,
    chosen: HashMap<(i64, String), i64>,
    /// (question, 0-based row, rating) → count, for MATRIX questions.
    row_ratings: HashMap<(i64, i64, i32), i64>,
    /// question → (earliest, latest), for DATE questions.
    dates: HashMap<i64, (chrono::NaiveDate, chrono::NaiveDate)>,
}

async fn answer_counts(db: &impl ConnectionTrait, survey: &Survey) -> DomainResult<AnswerCounts> {
    let question_ids: Vec<i64> = survey.questions.iter().map(|q| q.id).collect();
    if question_ids.is_empty() {
        return Ok(AnswerCounts::default());
    }
    let answered = survey_answers::Entity::find()
        .select_only()
        .column(survey_answers::Column::QuestionId)
        .column_as(Expr::col(survey_answers::Column::Id).count(), "n")
        .filter(survey_answers::Column::QuestionId.is_in(question_ids.clone()))
        .group_by(survey_answers::Column::QuestionId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let ratings = survey_answers::Entity::find()
        .select_only()
        .column(survey_answers::Column::QuestionId)
        .column(survey_answers::Column::Rating)
        .column_as(Expr::col(survey_answers::Column::Id).count(), "n")
        .filter(survey_answers::Column::QuestionId.is_in(question_ids))
        .filter(survey_answers::Column::Rating.is_not_null())
        .group_by(survey_answers::Column::QuestionId)
        .group_by(survey_answers::Column::Rating)
        .into_tuple::<(i64, i32, i64)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(q, r, n)| ((q, r), n))
        .collect();
    let chosen = if survey.questions.iter().any(|q| q.kind.has_options()) {
        choice_counts(db, survey.id).await?
    } else {
        HashMap::new()
    };
    let row_ratings = if survey
        .questions
        .iter()
        .any(|q| q.kind == QuestionKind::Matrix)
    {
        row_rating_counts(db, survey.id).await?
    } else {
        HashMap::new()
    };
    let dates = date_ranges(db, survey).await?;
    Ok(AnswerCounts {
        answered,
        ratings,
        chosen,
        row_ratings,
        dates,
    })
}

/// The earliest and latest answer of each DATE question (ISO text orders
/// as the dates do).
async fn date_ranges(
    db: &impl ConnectionTrait,
    survey: &Survey,
) -> DomainResult<HashMap<i64, (chrono::NaiveDate, chrono::NaiveDate)>> {
    let ids: Vec<i64> = survey
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Date)
        .map(|q| q.id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = survey_answers::Entity::find()
        .select_only()
        .column(survey_answers::Column::QuestionId)
        .column_as(survey_answers::Column::DateValue.min(), "earliest")
        .column_as(survey_answers::Column::DateValue.max(), "latest")
        .filter(survey_answers::Column::QuestionId.is_in(ids))
        .filter(survey_answers::Column::DateValue.is_not_null())
        .group_by(survey_answers::Column::QuestionId)
        .into_tuple::<(i64, String, String)>()
        .all(db)
        .await?;
    let parse = |raw: &str| {
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            DomainError::Internal(anyhow::anyhow!("stored date {raw:?} is not understood"))
        })
    };
    rows.into_iter()
        .map(|(q, earliest, latest)| Ok((q, (parse(&earliest)?, parse(&latest)?))))
        .collect()
}

/// Counts each rating of each row of the survey's MATRIX answers, unnesting
/// the JSON arrays in SQL (unrated rows, JSON `null`, are left out).
async fn row_rating_counts(
    db: &impl ConnectionTrait,
    survey_id: i64,
) -> DomainResult<HashMap<(i64, i64, i32), i64>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push(match backend {
        DatabaseBackend::Postgres => {
            "SELECT a.question_id AS question_id, CAST(j.ord - 1 AS BIGINT) AS row_index, \
               CAST(j.value AS INTEGER) AS rating, COUNT(*) AS n \
             FROM survey_answers a \
             CROSS JOIN LATERAL json_array_elements_text(a.row_ratings::json) \
               WITH ORDINALITY AS j(value, ord) \
             WHERE a.row_ratings IS NOT NULL AND j.value IS NOT NULL AND a.question_id IN \
               (SELECT id FROM survey_questions WHERE survey_id = "
        }
        _ => {
            "SELECT a.question_id AS question_id, CAST(j.key AS INTEGER) AS row_index, \
               CAST(j.value AS INTEGER) AS rating, COUNT(*) AS n \
             FROM survey_answers a, json_each(a.row_ratings) j \
             WHERE a.row_ratings IS NOT NULL AND j.type = 'integer' AND a.question_id IN \
               (SELECT id FROM survey_questions WHERE survey_id = "
        }
    })
    .bind(survey_id)
    .push(") GROUP BY 1, 2, 3");
    let rows = db.query_all_raw(sql.build()).await?;
    let mut counts = HashMap::new();
    for row in rows {
        let question: i64 = row.try_get("", "question_id")?;
        let index: i64 = row.try_get("", "row_index")?;
        let rating: i32 = row.try_get("", "rating")?;
        let n: i64 = row.try_get("", "n")?;
        counts.insert((question, index, rating), n);
    }
    Ok(counts)
}

/// Per-question results and the CSAT and NPS counts of a survey.
struct Tally {
    questions: Vec<QuestionResult>,
    rating_answers: i64,
    satisfied: i64,
    promoters: i64,
    passives: i64,
    detractors: i64,
}

fn tally(survey: &Survey, counts: &AnswerCounts) -> Tally {
    let AnswerCounts {
        answered,
        ratings,
        chosen,
        row_ratings,
        dates,
    } = counts;
    let mut rating_answers = 0;
    let mut satisfied = 0;
    let (mut promoters, mut passives, mut detractors) = (0, 0, 0);
    let mut questions = Vec::with_capacity(survey.questions.len());
    for q in &survey.questions {
        let mut distribution = Vec::new();
        let mut mean = None;
        if let Some((min, max)) = q.scale.filter(|_| q.kind.is_rated()) {
            let (mut sum, mut count) = (0i64, 0i64);
            for value in min..=max {
                let n = ratings.get(&(q.id, value)).copied().unwrap_or(0);
                sum += i64::from(value) * n;
                count += n;
                distribution.push((value.to_string(), n));
                match q.kind {
                    QuestionKind::Rating => {
                        rating_answers += n;
                        if value >= 4 {
                            satisfied += n;
                        }
                    }
                    QuestionKind::Nps => match value {
                        9..=10 => promoters += n,
                        7..=8 => passives += n,
                        _ => detractors += n,
                    },
                    _ => {}
                }
            }
            mean = compute::mean(sum, count);
        } else if q.kind.has_options() {
            for option in &q.options {
                let n = chosen.get(&(q.id, option.clone())).copied().unwrap_or(0);
                distribution.push((option.clone(), n));
            }
        }
        let mut rows = Vec::new();
        if q.kind == QuestionKind::Matrix {
            let (min, max) = q.scale.unwrap_or(super::model::MATRIX_SCALE);
            for (index, row) in q.settings.rows.iter().enumerate() {
                let index = index as i64;
                let (mut sum, mut count) = (0i64, 0i64);
                let mut row_distribution = Vec::new();
                for value in min..=max {
                    let n = row_ratings.get(&(q.id, index, value)).copied().unwrap_or(0);
                    sum += i64::from(value) * n;
                    count += n;
                    row_distribution.push((value.to_string(), n));
                }
                rows.push(MatrixRowResult {
                    row: row.clone(),
                    answers: count,
                    mean: compute::mean(sum, count),
                    distribution: row_distribution,
                });
            }
        }
        let range = dates.get(&q.id);
        questions.push(QuestionResult {
            rows,
            earliest_date: range.map(|r| r.0),
            latest_date: range.map(|r| r.1),
            question_id: q.id,
            position: q.position,
            text: q.text.clone(),
            kind: q.kind,
            answers: answered.get(&q.id).copied().unwrap_or(0),
            mean,
            distribution,
        });
    }
    Tally {
        questions,
        rating_answers,
        satisfied,
        promoters,
        passives,
        detractors,
    }
}

/// The span of a survey's own reports: from its first response (or its
/// creation, if earlier) to today inclusive, as `[from, to)` dates.
pub(super) async fn span(
    db: &impl ConnectionTrait,
    survey: &Survey,
) -> DomainResult<(chrono::NaiveDate, chrono::NaiveDate)> {
    let today = chrono::Utc::now().date_naive();
    let first_response: Option<chrono::DateTime<chrono::Utc>> = survey_responses::Entity::find()
        .select_only()
        .column_as(survey_responses::Column::SubmittedAt.min(), "first")
        .filter(survey_responses::Column::SurveyId.eq(survey.id))
        .into_tuple::<Option<chrono::DateTime<chrono::Utc>>>()
        .one(db)
        .await?
        .flatten();
    let start = first_response
        .map_or(survey.created_at, |first| {
            Ord::min(first, survey.created_at)
        })
        .date_naive();
    Ok((Ord::min(start, today), today + chrono::Duration::days(1)))
}

/// The CSI report of a survey's own responses over its [`span`], by month.
async fn survey_csi(
    db: &impl ConnectionTrait,
    survey: &Survey,
    factor_set_id: i64,
) -> DomainResult<crate::csi::CsiReport> {
    let (from, to) = span(db, survey).await?;
    let query = crate::csi::report::ReportQuery {
        factor_set_id,
        across_family: false,
        from,
        to,
        granularity: crate::csi::report::Granularity::Month,
        filter: crate::csi::report::ReportFilter {
            survey_id: Some(survey.id),
            ..Default::default()
        },
        confidence: true,
        drivers: false,
        segments: None,
    };
    crate::csi::report::report(db, query).await
}

/// A survey's CSAT and NPS per period of `granularity` over its [`span`].
pub(crate) async fn trend(
    db: &impl ConnectionTrait,
    survey_id: i64,
    granularity: crate::csi::Granularity,
) -> DomainResult<Vec<super::breakdown::SurveyTrendPoint>> {
    let survey = load(db, survey_id).await?;
    let span = span(db, &survey).await?;
    super::breakdown::trend(db, &survey, span, granularity).await
}

/// A page of a survey's responses, newest first, filtered.
pub(crate) async fn responses(
    db: &DatabaseConnection,
    filter: &ResponseFilter,
    order: ResponseOrder,
    page: &PageRequest<OrderCursor>,
) -> DomainResult<Page<SurveyResponse>> {
    let backend = db.get_database_backend();
    let (key, kind) = match order.field {
        ResponseOrderField::SubmittedAt => ("r.submitted_at", KeyKind::Time),
        ResponseOrderField::Csi => (CSI_KEY, KeyKind::Decimal),
    };
    let ordering = Ordering {
        tag: format!("responses:{:?}:{:?}", order.field, order.direction),
        key,
        id: "r.id",
        kind,
        direction: order.direction,
    };
    let mut sql = Sql::new(backend);
    sql.push("SELECT r.* FROM survey_responses r WHERE 1 = 1");
    push_response_filter(&mut sql, filter)?;
    let field = order.field;
    let rows = keyset::page(
        db,
        sql,
        &ordering,
        page,
        |_, m: &survey_responses::Model| {
            Ok(match field {
                ResponseOrderField::SubmittedAt => time_key(m.submitted_at),
                ResponseOrderField::Csi => {
                    SortKey::Text(m.csi.clone().unwrap_or_else(|| "-1".to_owned()))
                }
            })
        },
        |m| m.id,
    )
    .await?;
    let ids: Vec<String> = rows.items.iter().map(|(c, _)| c.clone()).collect();
    let models: Vec<survey_responses::Model> = rows.items.into_iter().map(|(_, m)| m).collect();
    let responses = hydrate(db, models).await?;
    Ok(Page {
        items: ids.into_iter().zip(responses).collect(),
        has_previous_page: rows.has_previous_page,
        has_next_page: rows.has_next_page,
    })
}

/// How many responses match `filter`.
pub(crate) async fn count_responses(
    db: &DatabaseConnection,
    filter: &ResponseFilter,
) -> DomainResult<i64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM survey_responses r WHERE 1 = 1");
    push_response_filter(&mut sql, filter)?;
    keyset::count(db, sql).await
}

/// Marks a response helpful once and credits the survey's helpful bonus.
pub(crate) async fn mark_helpful(
    txn: &impl ConnectionTrait,
    actor_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> DomainResult<HelpfulMark> {
    let marked = survey_responses::Entity::update_many()
        .col_expr(survey_responses::Column::HelpfulAt, Expr::value(now))
        .col_expr(survey_responses::Column::HelpfulBy, Expr::value(actor_id))
        .filter(survey_responses::Column::Id.eq(id))
        .filter(survey_responses::Column::HelpfulAt.is_null())
        .exec(txn)
        .await?;
    let response = load_response(txn, id).await?;
    let source = format!("helpful:{id}");
    let bonus = if marked.rows_affected == 1 {
        let survey = surveys::Entity::find_by_id(response.survey_id)
            .one(txn)
            .await?
            .ok_or(DomainError::NotFound("survey"))?;
        match survey.program_id {
            Some(program_id) if survey.helpful_bonus_points > 0 => {
                let credited = loyalty::credit_for_source(
                    txn,
                    program_id,
                    response.customer_id,
                    survey.helpful_bonus_points,
                    LedgerReason::HelpfulFeedback,
                    &source,
                    now,
                )
                .await?;
                if credited > 0 {
                    HelpfulBonus::Credited { points: credited }
                } else {
                    HelpfulBonus::AlreadyCredited
                }
            }
            _ => HelpfulBonus::NoBonus,
        }
    } else if loyalty::credited_for_source(txn, LedgerReason::HelpfulFeedback, &source).await? {
        HelpfulBonus::AlreadyCredited
    } else {
        HelpfulBonus::NoBonus
    };
    Ok(HelpfulMark { response, bonus })
}

/// A survey's aggregated results, counted in SQL.
pub(crate) async fn results(
    db: &DatabaseConnection,
    survey_id: i64,
) -> DomainResult<SurveyResults> {
    let survey = load(db, survey_id).await?;
    let invitations_sent = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(survey_id))
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .count(db)
        .await? as i64;
    let responses = survey_responses::Entity::find()
        .filter(survey_responses::Column::SurveyId.eq(survey_id))
        .count(db)
        .await? as i64;
    let counts = answer_counts(db, &survey).await?;
    let Tally {
        questions,
        rating_answers,
        satisfied,
        promoters,
        passives,
        detractors,
    } = tally(&survey, &counts);
    let scores = AnswerScores {
        rating_answers,
        satisfied,
        promoters,
        passives,
        detractors,
    };
    let csi = match survey.factor_set_id {
        Some(factor_set_id) => Some(survey_csi(db, &survey, factor_set_id).await?),
        None => None,
    };
    Ok(SurveyResults {
        survey_id,
        invitations_sent,
        responses,
        response_rate: percent(responses, invitations_sent),
        csat: scores.csat(),
        rating_answers,
        nps: scores.nps(),
        csat_confidence: scores.csat_confidence(),
        nps_confidence: scores.nps_confidence(),
        promoters,
        passives,
        detractors,
        questions,
        csi,
    })
}

/// Counts each chosen option per question, unnesting the JSON arrays in SQL.
async fn choice_counts(
    db: &impl ConnectionTrait,
    survey_id: i64,
) -> DomainResult<HashMap<(i64, String), i64>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push(match backend {
        DatabaseBackend::Postgres => {
            "SELECT a.question_id AS question_id, j.value AS choice, COUNT(*) AS n \
             FROM survey_answers a \
             CROSS JOIN LATERAL json_array_elements_text(a.choices::json) AS j(value) \
             WHERE a.choices IS NOT NULL AND a.question_id IN \
               (SELECT id FROM survey_questions WHERE survey_id = "
        }
        _ => {
            "SELECT a.question_id AS question_id, j.value AS choice, COUNT(*) AS n \
             FROM survey_answers a, json_each(a.choices) j \
             WHERE a.choices IS NOT NULL AND a.question_id IN \
               (SELECT id FROM survey_questions WHERE survey_id = "
        }
    })
    .bind(survey_id)
    .push(") GROUP BY a.question_id, j.value");
    let rows = db.query_all_raw(sql.build()).await?;
    let mut counts = HashMap::new();
    for row in rows {
        let question: i64 = row.try_get("", "question_id")?;
        let choice: String = row.try_get("", "choice")?;
        let n: i64 = row.try_get("", "n")?;
        counts.insert((question, choice), n);
    }
    Ok(counts)
}
