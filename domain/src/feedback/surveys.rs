//! Writing and reading surveys: create, update (DRAFT only), publish, close, list.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QueryResult, Set,
};

use super::conditions::{self, ConditionInput};
use super::model::{Question, QuestionKind, QuestionSettings, Survey, SurveyStatus};
use crate::customers::{SortDirection, SortKey};
use crate::error::{DomainError, DomainResult, FoundExt};
use crate::keyset::{self, contains_pattern, time_key, KeyKind, OrderCursor, Ordering};
use crate::pagination::{Page, PageRequest};
use crate::sql::{json_rows, json_time, push_json_rows, Sql};
use crate::validation::{optional_text, required_text};
use entity::{
    csi_factor_sets, csi_factors, loyalty_programs, survey_questions, survey_translations, surveys,
};

/// Most questions in one survey.
pub const MAX_QUESTIONS: usize = 100;
/// Most options of one choice question.
pub const MAX_OPTIONS: usize = 50;
/// Fewest rows of one MATRIX question.
pub const MIN_MATRIX_ROWS: usize = 2;
/// Most rows of one MATRIX question.
pub const MAX_MATRIX_ROWS: usize = 20;
/// Most pages of one survey's form.
pub const MAX_PAGES: i32 = 20;
/// Longest scale end label (`minLabel`, `maxLabel`).
pub const MAX_SCALE_LABEL: usize = 100;
/// Longest free-text answer a TEXT question may allow.
pub const MAX_TEXT_LENGTH: i32 = 10_000;
/// A TEXT question's limit when none is given.
pub const DEFAULT_TEXT_LENGTH: i32 = 2_000;
/// Most points one response or helpful mark may credit.
pub const MAX_SURVEY_POINTS: i64 = 1_000_000;
/// The follow-up threshold used when a survey names none (CSI below 60).
pub const DEFAULT_CSI_THRESHOLD: i64 = 60;

/// A question as written by staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQuestion {
    pub text: String,
    pub required: bool,
    pub kind: QuestionKind,
    pub factor_key: Option<String>,
    pub options: Vec<String>,
    pub max_length: Option<i32>,
    /// The survey's overall-satisfaction measure (a RATING question; at most
    /// one per survey), which CSI driver analysis explains by the factors.
    pub overall_satisfaction: bool,
    /// Shown only when this condition on an earlier question's answer holds
    /// ([`super::conditions`]).
    pub show_when: Option<ConditionInput>,
    /// `MULTIPLE_CHOICE` limits, `MATRIX` rows, `DATE` bounds.
    pub settings: QuestionSettings,
    /// The 1-based page of the form that shows it (1 when the survey has
    /// one page); pages never decrease along the questions and skip none.
    pub page: i32,
}

/// Every field of a survey as written by staff (create, or update merged over
/// the stored survey).
#[derive(Clone, Debug, PartialEq)]
pub struct SurveyDraft {
    pub title: String,
    pub description: Option<String>,
    pub locale: Option<String>,
    pub thank_you: Option<String>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub factor_set_id: Option<i64>,
    pub program_id: Option<i64>,
    pub incentive_points: i64,
    pub helpful_bonus_points: i64,
    pub csi_threshold: Option<Decimal>,
    pub questions: Vec<NewQuestion>,
    /// The hidden field keys invitations may carry ([`super::hidden_fields`]).
    pub hidden_fields: Vec<String>,
}

/// Changes to a DRAFT survey; `None` leaves a field as it is, and for nullable
/// fields `Some(None)` clears it. `questions`, when given, replaces them all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SurveyPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub thank_you: Option<Option<String>>,
    pub opens_at: Option<Option<DateTime<Utc>>>,
    pub closes_at: Option<Option<DateTime<Utc>>>,
    pub factor_set_id: Option<Option<i64>>,
    pub program_id: Option<Option<i64>>,
    pub incentive_points: Option<i64>,
    pub helpful_bonus_points: Option<i64>,
    pub csi_threshold: Option<Option<Decimal>>,
    pub questions: Option<Vec<NewQuestion>>,
    /// Replaces the declared hidden field keys when given.
    pub hidden_fields: Option<Vec<String>>,
}

/// Which surveys `surveys` lists; every set field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SurveyFilter {
    pub status: Option<SurveyStatus>,
    /// Case-insensitive substring of the title.
    pub text: Option<String>,
}

/// Longest title search text accepted.
const MAX_SEARCH_LEN: usize = 100;

/// The sort field of the survey list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurveyOrderField {
    /// Creation time.
    CreatedAt,
    /// Title, case-insensitively.
    Title,
}

/// How to order surveys; ties are broken by id in the same direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SurveyOrder {
    pub field: SurveyOrderField,
    pub direction: SortDirection,
}

impl Default for SurveyOrder {
    fn default() -> Self {
        Self {
            field: SurveyOrderField::CreatedAt,
            direction: SortDirection::Desc,
        }
    }
}

/// Validates `filter` and appends its conditions (`s` is `surveys`).
fn push_filter(sql: &mut Sql, filter: &SurveyFilter) -> DomainResult<()> {
    if let Some(status) = filter.status {
        sql.push(" AND s.status = ").bind(status.as_str());
    }
    if let Some(pattern) = contains_pattern("filter.text", filter.text.as_deref(), MAX_SEARCH_LEN)?
    {
        sql.push(" AND LOWER(s.title) LIKE ")
            .bind(pattern)
            .push(" ESCAPE '\\'");
    }
    Ok(())
}

fn check_points(field: &str, points: i64) -> DomainResult<()> {
    if !(0..=MAX_SURVEY_POINTS).contains(&points) {
        return Err(DomainError::validation(
            field,
            format!("must be between 0 and {MAX_SURVEY_POINTS}"),
        ));
    }
    Ok(())
}

/// Checks everything that needs no database; returns the normalised draft.
pub(crate) fn validate(draft: SurveyDraft) -> DomainResult<SurveyDraft> {
    let title = required_text("title", &draft.title, 200)?;
    let description = optional_text("description", draft.description.as_deref(), 4_000)?;
    let locale = optional_text("locale", draft.locale.as_deref(), 35)?
        .map(|l| super::locale::parse("locale", &l))
        .transpose()?;
    let thank_you = optional_text("thankYou", draft.thank_you.as_deref(), 4_000)?;
    if let (Some(open), Some(close)) = (draft.opens_at, draft.closes_at) {
        if close <= open {
            return Err(DomainError::validation("closesAt", "must be after opensAt"));
        }
    }
    check_points("incentivePoints", draft.incentive_points)?;
    check_points("helpfulBonusPoints", draft.helpful_bonus_points)?;
    if let Some(t) = draft.csi_threshold {
        if t < Decimal::ZERO || t > Decimal::ONE_HUNDRED {
            return Err(DomainError::validation(
                "csiThreshold",
                "must be between 0 and 100",
            ));
        }
    }
    if draft.questions.len() > MAX_QUESTIONS {
        return Err(DomainError::validation(
            "questions",
            format!("at most {MAX_QUESTIONS} questions"),
        ));
    }
    let mut factor_keys = HashSet::new();
    let mut overall_seen = false;
    let mut questions = Vec::with_capacity(draft.questions.len());
    for (i, q) in draft.questions.into_iter().enumerate() {
        let field = |name: &str| format!("questions.{i}.{name}");
        let text = required_text(&field("text"), &q.text, 1_000)?;
        let factor_key = if q.kind == QuestionKind::CsiFactor {
            let key = required_text(
                &field("factorKey"),
                q.factor_key.as_deref().unwrap_or(""),
                64,
            )?;
            if draft.factor_set_id.is_none() {
                return Err(DomainError::validation(
                    field("factorKey"),
                    "CSI_FACTOR questions need the survey's factorSetId",
                ));
            }
            if !factor_keys.insert(key.clone()) {
                return Err(DomainError::validation(
                    field("factorKey"),
                    "each factor may be asked only once per survey",
                ));
            }
            Some(key)
        } else {
            if q.factor_key
                .as_deref()
                .is_some_and(|k| !k.trim().is_empty())
            {
                return Err(DomainError::validation(
                    field("factorKey"),
                    "only CSI_FACTOR questions have a factor key",
                ));
            }
            None
        };
        let options = if q.kind.has_options() {
            if q.options.len() < 2 || q.options.len() > MAX_OPTIONS {
                return Err(DomainError::validation(
                    field("options"),
                    format!("needs between 2 and {MAX_OPTIONS} options"),
                ));
            }
            let mut seen = HashSet::new();
            let mut options = Vec::with_capacity(q.options.len());
            for (j, raw) in q.options.iter().enumerate() {
                let option = required_text(&format!("questions.{i}.options.{j}"), raw, 200)?;
                if !seen.insert(option.clone()) {
                    return Err(DomainError::validation(
                        format!("questions.{i}.options.{j}"),
                        "options must be unique",
                    ));
                }
                options.push(option);
            }
            options
        } else {
            if !q.options.is_empty() {
                return Err(DomainError::validation(
                    field("options"),
                    "only SINGLE_CHOICE and MULTIPLE_CHOICE questions have options",
                ));
            }
            Vec::new()
        };
        let max_length = if q.kind == QuestionKind::Text {
            let max = q.max_length.unwrap_or(DEFAULT_TEXT_LENGTH);
            if !(1..=MAX_TEXT_LENGTH).contains(&max) {
                return Err(DomainError::validation(
                    field("maxLength"),
                    format!("must be between 1 and {MAX_TEXT_LENGTH}"),
                ));
            }
            Some(max)
        } else {
            if q.max_length.is_some() {
                return Err(DomainError::validation(
                    field("maxLength"),
                    "only TEXT questions have a maximum length",
                ));
            }
            None
        };
        if q.overall_satisfaction {
            if q.kind != QuestionKind::Rating {
                return Err(DomainError::validation(
                    field("isOverallSatisfaction"),
                    "only a RATING question can be the overall satisfaction measure",
                ));
            }
            if overall_seen {
                return Err(DomainError::validation(
                    field("isOverallSatisfaction"),
                    "a survey has at most one overall satisfaction question",
                ));
            }
            overall_seen = true;
        }
        let settings = check_settings(i, q.kind, options.len(), q.settings)?;
        let last_page = questions.last().map_or(1, |p: &NewQuestion| p.page);
        if !(1..=MAX_PAGES).contains(&q.page) {
            return Err(DomainError::validation(
                field("page"),
                format!("must be between 1 and {MAX_PAGES}"),
            ));
        }
        if q.page < last_page || q.page > last_page + 1 || (i == 0 && q.page != 1) {
            return Err(DomainError::validation(
                field("page"),
                format!(
                    "pages start at 1 and follow the questions' order without gaps \
                     (the question before is on page {last_page})"
                ),
            ));
        }
        let show_when = q
            .show_when
            .map(|c| conditions::check(i, c, &questions))
            .transpose()?
            .map(ConditionInput::from);
        questions.push(NewQuestion {
            settings,
            page: q.page,
            text,
            required: q.required,
            kind: q.kind,
            factor_key,
            options,
            max_length,
            overall_satisfaction: q.overall_satisfaction,
            show_when,
        });
    }
    let hidden_fields = super::hidden_fields::check_keys(draft.hidden_fields)?;
    Ok(SurveyDraft {
        title,
        hidden_fields,
        description,
        locale,
        thank_you,
        questions,
        ..draft
    })
}

/// Checks the kind-specific definition of the `index`-th question
/// (`options` choice options): choice limits within 1..options with
/// min ≤ max, 2..20 unique matrix rows, date bounds in order, scale end
/// labels only on scale kinds. Errors name `questions.<index>.<minChoices|
/// maxChoices|rows[.<j>]|earliestDate|latestDate|minLabel|maxLabel>`.
fn check_settings(
    index: usize,
    kind: QuestionKind,
    options: usize,
    settings: QuestionSettings,
) -> DomainResult<QuestionSettings> {
    let field = |name: &str| format!("questions.{index}.{name}");
    let only = |name: &str, kinds: &str| {
        DomainError::validation(field(name), format!("only {kinds} questions have {name}"))
    };
    let mut out = QuestionSettings::default();
    if kind == QuestionKind::MultipleChoice {
        let options = i32::try_from(options).unwrap_or(i32::MAX);
        for (name, value) in [
            ("minChoices", settings.min_choices),
            ("maxChoices", settings.max_choices),
        ] {
            if value.is_some_and(|v| !(1..=options).contains(&v)) {
                return Err(DomainError::validation(
                    field(name),
                    format!("must be between 1 and the number of options ({options})"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (settings.min_choices, settings.max_choices) {
            if min > max {
                return Err(DomainError::validation(
                    field("maxChoices"),
                    "must be at least minChoices",
                ));
            }
        }
        out.min_choices = settings.min_choices;
        out.max_choices = settings.max_choices;
    } else if settings.min_choices.is_some() {
        return Err(only("minChoices", "MULTIPLE_CHOICE"));
    } else if settings.max_choices.is_some() {
        return Err(only("maxChoices", "MULTIPLE_CHOICE"));
    }
    if kind == QuestionKind::Matrix {
        if !(MIN_MATRIX_ROWS..=MAX_MATRIX_ROWS).contains(&settings.rows.len()) {
            return Err(DomainError::validation(
                field("rows"),
                format!("needs between {MIN_MATRIX_ROWS} and {MAX_MATRIX_ROWS} rows"),
            ));
        }
        let mut seen = HashSet::new();
        for (j, raw) in settings.rows.iter().enumerate() {
            let name = format!("questions.{index}.rows.{j}");
            let row = required_text(&name, raw, 200)?;
            if !seen.insert(row.clone()) {
                return Err(DomainError::validation(name, "rows must be unique"));
            }
            out.rows.push(row);
        }
    } else if !settings.rows.is_empty() {
        return Err(only("rows", "MATRIX"));
    }
    if kind == QuestionKind::Date {
        if let (Some(earliest), Some(latest)) = (settings.earliest, settings.latest) {
            if latest < earliest {
                return Err(DomainError::validation(
                    field("latestDate"),
                    "must not be before earliestDate",
                ));
            }
        }
        out.earliest = settings.earliest;
        out.latest = settings.latest;
    } else if settings.earliest.is_some() {
        return Err(only("earliestDate", "DATE"));
    } else if settings.latest.is_some() {
        return Err(only("latestDate", "DATE"));
    }
    for (name, value, slot) in [
        ("minLabel", settings.min_label, &mut out.min_label),
        ("maxLabel", settings.max_label, &mut out.max_label),
    ] {
        if kind.has_scale() {
            *slot = optional_text(&field(name), value.as_deref(), MAX_SCALE_LABEL)?;
        } else if value.is_some_and(|v| !v.trim().is_empty()) {
            return Err(only(name, "RATING, CSI_FACTOR, NPS and MATRIX"));
        }
    }
    Ok(out)
}

/// A survey cannot bind to a version its family has replaced: it stays
/// reportable, but new surveys take the family's current version.
fn refuse_superseded(set: &csi_factor_sets::Model) -> DomainResult<()> {
    if set.status == "SUPERSEDED" {
        return Err(DomainError::validation(
            "factorSetId",
            format!(
                "CSI factor set {} version {} is SUPERSEDED by a newer version of its family; \
                 bind the family's current version (CsiFactorSet.currentVersion)",
                set.id, set.version
            ),
        ));
    }
    Ok(())
}

/// Checks the referenced factor set and programme exist.
async fn check_references(db: &impl ConnectionTrait, draft: &SurveyDraft) -> DomainResult<()> {
    if let Some(id) = draft.factor_set_id {
        let set = csi_factor_sets::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| DomainError::validation("factorSetId", "no such CSI factor set"))?;
        refuse_superseded(&set)?;
    }
    if let Some(id) = draft.program_id {
        if loyalty_programs::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_none()
        {
            return Err(DomainError::validation(
                "loyaltyProgramId",
                "no such loyalty programme",
            ));
        }
    }
    Ok(())
}

async fn insert_questions(
    db: &impl ConnectionTrait,
    survey_id: i64,
    questions: &[NewQuestion],
) -> DomainResult<()> {
    if questions.is_empty() {
        return Ok(());
    }
    let rows = questions
        .iter()
        .enumerate()
        .map(|(i, q)| survey_questions::ActiveModel {
            survey_id: Set(survey_id),
            position: Set(i as i32 + 1),
            text: Set(q.text.clone()),
            required: Set(q.required),
            kind: Set(q.kind.as_str().to_owned()),
            factor_key: Set(q.factor_key.clone()),
            options: Set(q
                .kind
                .has_options()
                .then(|| serde_json::to_string(&q.options).unwrap_or_default())),
            max_length: Set(q.max_length),
            overall_satisfaction: Set(q.overall_satisfaction),
            show_when: Set(q.show_when.as_ref().map(conditions::to_json)),
            settings: Set(q.settings.to_json()),
            page: Set(q.page),
            ..Default::default()
        });
    survey_questions::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Loads surveys with their questions and factor-set scales in three queries.
pub(crate) async fn hydrate(
    db: &impl ConnectionTrait,
    models: Vec<surveys::Model>,
) -> DomainResult<Vec<Survey>> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let set_ids: Vec<i64> = models.iter().filter_map(|m| m.factor_set_id).collect();
    let mut translations = super::translations::for_surveys(db, &ids).await?;
    let mut questions: HashMap<i64, Vec<survey_questions::Model>> = HashMap::new();
    for q in survey_questions::Entity::find()
        .filter(survey_questions::Column::SurveyId.is_in(ids))
        .all(db)
        .await?
    {
        questions.entry(q.survey_id).or_default().push(q);
    }
    let scales: HashMap<i64, (i32, i32)> = if set_ids.is_empty() {
        HashMap::new()
    } else {
        csi_factor_sets::Entity::find()
            .filter(csi_factor_sets::Column::Id.is_in(set_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, (s.scale_min, s.scale_max)))
            .collect()
    };
    models
        .into_iter()
        .map(|m| {
            let scale = m.factor_set_id.and_then(|id| scales.get(&id).copied());
            let qs = questions.remove(&m.id).unwrap_or_default();
            let ts = translations.remove(&m.id).unwrap_or_default();
            Survey::from_rows(m, qs, scale, ts)
        })
        .collect()
}

/// Loads one survey with its questions.
///
/// # Errors
/// `NOT_FOUND` when it does not exist.
pub(crate) async fn question(db: &impl ConnectionTrait, id: i64) -> DomainResult<Option<Question>> {
    let Some(row) = survey_questions::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    // The survey gives the question its scale; read it the one way surveys are read.
    let survey = load(db, row.survey_id).await.found()?;
    Ok(survey.and_then(|s| s.questions.into_iter().find(|q| q.id == id)))
}

/// Columns (each starting with `, `) that read the questions, translations
/// and CSI scale of the survey row aliased `s`, as JSON rows, in the
/// statement that reads that row: [`from_columns`] builds the survey from
/// them, as [`hydrate`] does from three more statements.
pub(crate) fn parts_columns(backend: DbBackend) -> String {
    let mut sql = Sql::new(backend);
    sql.push(", ");
    push_json_rows(
        &mut sql,
        "q.id, q.survey_id, q.position, q.text, CAST(q.required AS INTEGER), q.kind, \
         q.factor_key, q.options, q.max_length, CAST(q.overall_satisfaction AS INTEGER), \
         q.show_when, q.settings, q.page",
        |sql| {
            sql.push("FROM survey_questions q WHERE q.survey_id = s.id");
        },
        "q.position, q.id",
    );
    sql.push(" AS s_questions, ");
    push_json_rows(
        &mut sql,
        "t.locale, t.title, t.description, t.thank_you, t.questions, t.updated_at",
        |sql| {
            sql.push("FROM survey_translations t WHERE t.survey_id = s.id");
        },
        "t.locale",
    );
    sql.push(
        " AS s_translations, \
         (SELECT fs.scale_min FROM csi_factor_sets fs WHERE fs.id = s.factor_set_id) AS s_scale_min, \
         (SELECT fs.scale_max FROM csi_factor_sets fs WHERE fs.id = s.factor_set_id) AS s_scale_max",
    );
    sql.build().sql
}

/// A question as [`parts_columns`] reads it.
type QuestionRow = (
    i64,
    i64,
    i32,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i32>,
    i64,
    Option<String>,
    Option<String>,
    i32,
);

/// The survey of a row holding its columns (prefixed `s_`) and its
/// [`parts_columns`].
///
/// # Errors
/// `INTERNAL` when a stored part is not what was written.
pub(crate) fn from_columns(row: &QueryResult) -> DomainResult<Survey> {
    let model = surveys::Model::from_query_result(row, "s_")?;
    let questions =
        json_rows::<QuestionRow>(row.try_get::<Option<String>>("", "s_questions")?.as_deref())?
            .into_iter()
            .map(|q| survey_questions::Model {
                id: q.0,
                survey_id: q.1,
                position: q.2,
                text: q.3,
                required: q.4 != 0,
                kind: q.5,
                factor_key: q.6,
                options: q.7,
                max_length: q.8,
                overall_satisfaction: q.9 != 0,
                show_when: q.10,
                settings: q.11,
                page: q.12,
            })
            .collect();
    type TranslationRow = (
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let translations = json_rows::<TranslationRow>(
        row.try_get::<Option<String>>("", "s_translations")?
            .as_deref(),
    )?
    .into_iter()
    .map(|t| {
        super::translations::from_row(survey_translations::Model {
            survey_id: model.id,
            locale: t.0,
            title: t.1,
            description: t.2,
            thank_you: t.3,
            questions: t.4,
            updated_at: json_time(&t.5)?,
        })
    })
    .collect::<DomainResult<Vec<_>>>()?;
    let scale = match (
        row.try_get::<Option<i32>>("", "s_scale_min")?,
        row.try_get::<Option<i32>>("", "s_scale_max")?,
    ) {
        (Some(min), Some(max)) => Some((min, max)),
        _ => None,
    };
    Survey::from_rows(model, questions, scale, translations)
}

pub(crate) async fn load(db: &impl ConnectionTrait, id: i64) -> DomainResult<Survey> {
    let model = surveys::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("survey"))?;
    hydrate(db, vec![model])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("survey"))
}

/// Surveys by id with their questions (three statements): the batch
/// function behind links to a survey. Missing ids are absent from the map.
///
/// # Errors
/// Database failures.
pub async fn surveys_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Survey>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let models = surveys::Entity::find()
        .filter(surveys::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(hydrate(db, models)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

/// Inserts a validated DRAFT survey with its questions and loads it back.
pub(crate) async fn create_survey(
    txn: &impl ConnectionTrait,
    actor_id: i64,
    draft: SurveyDraft,
) -> DomainResult<Survey> {
    check_references(txn, &draft).await?;
    let now = Utc::now();
    let model = surveys::ActiveModel {
        title: Set(draft.title.clone()),
        description: Set(draft.description.clone()),
        locale: Set(draft.locale.clone()),
        thank_you: Set(draft.thank_you.clone()),
        hidden_fields: Set(super::hidden_fields::keys_to_json(&draft.hidden_fields)),
        status: Set(SurveyStatus::Draft.as_str().to_owned()),
        opens_at: Set(draft.opens_at),
        closes_at: Set(draft.closes_at),
        factor_set_id: Set(draft.factor_set_id),
        program_id: Set(draft.program_id),
        incentive_points: Set(draft.incentive_points),
        helpful_bonus_points: Set(draft.helpful_bonus_points),
        csi_threshold: Set(draft.csi_threshold.map(|d| d.normalize().to_string())),
        created_by: Set(Some(actor_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    insert_questions(txn, model.id, &draft.questions).await?;
    let survey = load(txn, model.id).await?;
    Ok(survey)
}

/// Applies a patch to a DRAFT survey and loads it back.
pub(crate) async fn update_survey(
    txn: &impl ConnectionTrait,
    id: i64,
    patch: SurveyPatch,
) -> DomainResult<Survey> {
    let current = load(txn, id).await?;
    if current.status != SurveyStatus::Draft {
        return Err(DomainError::conflict("only a DRAFT survey can be changed"));
    }
    let replace_questions = patch.questions.is_some();
    let draft = validate(SurveyDraft {
        title: patch.title.unwrap_or(current.title),
        description: patch.description.unwrap_or(current.description),
        locale: patch.locale.unwrap_or(current.locale),
        thank_you: patch.thank_you.unwrap_or(current.thank_you),
        opens_at: patch.opens_at.unwrap_or(current.opens_at),
        closes_at: patch.closes_at.unwrap_or(current.closes_at),
        factor_set_id: patch.factor_set_id.unwrap_or(current.factor_set_id),
        program_id: patch.program_id.unwrap_or(current.program_id),
        incentive_points: patch.incentive_points.unwrap_or(current.incentive_points),
        helpful_bonus_points: patch
            .helpful_bonus_points
            .unwrap_or(current.helpful_bonus_points),
        csi_threshold: patch.csi_threshold.unwrap_or(current.csi_threshold),
        questions: patch.questions.unwrap_or_else(|| {
            current
                .questions
                .into_iter()
                .map(|q| NewQuestion {
                    text: q.text,
                    required: q.required,
                    kind: q.kind,
                    factor_key: q.factor_key,
                    options: q.options,
                    max_length: q.max_length,
                    overall_satisfaction: q.overall_satisfaction,
                    show_when: q.show_when.map(ConditionInput::from),
                    settings: q.settings,
                    page: q.page,
                })
                .collect()
        }),
        hidden_fields: patch.hidden_fields.unwrap_or(current.hidden_fields),
    })?;
    check_references(txn, &draft).await?;
    let updated = surveys::Entity::update_many()
        .col_expr(surveys::Column::Title, Expr::value(draft.title.clone()))
        .col_expr(
            surveys::Column::Description,
            Expr::value(draft.description.clone()),
        )
        .col_expr(surveys::Column::Locale, Expr::value(draft.locale.clone()))
        .col_expr(
            surveys::Column::ThankYou,
            Expr::value(draft.thank_you.clone()),
        )
        .col_expr(
            surveys::Column::HiddenFields,
            Expr::value(super::hidden_fields::keys_to_json(&draft.hidden_fields)),
        )
        .col_expr(surveys::Column::OpensAt, Expr::value(draft.opens_at))
        .col_expr(surveys::Column::ClosesAt, Expr::value(draft.closes_at))
        .col_expr(
            surveys::Column::FactorSetId,
            Expr::value(draft.factor_set_id),
        )
        .col_expr(surveys::Column::ProgramId, Expr::value(draft.program_id))
        .col_expr(
            surveys::Column::IncentivePoints,
            Expr::value(draft.incentive_points),
        )
        .col_expr(
            surveys::Column::HelpfulBonusPoints,
            Expr::value(draft.helpful_bonus_points),
        )
        .col_expr(
            surveys::Column::CsiThreshold,
            Expr::value(draft.csi_threshold.map(|d| d.normalize().to_string())),
        )
        .col_expr(surveys::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(surveys::Column::Id.eq(id))
        .filter(surveys::Column::Status.eq(SurveyStatus::Draft.as_str()))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(DomainError::conflict("only a DRAFT survey can be changed"));
    }
    if replace_questions {
        survey_questions::Entity::delete_many()
            .filter(survey_questions::Column::SurveyId.eq(id))
            .exec(txn)
            .await?;
        insert_questions(txn, id, &draft.questions).await?;
    }
    let survey = load(txn, id).await?;
    Ok(survey)
}

/// Checks a DRAFT survey is complete and makes it ACTIVE; loads it back.
pub(crate) async fn publish_survey(txn: &impl ConnectionTrait, id: i64) -> DomainResult<Survey> {
    let survey = load(txn, id).await?;
    if survey.status != SurveyStatus::Draft {
        return Err(DomainError::conflict(
            "only a DRAFT survey can be published",
        ));
    }
    if survey.questions.is_empty() {
        return Err(DomainError::validation(
            "questions",
            "a survey needs at least one question to be published",
        ));
    }
    if let Some(set_id) = survey.factor_set_id {
        let set = csi_factor_sets::Entity::find_by_id(set_id)
            .one(txn)
            .await?
            .ok_or_else(|| DomainError::validation("factorSetId", "no such CSI factor set"))?;
        refuse_superseded(&set)?;
        if set.status != "PUBLISHED" {
            return Err(DomainError::validation(
                "factorSetId",
                "the CSI factor set must be a PUBLISHED version",
            ));
        }
        let keys: HashSet<String> = csi_factors::Entity::find()
            .filter(csi_factors::Column::FactorSetId.eq(set_id))
            .all(txn)
            .await?
            .into_iter()
            .map(|f| f.key)
            .collect();
        for (i, q) in survey.questions.iter().enumerate() {
            if let Some(key) = &q.factor_key {
                if !keys.contains(key) {
                    return Err(DomainError::validation(
                        format!("questions.{i}.factorKey"),
                        format!("{key:?} is not a factor of the survey's factor set"),
                    ));
                }
            }
        }
    }
    if let Some(program_id) = survey.program_id {
        if loyalty_programs::Entity::find_by_id(program_id)
            .one(txn)
            .await?
            .is_none()
        {
            return Err(DomainError::validation(
                "loyaltyProgramId",
                "no such loyalty programme",
            ));
        }
    }
    super::translations::check_publishable(&survey)?;
    set_status(txn, id, SurveyStatus::Draft, SurveyStatus::Active).await?;
    let survey = load(txn, id).await?;
    Ok(survey)
}

/// Closes a DRAFT or ACTIVE survey and loads it back.
pub(crate) async fn close_survey(txn: &impl ConnectionTrait, id: i64) -> DomainResult<Survey> {
    let survey = load(txn, id).await?;
    if survey.status == SurveyStatus::Closed {
        return Err(DomainError::conflict("the survey is already closed"));
    }
    set_status(txn, id, survey.status, SurveyStatus::Closed).await?;
    let survey = load(txn, id).await?;
    Ok(survey)
}

async fn set_status(
    db: &impl ConnectionTrait,
    id: i64,
    from: SurveyStatus,
    to: SurveyStatus,
) -> DomainResult<()> {
    let done = surveys::Entity::update_many()
        .col_expr(surveys::Column::Status, Expr::value(to.as_str()))
        .col_expr(surveys::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(surveys::Column::Id.eq(id))
        .filter(surveys::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(DomainError::conflict("the survey changed meanwhile; retry"));
    }
    Ok(())
}

/// A page of surveys, filtered and ordered.
pub(crate) async fn surveys(
    db: &DatabaseConnection,
    filter: &SurveyFilter,
    order: SurveyOrder,
    page: &PageRequest<OrderCursor>,
) -> DomainResult<Page<Survey>> {
    let (key, kind) = match order.field {
        SurveyOrderField::CreatedAt => ("s.created_at", KeyKind::Time),
        SurveyOrderField::Title => ("LOWER(s.title)", KeyKind::Text),
    };
    let ordering = Ordering {
        tag: format!("surveys:{:?}:{:?}", order.field, order.direction),
        key,
        id: "s.id",
        kind,
        direction: order.direction,
    };
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT s.*, ")
        .push(key)
        .push(" AS sort_key FROM surveys s WHERE 1 = 1");
    push_filter(&mut sql, filter)?;
    let field = order.field;
    let rows = keyset::page(
        db,
        sql,
        &ordering,
        page,
        |row, m: &surveys::Model| {
            Ok(match field {
                SurveyOrderField::CreatedAt => time_key(m.created_at),
                SurveyOrderField::Title => SortKey::Text(row.try_get::<String>("", "sort_key")?),
            })
        },
        |m| m.id,
    )
    .await?;
    let cursors: Vec<String> = rows.items.iter().map(|(c, _)| c.clone()).collect();
    let models = rows.items.into_iter().map(|(_, m)| m).collect();
    let items = hydrate(db, models).await?;
    Ok(Page {
        items: cursors.into_iter().zip(items).collect(),
        has_previous_page: rows.has_previous_page,
        has_next_page: rows.has_next_page,
    })
}

/// How many surveys match `filter`.
pub(crate) async fn count(db: &DatabaseConnection, filter: &SurveyFilter) -> DomainResult<i64> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM surveys s WHERE 1 = 1");
    push_filter(&mut sql, filter)?;
    keyset::count(db, sql).await
}
