//! Survey translations: a survey's title, introduction, thank-you text,
//! question texts, option labels, matrix row labels and scale end labels in locales other than
//! its default one,
//! and the survey as shown in one chosen locale.
//!
//! Translations may be set and removed while a survey is DRAFT or ACTIVE
//! (correcting a text while a survey runs is normal); a CLOSED survey's are
//! fixed. A DRAFT may hold an incomplete translation, but cannot be
//! published until every declared locale has every required text; on an
//! ACTIVE survey a translation must be complete when it is set. Answers
//! always store option values of the default language, so results do not
//! depend on the language a respondent saw.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::locale;
use super::model::{QuestionTranslation, Survey, SurveyStatus, SurveyTranslation};
use super::surveys::{load, MAX_SCALE_LABEL};
use crate::error::{DomainError, DomainResult};
use crate::validation::{optional_text, required_text};
use entity::survey_translations;

/// Most translations one survey may have.
pub const MAX_TRANSLATIONS: usize = 30;

/// One question's translation as written by staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionTranslationInput {
    pub question_id: i64,
    pub text: String,
    pub options: Vec<String>,
    /// One label per row of a MATRIX question.
    pub rows: Vec<String>,
    /// The scale's lowest end label (only when the question has one).
    pub min_label: Option<String>,
    /// The scale's highest end label (only when the question has one).
    pub max_label: Option<String>,
}

/// A whole translation for one locale as written by staff; it replaces any
/// earlier one for that locale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslationInput {
    pub locale: String,
    pub title: String,
    pub description: Option<String>,
    pub thank_you: Option<String>,
    pub questions: Vec<QuestionTranslationInput>,
}

/// The translations of each of `survey_ids`, by survey, ordered by locale.
pub(crate) async fn for_surveys(
    db: &impl ConnectionTrait,
    survey_ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<SurveyTranslation>>> {
    let mut out: HashMap<i64, Vec<SurveyTranslation>> = HashMap::new();
    if survey_ids.is_empty() {
        return Ok(out);
    }
    let rows = survey_translations::Entity::find()
        .filter(survey_translations::Column::SurveyId.is_in(survey_ids.iter().copied()))
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.survey_id).or_default().push(from_row(row)?);
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.locale.cmp(&b.locale));
    }
    Ok(out)
}

/// A stored translation.
///
/// # Errors
/// `INTERNAL` when its question texts are not the JSON written for them.
pub(crate) fn from_row(row: survey_translations::Model) -> DomainResult<SurveyTranslation> {
    let questions: BTreeMap<i64, QuestionTranslation> = serde_json::from_str(&row.questions)
        .map_err(|_| {
            DomainError::Internal(anyhow::anyhow!(
                "stored translation of survey {} is not understood",
                row.survey_id
            ))
        })?;
    Ok(SurveyTranslation {
        locale: row.locale,
        title: row.title,
        description: row.description,
        thank_you: row.thank_you,
        questions,
        updated_at: row.updated_at,
    })
}

/// The locales a survey can be shown in: its default first, then its
/// translations' (none without a default locale).
pub fn available_locales(survey: &Survey) -> Vec<String> {
    let Some(default) = &survey.locale else {
        return Vec::new();
    };
    std::iter::once(default.clone())
        .chain(survey.translations.iter().map(|t| t.locale.clone()))
        .collect()
}

/// Checks that `t` has every text `survey` needs in its locale; the error
/// names the missing field (`translations.<locale>.…`, questions by index).
pub(crate) fn check_complete(survey: &Survey, t: &SurveyTranslation) -> DomainResult<()> {
    let field = |rest: String| format!("translations.{}.{rest}", t.locale);
    let missing = |rest: String| DomainError::validation(field(rest), "is missing");
    if survey.description.is_some() && t.description.is_none() {
        return Err(missing("description".into()));
    }
    if survey.thank_you.is_some() && t.thank_you.is_none() {
        return Err(missing("thankYou".into()));
    }
    for (i, q) in survey.questions.iter().enumerate() {
        let Some(qt) = t.questions.get(&q.id) else {
            return Err(missing(format!("questions.{i}.text")));
        };
        if qt.options.len() != q.options.len() {
            return Err(DomainError::validation(
                field(format!("questions.{i}.options")),
                format!(
                    "needs one label for each of the {} options",
                    q.options.len()
                ),
            ));
        }
        if qt.rows.len() != q.settings.rows.len() {
            return Err(DomainError::validation(
                field(format!("questions.{i}.rows")),
                format!(
                    "needs one label for each of the {} rows",
                    q.settings.rows.len()
                ),
            ));
        }
        if q.settings.min_label.is_some() && qt.min_label.is_none() {
            return Err(missing(format!("questions.{i}.minLabel")));
        }
        if q.settings.max_label.is_some() && qt.max_label.is_none() {
            return Err(missing(format!("questions.{i}.maxLabel")));
        }
    }
    Ok(())
}

/// Checks every translation of `survey` before it is published.
pub(crate) fn check_publishable(survey: &Survey) -> DomainResult<()> {
    if !survey.translations.is_empty() && survey.locale.is_none() {
        return Err(DomainError::validation(
            "locale",
            "a survey with translations needs its default locale",
        ));
    }
    for t in &survey.translations {
        if survey.locale.as_deref() == Some(t.locale.as_str()) {
            return Err(DomainError::validation(
                format!("translations.{}", t.locale),
                "is the survey's default locale; remove this translation",
            ));
        }
        check_complete(survey, t)?;
    }
    Ok(())
}

fn validate(survey: &Survey, input: TranslationInput) -> DomainResult<SurveyTranslation> {
    let locale = locale::parse("locale", &input.locale)?;
    let Some(default) = &survey.locale else {
        return Err(DomainError::validation(
            "locale",
            "set the survey's default locale before translating it",
        ));
    };
    if *default == locale {
        return Err(DomainError::validation(
            "locale",
            "is the survey's default locale; change the survey itself",
        ));
    }
    let title = required_text("title", &input.title, 200)?;
    let description = optional_text("description", input.description.as_deref(), 4_000)?;
    let thank_you = optional_text("thankYou", input.thank_you.as_deref(), 4_000)?;
    let by_id: HashMap<i64, usize> = survey
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id, i))
        .collect();
    let mut seen = HashSet::new();
    let mut questions = BTreeMap::new();
    for (i, q) in input.questions.into_iter().enumerate() {
        let field = |name: &str| format!("questions.{i}.{name}");
        let Some(&index) = by_id.get(&q.question_id) else {
            return Err(DomainError::validation(
                field("questionId"),
                "is not a question of this survey",
            ));
        };
        if !seen.insert(q.question_id) {
            return Err(DomainError::validation(
                field("questionId"),
                "is translated more than once",
            ));
        }
        let text = required_text(&field("text"), &q.text, 1_000)?;
        let question = &survey.questions[index];
        if q.options.len() != question.options.len() {
            return Err(DomainError::validation(
                field("options"),
                format!(
                    "needs one label for each of the question's {} options",
                    question.options.len()
                ),
            ));
        }
        let options = q
            .options
            .iter()
            .enumerate()
            .map(|(j, o)| required_text(&format!("questions.{i}.options.{j}"), o, 200))
            .collect::<DomainResult<Vec<_>>>()?;
        if q.rows.len() != question.settings.rows.len() {
            return Err(DomainError::validation(
                field("rows"),
                format!(
                    "needs one label for each of the question's {} rows",
                    question.settings.rows.len()
                ),
            ));
        }
        let rows = q
            .rows
            .iter()
            .enumerate()
            .map(|(j, r)| required_text(&format!("questions.{i}.rows.{j}"), r, 200))
            .collect::<DomainResult<Vec<_>>>()?;
        let label = |name: &str, raw: Option<&str>, has: bool| {
            let label = optional_text(&field(name), raw, MAX_SCALE_LABEL)?;
            if label.is_some() && !has {
                return Err(DomainError::validation(
                    field(name),
                    format!("the question has no {name} to translate"),
                ));
            }
            Ok(label)
        };
        let min_label = label(
            "minLabel",
            q.min_label.as_deref(),
            question.settings.min_label.is_some(),
        )?;
        let max_label = label(
            "maxLabel",
            q.max_label.as_deref(),
            question.settings.max_label.is_some(),
        )?;
        questions.insert(
            q.question_id,
            QuestionTranslation {
                text,
                options,
                rows,
                min_label,
                max_label,
            },
        );
    }
    Ok(SurveyTranslation {
        locale,
        title,
        description,
        thank_you,
        questions,
        updated_at: Utc::now(),
    })
}

fn refuse_closed(survey: &Survey) -> DomainResult<()> {
    if survey.status == SurveyStatus::Closed {
        return Err(DomainError::conflict(
            "a CLOSED survey's translations cannot change",
        ));
    }
    Ok(())
}

/// Sets (inserts or replaces) one locale's translation and loads the survey
/// back.
pub(crate) async fn set(
    txn: &impl ConnectionTrait,
    survey_id: i64,
    input: TranslationInput,
) -> DomainResult<Survey> {
    let survey = load(txn, survey_id).await?;
    refuse_closed(&survey)?;
    let t = validate(&survey, input)?;
    let replacing = survey.translations.iter().any(|x| x.locale == t.locale);
    if !replacing && survey.translations.len() >= MAX_TRANSLATIONS {
        return Err(DomainError::validation(
            "locale",
            format!("a survey may have at most {MAX_TRANSLATIONS} translations"),
        ));
    }
    if survey.status == SurveyStatus::Active {
        check_complete(&survey, &t)?;
    }
    survey_translations::Entity::delete_many()
        .filter(survey_translations::Column::SurveyId.eq(survey_id))
        .filter(survey_translations::Column::Locale.eq(t.locale.clone()))
        .exec(txn)
        .await?;
    let questions = serde_json::to_string(&t.questions)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!(e)))?;
    survey_translations::Entity::insert(survey_translations::ActiveModel {
        survey_id: Set(survey_id),
        locale: Set(t.locale),
        title: Set(t.title),
        description: Set(t.description),
        thank_you: Set(t.thank_you),
        questions: Set(questions),
        updated_at: Set(t.updated_at),
    })
    .exec_without_returning(txn)
    .await?;
    load(txn, survey_id).await
}

/// Removes one locale's translation and loads the survey back.
pub(crate) async fn remove(
    txn: &impl ConnectionTrait,
    survey_id: i64,
    raw_locale: &str,
) -> DomainResult<Survey> {
    let survey = load(txn, survey_id).await?;
    refuse_closed(&survey)?;
    let locale = locale::parse("locale", raw_locale)?;
    let done = survey_translations::Entity::delete_many()
        .filter(survey_translations::Column::SurveyId.eq(survey_id))
        .filter(survey_translations::Column::Locale.eq(locale))
        .exec(txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(DomainError::NotFound("survey translation"));
    }
    load(txn, survey_id).await
}

/// `survey` with its texts in `locale` (unchanged for the default locale or
/// none); option values stay those of the default language, the labels
/// change, and so do the scale end labels in `settings`.
pub fn localize(mut survey: Survey, locale: Option<&str>) -> Survey {
    let Some(t) = locale.and_then(|l| survey.translations.iter().find(|t| t.locale == l)) else {
        return survey;
    };
    let t = t.clone();
    survey.title = t.title;
    survey.description = t.description.or(survey.description);
    survey.thank_you = t.thank_you.or(survey.thank_you);
    for q in &mut survey.questions {
        if let Some(qt) = t.questions.get(&q.id) {
            q.text = qt.text.clone();
            if qt.options.len() == q.options.len() {
                q.option_labels = qt.options.clone();
            }
            if qt.rows.len() == q.settings.rows.len() {
                q.row_labels = qt.rows.clone();
            }
            if q.settings.min_label.is_some() && qt.min_label.is_some() {
                q.settings.min_label = qt.min_label.clone();
            }
            if q.settings.max_label.is_some() && qt.max_label.is_some() {
                q.settings.max_label = qt.max_label.clone();
            }
        }
    }
    survey
}
