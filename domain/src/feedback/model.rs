//! The feedback area's types: surveys, questions, responses, follow-ups, and
//! the conversions from their stored rows.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::error::{DomainError, DomainResult};
use entity::{follow_ups, survey_answers, survey_questions, survey_responses, surveys};

fn corrupt(what: &str, raw: &str) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("stored {what} {raw:?} is not understood"))
}

/// A survey's life cycle: `DRAFT` → `ACTIVE` → `CLOSED` (SPEC §4).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SurveyStatus {
    /// Being written; editable; cannot be answered.
    Draft,
    /// Published: invitations can be sent and answered.
    Active,
    /// No more responses.
    Closed,
}

impl SurveyStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Active => "ACTIVE",
            Self::Closed => "CLOSED",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// `INTERNAL` for an unknown name.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        match raw {
            "DRAFT" => Ok(Self::Draft),
            "ACTIVE" => Ok(Self::Active),
            "CLOSED" => Ok(Self::Closed),
            _ => Err(corrupt("survey status", raw)),
        }
    }
}

/// What a question asks for (SPEC §4).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum QuestionKind {
    /// Satisfaction 1..5, 5 = completely satisfied.
    Rating,
    /// A rating of one factor of the survey's CSI factor set, on the set's scale.
    CsiFactor,
    /// Likelihood to recommend, 0..10.
    Nps,
    /// Exactly one of the options.
    SingleChoice,
    /// One or more of the options.
    MultipleChoice,
    /// Free text, length-limited.
    Text,
    /// Several statements (rows), each rated on one 1..5 scale.
    Matrix,
    /// A calendar date, optionally within bounds.
    Date,
}

impl QuestionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rating => "RATING",
            Self::CsiFactor => "CSI_FACTOR",
            Self::Nps => "NPS",
            Self::SingleChoice => "SINGLE_CHOICE",
            Self::MultipleChoice => "MULTIPLE_CHOICE",
            Self::Text => "TEXT",
            Self::Matrix => "MATRIX",
            Self::Date => "DATE",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// `INTERNAL` for an unknown name.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        [
            Self::Rating,
            Self::CsiFactor,
            Self::Nps,
            Self::SingleChoice,
            Self::MultipleChoice,
            Self::Text,
            Self::Matrix,
            Self::Date,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
        .ok_or_else(|| corrupt("question kind", raw))
    }

    /// Whether answers are a number on a scale.
    pub fn is_rated(self) -> bool {
        matches!(self, Self::Rating | Self::CsiFactor | Self::Nps)
    }

    /// Whether the question has options.
    pub fn has_options(self) -> bool {
        matches!(self, Self::SingleChoice | Self::MultipleChoice)
    }

    /// Whether the question is answered on a row of buttons with end labels.
    pub fn has_scale(self) -> bool {
        self.is_rated() || self == Self::Matrix
    }
}

/// The fixed scale of RATING questions.
pub const RATING_SCALE: (i32, i32) = (1, 5);
/// The fixed scale of NPS questions.
pub const NPS_SCALE: (i32, i32) = (0, 10);
/// The fixed scale each row of a MATRIX question is rated on.
pub const MATRIX_SCALE: (i32, i32) = (1, 5);

/// The kind-specific part of a question's definition, stored as one JSON
/// document (`survey_questions.settings`); every field is absent for the
/// kinds it does not belong to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionSettings {
    /// `MULTIPLE_CHOICE`: the fewest options an answer must choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_choices: Option<i32>,
    /// `MULTIPLE_CHOICE`: the most options an answer may choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_choices: Option<i32>,
    /// `MATRIX`: the statements rated, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<String>,
    /// `DATE`: the earliest date accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest: Option<NaiveDate>,
    /// `DATE`: the latest date accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<NaiveDate>,
    /// Scale kinds (`RATING`, `CSI_FACTOR`, `NPS`, `MATRIX`): the text under
    /// the lowest button (the form's own text when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    /// Scale kinds: the text under the highest button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
}

impl QuestionSettings {
    /// Whether nothing is set (stored as NULL).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The stored form: `None` when empty.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default())
    }
}

/// One question of a survey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    /// 1-based order within the survey.
    pub position: i32,
    pub text: String,
    pub required: bool,
    pub kind: QuestionKind,
    /// For `CSI_FACTOR`: the factor's key in the survey's factor set.
    pub factor_key: Option<String>,
    /// For the choice kinds: the options, in order; answers send these
    /// values (the default language's labels), whatever language is shown.
    pub options: Vec<String>,
    /// The options as shown: `options` in the default locale, their
    /// translations in another (same order and length).
    pub option_labels: Vec<String>,
    /// For `TEXT`: the most characters accepted.
    pub max_length: Option<i32>,
    /// For rated kinds: the inclusive `(min, max)` of accepted ratings.
    pub scale: Option<(i32, i32)>,
    /// The survey's overall-satisfaction measure (see CSI drivers).
    pub overall_satisfaction: bool,
    /// Shown only when this condition on an earlier answer holds.
    pub show_when: Option<super::conditions::Condition>,
    /// `MULTIPLE_CHOICE` limits, `MATRIX` rows, `DATE` bounds, scale end
    /// labels (in the locale shown: [`super::translations::localize`]
    /// replaces them).
    pub settings: QuestionSettings,
    /// For `MATRIX`: the rows as shown: `settings.rows` in the default
    /// locale, their translations in another (same order and length).
    pub row_labels: Vec<String>,
    /// The 1-based page of the form that shows it.
    pub page: i32,
}

impl Question {
    /// Builds a question from its row; `csi_scale` is the survey's factor-set
    /// scale (used by `CSI_FACTOR`).
    ///
    /// # Errors
    /// `INTERNAL` on unreadable stored values.
    pub fn from_row(
        m: survey_questions::Model,
        csi_scale: Option<(i32, i32)>,
    ) -> DomainResult<Self> {
        let kind = QuestionKind::parse(&m.kind)?;
        let options = match &m.options {
            Some(raw) => serde_json::from_str(raw).map_err(|_| corrupt("options", raw))?,
            None => Vec::new(),
        };
        let show_when = match &m.show_when {
            Some(raw) => Some(serde_json::from_str(raw).map_err(|_| corrupt("condition", raw))?),
            None => None,
        };
        let settings: QuestionSettings = match &m.settings {
            Some(raw) => serde_json::from_str(raw).map_err(|_| corrupt("settings", raw))?,
            None => QuestionSettings::default(),
        };
        let scale = match kind {
            QuestionKind::Rating => Some(RATING_SCALE),
            QuestionKind::Matrix => Some(MATRIX_SCALE),
            QuestionKind::Nps => Some(NPS_SCALE),
            QuestionKind::CsiFactor => Some(csi_scale.unwrap_or(RATING_SCALE)),
            _ => None,
        };
        Ok(Self {
            id: m.id,
            position: m.position,
            text: m.text,
            required: m.required,
            kind,
            factor_key: m.factor_key,
            option_labels: options.clone(),
            options,
            max_length: m.max_length,
            scale,
            overall_satisfaction: m.overall_satisfaction,
            show_when,
            row_labels: settings.rows.clone(),
            settings,
            page: m.page,
        })
    }
}

/// A survey with its questions in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    /// The default locale: the language the survey is written in.
    pub locale: Option<String>,
    /// Shown after a response is stored.
    pub thank_you: Option<String>,
    pub status: SurveyStatus,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub factor_set_id: Option<i64>,
    pub program_id: Option<i64>,
    pub incentive_points: i64,
    pub helpful_bonus_points: i64,
    /// Responses whose CSI is below this (0..100) raise a follow-up.
    pub csi_threshold: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub questions: Vec<Question>,
    /// The survey's texts in further locales, by locale.
    pub translations: Vec<SurveyTranslation>,
    /// The hidden field keys it declares ([`super::hidden_fields`]).
    pub hidden_fields: Vec<String>,
}

/// One question's text and option labels in a translation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuestionTranslation {
    pub text: String,
    /// One label per option of the question, in order.
    #[serde(default)]
    pub options: Vec<String>,
    /// One label per row of a MATRIX question, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<String>,
    /// The scale's lowest end label, when the question has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    /// The scale's highest end label, when the question has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
}

/// A survey's texts in one locale other than its default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyTranslation {
    /// A normalised BCP 47 language tag.
    pub locale: String,
    pub title: String,
    pub description: Option<String>,
    pub thank_you: Option<String>,
    /// By question id.
    pub questions: std::collections::BTreeMap<i64, QuestionTranslation>,
    pub updated_at: DateTime<Utc>,
}

impl Survey {
    /// Builds a survey from its row and its questions' rows.
    ///
    /// # Errors
    /// `INTERNAL` on unreadable stored values.
    pub fn from_rows(
        m: surveys::Model,
        questions: Vec<survey_questions::Model>,
        csi_scale: Option<(i32, i32)>,
        translations: Vec<SurveyTranslation>,
    ) -> DomainResult<Self> {
        let mut questions = questions
            .into_iter()
            .map(|q| Question::from_row(q, csi_scale))
            .collect::<DomainResult<Vec<_>>>()?;
        questions.sort_by_key(|q| (q.position, q.id));
        super::conditions::link(&mut questions);
        let hidden_fields = super::hidden_fields::parse_keys(m.hidden_fields.as_deref())?;
        Ok(Self {
            id: m.id,
            title: m.title,
            description: m.description,
            locale: m.locale,
            thank_you: m.thank_you,
            status: SurveyStatus::parse(&m.status)?,
            opens_at: m.opens_at,
            closes_at: m.closes_at,
            factor_set_id: m.factor_set_id,
            program_id: m.program_id,
            incentive_points: m.incentive_points,
            helpful_bonus_points: m.helpful_bonus_points,
            csi_threshold: parse_decimal("csi threshold", m.csi_threshold.as_deref())?,
            created_at: m.created_at,
            updated_at: m.updated_at,
            questions,
            translations,
            hidden_fields,
        })
    }

    /// Whether respondents may answer at `now`: ACTIVE and within the
    /// opening window.
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        self.status == SurveyStatus::Active
            && self.opens_at.is_none_or(|t| t <= now)
            && self.closes_at.is_none_or(|t| now < t)
    }
}

pub(crate) fn parse_decimal(what: &str, raw: Option<&str>) -> DomainResult<Option<Decimal>> {
    raw.map(|s| Decimal::from_str(s).map_err(|_| corrupt(what, s)))
        .transpose()
}

/// One stored answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub question_id: i64,
    pub rating: Option<i32>,
    pub choices: Vec<String>,
    pub text: Option<String>,
    /// For `MATRIX`: one rating or `None` per row, in row order.
    pub row_ratings: Vec<Option<i32>>,
    /// For `DATE`.
    pub date: Option<NaiveDate>,
}

impl TryFrom<survey_answers::Model> for Answer {
    type Error = DomainError;

    fn try_from(m: survey_answers::Model) -> Result<Self, Self::Error> {
        let choices = match &m.choices {
            Some(raw) => serde_json::from_str(raw).map_err(|_| corrupt("choices", raw))?,
            None => Vec::new(),
        };
        let row_ratings = match &m.row_ratings {
            Some(raw) => serde_json::from_str(raw).map_err(|_| corrupt("row ratings", raw))?,
            None => Vec::new(),
        };
        let date = match &m.date_value {
            Some(raw) => {
                Some(NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| corrupt("date", raw))?)
            }
            None => None,
        };
        Ok(Self {
            question_id: m.question_id,
            rating: m.rating,
            choices,
            text: m.text,
            row_ratings,
            date,
        })
    }
}

/// A stored response with its answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyResponse {
    pub id: i64,
    pub survey_id: i64,
    pub customer_id: i64,
    pub submitted_at: DateTime<Utc>,
    /// The response's CSI (0..100) over the factors it rated.
    pub csi: Option<Decimal>,
    /// The weighted mean rating on the factor set's scale.
    pub weighted_mean: Option<Decimal>,
    pub factor_set_id: Option<i64>,
    pub helpful_at: Option<DateTime<Utc>>,
    pub helpful_by: Option<i64>,
    /// The locale the respondent answered in.
    pub locale: Option<String>,
    /// The hidden field values its invitation carried, in key order.
    pub hidden_fields: Vec<(String, String)>,
    pub answers: Vec<Answer>,
}

impl SurveyResponse {
    /// Builds a response from its row and answers.
    ///
    /// # Errors
    /// `INTERNAL` on unreadable stored values.
    pub fn from_rows(
        m: survey_responses::Model,
        answers: Vec<survey_answers::Model>,
    ) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            survey_id: m.survey_id,
            customer_id: m.customer_id,
            submitted_at: m.submitted_at,
            csi: parse_decimal("csi", m.csi.as_deref())?,
            weighted_mean: parse_decimal("weighted mean", m.weighted_mean.as_deref())?,
            factor_set_id: m.factor_set_id,
            helpful_at: m.helpful_at,
            helpful_by: m.helpful_by,
            hidden_fields: super::hidden_fields::parse_values(m.hidden_fields.as_deref())?,
            locale: m.locale,
            answers: answers
                .into_iter()
                .map(Answer::try_from)
                .collect::<DomainResult<_>>()?,
        })
    }
}

/// Why a follow-up was opened.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FollowUpReason {
    /// The response's CSI is below the survey's threshold.
    LowCsi,
    /// An NPS answer of 0..6.
    NpsDetractor,
    /// A RATING answer of 1 or 2.
    LowRating,
}

impl FollowUpReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowCsi => "LOW_CSI",
            Self::NpsDetractor => "NPS_DETRACTOR",
            Self::LowRating => "LOW_RATING",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// `INTERNAL` for an unknown name.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        [Self::LowCsi, Self::NpsDetractor, Self::LowRating]
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| corrupt("follow-up reason", raw))
    }
}

/// Whether a follow-up still needs attention.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FollowUpStatus {
    /// Raised, not yet handled.
    Open,
    /// Handled, with a note.
    Resolved,
}

impl FollowUpStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Resolved => "RESOLVED",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// `INTERNAL` for an unknown name.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        match raw {
            "OPEN" => Ok(Self::Open),
            "RESOLVED" => Ok(Self::Resolved),
            _ => Err(corrupt("follow-up status", raw)),
        }
    }
}

/// A follow-up raised by a dissatisfied response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUp {
    pub id: i64,
    pub response_id: i64,
    pub survey_id: i64,
    pub customer_id: i64,
    /// Every reason that applied, stored comma-separated.
    pub reasons: Vec<FollowUpReason>,
    pub status: FollowUpStatus,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<i64>,
    pub note: Option<String>,
}

impl FollowUp {
    /// Builds a follow-up from its row and its response's survey.
    ///
    /// # Errors
    /// `INTERNAL` on unreadable stored values.
    pub fn from_row(m: follow_ups::Model, survey_id: i64) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            response_id: m.response_id,
            survey_id,
            customer_id: m.customer_id,
            reasons: m
                .reason
                .split(',')
                .filter(|s| !s.is_empty())
                .map(FollowUpReason::parse)
                .collect::<DomainResult<_>>()?,
            status: FollowUpStatus::parse(&m.status)?,
            opened_at: m.opened_at,
            resolved_at: m.resolved_at,
            resolved_by: m.resolved_by,
            note: m.note,
        })
    }
}
