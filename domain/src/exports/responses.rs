//! The responses of one survey: one record per response, one column per
//! question, then the response's CSI, its NPS answer and category, whether
//! its satisfaction rating counts as satisfied (CSAT) and the helpful mark,
//! and last one column per hidden field the survey declares (`Hidden: <key>`,
//! guarded like any text customers or staff wrote).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::csv::Line;
use super::{instant, Page, Record};
use crate::error::DomainResult;
use crate::feedback::hidden_fields::parse_values;
use crate::feedback::{Answer, QuestionKind, Survey};
use crate::sql::Sql;
use entity::{survey_answers, survey_responses};

/// Ratings at or above this on the 1..5 scale count as satisfied (CSAT,
/// SPEC §4: the share of 4–5 ratings).
const CSAT_SATISFIED_FROM: i32 = 4;

/// The columns of one survey's export.
pub(crate) struct Layout {
    survey: Survey,
    /// The question whose answer fills the NPS columns: the first NPS one.
    nps_question: Option<i64>,
    /// The question whose answer fills the CSAT column: the first RATING one.
    csat_question: Option<i64>,
}

impl Layout {
    pub(crate) fn new(survey: Survey) -> Self {
        let first = |kind: QuestionKind| {
            survey
                .questions
                .iter()
                .find(|q| q.kind == kind)
                .map(|q| q.id)
        };
        Self {
            nps_question: first(QuestionKind::Nps),
            csat_question: first(QuestionKind::Rating),
            survey,
        }
    }

    pub(crate) fn header(&self) -> Vec<String> {
        let mut names = vec![
            "Response ID".to_owned(),
            "Submitted at".to_owned(),
            "Customer ID".to_owned(),
        ];
        names.extend(
            self.survey
                .questions
                .iter()
                .map(|q| format!("Q{}. {}", q.position, q.text)),
        );
        names
            .extend(["CSI", "NPS", "NPS category", "CSAT satisfied", "Helpful"].map(str::to_owned));
        names.extend(
            self.survey
                .hidden_fields
                .iter()
                .map(|key| format!("Hidden: {key}")),
        );
        names
    }

    /// Writes one page of responses; returns how many and the last id.
    pub(crate) async fn page(
        &self,
        db: &impl ConnectionTrait,
        page: &Page,
        out: &mut Vec<u8>,
    ) -> DomainResult<(u64, Option<i64>)> {
        let responses = survey_responses::Entity::find()
            .filter(survey_responses::Column::SurveyId.eq(self.survey.id))
            .filter(survey_responses::Column::Id.gt(page.after))
            .filter(survey_responses::Column::Id.lte(page.bound))
            .order_by_asc(survey_responses::Column::Id)
            .limit(page.limit)
            .all(db)
            .await?;
        let ids: Vec<i64> = responses.iter().map(|r| r.id).collect();
        let mut answers = answers_for(db, &ids).await?;
        let mut line = Line::new();
        for response in &responses {
            let answers = answers.remove(&response.id).unwrap_or_default();
            let by_question: HashMap<i64, &Answer> =
                answers.iter().map(|a| (a.question_id, a)).collect();
            line.value((page.ids)(Record::SurveyResponse, response.id))
                .value(instant(response.submitted_at))
                .value((page.ids)(Record::Customer, response.customer_id));
            for question in &self.survey.questions {
                write_answer(&mut line, by_question.get(&question.id).copied());
            }
            let rating_of = |question: Option<i64>| {
                question
                    .and_then(|id| by_question.get(&id))
                    .and_then(|a| a.rating)
            };
            let nps = rating_of(self.nps_question);
            line.opt_value(response.csi.as_deref())
                .opt_value(nps)
                .opt_value(nps.map(nps_category))
                .opt_value(rating_of(self.csat_question).map(|r| {
                    if r >= CSAT_SATISFIED_FROM {
                        "yes"
                    } else {
                        "no"
                    }
                }))
                .yes_no(response.helpful_at.is_some());
            if !self.survey.hidden_fields.is_empty() {
                let hidden: HashMap<String, String> =
                    parse_values(response.hidden_fields.as_deref())?
                        .into_iter()
                        .collect();
                for key in &self.survey.hidden_fields {
                    line.opt_text(hidden.get(key).map(String::as_str));
                }
            }
            line.end(out);
        }
        Ok((responses.len() as u64, ids.last().copied()))
    }
}

/// An answer's cell: the rating, the chosen options joined by `; `, a
/// matrix's row ratings joined by `; ` (empty for an unrated row), the date,
/// or the text; empty when the question was not answered.
fn write_answer(line: &mut Line, answer: Option<&Answer>) {
    match answer {
        Some(Answer {
            rating: Some(rating),
            ..
        }) => {
            line.value(rating);
        }
        Some(answer) if !answer.choices.is_empty() => {
            line.text(&answer.choices.join("; "));
        }
        Some(answer) if !answer.row_ratings.is_empty() => {
            let cells: Vec<String> = answer
                .row_ratings
                .iter()
                .map(|r| r.map_or_else(String::new, |r| r.to_string()))
                .collect();
            line.text(&cells.join("; "));
        }
        Some(Answer {
            date: Some(date), ..
        }) => {
            line.text(&date.format("%Y-%m-%d").to_string());
        }
        Some(answer) => {
            line.opt_text(answer.text.as_deref());
        }
        None => {
            line.value("");
        }
    }
}

/// SPEC §4: promoters answer 9–10, passives 7–8, detractors 0–6.
fn nps_category(rating: i32) -> &'static str {
    match rating {
        9.. => "promoter",
        7..=8 => "passive",
        _ => "detractor",
    }
}

/// The answers of a page of responses, by response.
async fn answers_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<Answer>>> {
    let mut map: HashMap<i64, Vec<Answer>> = HashMap::new();
    if ids.is_empty() {
        return Ok(map);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT id, response_id, question_id, rating, choices, text FROM survey_answers WHERE ",
    )
    .id_in("response_id", ids);
    let rows = survey_answers::Entity::find()
        .from_raw_sql(sql.build())
        .all(db)
        .await?;
    for row in rows {
        map.entry(row.response_id)
            .or_default()
            .push(Answer::try_from(row)?);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_categories_follow_spec() {
        let expected = [
            (0, "detractor"),
            (6, "detractor"),
            (7, "passive"),
            (8, "passive"),
            (9, "promoter"),
            (10, "promoter"),
        ];
        for (rating, category) in expected {
            assert_eq!(nps_category(rating), category, "rating {rating}");
        }
    }
}
