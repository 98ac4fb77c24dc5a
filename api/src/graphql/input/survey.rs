//! Inputs of the survey operations, each converted beside its definition.

use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{InputObject, MaybeUndefined, ID};
use domain::feedback::{AnswerInput, NewQuestion, ResponseFilter, SurveyDraft, SurveyPatch};
use domain::DomainError;

use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::object::survey::{QuestionKind, SurveyStatus};
use crate::graphql::scalar::{global_id, parse_id, NodeType};

/// A question of a survey.
#[derive(InputObject)]
pub struct SurveyQuestionInput {
    /// The question as shown to respondents.
    pub text: String,
    /// Whether an answer is required.
    #[graphql(default)]
    pub required: bool,
    /// What the question asks for.
    pub kind: QuestionKind,
    /// For `CSI_FACTOR`: the key of a factor of the survey's factor set.
    pub factor_key: Option<String>,
    /// For `SINGLE_CHOICE` and `MULTIPLE_CHOICE`: 2..50 distinct options.
    #[graphql(default, validator(max_items = 50))]
    pub options: Vec<String>,
    /// For `TEXT`: most characters accepted (1..10000, default 2000).
    pub max_length: Option<i32>,
}

impl From<SurveyQuestionInput> for NewQuestion {
    fn from(q: SurveyQuestionInput) -> Self {
        Self {
            text: q.text,
            required: q.required,
            kind: q.kind.into(),
            factor_key: q.factor_key,
            options: q.options,
            max_length: q.max_length,
        }
    }
}

/// A new survey (created as `DRAFT`).
#[derive(InputObject)]
pub struct CreateSurveyInput {
    /// Title shown to respondents.
    pub title: String,
    /// Introduction shown to respondents.
    pub description: Option<String>,
    /// Language of the questions (BCP 47).
    pub locale: Option<String>,
    /// Responses are accepted from this time.
    pub opens_at: Option<DateTime>,
    /// Responses are accepted until this time.
    pub closes_at: Option<DateTime>,
    /// A published CSI factor-set version (required for `CSI_FACTOR` questions).
    pub factor_set_id: Option<ID>,
    /// The loyalty programme that rewards responses.
    pub program_id: Option<ID>,
    /// Points for a complete response (0..1000000).
    #[graphql(default)]
    pub incentive_points: i64,
    /// Points when staff mark a response helpful (0..1000000).
    #[graphql(default)]
    pub helpful_bonus_points: i64,
    /// Responses with a CSI below this (0..100) raise a follow-up. Omitted: 60; null: never.
    pub csi_threshold: MaybeUndefined<Decimal>,
    /// The questions, in order (at most 100).
    #[graphql(validator(max_items = 100))]
    pub questions: Vec<SurveyQuestionInput>,
}

fn opt_id(node: NodeType, field: &str, id: Option<&ID>) -> ApiResult<Option<i64>> {
    id.map(|id| parse_id(node, field, id)).transpose()
}

impl TryFrom<CreateSurveyInput> for SurveyDraft {
    type Error = ApiError;

    fn try_from(i: CreateSurveyInput) -> ApiResult<Self> {
        Ok(Self {
            factor_set_id: opt_id(
                NodeType::CsiFactorSet,
                "factorSetId",
                i.factor_set_id.as_ref(),
            )?,
            program_id: opt_id(NodeType::LoyaltyProgram, "programId", i.program_id.as_ref())?,
            title: i.title,
            description: i.description,
            locale: i.locale,
            opens_at: i.opens_at.map(Into::into),
            closes_at: i.closes_at.map(Into::into),
            incentive_points: i.incentive_points,
            helpful_bonus_points: i.helpful_bonus_points,
            csi_threshold: match i.csi_threshold {
                MaybeUndefined::Undefined => Some(rust_decimal::Decimal::from(
                    domain::feedback::DEFAULT_CSI_THRESHOLD,
                )),
                MaybeUndefined::Null => None,
                MaybeUndefined::Value(v) => Some(v.0),
            },
            questions: i.questions.into_iter().map(NewQuestion::from).collect(),
        })
    }
}

/// Changes to a `DRAFT` survey: omitted fields stay, null clears a nullable field.
#[derive(InputObject)]
pub struct UpdateSurveyInput {
    /// New title.
    pub title: Option<String>,
    /// New introduction.
    pub description: MaybeUndefined<String>,
    /// New locale.
    pub locale: MaybeUndefined<String>,
    /// New opening time.
    pub opens_at: MaybeUndefined<DateTime>,
    /// New closing time.
    pub closes_at: MaybeUndefined<DateTime>,
    /// New factor-set version.
    pub factor_set_id: MaybeUndefined<ID>,
    /// New loyalty programme.
    pub program_id: MaybeUndefined<ID>,
    /// New incentive.
    pub incentive_points: Option<i64>,
    /// New helpful bonus.
    pub helpful_bonus_points: Option<i64>,
    /// New follow-up threshold.
    pub csi_threshold: MaybeUndefined<Decimal>,
    /// Replaces every question when given.
    #[graphql(validator(max_items = 100))]
    pub questions: Option<Vec<SurveyQuestionInput>>,
}

fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

fn patch_id(
    node: NodeType,
    field: &str,
    value: MaybeUndefined<ID>,
) -> ApiResult<Option<Option<i64>>> {
    patch(value)
        .map(|inner| inner.map(|id| parse_id(node, field, &id)).transpose())
        .transpose()
}

impl TryFrom<UpdateSurveyInput> for SurveyPatch {
    type Error = ApiError;

    fn try_from(i: UpdateSurveyInput) -> ApiResult<Self> {
        Ok(Self {
            factor_set_id: patch_id(NodeType::CsiFactorSet, "factorSetId", i.factor_set_id)?,
            program_id: patch_id(NodeType::LoyaltyProgram, "programId", i.program_id)?,
            title: i.title,
            description: patch(i.description),
            locale: patch(i.locale),
            opens_at: patch(i.opens_at.map_value(Into::into)),
            closes_at: patch(i.closes_at.map_value(Into::into)),
            incentive_points: i.incentive_points,
            helpful_bonus_points: i.helpful_bonus_points,
            csi_threshold: patch(i.csi_threshold.map_value(Into::into)),
            questions: i
                .questions
                .map(|qs| qs.into_iter().map(NewQuestion::from).collect()),
        })
    }
}

/// One answer of a submission: set exactly the field of the question's kind.
#[derive(InputObject)]
pub struct SurveyAnswerInput {
    /// The question answered (`SurveyQuestion.id`).
    pub question_id: ID,
    /// For `RATING` (1..5), `NPS` (0..10) and `CSI_FACTOR` (the set's scale).
    pub rating: Option<i32>,
    /// For `SINGLE_CHOICE` (one) and `MULTIPLE_CHOICE` (one or more): option strings.
    pub choices: Option<Vec<String>>,
    /// For `TEXT`.
    pub text: Option<String>,
}

impl SurveyAnswerInput {
    /// Converts the `index`-th answer.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `answers.<index>.questionId` for a malformed id.
    pub fn into_domain(self, index: usize) -> ApiResult<AnswerInput> {
        Ok(AnswerInput {
            question_id: parse_id(
                NodeType::SurveyQuestion,
                &format!("answers.{index}.questionId"),
                &self.question_id,
            )?,
            rating: self.rating,
            choices: self.choices,
            text: self.text,
        })
    }
}

/// A refused submission names the answer's question by its database key
/// (`answers.12`); clients know the question by its global id, so the field
/// becomes `answers.<SurveyQuestion id>`.
pub fn answer_error(err: DomainError) -> DomainError {
    match err {
        DomainError::Validation { field, reason } => {
            let field = match field.strip_prefix("answers.").map(str::parse::<i64>) {
                Some(Ok(key)) => format!(
                    "answers.{}",
                    global_id(NodeType::SurveyQuestion, key).as_str()
                ),
                _ => field,
            };
            DomainError::Validation { field, reason }
        }
        other => other,
    }
}

/// Filters of `surveyResponses`.
#[derive(InputObject, Default)]
pub struct SurveyResponseFilter {
    /// Only this customer's responses.
    pub customer_id: Option<ID>,
    /// Submitted at or after.
    pub submitted_from: Option<DateTime>,
    /// Submitted before.
    pub submitted_to: Option<DateTime>,
    /// Only responses marked helpful (true) or not (false).
    pub helpful: Option<bool>,
}

impl TryFrom<SurveyResponseFilter> for ResponseFilter {
    type Error = ApiError;

    fn try_from(f: SurveyResponseFilter) -> ApiResult<Self> {
        Ok(Self {
            customer_id: opt_id(
                NodeType::Customer,
                "filter.customerId",
                f.customer_id.as_ref(),
            )?,
            submitted_from: f.submitted_from.map(Into::into),
            submitted_to: f.submitted_to.map(Into::into),
            helpful: f.helpful,
        })
    }
}

/// Converts the optional status filter of `surveys`.
pub fn status_filter(status: Option<SurveyStatus>) -> domain::feedback::SurveyFilter {
    domain::feedback::SurveyFilter {
        status: status.map(Into::into),
    }
}
