//! Inputs of the survey operations, each converted beside its definition.

use crate::graphql::scalar::Decimal;
use crate::graphql::scalar::{Date, DateTime};
use async_graphql::{Enum, InputObject, MaybeUndefined, ID};
use domain::feedback::{
    AnswerInput, ConditionInput, NewQuestion, QuestionSettings, RecipientFields, ResponseFilter,
    SurveyDraft, SurveyPatch,
};
use domain::DomainError;

use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::customer::OrderDirection;
use crate::graphql::object::survey::{FollowUpStatus, QuestionKind, SurveyStatus};
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
    /// Marks this RATING question as the survey's overall satisfaction
    /// measure, which CSI driver analysis (`CsiReport.drivers`) explains by
    /// the factor ratings; at most one per survey.
    #[graphql(default)]
    pub is_overall_satisfaction: bool,
    /// Show the question only when an earlier question's answer matches
    /// (omitted: always shown). A required question is required only while
    /// shown; an answer to a hidden one is refused.
    pub show_when: Option<QuestionConditionInput>,
    /// For `MULTIPLE_CHOICE`: the fewest options an answer must choose
    /// (1..options; omitted: one).
    pub min_choices: Option<i32>,
    /// For `MULTIPLE_CHOICE`: the most options an answer may choose
    /// (minChoices..options; omitted: all).
    pub max_choices: Option<i32>,
    /// For `MATRIX`: 2..20 distinct statements, each rated 1..5.
    #[graphql(default, validator(max_items = 50))]
    pub rows: Vec<String>,
    /// For `DATE`: the earliest date accepted.
    pub earliest_date: Option<Date>,
    /// For `DATE`: the latest date accepted (not before `earliestDate`).
    pub latest_date: Option<Date>,
    /// For `RATING`, `CSI_FACTOR`, `NPS` and `MATRIX`: the text under the
    /// lowest button, e.g. "Not at all" (at most 100 characters; omitted:
    /// the form's own text). Translated with `setSurveyTranslation`.
    pub min_label: Option<String>,
    /// For `RATING`, `CSI_FACTOR`, `NPS` and `MATRIX`: the text under the
    /// highest button (at most 100 characters; omitted: the form's own
    /// text). Translated with `setSurveyTranslation`.
    pub max_label: Option<String>,
    /// The 1-based page of the form that shows the question (1..20, default
    /// 1). Pages start at 1 and never decrease or skip along the questions.
    #[graphql(default = 1)]
    pub page: i32,
}

/// When a question is shown: test an earlier question's answer, either a
/// choice question's (`equals` one option or `anyOf` several), a rated
/// question's (`ratingMin` and/or `ratingMax`, inclusive), one row of a
/// matrix question's (`matrixRow` with `ratingMin` and/or `ratingMax`) or a
/// date question's (`dateAfter` and/or `dateBefore`, exclusive).
#[derive(InputObject)]
pub struct QuestionConditionInput {
    /// The 1-based position of an earlier question in this survey.
    pub question_position: i32,
    /// For a choice question: shown when this option is chosen.
    pub equals: Option<String>,
    /// For a choice question: shown when any of these options is chosen.
    #[graphql(validator(max_items = 50))]
    pub any_of: Option<Vec<String>>,
    /// For a rated question: shown when the rating is at least this.
    pub rating_min: Option<i32>,
    /// For a rated question: shown when the rating is at most this.
    pub rating_max: Option<i32>,
    /// For a MATRIX question: the 1-based number of the row whose rating
    /// `ratingMin`/`ratingMax` test (required for a matrix).
    pub matrix_row: Option<i32>,
    /// For a DATE question: shown when the date answered is after this day.
    pub date_after: Option<Date>,
    /// For a DATE question: shown when the date answered is before this day
    /// (with `dateAfter`: at least two days later).
    pub date_before: Option<Date>,
}

impl From<QuestionConditionInput> for ConditionInput {
    fn from(c: QuestionConditionInput) -> Self {
        Self {
            position: c.question_position,
            equals: c.equals,
            any_of: c.any_of,
            rating_min: c.rating_min,
            rating_max: c.rating_max,
            matrix_row: c.matrix_row,
            date_after: c.date_after.map(Into::into),
            date_before: c.date_before.map(Into::into),
        }
    }
}

/// A key and its value.
#[derive(InputObject)]
pub struct KeyValueInput {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Hidden field values for one invited customer.
#[derive(InputObject)]
pub struct RecipientHiddenFieldsInput {
    /// One of the customers invited (`customerIds`).
    pub customer_id: ID,
    /// Values for keys the survey declares (`Survey.hiddenFields`), each key
    /// once; a value at most 500 characters.
    #[graphql(validator(max_items = 20))]
    pub values: Vec<KeyValueInput>,
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
            overall_satisfaction: q.is_overall_satisfaction,
            show_when: q.show_when.map(Into::into),
            settings: QuestionSettings {
                min_choices: q.min_choices,
                max_choices: q.max_choices,
                rows: q.rows,
                earliest: q.earliest_date.map(Into::into),
                latest: q.latest_date.map(Into::into),
                min_label: q.min_label,
                max_label: q.max_label,
            },
            page: q.page,
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
    /// Language of the questions (BCP 47), the survey's default locale;
    /// normalised (`de_at` → `de-AT`).
    pub locale: Option<String>,
    /// Shown to respondents after their answers are stored.
    pub thank_you: Option<String>,
    /// Responses are accepted from this time.
    pub opens_at: Option<DateTime>,
    /// Responses are accepted until this time.
    pub closes_at: Option<DateTime>,
    /// A published CSI factor-set version (required for `CSI_FACTOR` questions).
    pub factor_set_id: Option<ID>,
    /// The loyalty programme that rewards responses.
    pub loyalty_program_id: Option<ID>,
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
    /// Hidden field keys invitations may carry (at most 20; each 1–64
    /// letters, digits and `_`, starting with a letter), e.g. `orderNumber`.
    pub hidden_fields: Option<Vec<String>>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
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
            program_id: opt_id(
                NodeType::LoyaltyProgram,
                "loyaltyProgramId",
                i.loyalty_program_id.as_ref(),
            )?,
            title: i.title,
            description: i.description,
            locale: i.locale,
            thank_you: i.thank_you,
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
            hidden_fields: i.hidden_fields.unwrap_or_default(),
        })
    }
}

/// Changes to a `DRAFT` survey: omitted fields stay, null clears a nullable field.
#[derive(InputObject)]
pub struct UpdateSurveyInput {
    /// The survey's id.
    pub id: ID,
    /// New title.
    pub title: Option<String>,
    /// New introduction.
    pub description: MaybeUndefined<String>,
    /// New locale.
    pub locale: MaybeUndefined<String>,
    /// New thank-you text.
    pub thank_you: MaybeUndefined<String>,
    /// New opening time.
    pub opens_at: MaybeUndefined<DateTime>,
    /// New closing time.
    pub closes_at: MaybeUndefined<DateTime>,
    /// New factor-set version.
    pub factor_set_id: MaybeUndefined<ID>,
    /// New loyalty programme.
    pub loyalty_program_id: MaybeUndefined<ID>,
    /// New incentive.
    pub incentive_points: Option<i64>,
    /// New helpful bonus.
    pub helpful_bonus_points: Option<i64>,
    /// New follow-up threshold.
    pub csi_threshold: MaybeUndefined<Decimal>,
    /// Replaces every question when given.
    #[graphql(validator(max_items = 100))]
    pub questions: Option<Vec<SurveyQuestionInput>>,
    /// Replaces the hidden field keys when given.
    pub hidden_fields: Option<Vec<String>>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
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
            program_id: patch_id(
                NodeType::LoyaltyProgram,
                "loyaltyProgramId",
                i.loyalty_program_id,
            )?,
            title: i.title,
            description: patch(i.description),
            locale: patch(i.locale),
            thank_you: patch(i.thank_you),
            opens_at: patch(i.opens_at.map_value(Into::into)),
            closes_at: patch(i.closes_at.map_value(Into::into)),
            incentive_points: i.incentive_points,
            helpful_bonus_points: i.helpful_bonus_points,
            csi_threshold: patch(i.csi_threshold.map_value(Into::into)),
            questions: i
                .questions
                .map(|qs| qs.into_iter().map(NewQuestion::from).collect()),
            hidden_fields: i.hidden_fields,
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
    /// For `MATRIX`: one rating (1..5) or null (not rated) per row, in the
    /// question's `rows` order; a required matrix needs every row rated.
    #[graphql(validator(max_items = 50))]
    pub row_ratings: Option<Vec<Option<i32>>>,
    /// For `DATE`: `YYYY-MM-DD` (an empty string leaves it unanswered).
    pub date: Option<String>,
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
            row_ratings: self.row_ratings,
            date: self.date,
        })
    }
}

/// The `DRAFT` survey to publish.
#[derive(InputObject)]
pub struct PublishSurveyInput {
    /// The survey's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The survey to close.
#[derive(InputObject)]
pub struct CloseSurveyInput {
    /// The survey's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// Customers to invite to an `ACTIVE` survey.
#[derive(InputObject)]
pub struct InviteToSurveyInput {
    /// The survey's id.
    pub survey_id: ID,
    /// The customers to invite (≤ 1000).
    pub customer_ids: Vec<ID>,
    /// When the invitations expire.
    pub expires_at: DateTime,
    /// How the links reach the customers (default `LINK_ONLY`).
    #[graphql(default)]
    pub delivery: crate::graphql::object::invitation::InvitationDelivery,
    /// The language the invitations show the survey in (and the e-mails
    /// are written in): one of the survey's `locales`. Omitted: each
    /// customer's own locale when the survey has it (or its language), else
    /// none (the respondent's browser decides; e-mails then follow the
    /// customer's locale, else the survey's, else English).
    pub locale: Option<String>,
    /// Hidden field values per customer (kept with the response, never
    /// shown to the respondent); customers not named carry none. A
    /// re-issued invitation keeps its values.
    #[graphql(validator(max_items = 1000))]
    pub hidden_fields: Option<Vec<RecipientHiddenFieldsInput>>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl InviteToSurveyInput {
    /// The hidden field values in the domain's terms.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `hiddenFields.<i>.customerId` for a malformed id.
    pub fn recipient_fields(&self) -> ApiResult<Vec<RecipientFields>> {
        self.hidden_fields
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| {
                Ok(RecipientFields {
                    customer_id: parse_id(
                        NodeType::Customer,
                        &format!("hiddenFields.{i}.customerId"),
                        &r.customer_id,
                    )?,
                    values: r
                        .values
                        .iter()
                        .map(|kv| (kv.key.clone(), kv.value.clone()))
                        .collect(),
                })
            })
            .collect()
    }
}

/// The answers of one invitation.
#[derive(InputObject)]
pub struct SubmitSurveyResponseInput {
    /// The personal token from the invitation link.
    #[graphql(secret)]
    pub token: String,
    /// One answer per answered question (≤ 200).
    pub answers: Vec<SurveyAnswerInput>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The response to mark helpful.
#[derive(InputObject)]
pub struct MarkFeedbackHelpfulInput {
    /// The response's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The follow-up to resolve.
#[derive(InputObject)]
pub struct ResolveFollowUpInput {
    /// The follow-up's id.
    pub id: ID,
    /// What was done.
    pub note: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// Names a refused answer by its question's global id (`answers.<id>`),
/// as the client sent it; the domain names it by the question's key.
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

/// Which survey responses to list; every set field narrows the list.
#[derive(InputObject, Default)]
pub struct SurveyResponseFilter {
    /// Only responses to this survey.
    pub survey_id: Option<ID>,
    /// Only this customer's responses.
    pub customer_id: Option<ID>,
    /// Submitted at or after.
    pub submitted_from: Option<DateTime>,
    /// Submitted before (after `submittedFrom`).
    pub submitted_to: Option<DateTime>,
    /// CSI at least this (0..100); responses without a CSI are left out.
    pub csi_min: Option<Decimal>,
    /// CSI at most this (0..100, at least `csiMin`); responses without a CSI
    /// are left out.
    pub csi_max: Option<Decimal>,
    /// Only responses marked helpful (true) or not (false).
    pub helpful: Option<bool>,
    /// Only responses with a non-empty `TEXT` answer (true) or without (false).
    pub has_comment: Option<bool>,
    /// Case-insensitive substring of a `TEXT` answer (at most 100 characters;
    /// `%` and `_` match themselves).
    pub text: Option<String>,
    /// Only responses whose hidden field `key` is exactly `value`.
    pub hidden_field: Option<KeyValueInput>,
}

impl TryFrom<SurveyResponseFilter> for ResponseFilter {
    type Error = ApiError;

    fn try_from(f: SurveyResponseFilter) -> ApiResult<Self> {
        Ok(Self {
            survey_id: opt_id(NodeType::Survey, "filter.surveyId", f.survey_id.as_ref())?,
            customer_id: opt_id(
                NodeType::Customer,
                "filter.customerId",
                f.customer_id.as_ref(),
            )?,
            submitted_from: f.submitted_from.map(Into::into),
            submitted_to: f.submitted_to.map(Into::into),
            csi_min: f.csi_min.map(|d| d.0),
            csi_max: f.csi_max.map(|d| d.0),
            helpful: f.helpful,
            has_comment: f.has_comment,
            text: f.text,
            hidden_field: f.hidden_field.map(|kv| (kv.key, kv.value)),
        })
    }
}

/// What survey responses are sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::ResponseOrderField")]
pub enum SurveyResponseOrderField {
    /// Submission time.
    SubmittedAt,
    /// The response's CSI; responses without one sort below every CSI.
    Csi,
}

/// How to sort survey responses; ties are broken by id. Default: newest
/// submitted first.
#[derive(InputObject)]
pub struct SurveyResponseOrder {
    /// The sort field.
    pub field: SurveyResponseOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl From<SurveyResponseOrder> for domain::feedback::ResponseOrder {
    fn from(o: SurveyResponseOrder) -> Self {
        Self {
            field: o.field.into(),
            direction: o.direction.into(),
        }
    }
}

/// Which surveys to list; every set field narrows the list.
#[derive(InputObject, Default)]
pub struct SurveyFilter {
    /// Only surveys in this status.
    pub status: Option<SurveyStatus>,
    /// Case-insensitive substring of the title (at most 100 characters; `%`
    /// and `_` match themselves).
    pub text: Option<String>,
}

impl From<SurveyFilter> for domain::feedback::SurveyFilter {
    fn from(f: SurveyFilter) -> Self {
        Self {
            status: f.status.map(Into::into),
            text: f.text,
        }
    }
}

/// What surveys are sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::SurveyOrderField")]
pub enum SurveyOrderField {
    /// Creation time.
    CreatedAt,
    /// Title, case-insensitively.
    Title,
}

/// How to sort surveys; ties are broken by id. Default: newest first.
#[derive(InputObject)]
pub struct SurveyOrder {
    /// The sort field.
    pub field: SurveyOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl From<SurveyOrder> for domain::feedback::SurveyOrder {
    fn from(o: SurveyOrder) -> Self {
        Self {
            field: o.field.into(),
            direction: o.direction.into(),
        }
    }
}

/// Which follow-ups to list; every set field narrows the list.
#[derive(InputObject, Default)]
pub struct FollowUpFilter {
    /// Only follow-ups in this status.
    pub status: Option<FollowUpStatus>,
    /// Only follow-ups of this survey's responses.
    pub survey_id: Option<ID>,
    /// Only follow-ups about this customer.
    pub customer_id: Option<ID>,
    /// Opened at or after.
    pub opened_from: Option<DateTime>,
    /// Opened before (after `openedFrom`).
    pub opened_to: Option<DateTime>,
    /// Opened more than this many days ago (0..36500).
    pub older_than_days: Option<i32>,
}

impl TryFrom<FollowUpFilter> for domain::feedback::FollowUpFilter {
    type Error = ApiError;

    fn try_from(f: FollowUpFilter) -> ApiResult<Self> {
        Ok(Self {
            status: f.status.map(Into::into),
            survey_id: opt_id(NodeType::Survey, "filter.surveyId", f.survey_id.as_ref())?,
            customer_id: opt_id(
                NodeType::Customer,
                "filter.customerId",
                f.customer_id.as_ref(),
            )?,
            opened_from: f.opened_from.map(Into::into),
            opened_to: f.opened_to.map(Into::into),
            older_than_days: f.older_than_days,
        })
    }
}

/// What follow-ups are sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::feedback::FollowUpOrderField")]
pub enum FollowUpOrderField {
    /// When the follow-up was opened.
    OpenedAt,
}

/// How to sort follow-ups; ties are broken by id. Default: newest first.
#[derive(InputObject)]
pub struct FollowUpOrder {
    /// The sort field.
    pub field: FollowUpOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl From<FollowUpOrder> for domain::feedback::FollowUpOrder {
    fn from(o: FollowUpOrder) -> Self {
        Self {
            field: o.field.into(),
            direction: o.direction.into(),
        }
    }
}

/// One question's text and option labels in a translation.
#[derive(InputObject)]
pub struct SurveyQuestionTranslationInput {
    /// The question (`SurveyQuestion.id`).
    pub question_id: ID,
    /// The question's text in the translation's locale.
    pub text: String,
    /// One label per option of a choice question, in the question's order
    /// (answers still send the default-language option values).
    #[graphql(default, validator(max_items = 50))]
    pub options: Vec<String>,
    /// One label per row of a MATRIX question, in the question's order.
    #[graphql(default, validator(max_items = 50))]
    pub rows: Vec<String>,
    /// The scale's lowest end label in this locale (required before
    /// publishing when the question has a `minLabel`; refused when it has
    /// none).
    pub min_label: Option<String>,
    /// The scale's highest end label in this locale (required before
    /// publishing when the question has a `maxLabel`; refused when it has
    /// none).
    pub max_label: Option<String>,
}

/// The whole translation of a survey for one locale; replaces any earlier
/// one for that locale.
#[derive(InputObject)]
pub struct SetSurveyTranslationInput {
    /// The survey (`DRAFT` or `ACTIVE`).
    pub survey_id: ID,
    /// A BCP 47 language tag other than the survey's default `locale`
    /// (normalised: `de_at` → `de-AT`).
    pub locale: String,
    /// The title in this locale.
    pub title: String,
    /// The introduction (required when the survey has one).
    pub description: Option<String>,
    /// The thank-you text (required when the survey has one).
    pub thank_you: Option<String>,
    /// The questions' texts (every question is required before publishing).
    #[graphql(default, validator(max_items = 100))]
    pub questions: Vec<SurveyQuestionTranslationInput>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl SetSurveyTranslationInput {
    /// The domain's translation input.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on a malformed question id.
    pub fn into_domain(self) -> ApiResult<domain::feedback::TranslationInput> {
        let questions = self
            .questions
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                Ok(domain::feedback::QuestionTranslationInput {
                    question_id: parse_id(
                        NodeType::SurveyQuestion,
                        &format!("questions.{i}.questionId"),
                        &q.question_id,
                    )?,
                    text: q.text,
                    options: q.options,
                    rows: q.rows,
                    min_label: q.min_label,
                    max_label: q.max_label,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(domain::feedback::TranslationInput {
            locale: self.locale,
            title: self.title,
            description: self.description,
            thank_you: self.thank_you,
            questions,
        })
    }
}

/// Which translation to remove.
#[derive(InputObject)]
pub struct RemoveSurveyTranslationInput {
    /// The survey (`DRAFT` or `ACTIVE`).
    pub survey_id: ID,
    /// The translation's locale.
    pub locale: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}
