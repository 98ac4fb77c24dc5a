//! A German demo survey with every question type (rating, NPS, two CSI
//! factors of its own published factor set "Einkaufserlebnis", single and
//! multiple choice, matrix, date, free text, a conditional question) over
//! three pages, written through the survey service like any staff survey:
//! published, five customers invited, four answers submitted, and one
//! invitation left open, whose token the demo prints as a form link.

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use domain::auth::Actor;
use domain::csi::{CsiService, FactorInput, FactorSetInput};
use domain::error::DomainResult;
use domain::feedback::{
    AnswerInput, ConditionInput, NewQuestion, QuestionKind, QuestionSettings, SurveyDraft,
    SurveyService,
};
use entity::{customers, loyalty_programs};
use rust_decimal::Decimal;

/// The German survey's title.
pub const TITLE: &str = "Wie war Ihr Einkauf bei uns?";
/// The name of the German survey's CSI factor set.
pub const FACTOR_SET_NAME: &str = "Einkaufserlebnis";
/// Its factors: key, label and weight in hundredths.
const FACTORS: [(&str, &str, i64); 2] = [("beratung", "Beratung", 60), ("auswahl", "Auswahl", 40)];

fn question(text: &str, kind: QuestionKind, required: bool, page: i32) -> NewQuestion {
    NewQuestion {
        text: text.to_owned(),
        required,
        kind,
        factor_key: None,
        options: Vec::new(),
        max_length: (kind == QuestionKind::Text).then_some(1_000),
        overall_satisfaction: false,
        show_when: None,
        settings: QuestionSettings::default(),
        page,
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

fn questions() -> Vec<NewQuestion> {
    let today = Utc::now().date_naive();
    let mut choice = question(
        "Wo haben Sie eingekauft?",
        QuestionKind::SingleChoice,
        true,
        2,
    );
    choice.options = strings(&["Im Geschäft", "Im Online-Shop", "Am Telefon"]);
    let mut several = question(
        "Was war Ihnen beim Einkauf wichtig?",
        QuestionKind::MultipleChoice,
        false,
        2,
    );
    several.options = strings(&["Preis", "Beratung", "Lieferzeit", "Auswahl"]);
    several.settings.min_choices = Some(1);
    several.settings.max_choices = Some(2);
    let mut matrix = question(
        "Wie zufrieden sind Sie mit …",
        QuestionKind::Matrix,
        true,
        2,
    );
    matrix.settings.rows = strings(&[
        "der Freundlichkeit des Personals",
        "dem Preis-Leistungs-Verhältnis",
        "der Lieferzeit",
    ]);
    let mut date = question("Wann haben Sie eingekauft?", QuestionKind::Date, false, 3);
    date.settings.earliest = Some(today - Duration::days(365));
    date.settings.latest = Some(today);
    let mut better = question(
        "Was können wir besser machen?",
        QuestionKind::Text,
        false,
        3,
    );
    let factor = |text: &str, key: &str| {
        let mut q = question(text, QuestionKind::CsiFactor, false, 1);
        q.factor_key = Some(key.to_owned());
        q
    };
    better.show_when = Some(ConditionInput {
        position: 1,
        rating_max: Some(3),
        ..ConditionInput::default()
    });
    vec![
        question(
            "Wie zufrieden sind Sie insgesamt mit Ihrem Einkauf?",
            QuestionKind::Rating,
            true,
            1,
        ),
        question(
            "Wie wahrscheinlich ist es, dass Sie uns Freunden oder Kollegen empfehlen?",
            QuestionKind::Nps,
            false,
            1,
        ),
        factor("Wie zufrieden waren Sie mit der Beratung?", FACTORS[0].0),
        factor("Wie zufrieden waren Sie mit der Auswahl?", FACTORS[1].0),
        choice,
        several,
        matrix,
        date,
        better,
        question(
            "Möchten Sie uns sonst noch etwas mitteilen?",
            QuestionKind::Text,
            false,
            3,
        ),
    ]
}

/// Four sample answers: rating, NPS, the two factor ratings, shop, what
/// mattered, matrix rows, days ago, and a suggestion (asked only at a rating
/// of 3 or less).
type Sample<'a> = (
    i32,
    i32,
    [i32; 2],
    &'a str,
    &'a [&'a str],
    [i32; 3],
    i64,
    Option<&'a str>,
);

const SAMPLES: [Sample<'static>; 4] = [
    (
        5,
        10,
        [5, 4],
        "Im Geschäft",
        &["Beratung"],
        [5, 4, 4],
        3,
        None,
    ),
    (
        4,
        8,
        [4, 4],
        "Im Online-Shop",
        &["Preis", "Lieferzeit"],
        [4, 4, 3],
        12,
        None,
    ),
    (
        2,
        4,
        [2, 3],
        "Im Online-Shop",
        &["Lieferzeit"],
        [3, 2, 1],
        30,
        Some("Die Lieferung hat zwei Wochen gedauert."),
    ),
    (
        5,
        9,
        [5, 5],
        "Am Telefon",
        &["Beratung", "Auswahl"],
        [5, 5, 4],
        45,
        None,
    ),
];

/// Creates, publishes and partly answers the German survey; returns the
/// token of the invitation left open.
///
/// # Errors
/// Database failures or a survey the service refuses.
pub async fn seed(db: &DatabaseConnection, admin: &Actor) -> DomainResult<Option<String>> {
    let service = SurveyService::new(db.clone());
    let program = loyalty_programs::Entity::find()
        .order_by_asc(loyalty_programs::Column::Id)
        .one(db)
        .await?;
    let people: Vec<i64> = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(customers::Column::ErasedAt.is_null())
        .filter(customers::Column::ChurnedAt.is_null())
        .order_by_desc(customers::Column::Id)
        .limit(SAMPLES.len() as u64 + 1)
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let csi = CsiService::new(db.clone());
    let set = csi
        .create(
            admin,
            FactorSetInput {
                name: FACTOR_SET_NAME.to_owned(),
                scale_min: None,
                scale_max: None,
                factors: FACTORS
                    .iter()
                    .map(|(key, label, weight)| FactorInput {
                        key: (*key).to_owned(),
                        label: (*label).to_owned(),
                        weight: Decimal::new(*weight, 2),
                    })
                    .collect(),
            },
        )
        .await?;
    let set = csi.publish(admin, set.id).await?;
    let survey = service
        .create_survey(
            admin,
            SurveyDraft {
                title: TITLE.to_owned(),
                description: Some(
                    "Drei kurze Seiten, etwa zwei Minuten. Vielen Dank, dass Sie sich die Zeit nehmen!"
                        .to_owned(),
                ),
                locale: Some("de".to_owned()),
                thank_you: Some(
                    "Herzlichen Dank! Ihre Antworten helfen uns, besser zu werden.".to_owned(),
                ),
                opens_at: None,
                closes_at: None,
                factor_set_id: Some(set.id),
                program_id: program.as_ref().map(|p| p.id),
                incentive_points: if program.is_some() { 50 } else { 0 },
                helpful_bonus_points: 0,
                csi_threshold: None,
                questions: questions(),
                hidden_fields: Vec::new(),
            },
        )
        .await?;
    let survey = service.publish_survey(admin, survey.id).await?;
    if people.is_empty() {
        return Ok(None);
    }
    let batch = service
        .invite(
            admin,
            survey.id,
            &people,
            None,
            &[],
            Utc::now() + Duration::days(60),
            None,
        )
        .await?;
    let ids: Vec<i64> = survey.questions.iter().map(|q| q.id).collect();
    let today = Utc::now().date_naive();
    let mut tokens = batch.issued.into_iter().map(|i| i.token);
    for (rating, nps, factors, shop, mattered, rows, days_ago, suggestion) in SAMPLES {
        let Some(token) = tokens.next() else { break };
        let mut answers = vec![
            AnswerInput {
                question_id: ids[0],
                rating: Some(rating),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[1],
                rating: Some(nps),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[2],
                rating: Some(factors[0]),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[3],
                rating: Some(factors[1]),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[4],
                choices: Some(strings(&[shop])),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[5],
                choices: Some(strings(mattered)),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[6],
                row_ratings: Some(rows.iter().map(|r| Some(*r)).collect()),
                ..AnswerInput::default()
            },
            AnswerInput {
                question_id: ids[7],
                date: Some(
                    (today - Duration::days(days_ago))
                        .format("%Y-%m-%d")
                        .to_string(),
                ),
                ..AnswerInput::default()
            },
        ];
        if let Some(text) = suggestion {
            answers.push(AnswerInput {
                question_id: ids[8],
                text: Some(text.to_owned()),
                ..AnswerInput::default()
            });
        }
        service.submit(&token, answers, &[]).await?;
    }
    Ok(tokens.next())
}
