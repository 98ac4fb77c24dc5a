//! The public respondent flow: validating a submission and storing it.
//!
//! Validation happens before any write, so a bad submission stores nothing and
//! leaves the token usable. A good one runs in one write transaction whose
//! first statement marks the invitation used with a conditional UPDATE
//! (`used_at IS NULL`), on which every later write depends: of any number of
//! concurrent submissions of one token, exactly one changes the row, stores
//! its response and credits the incentive; the rest store nothing and answer
//! `ALREADY_SUBMITTED`.
//!
//! Everything that can be read is read before the transaction, in one
//! statement: the invitation with its survey, the survey's questions,
//! translations, scale and factors, the programme, the membership, whether
//! the invitation has e-mails and whether any webhook endpoint is enabled
//! ([`super::invitations::resolve_with`]). So on SQLite the single
//! writer's turn, and on PostgreSQL the row locks, last as few round trips
//! as possible. For a member of the survey's programme, without e-mails,
//! webhooks or a follow-up due, the transaction is two round trips: the
//! claim with the response, its answers and CSI ratings (one statement on
//! PostgreSQL, whose insert also announces the response to live
//! dashboards; one batch on SQLite; see [`store`]); and the ledger entry
//! (an insert returning the row).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, DynIden, Expr, InsertStatement, IntoIden, Query, SelectStatement,
    SubQueryStatement, UpdateStatement, Value, ValueTuple, WithClause,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryResult, QueryTrait, Set,
};

use super::conditions::{hidden_questions, Given};
use super::invitations::{resolve_with, InvitationToken};
use super::model::{
    Answer, FollowUpReason, FollowUpStatus, Question, QuestionKind, Survey, SurveyResponse,
    SurveyStatus, MATRIX_SCALE,
};
use crate::csi::compute::{self, CsiValue, Scale};
use crate::error::{DomainError, DomainResult};
use crate::loyalty::{self, LedgerReason};
use crate::sql::Params;
use entity::{
    csi_ratings, customers, follow_ups, survey_answers, survey_invitations, survey_responses,
    surveys,
};

/// Most answers one submission may carry.
pub const MAX_ANSWERS: usize = 200;
/// Most choices one MULTIPLE_CHOICE answer may carry.
pub const MAX_CHOICES: usize = 50;

/// One answer as a respondent sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerInput {
    pub question_id: i64,
    pub rating: Option<i32>,
    pub choices: Option<Vec<String>>,
    pub text: Option<String>,
    /// For `MATRIX`: one rating (1..5) or `None` per row, in row order.
    pub row_ratings: Option<Vec<Option<i32>>>,
    /// For `DATE`: `YYYY-MM-DD`.
    pub date: Option<String>,
}

/// What the respondent gets back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub response_id: i64,
    pub points_awarded: i64,
    pub csi: Option<Decimal>,
    /// The stored response, for the `feedbackReceived` subscription.
    pub response: SurveyResponse,
}

/// A validated answer, ready to store.
#[derive(Clone, Debug)]
struct CleanAnswer {
    question_id: i64,
    kind: QuestionKind,
    factor_key: Option<String>,
    rating: Option<i32>,
    choices: Option<Vec<String>>,
    text: Option<String>,
    row_ratings: Option<Vec<Option<i32>>>,
    date: Option<NaiveDate>,
}

/// Parses exactly `YYYY-MM-DD` (a real calendar date).
fn parse_iso_date(raw: &str) -> Option<NaiveDate> {
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

/// Checks a submission against the survey's questions. Errors name the
/// question as `answers.<questionId>`; a list too long is `answers`.
fn validate(survey: &Survey, answers: Vec<AnswerInput>) -> DomainResult<Vec<CleanAnswer>> {
    if answers.len() > MAX_ANSWERS {
        return Err(DomainError::validation(
            "answers",
            format!("at most {MAX_ANSWERS} answers"),
        ));
    }
    let questions: HashMap<i64, &Question> = survey.questions.iter().map(|q| (q.id, q)).collect();
    let mut seen = HashSet::new();
    let mut clean = Vec::with_capacity(answers.len());
    for answer in answers {
        let field = format!("answers.{}", answer.question_id);
        let bad = |reason: String| DomainError::validation(field.clone(), reason);
        let Some(question) = questions.get(&answer.question_id) else {
            return Err(bad("is not a question of this survey".into()));
        };
        let label = format!("question {}", question.position);
        if !seen.insert(answer.question_id) {
            return Err(bad(format!("{label} is answered more than once")));
        }
        let kind = question.kind;
        let wrong_kind = || bad(format!("{label} takes a {} answer", kind_hint(kind)));
        // Exactly the field of the question's kind may be set.
        let given = [
            ("rating", answer.rating.is_some()),
            ("choices", answer.choices.is_some()),
            ("text", answer.text.is_some()),
            ("rowRatings", answer.row_ratings.is_some()),
            ("date", answer.date.is_some()),
        ];
        if given
            .iter()
            .any(|(name, set)| *set && *name != kind_hint(kind))
        {
            return Err(wrong_kind());
        }
        let mut out = CleanAnswer {
            question_id: question.id,
            kind,
            factor_key: question.factor_key.clone(),
            rating: None,
            choices: None,
            text: None,
            row_ratings: None,
            date: None,
        };
        match kind {
            QuestionKind::Rating | QuestionKind::Nps | QuestionKind::CsiFactor => {
                let Some(rating) = answer.rating else {
                    return Err(wrong_kind());
                };
                let (min, max) = question.scale.unwrap_or((1, 5));
                if !(min..=max).contains(&rating) {
                    return Err(bad(format!(
                        "{label}: the rating must be between {min} and {max}"
                    )));
                }
                out.rating = Some(rating);
            }
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice => {
                let Some(choices) = answer.choices else {
                    return Err(wrong_kind());
                };
                if choices.iter().any(|c| has_control(c)) {
                    return Err(bad(format!(
                        "{label}: choices must not contain control characters"
                    )));
                }
                if kind == QuestionKind::SingleChoice && choices.len() > 1 {
                    return Err(bad(format!("{label} takes exactly one choice")));
                }
                if choices.len() > MAX_CHOICES {
                    return Err(bad(format!("{label}: too many choices")));
                }
                let mut unique = HashSet::new();
                for choice in &choices {
                    if !question.options.contains(choice) {
                        return Err(bad(format!(
                            "{label}: {choice:?} is not one of the options"
                        )));
                    }
                    if !unique.insert(choice) {
                        return Err(bad(format!("{label}: {choice:?} is chosen twice")));
                    }
                }
                if choices.is_empty() {
                    continue; // nothing chosen: unanswered (checked below if required)
                }
                let chosen = i32::try_from(choices.len()).unwrap_or(i32::MAX);
                if let Some(min) = question.settings.min_choices.filter(|m| chosen < *m) {
                    return Err(bad(format!(
                        "{label}: choose at least {min} options (got {chosen})"
                    )));
                }
                if let Some(max) = question.settings.max_choices.filter(|m| chosen > *m) {
                    return Err(bad(format!(
                        "{label}: choose at most {max} options (got {chosen})"
                    )));
                }
                out.choices = Some(choices);
            }
            QuestionKind::Matrix => {
                let Some(ratings) = answer.row_ratings else {
                    return Err(wrong_kind());
                };
                let rows = question.settings.rows.len();
                if ratings.len() != rows {
                    return Err(bad(format!(
                        "{label}: give one rating (or null) for each of its {rows} rows"
                    )));
                }
                let (min, max) = question.scale.unwrap_or(MATRIX_SCALE);
                if let Some(row) = ratings
                    .iter()
                    .position(|r| r.is_some_and(|r| !(min..=max).contains(&r)))
                {
                    return Err(bad(format!(
                        "{label}, row {}: the rating must be between {min} and {max}",
                        row + 1
                    )));
                }
                if ratings.iter().all(Option::is_none) {
                    continue; // nothing rated: unanswered (checked below if required)
                }
                if let Some(row) = ratings.iter().position(Option::is_none) {
                    if question.required {
                        return Err(bad(format!(
                            "{label} is required: rate every row (row {} is not rated)",
                            row + 1
                        )));
                    }
                }
                out.row_ratings = Some(ratings);
            }
            QuestionKind::Date => {
                let Some(raw) = answer.date else {
                    return Err(wrong_kind());
                };
                if raw.trim().is_empty() {
                    continue; // blank: unanswered
                }
                let Some(date) = parse_iso_date(&raw) else {
                    return Err(bad(format!(
                        "{label}: the date must be a calendar date written YYYY-MM-DD"
                    )));
                };
                if let Some(earliest) = question.settings.earliest.filter(|e| date < *e) {
                    return Err(bad(format!(
                        "{label}: the date must be on or after {earliest}"
                    )));
                }
                if let Some(latest) = question.settings.latest.filter(|l| date > *l) {
                    return Err(bad(format!(
                        "{label}: the date must be on or before {latest}"
                    )));
                }
                out.date = Some(date);
            }
            QuestionKind::Text => {
                let Some(text) = answer.text else {
                    return Err(wrong_kind());
                };
                if has_control(&text) {
                    return Err(bad(format!(
                        "{label}: the text must not contain NUL or other control characters"
                    )));
                }
                let max = question.max_length.unwrap_or(2_000).max(0) as usize;
                if text.chars().count() > max {
                    return Err(bad(format!("{label}: at most {max} characters")));
                }
                if text.trim().is_empty() {
                    continue; // blank: unanswered
                }
                out.text = Some(text);
            }
        }
        clean.push(out);
    }
    let given: HashMap<i64, Given<'_>> = clean
        .iter()
        .map(|a| {
            let choices = a.choices.as_deref().unwrap_or_default();
            (
                a.question_id,
                Given {
                    rating: a.rating,
                    choices,
                    row_ratings: a.row_ratings.as_deref().unwrap_or_default(),
                    date: a.date,
                },
            )
        })
        .collect();
    let hidden = hidden_questions(&survey.questions, &given);
    if let Some(q) = survey
        .questions
        .iter()
        .find(|q| hidden.contains(&q.id) && given.contains_key(&q.id))
    {
        return Err(DomainError::validation(
            format!("answers.{}", q.id),
            format!(
                "question {} is not shown with these answers (its condition on question {} is not met); leave it out",
                q.position,
                q.show_when.as_ref().map_or(0, |c| c.position)
            ),
        ));
    }
    if let Some(missing) = survey
        .questions
        .iter()
        .find(|q| q.required && !hidden.contains(&q.id) && !given.contains_key(&q.id))
    {
        return Err(DomainError::validation(
            format!("answers.{}", missing.id),
            format!("question {} is required", missing.position),
        ));
    }
    Ok(clean)
}

/// The `SurveyAnswerInput` field a kind's answers set.
fn kind_hint(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Rating | QuestionKind::Nps | QuestionKind::CsiFactor => "rating",
        QuestionKind::SingleChoice | QuestionKind::MultipleChoice => "choices",
        QuestionKind::Text => "text",
        QuestionKind::Matrix => "rowRatings",
        QuestionKind::Date => "date",
    }
}

/// A factor of the survey's set, for the per-response index.
struct Factor {
    id: i64,
    key: String,
    weight: Decimal,
}

/// The reasons a response needs a follow-up, if any.
fn follow_up_reasons(
    survey: &Survey,
    csi: Option<Decimal>,
    answers: &[CleanAnswer],
) -> Vec<FollowUpReason> {
    let mut reasons = Vec::new();
    if let (Some(csi), Some(threshold)) = (csi, survey.csi_threshold) {
        if csi < threshold {
            reasons.push(FollowUpReason::LowCsi);
        }
    }
    if answers
        .iter()
        .any(|a| a.kind == QuestionKind::Nps && a.rating.is_some_and(|r| r <= 6))
    {
        reasons.push(FollowUpReason::NpsDetractor);
    }
    if answers
        .iter()
        .any(|a| a.kind == QuestionKind::Rating && a.rating.is_some_and(|r| r <= 2))
    {
        reasons.push(FollowUpReason::LowRating);
    }
    reasons
}

/// Why the claim in [`SurveyService::submit`] matched no row: the
/// invitation was used or revoked, the customer erased, or the survey closed
/// after `resolve` read them.
async fn why_unclaimed(
    db: &impl ConnectionTrait,
    invitation: &survey_invitations::Model,
) -> DomainError {
    let current = match survey_invitations::Entity::find_by_id(invitation.id)
        .one(db)
        .await
    {
        Ok(Some(current)) => current,
        Ok(None) => return DomainError::InvalidToken,
        Err(err) => return err.into(),
    };
    if current.used_at.is_some() {
        return DomainError::AlreadySubmitted;
    }
    if current.revoked_at.is_some() {
        return DomainError::InvalidToken;
    }
    match customers::Entity::find_by_id(invitation.customer_id)
        .one(db)
        .await
    {
        Ok(Some(customer)) if customer.erased_at.is_none() => {
            DomainError::conflict("this survey is closed")
        }
        Ok(_) => DomainError::InvalidToken,
        Err(err) => err.into(),
    }
}

/// A submission that passed validation, with its CSI: what the resolve step
/// of [`SurveyService::submit`] hands to the steps in the transaction.
pub(crate) struct Resolved {
    invitation: survey_invitations::Model,
    survey: Survey,
    answers: Vec<CleanAnswer>,
    /// The locale the respondent answered in.
    locale: Option<String>,
    /// (factor id, rating) of each rated factor of the survey's set.
    rated: Vec<(i64, i32)>,
    csi: Option<CsiValue>,
    /// What the transaction needs besides, read before it.
    context: Context,
}

/// What [`record`] needs to know beyond the survey and the answers, read
/// in one statement before the write transaction so that the transaction
/// only writes (see [`context`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Context {
    /// The incentive's programme and the customer's membership; `None`
    /// when the survey credits nothing.
    credit: Option<loyalty::CreditTarget>,
    /// The survey names a programme that does not exist.
    program_missing: bool,
    /// The invitation was e-mailed: its messages hold the link to remove.
    mailed: bool,
    /// Some webhook endpoint is enabled, so events are published.
    webhooks: bool,
}

/// The columns [`context`] reads, in the statement that reads the
/// invitation and its survey (`i` and `s`, see
/// [`super::invitations::resolve_with`]):
///
/// - the programme's expiry rule and the customer's membership: a
///   programme's rule may change at any time, and either order is right;
///   memberships are never deleted, and a customer without one is enrolled
///   in the transaction (a concurrent enrolment is met by the insert's
///   `ON CONFLICT`);
/// - whether the invitation has e-mails: they are queued only with the
///   invitation, in the transaction that issues it, so none can appear
///   later;
/// - whether any webhook endpoint is enabled; when one is, the transaction
///   reads the subscribers of each event as before. An endpoint enabled
///   while the submission runs may miss it, as it would had it been enabled
///   a moment later;
/// - the factors of the survey's set (frozen once published), as JSON rows.
fn context_columns(backend: DbBackend) -> (String, Params) {
    let mut factors = crate::sql::Sql::new(backend);
    crate::sql::push_json_rows(
        &mut factors,
        "f.id, f.key, f.weight",
        |sql| {
            sql.push("FROM csi_factors f WHERE f.factor_set_id = s.factor_set_id");
        },
        "f.id",
    );
    let factors = factors.build().sql;
    let mut params = Params::new();
    params
        .bind("email", crate::outbox::Channel::Email.as_str())
        .bind("enabled", true);
    let text = format!(
        ", (SELECT COUNT(*) FROM loyalty_programs p WHERE p.id = s.program_id) AS programs, \
         (SELECT p.points_expire_after_days FROM loyalty_programs p WHERE p.id = s.program_id) AS expire_days, \
         (SELECT m.id FROM memberships m WHERE m.program_id = s.program_id AND m.customer_id = i.customer_id) AS membership_id, \
         (SELECT COUNT(*) FROM outbox_messages o WHERE o.channel = :email AND o.target = CAST(i.id AS TEXT)) AS mails, \
         (SELECT COUNT(*) FROM webhook_endpoints w WHERE w.enabled = :enabled) AS endpoints, \
         {factors} AS factors"
    );
    (text, params)
}

/// The [`Context`] of a submission from the [`context_columns`] of its row,
/// and the factors of its survey's set.
fn context(row: &QueryResult, survey: &Survey) -> DomainResult<(Context, Vec<Factor>)> {
    let program = survey.program_id.filter(|_| survey.incentive_points > 0);
    let programs: i64 = row.try_get("", "programs")?;
    let credit = program.filter(|_| programs > 0).map(|program_id| {
        Ok::<_, DomainError>(loyalty::CreditTarget {
            program_id,
            points_expire_after_days: row.try_get("", "expire_days")?,
            membership_id: row.try_get("", "membership_id")?,
        })
    });
    let context = Context {
        credit: credit.transpose()?,
        program_missing: program.is_some() && programs == 0,
        mailed: row.try_get::<i64>("", "mails")? > 0,
        webhooks: row.try_get::<i64>("", "endpoints")? > 0,
    };
    let factors = crate::sql::json_rows::<(i64, String, String)>(
        row.try_get::<Option<String>>("", "factors")?.as_deref(),
    )?
    .into_iter()
    .map(|(id, key, weight)| {
        let weight = Decimal::from_str(&weight)
            .map_err(|_| DomainError::Internal(anyhow::anyhow!("factor {id} has a bad weight")))?;
        Ok(Factor { id, key, weight })
    })
    .collect::<DomainResult<_>>()?;
    Ok((context, factors))
}

/// Resolve: reads the invitation and its survey, validates the answers and
/// computes the response's CSI, all before the write transaction.
pub(crate) async fn resolve_submission(
    db: &impl ConnectionTrait,
    token: &str,
    answers: Vec<AnswerInput>,
    preferences: &[String],
    now: DateTime<Utc>,
) -> DomainResult<Resolved> {
    if answers.len() > MAX_ANSWERS {
        return Err(DomainError::validation(
            "answers",
            format!("at most {MAX_ANSWERS} answers"),
        ));
    }
    let token = InvitationToken::parse(token)?;
    let (columns, params) = context_columns(db.get_database_backend());
    let (invitation, survey, row) = resolve_with(db, &token, now, &columns, params).await?;
    let (context, factors) = context(&row, &survey)?;
    let clean = validate(&survey, answers)?;
    let locale = super::locale::choose(
        invitation.locale.as_deref(),
        preferences,
        survey.locale.as_deref(),
        &super::translations::available_locales(&survey),
    );
    let by_key: HashMap<&str, &Factor> = factors.iter().map(|f| (f.key.as_str(), f)).collect();
    let rated: Vec<(&Factor, i32)> = clean
        .iter()
        .filter(|a| a.kind == QuestionKind::CsiFactor)
        .filter_map(|a| {
            let factor = by_key.get(a.factor_key.as_deref()?)?;
            Some((*factor, a.rating?))
        })
        .collect();
    let scale = survey
        .questions
        .iter()
        .find(|q| q.kind == QuestionKind::CsiFactor)
        .and_then(|q| q.scale)
        .map(|(min, max)| Scale { min, max })
        .unwrap_or_default();
    let pairs: Vec<(Decimal, Option<Decimal>)> = rated
        .iter()
        .map(|(f, r)| (f.weight, Some(Decimal::from(*r))))
        .collect();
    let csi = compute::index(scale, &pairs);
    let rated = rated.iter().map(|(f, r)| (f.id, *r)).collect();
    Ok(Resolved {
        invitation,
        survey,
        answers: clean,
        locale,
        rated,
        csi,
        context,
    })
}

/// Claim: marks the invitation used. Only one submission can, and only
/// while the survey is still active and the customer not erased (either may
/// have changed since the reads).
fn claim(s: &Resolved, now: DateTime<Utc>) -> UpdateStatement {
    survey_invitations::Entity::update_many()
        .col_expr(survey_invitations::Column::UsedAt, Expr::value(now))
        .filter(survey_invitations::Column::Id.eq(s.invitation.id))
        .filter(survey_invitations::Column::UsedAt.is_null())
        .filter(survey_invitations::Column::RevokedAt.is_null())
        .filter(
            survey_invitations::Column::SurveyId.in_subquery(
                Query::select()
                    .column(surveys::Column::Id)
                    .from(surveys::Entity)
                    .and_where(surveys::Column::Id.eq(s.survey.id))
                    .and_where(surveys::Column::Status.eq(SurveyStatus::Active.as_str()))
                    .to_owned(),
            ),
        )
        .filter(
            survey_invitations::Column::CustomerId.in_subquery(
                Query::select()
                    .column(customers::Column::Id)
                    .from(customers::Entity)
                    .and_where(customers::Column::Id.eq(s.invitation.customer_id))
                    .and_where(customers::Column::ErasedAt.is_null())
                    .to_owned(),
            ),
        )
        .into_query()
}

/// Claim and store: marks the invitation used (see [`claim`]) and stores
/// the response with its answers and CSI ratings, in one round trip.
/// Returns the new response's id, or `None` when the claim matched no row
/// and so nothing was stored.
///
/// Each step reads the one before it, so nothing is stored unless the claim
/// changed its row:
/// - PostgreSQL: one statement of common table expressions. `k` is the
///   claim, returning the invitation's id; `r` the response, inserted from
///   `k` and returning its id; `a` and `c` the answers and ratings, each row
///   joined to `r`. The final `SELECT id, pg_notify(…) FROM r` also
///   announces the response to the live dashboards of every process (heard
///   once the transaction commits; see
///   [`crate::cluster::notify::announce_feedback_expr`]).
/// - SQLite: one batch to the connection's thread, each insert guarded by
///   `changes() > 0`, the rows the statement before it changed (every step
///   changes at least one when the claim did). The answers and ratings find
///   their response by its invitation (unique, and claimed here). No
///   statement before the last may return a row: the first row ends the
///   batch.
async fn store(
    db: &impl ConnectionTrait,
    s: &Resolved,
    now: DateTime<Utc>,
) -> DomainResult<Option<i64>> {
    use csi_ratings::Column as C;
    use sea_orm::sea_query::ExprTrait as _;
    use survey_answers::Column as A;
    use survey_responses::Column as R;

    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let (k, r, v) = (Alias::new("k"), Alias::new("r"), Alias::new("v"));
    // What makes a step wait on the one before it.
    let after = |select: &mut SelectStatement, step: &Alias| {
        if postgres {
            select.from(step.clone());
        } else {
            select.and_where(Expr::cust("changes() > 0"));
        }
    };
    // The response's rows (`columns` names the response's column first):
    // `SELECT r.id, v.column1, … FROM r, (VALUES …) AS v`.
    let of_response = |table: DynIden, columns: Vec<DynIden>, rows: Vec<Vec<Value>>| {
        let mut select = Query::select();
        select.column((r.clone(), R::Id));
        for i in 1..columns.len() {
            select.column((v.clone(), Alias::new(format!("column{i}"))));
        }
        if postgres {
            select.from(r.clone());
        } else {
            select
                .from_as(survey_responses::Entity, r.clone())
                .and_where(Expr::col((r.clone(), R::InvitationId)).eq(s.invitation.id));
            after(&mut select, &r);
        }
        select.from_values(rows.into_iter().map(ValueTuple::Many), v.clone());
        insert_select(table, columns, select)
    };

    let mut claim = claim(s, now);
    let mut values = Query::select();
    values.exprs([
        Expr::val(s.survey.id),
        Expr::val(s.invitation.id),
        Expr::val(s.invitation.customer_id),
        Expr::val(now),
        Expr::val(s.csi.map(|c| c.index.to_string())),
        Expr::val(s.csi.map(|c| c.weighted_mean.to_string())),
        Expr::val(s.survey.factor_set_id),
        Expr::val(s.locale.clone()),
        Expr::val(s.invitation.hidden_fields.clone()),
    ]);
    after(&mut values, &k);
    let mut response = insert_select(
        survey_responses::Entity.into_iden(),
        [
            R::SurveyId,
            R::InvitationId,
            R::CustomerId,
            R::SubmittedAt,
            R::Csi,
            R::WeightedMean,
            R::FactorSetId,
            R::Locale,
            R::HiddenFields,
        ],
        values,
    )?;
    if postgres {
        claim.returning_col(survey_invitations::Column::Id);
        response.returning_col(R::Id);
    }
    let answers = (!s.answers.is_empty())
        .then(|| {
            let rows = s.answers.iter().map(|a| {
                vec![
                    a.question_id.into(),
                    a.rating.into(),
                    a.choices
                        .as_ref()
                        .map(|c| serde_json::to_string(c).unwrap_or_default())
                        .into(),
                    a.text.clone().into(),
                    a.row_ratings
                        .as_ref()
                        .map(|r| serde_json::to_string(r).unwrap_or_default())
                        .into(),
                    a.date.map(|d| d.format("%Y-%m-%d").to_string()).into(),
                ]
            });
            of_response(
                survey_answers::Entity.into_iden(),
                [
                    A::ResponseId,
                    A::QuestionId,
                    A::Rating,
                    A::Choices,
                    A::Text,
                    A::RowRatings,
                    A::DateValue,
                ]
                .into_iter()
                .map(IntoIden::into_iden)
                .collect(),
                rows.collect(),
            )
        })
        .transpose()?;
    let ratings = match (s.survey.factor_set_id, s.rated.is_empty()) {
        (Some(set_id), false) => {
            let rows = s.rated.iter().map(|(factor_id, rating)| {
                vec![
                    set_id.into(),
                    (*factor_id).into(),
                    s.invitation.customer_id.into(),
                    (*rating).into(),
                    now.into(),
                ]
            });
            Some(of_response(
                csi_ratings::Entity.into_iden(),
                [
                    C::ResponseId,
                    C::FactorSetId,
                    C::FactorId,
                    C::CustomerId,
                    C::Rating,
                    C::RatedAt,
                ]
                .into_iter()
                .map(IntoIden::into_iden)
                .collect(),
                rows.collect(),
            )?)
        }
        _ => None,
    };
    let mut result = Query::select();
    result.column(R::Id);
    let statement = if postgres {
        result.from(r.clone());
        if let Some(announce) = crate::cluster::notify::announce_feedback_expr(backend) {
            result.expr(Expr::cust(announce));
        }
        let mut with = WithClause::new();
        let steps = [
            Some((k, SubQueryStatement::from(claim))),
            Some((r, response.into())),
            answers.map(|a| (Alias::new("a"), a.into())),
            ratings.map(|c| (Alias::new("c"), c.into())),
        ];
        for (name, step) in steps.into_iter().flatten() {
            with.cte(
                CommonTableExpression::new()
                    .query(step)
                    .table_name(name)
                    .to_owned(),
            );
        }
        backend.build(&with.query(result))
    } else {
        result
            .from(survey_responses::Entity)
            .and_where(R::InvitationId.eq(s.invitation.id));
        after(&mut result, &r);
        let steps = [
            Some(backend.build(&claim)),
            Some(backend.build(&response)),
            answers.map(|a| backend.build(&a)),
            ratings.map(|c| backend.build(&c)),
            Some(backend.build(&result)),
        ];
        let (mut sql, mut values) = (String::new(), Vec::new());
        for step in steps.into_iter().flatten() {
            sql.push_str(&step.sql);
            sql.push_str(";\n");
            values.extend(step.values.map(|v| v.0).unwrap_or_default());
        }
        sea_orm::Statement::from_sql_and_values(backend, sql, values)
    };
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(row.try_get_by_index(0)?)),
        None => Ok(None),
    }
}

/// `INSERT INTO table (columns) SELECT …`.
fn insert_select<C: IntoIden>(
    table: DynIden,
    columns: impl IntoIterator<Item = C>,
    select: SelectStatement,
) -> DomainResult<InsertStatement> {
    let mut insert = Query::insert();
    insert
        .into_table(table)
        .columns(columns)
        .select_from(select)
        .map_err(|e| DomainError::Internal(e.into()))?;
    Ok(insert)
}

/// Credit: the survey's incentive, once per response (none without a
/// programme). Returns the points credited.
async fn credit(
    db: &impl ConnectionTrait,
    s: &Resolved,
    response_id: i64,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    if s.context.program_missing {
        return Err(DomainError::NotFound("loyalty program"));
    }
    match &s.context.credit {
        Some(target) => {
            loyalty::credit_target_for_source(
                db,
                target,
                s.invitation.customer_id,
                s.survey.incentive_points,
                LedgerReason::FeedbackIncentive,
                &format!("response:{response_id}"),
                now,
                s.context.webhooks,
            )
            .await
        }
        None => Ok(0),
    }
}

/// Follow-up: opens one when the response shows dissatisfaction.
async fn open_follow_up(
    db: &impl ConnectionTrait,
    s: &Resolved,
    response_id: i64,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let reasons = follow_up_reasons(&s.survey, s.csi.map(|c| c.index), &s.answers);
    if reasons.is_empty() {
        return Ok(false);
    }
    let reason = reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let follow_up = follow_ups::ActiveModel {
        response_id: Set(response_id),
        customer_id: Set(s.invitation.customer_id),
        reason: Set(reason),
        status: Set(FollowUpStatus::Open.as_str().to_owned()),
        opened_at: Set(now),
        ..Default::default()
    };
    let opened = follow_ups::Entity::insert(follow_up)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(follow_ups::Column::ResponseId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(opened == 1)
}

/// The stored response as the live feed shows it.
fn stored_response(s: Resolved, response_id: i64, now: DateTime<Utc>) -> SurveyResponse {
    SurveyResponse {
        id: response_id,
        survey_id: s.survey.id,
        customer_id: s.invitation.customer_id,
        submitted_at: now,
        csi: s.csi.map(|c| c.index),
        weighted_mean: s.csi.map(|c| c.weighted_mean),
        factor_set_id: s.survey.factor_set_id,
        helpful_at: None,
        helpful_by: None,
        locale: s.locale,
        hidden_fields: super::hidden_fields::parse_values(s.invitation.hidden_fields.as_deref())
            .unwrap_or_default(),
        answers: s
            .answers
            .into_iter()
            .map(|a| Answer {
                question_id: a.question_id,
                rating: a.rating,
                choices: a.choices.unwrap_or_default(),
                text: a.text,
                row_ratings: a.row_ratings.unwrap_or_default(),
                date: a.date,
            })
            .collect(),
    }
}

/// Claims the invitation, stores the response, credits the incentive and
/// opens a follow-up where due; returns the response id and points awarded.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    submission: &Resolved,
    now: DateTime<Utc>,
) -> DomainResult<(i64, i64)> {
    let Some(response_id) = store(txn, submission, now).await? else {
        return Err(why_unclaimed(txn, &submission.invitation).await);
    };
    if submission.context.mailed {
        super::mail::forget_links(txn, &[submission.invitation.id]).await?;
    }
    let points_awarded = credit(txn, submission, response_id, now).await?;
    let opened = open_follow_up(txn, submission, response_id, now).await?;
    if !submission.context.webhooks {
        return Ok((response_id, points_awarded));
    }
    crate::events::response_submitted(
        txn,
        &crate::events::SubmittedResponse {
            response_id,
            survey_id: submission.survey.id,
            customer_id: submission.invitation.customer_id,
            submitted_at: now,
            csi: submission.csi.map(|c| c.index),
            points_awarded,
        },
    )
    .await?;
    if opened {
        crate::events::follow_up_created(txn, response_id, submission.survey.id).await?;
    }
    Ok((response_id, points_awarded))
}

/// The respondent's receipt for a stored submission, counted and logged.
pub(crate) fn receipt(
    submission: Resolved,
    response_id: i64,
    points_awarded: i64,
    now: DateTime<Utc>,
) -> Receipt {
    metrics::counter!("rapport_survey_submissions_total").increment(1);
    if let Ok(points) = u64::try_from(points_awarded) {
        metrics::counter!("rapport_survey_points_credited_total").increment(points);
    }
    let survey_id = submission.survey.id;
    let csi = submission.csi.map(|c| c.index);
    tracing::info!(
        survey_id,
        response_id,
        points_awarded,
        "survey response stored"
    );
    Receipt {
        response_id,
        points_awarded,
        csi,
        response: stored_response(submission, response_id, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::model::SurveyStatus;

    fn question(id: i64, kind: QuestionKind, required: bool) -> Question {
        Question {
            id,
            position: id as i32,
            text: format!("q{id}"),
            required,
            kind,
            factor_key: (kind == QuestionKind::CsiFactor).then(|| "quality".to_owned()),
            options: if kind.has_options() {
                vec!["a".into(), "b".into()]
            } else {
                vec![]
            },
            option_labels: Vec::new(),
            max_length: (kind == QuestionKind::Text).then_some(5),
            scale: match kind {
                QuestionKind::Nps => Some((0, 10)),
                k if k.is_rated() => Some((1, 5)),
                _ => None,
            },
            overall_satisfaction: false,
            show_when: None,
            settings: Default::default(),
            row_labels: Vec::new(),
            page: 1,
        }
    }

    fn survey() -> Survey {
        Survey {
            id: 1,
            title: "t".into(),
            description: None,
            locale: None,
            thank_you: None,
            status: SurveyStatus::Active,
            opens_at: None,
            closes_at: None,
            factor_set_id: Some(1),
            program_id: None,
            incentive_points: 0,
            helpful_bonus_points: 0,
            csi_threshold: Some(Decimal::from(60)),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            questions: vec![
                question(1, QuestionKind::Rating, true),
                question(2, QuestionKind::Nps, false),
                question(3, QuestionKind::SingleChoice, false),
                question(4, QuestionKind::MultipleChoice, false),
                question(5, QuestionKind::Text, false),
                question(6, QuestionKind::CsiFactor, false),
            ],
            translations: Vec::new(),
            hidden_fields: Vec::new(),
        }
    }

    fn rating(q: i64, r: i32) -> AnswerInput {
        AnswerInput {
            question_id: q,
            rating: Some(r),
            ..Default::default()
        }
    }

    fn field_of(result: DomainResult<Vec<CleanAnswer>>) -> Option<String> {
        match result {
            Err(DomainError::Validation { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn rejects_name_the_question() {
        let s = survey();
        let choices = |q: i64, c: &[&str]| AnswerInput {
            question_id: q,
            choices: Some(c.iter().map(|s| (*s).to_owned()).collect()),
            ..Default::default()
        };
        let text = |q: i64, t: &str| AnswerInput {
            question_id: q,
            text: Some(t.to_owned()),
            ..Default::default()
        };
        let cases: Vec<(&str, Vec<AnswerInput>, &str)> = vec![
            ("missing required", vec![rating(2, 5)], "answers.1"),
            ("rating too high", vec![rating(1, 6)], "answers.1"),
            ("rating too low", vec![rating(1, 0)], "answers.1"),
            (
                "nps out of range",
                vec![rating(1, 5), rating(2, 11)],
                "answers.2",
            ),
            ("wrong kind", vec![rating(1, 5), rating(5, 3)], "answers.5"),
            (
                "unknown choice",
                vec![rating(1, 5), choices(3, &["z"])],
                "answers.3",
            ),
            (
                "two single choices",
                vec![rating(1, 5), choices(3, &["a", "b"])],
                "answers.3",
            ),
            (
                "duplicate choice",
                vec![rating(1, 5), choices(4, &["a", "a"])],
                "answers.4",
            ),
            (
                "text too long",
                vec![rating(1, 5), text(5, "abcdef")],
                "answers.5",
            ),
            (
                "NUL byte",
                vec![rating(1, 5), text(5, "a\u{0}b")],
                "answers.5",
            ),
            (
                "foreign question",
                vec![rating(1, 5), rating(99, 3)],
                "answers.99",
            ),
            (
                "duplicate question",
                vec![rating(1, 5), rating(1, 4)],
                "answers.1",
            ),
            (
                "csi out of scale",
                vec![rating(1, 5), rating(6, 9)],
                "answers.6",
            ),
        ];
        for (why, answers, field) in cases {
            assert_eq!(
                field_of(validate(&s, answers)).as_deref(),
                Some(field),
                "{why}"
            );
        }
        let many = (0..=MAX_ANSWERS).map(|_| rating(1, 5)).collect();
        assert_eq!(field_of(validate(&s, many)).as_deref(), Some("answers"));
    }

    #[test]
    fn accepts_a_full_answer_and_finds_follow_up_reasons() {
        let s = survey();
        let clean = validate(
            &s,
            vec![
                rating(1, 2),
                rating(2, 6),
                AnswerInput {
                    question_id: 5,
                    text: Some("<b>'".into()),
                    ..Default::default()
                },
            ],
        )
        .expect("valid");
        assert_eq!(clean.len(), 3);
        let reasons = follow_up_reasons(&s, Some(Decimal::from(50)), &clean);
        assert_eq!(
            reasons,
            vec![
                FollowUpReason::LowCsi,
                FollowUpReason::NpsDetractor,
                FollowUpReason::LowRating
            ]
        );
        let happy = validate(&s, vec![rating(1, 4), rating(2, 7)]).expect("valid");
        assert!(follow_up_reasons(&s, Some(Decimal::from(60)), &happy).is_empty());
    }

    #[test]
    fn dates_are_exactly_iso_calendar_dates() {
        assert_eq!(
            parse_iso_date("2028-02-29"),
            NaiveDate::from_ymd_opt(2028, 2, 29)
        );
        for bad in [
            "2027-02-29",
            "2026-5-17",
            "17.05.2026",
            "2026-05-17T00:00:00Z",
            "+2026-05-1",
            "2026/05/17",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn conditions_decide_what_is_required_and_allowed() {
        let mut s = survey();
        let mut why = question(7, QuestionKind::Text, true);
        why.show_when = Some(crate::feedback::Condition {
            position: 3,
            question_id: 3,
            any_of: vec!["b".into()],
            rating_min: None,
            rating_max: None,
            matrix_row: None,
            date_after: None,
            date_before: None,
        });
        s.questions.push(why);
        let choose = |c: &str| AnswerInput {
            question_id: 3,
            choices: Some(vec![c.to_owned()]),
            ..Default::default()
        };
        let because = AnswerInput {
            question_id: 7,
            text: Some("why".into()),
            ..Default::default()
        };
        // Not shown: not required, and refused when answered.
        assert!(validate(&s, vec![rating(1, 5)]).is_ok());
        assert!(validate(&s, vec![rating(1, 5), choose("a")]).is_ok());
        assert_eq!(
            field_of(validate(
                &s,
                vec![rating(1, 5), choose("a"), because.clone()]
            ))
            .as_deref(),
            Some("answers.7")
        );
        assert_eq!(
            field_of(validate(&s, vec![rating(1, 5), because.clone()])).as_deref(),
            Some("answers.7")
        );
        // Shown: required.
        assert_eq!(
            field_of(validate(&s, vec![rating(1, 5), choose("b")])).as_deref(),
            Some("answers.7")
        );
        assert_eq!(
            validate(&s, vec![rating(1, 5), choose("b"), because])
                .expect("valid")
                .len(),
            3
        );
    }
}
