//! Conditional display: a question shown only when an earlier question's
//! answer matches a condition (one of some options, a rating within a range,
//! one matrix row's rating within a range, or a date after and/or before
//! given days).
//!
//! A condition names an earlier question by its position, checked when the
//! survey is written. At submission ([`hidden_questions`]) a question whose
//! condition is false — its earlier question unanswered, hidden itself, or
//! answered otherwise — is not required, and an answer to it is refused
//! (`BAD_USER_INPUT` naming the question) rather than silently dropped: a
//! client that sends one shows its respondent something the survey does not.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{Question, QuestionKind, MATRIX_SCALE, NPS_SCALE, RATING_SCALE};
use super::surveys::{NewQuestion, MAX_OPTIONS};
use crate::error::{DomainError, DomainResult};

/// A stored display condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The 1-based position of the earlier question tested.
    pub position: i32,
    /// The id of that question (filled in when the survey is read).
    #[serde(skip)]
    pub question_id: i64,
    /// For a choice question: shown when any of these options was chosen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<String>,
    /// For a rated question: shown when the rating is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_min: Option<i32>,
    /// For a rated question: shown when the rating is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_max: Option<i32>,
    /// For a MATRIX question: the 1-based row whose rating
    /// `rating_min`..`rating_max` test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_row: Option<i32>,
    /// For a DATE question: shown when the date is after this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_after: Option<NaiveDate>,
    /// For a DATE question: shown when the date is before this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_before: Option<NaiveDate>,
}

/// A condition as staff write it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionInput {
    /// The 1-based position of an earlier question.
    pub position: i32,
    /// Shorthand for `any_of` with one option.
    pub equals: Option<String>,
    pub any_of: Option<Vec<String>>,
    pub rating_min: Option<i32>,
    pub rating_max: Option<i32>,
    /// For a MATRIX question: the 1-based row tested.
    pub matrix_row: Option<i32>,
    pub date_after: Option<NaiveDate>,
    pub date_before: Option<NaiveDate>,
}

impl From<Condition> for ConditionInput {
    fn from(c: Condition) -> Self {
        Self {
            position: c.position,
            equals: None,
            any_of: (!c.any_of.is_empty()).then_some(c.any_of),
            rating_min: c.rating_min,
            rating_max: c.rating_max,
            matrix_row: c.matrix_row,
            date_after: c.date_after,
            date_before: c.date_before,
        }
    }
}

/// Checks the condition of the `index`-th question (0-based) against the
/// questions before it. Errors name `questions.<index>.showWhen[.<field>]`.
pub(crate) fn check(
    index: usize,
    input: ConditionInput,
    earlier: &[NewQuestion],
) -> DomainResult<Condition> {
    let field = |name: &str| {
        if name.is_empty() {
            format!("questions.{index}.showWhen")
        } else {
            format!("questions.{index}.showWhen.{name}")
        }
    };
    let Some(target) = usize::try_from(input.position)
        .ok()
        .filter(|p| (1..=earlier.len()).contains(p))
        .map(|p| &earlier[p - 1])
    else {
        let reason = if earlier.is_empty() {
            "the first question cannot have a condition".to_owned()
        } else {
            format!(
                "must name an earlier question, by position (1..{})",
                earlier.len()
            )
        };
        return Err(DomainError::validation(field("questionPosition"), reason));
    };
    let label = format!("question {}", input.position);
    let has_choices = input.equals.is_some() || input.any_of.is_some();
    let has_ratings = input.rating_min.is_some() || input.rating_max.is_some();
    let has_dates = input.date_after.is_some() || input.date_before.is_some();
    if input.matrix_row.is_some() && target.kind != QuestionKind::Matrix {
        return Err(DomainError::validation(
            field("matrixRow"),
            format!("{label} is not a MATRIX question"),
        ));
    }
    if has_dates && target.kind != QuestionKind::Date {
        let name = if input.date_after.is_some() {
            "dateAfter"
        } else {
            "dateBefore"
        };
        return Err(DomainError::validation(
            field(name),
            format!("{label} is not a DATE question"),
        ));
    }
    if input.equals.is_some() && input.any_of.is_some() {
        return Err(DomainError::validation(
            field(""),
            "give equals or anyOf, not both",
        ));
    }
    let mut condition = Condition {
        position: input.position,
        question_id: 0,
        any_of: Vec::new(),
        rating_min: None,
        rating_max: None,
        matrix_row: None,
        date_after: None,
        date_before: None,
    };
    if target.kind.has_options() {
        if has_ratings {
            return Err(DomainError::validation(
                field("ratingMin"),
                format!("{label} has options: test them with equals or anyOf"),
            ));
        }
        let (name, values) = match (input.equals, input.any_of) {
            (Some(one), _) => ("equals", vec![one]),
            (None, Some(many)) => ("anyOf", many),
            (None, None) => ("anyOf", Vec::new()),
        };
        if values.is_empty() || values.len() > MAX_OPTIONS {
            return Err(DomainError::validation(
                field(name),
                format!("name between 1 and {MAX_OPTIONS} options of {label}"),
            ));
        }
        for value in values {
            if !target.options.contains(&value) {
                return Err(DomainError::validation(
                    field(name),
                    format!("{value:?} is not an option of {label}"),
                ));
            }
            if !condition.any_of.contains(&value) {
                condition.any_of.push(value);
            }
        }
    } else if target.kind.is_rated() || target.kind == QuestionKind::Matrix {
        if has_choices {
            return Err(DomainError::validation(
                field("anyOf"),
                format!("{label} is rated: test it with ratingMin and ratingMax"),
            ));
        }
        if target.kind == QuestionKind::Matrix {
            let rows = target.settings.rows.len();
            let row = input
                .matrix_row
                .filter(|r| usize::try_from(*r).is_ok_and(|r| (1..=rows).contains(&r)));
            if row.is_none() {
                return Err(DomainError::validation(
                    field("matrixRow"),
                    format!("name a row of {label}, by number (1..{rows})"),
                ));
            }
            condition.matrix_row = row;
        }
        if !has_ratings {
            return Err(DomainError::validation(
                field("ratingMin"),
                "give ratingMin, ratingMax or both",
            ));
        }
        if let (Some(min), Some(max)) = (input.rating_min, input.rating_max) {
            if min > max {
                return Err(DomainError::validation(
                    field("ratingMax"),
                    "must be at least ratingMin",
                ));
            }
        }
        // CSI_FACTOR scales come from the factor set; they are tested at
        // submission like any other rating.
        let scale = match target.kind {
            QuestionKind::Rating => Some(RATING_SCALE),
            QuestionKind::Nps => Some(NPS_SCALE),
            QuestionKind::Matrix => Some(MATRIX_SCALE),
            _ => None,
        };
        if let Some((lo, hi)) = scale {
            for (name, value) in [
                ("ratingMin", input.rating_min),
                ("ratingMax", input.rating_max),
            ] {
                if value.is_some_and(|v| !(lo..=hi).contains(&v)) {
                    return Err(DomainError::validation(
                        field(name),
                        format!("{label} is rated from {lo} to {hi}"),
                    ));
                }
            }
        }
        condition.rating_min = input.rating_min;
        condition.rating_max = input.rating_max;
    } else if target.kind == QuestionKind::Date {
        if has_choices || has_ratings {
            let name = if has_choices { "anyOf" } else { "ratingMin" };
            return Err(DomainError::validation(
                field(name),
                format!("{label} is a date: test it with dateAfter and dateBefore"),
            ));
        }
        if !has_dates {
            return Err(DomainError::validation(
                field("dateAfter"),
                "give dateAfter, dateBefore or both",
            ));
        }
        if let (Some(after), Some(before)) = (input.date_after, input.date_before) {
            if after.succ_opt().is_none_or(|next| before <= next) {
                return Err(DomainError::validation(
                    field("dateBefore"),
                    "must leave at least one day after dateAfter",
                ));
            }
        }
        condition.date_after = input.date_after;
        condition.date_before = input.date_before;
    } else {
        return Err(DomainError::validation(
            field("questionPosition"),
            format!(
                "{label} is a {} question; a condition can test a choice, rated, matrix or date question",
                target.kind.as_str()
            ),
        ));
    }
    Ok(condition)
}

/// The stored form of a condition that passed [`check`].
pub(crate) fn to_json(checked: &ConditionInput) -> String {
    let condition = Condition {
        position: checked.position,
        question_id: 0,
        any_of: checked
            .any_of
            .iter()
            .flatten()
            .chain(checked.equals.iter())
            .cloned()
            .collect(),
        rating_min: checked.rating_min,
        rating_max: checked.rating_max,
        matrix_row: checked.matrix_row,
        date_after: checked.date_after,
        date_before: checked.date_before,
    };
    serde_json::to_string(&condition).unwrap_or_default()
}

/// Fills in each condition's `question_id` from the positions of `questions`
/// (sorted by position).
pub(crate) fn link(questions: &mut [Question]) {
    let ids: HashMap<i32, i64> = questions.iter().map(|q| (q.position, q.id)).collect();
    for q in questions {
        if let Some(c) = &mut q.show_when {
            c.question_id = ids.get(&c.position).copied().unwrap_or_default();
        }
    }
}

/// What one answer gave, as far as conditions look at it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Given<'a> {
    pub rating: Option<i32>,
    pub choices: &'a [String],
    /// A MATRIX answer's ratings, one per row.
    pub row_ratings: &'a [Option<i32>],
    pub date: Option<NaiveDate>,
}

impl Condition {
    /// Whether the condition holds for the tested question's answer (`None`
    /// when it was not answered).
    pub(crate) fn holds(&self, given: Option<Given<'_>>) -> bool {
        let Some(given) = given else {
            return false;
        };
        if !self.any_of.is_empty() {
            return given.choices.iter().any(|c| self.any_of.contains(c));
        }
        if self.date_after.is_some() || self.date_before.is_some() {
            return given.date.is_some_and(|d| {
                self.date_after.is_none_or(|after| after < d)
                    && self.date_before.is_none_or(|before| d < before)
            });
        }
        let rating = match self.matrix_row {
            Some(row) => usize::try_from(row - 1)
                .ok()
                .and_then(|i| given.row_ratings.get(i).copied().flatten()),
            None => given.rating,
        };
        rating.is_some_and(|r| {
            self.rating_min.is_none_or(|min| min <= r) && self.rating_max.is_none_or(|max| r <= max)
        })
    }
}

/// The ids of the questions not shown for `answers` (by question id): those
/// whose condition is false, in position order so a question depending on a
/// hidden one is hidden too.
pub(crate) fn hidden_questions(
    questions: &[Question],
    answers: &HashMap<i64, Given<'_>>,
) -> HashSet<i64> {
    let by_position: HashMap<i32, i64> = questions.iter().map(|q| (q.position, q.id)).collect();
    let mut hidden = HashSet::new();
    for q in questions {
        let Some(condition) = &q.show_when else {
            continue;
        };
        let shown = by_position
            .get(&condition.position)
            .filter(|id| !hidden.contains(*id))
            .is_some_and(|id| condition.holds(answers.get(id).copied()));
        if !shown {
            hidden.insert(q.id);
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_question(kind: QuestionKind, options: &[&str]) -> NewQuestion {
        NewQuestion {
            text: "q".into(),
            required: false,
            kind,
            factor_key: None,
            options: options.iter().map(|s| (*s).to_owned()).collect(),
            max_length: None,
            overall_satisfaction: false,
            show_when: None,
            settings: Default::default(),
            page: 1,
        }
    }

    fn field_of(result: DomainResult<Condition>) -> Option<String> {
        match result {
            Err(DomainError::Validation { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn conditions_must_test_an_earlier_question_fittingly() {
        let earlier = vec![
            new_question(QuestionKind::Rating, &[]),
            new_question(QuestionKind::SingleChoice, &["Yes", "No"]),
            new_question(QuestionKind::Text, &[]),
        ];
        let on = |position: i32| ConditionInput {
            position,
            ..Default::default()
        };
        let cases = [
            (
                "self or later",
                on(4),
                3,
                "questions.3.showWhen.questionPosition",
            ),
            ("zero", on(0), 3, "questions.3.showWhen.questionPosition"),
            ("first", on(1), 0, "questions.0.showWhen.questionPosition"),
            (
                "text target",
                on(3),
                3,
                "questions.3.showWhen.questionPosition",
            ),
            ("no test", on(1), 3, "questions.3.showWhen.ratingMin"),
            (
                "rating out of scale",
                ConditionInput {
                    rating_max: Some(6),
                    ..on(1)
                },
                3,
                "questions.3.showWhen.ratingMax",
            ),
            (
                "min above max",
                ConditionInput {
                    rating_min: Some(4),
                    rating_max: Some(2),
                    ..on(1)
                },
                3,
                "questions.3.showWhen.ratingMax",
            ),
            (
                "options on a rating",
                ConditionInput {
                    equals: Some("Yes".into()),
                    ..on(1)
                },
                3,
                "questions.3.showWhen.anyOf",
            ),
            (
                "unknown option",
                ConditionInput {
                    equals: Some("Maybe".into()),
                    ..on(2)
                },
                3,
                "questions.3.showWhen.equals",
            ),
            (
                "both forms",
                ConditionInput {
                    equals: Some("Yes".into()),
                    any_of: Some(vec!["No".into()]),
                    ..on(2)
                },
                3,
                "questions.3.showWhen",
            ),
            (
                "ratings on options",
                ConditionInput {
                    rating_min: Some(1),
                    ..on(2)
                },
                3,
                "questions.3.showWhen.ratingMin",
            ),
        ];
        for (why, input, index, field) in cases {
            let earlier = &earlier[..index.min(earlier.len())];
            assert_eq!(
                field_of(check(index, input, earlier)).as_deref(),
                Some(field),
                "{why}"
            );
        }
        let ok = check(
            3,
            ConditionInput {
                any_of: Some(vec!["No".into(), "No".into()]),
                ..on(2)
            },
            &earlier,
        )
        .expect("valid");
        assert_eq!(ok.any_of, vec!["No".to_owned()]);
    }

    #[test]
    fn a_question_behind_a_hidden_one_is_hidden() {
        let question = |id: i64, show_when: Option<Condition>| Question {
            id,
            position: id as i32,
            text: String::new(),
            required: false,
            kind: QuestionKind::Rating,
            factor_key: None,
            options: Vec::new(),
            option_labels: Vec::new(),
            max_length: None,
            scale: Some(RATING_SCALE),
            overall_satisfaction: false,
            show_when,
            settings: Default::default(),
            row_labels: Vec::new(),
            page: 1,
        };
        let low = |position: i32| Condition {
            position,
            question_id: position.into(),
            any_of: Vec::new(),
            rating_min: None,
            rating_max: Some(2),
            matrix_row: None,
            date_after: None,
            date_before: None,
        };
        let questions = vec![
            question(1, None),
            question(2, Some(low(1))),
            question(3, Some(low(2))),
        ];
        let rated = |r: i32| Given {
            rating: Some(r),
            choices: &[],
            row_ratings: &[],
            date: None,
        };
        let happy = HashMap::from([(1, rated(5))]);
        assert_eq!(hidden_questions(&questions, &happy), HashSet::from([2, 3]));
        let unhappy = HashMap::from([(1, rated(1)), (2, rated(4))]);
        assert_eq!(hidden_questions(&questions, &unhappy), HashSet::from([3]));
        let both = HashMap::from([(1, rated(1)), (2, rated(2))]);
        assert!(hidden_questions(&questions, &both).is_empty());
    }

    fn day(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn matrix_and_date_conditions_name_a_row_or_days() {
        let mut matrix = new_question(QuestionKind::Matrix, &[]);
        matrix.settings.rows = vec!["Staff".into(), "Price".into()];
        let earlier = vec![
            matrix,
            new_question(QuestionKind::Date, &[]),
            new_question(QuestionKind::Rating, &[]),
        ];
        let on = |position: i32| ConditionInput {
            position,
            ..Default::default()
        };
        let cases = [
            (
                "a matrix without a row",
                ConditionInput {
                    rating_max: Some(2),
                    ..on(1)
                },
                "questions.3.showWhen.matrixRow",
            ),
            (
                "row 3 of two",
                ConditionInput {
                    matrix_row: Some(3),
                    rating_max: Some(2),
                    ..on(1)
                },
                "questions.3.showWhen.matrixRow",
            ),
            (
                "a matrix row without ratings",
                ConditionInput {
                    matrix_row: Some(2),
                    ..on(1)
                },
                "questions.3.showWhen.ratingMin",
            ),
            (
                "a matrix rating off the scale",
                ConditionInput {
                    matrix_row: Some(2),
                    rating_min: Some(0),
                    ..on(1)
                },
                "questions.3.showWhen.ratingMin",
            ),
            (
                "a row on a rating",
                ConditionInput {
                    matrix_row: Some(1),
                    rating_min: Some(4),
                    ..on(3)
                },
                "questions.3.showWhen.matrixRow",
            ),
            (
                "a date without days",
                on(2),
                "questions.3.showWhen.dateAfter",
            ),
            (
                "ratings on a date",
                ConditionInput {
                    rating_min: Some(1),
                    ..on(2)
                },
                "questions.3.showWhen.ratingMin",
            ),
            (
                "no day between",
                ConditionInput {
                    date_after: Some(day("2026-03-01")),
                    date_before: Some(day("2026-03-02")),
                    ..on(2)
                },
                "questions.3.showWhen.dateBefore",
            ),
            (
                "days on a rating",
                ConditionInput {
                    date_before: Some(day("2026-03-02")),
                    ..on(3)
                },
                "questions.3.showWhen.dateBefore",
            ),
        ];
        for (why, input, field) in cases {
            assert_eq!(
                field_of(check(3, input, &earlier)).as_deref(),
                Some(field),
                "{why}"
            );
        }
        let row = check(
            3,
            ConditionInput {
                matrix_row: Some(2),
                rating_max: Some(2),
                ..on(1)
            },
            &earlier,
        )
        .expect("valid");
        let given = |row_ratings: &'static [Option<i32>], date: Option<NaiveDate>| Given {
            rating: None,
            choices: &[],
            row_ratings,
            date,
        };
        assert!(row.holds(Some(given(&[Some(5), Some(2)], None))));
        assert!(!row.holds(Some(given(&[Some(1), Some(3)], None))));
        assert!(!row.holds(Some(given(&[Some(1), None], None))));
        assert!(!row.holds(None));
        let march = check(
            3,
            ConditionInput {
                date_after: Some(day("2026-02-28")),
                date_before: Some(day("2026-04-01")),
                ..on(2)
            },
            &earlier,
        )
        .expect("valid");
        for (raw, shown) in [
            ("2026-02-28", false),
            ("2026-03-01", true),
            ("2026-03-31", true),
            ("2026-04-01", false),
        ] {
            assert_eq!(
                march.holds(Some(given(&[], Some(day(raw))))),
                shown,
                "{raw}"
            );
        }
        assert!(!march.holds(Some(given(&[], None))));
    }
}
