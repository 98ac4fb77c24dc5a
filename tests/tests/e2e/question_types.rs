//! Richer question types (issue 19 §3): MULTIPLE_CHOICE with minChoices and
//! maxChoices, MATRIX (statements rated on one 1..5 scale, translatable
//! rows) and DATE (ISO dates within optional bounds), and pages. Each is
//! checked when the survey is written, validated on submission (a refusal
//! names the question and stores nothing), and counted in the results.

use chrono::{Duration as Days, Utc};
use domain::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::fixtures::{api_id, question, CustomerBuilder, QuestionKind, SurveyBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    question_definitions_are_checked_when_a_survey_is_written,
    answers_are_validated_and_nothing_is_stored_after_a_refusal,
    results_count_matrix_rows_and_date_ranges,
    matrix_rows_are_translated_and_checked_before_publishing,
);

const READ: &str = "query($id: ID!) { survey(id: $id) { questions {
  kind page minChoices maxChoices rows rowLabels earliestDate latestDate scaleMin scaleMax } } }";
const INVITE: &str = "mutation($s: ID!, $c: [ID!]!, $e: DateTime!, $l: String) {
  inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e, locale: $l }) {
  invitations { token } } }";
const LOOKUP: &str = "query($t: String!) { surveyInvitation(token: $t) {
  questions { kind page text rows rowLabels options optionLabels } } }";
const SUBMIT: &str = "mutation($t: String!, $a: [SurveyAnswerInput!]!) {
  submitSurveyResponse(input: { token: $t, answers: $a }) { responseId } }";
const RESPONSE: &str = "query($id: ID!) { node(id: $id) { ... on SurveyResponse {
  answers { rating choices text rowRatings date } } } }";
const RESULTS: &str = "query($s: ID!) { surveyResults(surveyId: $s) { responses questions {
  kind answers mean distribution { value count } earliestDate latestDate
  rows { row answers mean distribution { value count } } } } }";
const SET: &str =
    "mutation($input: SetSurveyTranslationInput!) { setSurveyTranslation(input: $input) {
  survey { translations { locale questions { rows } } } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }";

fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {body}"))
}

/// 1 "Which did you use?" MULTIPLE_CHOICE of four, 2..3 choices, required;
/// 2 "How do you rate …" MATRIX of three rows, required (page 2);
/// 3 "How do you rate the extras?" MATRIX of two rows, optional (page 2);
/// 4 "When did you visit?" DATE within 2026, required (page 3);
/// 5 "When is your next visit?" DATE, unbounded, optional (page 3).
fn questions() -> Vec<Value> {
    vec![
        question(
            "Which did you use?",
            QuestionKind::MultipleChoice,
            json!({ "required": true, "options": ["Shop", "App", "Phone", "Mail"],
                    "minChoices": 2, "maxChoices": 3 }),
        ),
        question(
            "How do you rate our service?",
            QuestionKind::Matrix,
            json!({ "required": true, "rows": ["Staff", "Prices", "Speed"], "page": 2 }),
        ),
        question(
            "How do you rate the extras?",
            QuestionKind::Matrix,
            json!({ "rows": ["Parking", "Coffee"], "page": 2 }),
        ),
        question(
            "When did you visit?",
            QuestionKind::Date,
            json!({ "required": true, "earliestDate": "2026-01-01", "latestDate": "2026-12-31",
                    "page": 3 }),
        ),
        question(
            "When is your next visit?",
            QuestionKind::Date,
            json!({ "page": 3 }),
        ),
    ]
}

fn builder(questions: Vec<Value>) -> SurveyBuilder {
    questions.into_iter().fold(
        SurveyBuilder::new("Your visit").with("locale", json!("en")),
        SurveyBuilder::question,
    )
}

async fn create_raw(app: &TestApp, admin: &str, questions: Vec<Value>) -> Value {
    app.graphql_as(
        Some(admin),
        SurveyBuilder::CREATE,
        json!({ "input": builder(questions).input() }),
    )
    .await
}

async fn question_definitions_are_checked_when_a_survey_is_written(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let with = |index: usize, key: &str, value: Value| {
        let mut qs = questions();
        qs[index][key] = value;
        qs
    };
    let too_many_rows: Vec<String> = (0..21).map(|i| format!("Row {i}")).collect();
    let cases = [
        (
            "minChoices 0",
            with(0, "minChoices", json!(0)),
            "questions.0.minChoices",
        ),
        (
            "maxChoices above the options",
            with(0, "maxChoices", json!(5)),
            "questions.0.maxChoices",
        ),
        (
            "min above max",
            with(0, "minChoices", json!(4)),
            "questions.0.maxChoices",
        ),
        (
            "limits on a matrix",
            with(1, "maxChoices", json!(2)),
            "questions.1.maxChoices",
        ),
        (
            "one row",
            with(1, "rows", json!(["Staff"])),
            "questions.1.rows",
        ),
        (
            "21 rows",
            with(1, "rows", json!(too_many_rows)),
            "questions.1.rows",
        ),
        (
            "a blank row",
            with(1, "rows", json!(["Staff", " "])),
            "questions.1.rows.1",
        ),
        (
            "a repeated row",
            with(1, "rows", json!(["Staff", "Staff"])),
            "questions.1.rows.1",
        ),
        (
            "rows on a date",
            with(3, "rows", json!(["a", "b"])),
            "questions.3.rows",
        ),
        (
            "bounds reversed",
            with(3, "latestDate", json!("2025-12-31")),
            "questions.3.latestDate",
        ),
        (
            "bounds on a matrix",
            with(1, "earliestDate", json!("2026-01-01")),
            "questions.1.earliestDate",
        ),
        ("a page gap", with(3, "page", json!(4)), "questions.3.page"),
        (
            "pages going back",
            with(2, "page", json!(1)),
            "questions.2.page",
        ),
        (
            "a first page other than 1",
            with(0, "page", json!(2)),
            "questions.0.page",
        ),
        ("page 0", with(0, "page", json!(0)), "questions.0.page"),
        (
            "a condition on a matrix without a row",
            with(
                4,
                "showWhen",
                json!({ "questionPosition": 2, "ratingMin": 1 }),
            ),
            "questions.4.showWhen.matrixRow",
        ),
    ];
    for (why, qs, expected) in cases {
        let body = create_raw(&app, &admin, qs).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), expected, "{why}");
    }
    assert_eq!(
        domain_surveys(&app).await,
        0,
        "no refused survey was stored"
    );
    let survey = builder(questions()).create(&app, &admin).await;
    let read = app
        .graphql_as(Some(&admin), READ, json!({ "id": survey.id }))
        .await;
    assert_eq!(
        data(&read)["survey"]["questions"],
        json!([
            { "kind": "MULTIPLE_CHOICE", "page": 1, "minChoices": 2, "maxChoices": 3, "rows": [],
              "rowLabels": [], "earliestDate": null, "latestDate": null,
              "scaleMin": null, "scaleMax": null },
            { "kind": "MATRIX", "page": 2, "minChoices": null, "maxChoices": null,
              "rows": ["Staff", "Prices", "Speed"], "rowLabels": ["Staff", "Prices", "Speed"],
              "earliestDate": null, "latestDate": null, "scaleMin": 1, "scaleMax": 5 },
            { "kind": "MATRIX", "page": 2, "minChoices": null, "maxChoices": null,
              "rows": ["Parking", "Coffee"], "rowLabels": ["Parking", "Coffee"],
              "earliestDate": null, "latestDate": null, "scaleMin": 1, "scaleMax": 5 },
            { "kind": "DATE", "page": 3, "minChoices": null, "maxChoices": null, "rows": [],
              "rowLabels": [], "earliestDate": "2026-01-01", "latestDate": "2026-12-31",
              "scaleMin": null, "scaleMax": null },
            { "kind": "DATE", "page": 3, "minChoices": null, "maxChoices": null, "rows": [],
              "rowLabels": [], "earliestDate": null, "latestDate": null,
              "scaleMin": null, "scaleMax": null },
        ])
    );
}

async fn domain_surveys(app: &TestApp) -> u64 {
    entity::surveys::Entity::find()
        .count(app.db())
        .await
        .expect("count surveys")
}

async fn stored_responses(app: &TestApp) -> (u64, u64) {
    let responses = entity::survey_responses::Entity::find()
        .count(app.db())
        .await
        .expect("count responses");
    let answers = entity::survey_answers::Entity::find()
        .count(app.db())
        .await
        .expect("count answers");
    (responses, answers)
}

struct Published {
    admin: String,
    survey: String,
    q: Vec<String>,
}

async fn published(app: &TestApp) -> Published {
    let admin = app.login_as(Role::Admin).await;
    let survey = builder(questions()).publish(app, &admin).await;
    Published {
        admin,
        survey: survey.id,
        q: survey.questions,
    }
}

impl Published {
    async fn token(&self, app: &TestApp, locale: Option<&str>) -> String {
        let customer = CustomerBuilder::new().insert(app.db()).await;
        let body = app
            .graphql_as(
                Some(&self.admin),
                INVITE,
                json!({ "s": self.survey, "c": [api_id("Customer", customer)],
                        "e": Utc::now() + Days::days(7), "l": locale }),
            )
            .await;
        data(&body)["inviteToSurvey"]["invitations"][0]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {body}"))
            .to_owned()
    }

    fn choices(&self, c: &[&str]) -> Value {
        json!({ "questionId": self.q[0], "choices": c })
    }

    fn matrix(&self, index: usize, rows: Value) -> Value {
        json!({ "questionId": self.q[index], "rowRatings": rows })
    }

    fn date(&self, index: usize, date: &str) -> Value {
        json!({ "questionId": self.q[index], "date": date })
    }

    /// A complete valid submission.
    fn valid(&self) -> Vec<Value> {
        vec![
            self.choices(&["Shop", "App"]),
            self.matrix(1, json!([5, 4, 3])),
            self.date(3, "2026-05-17"),
        ]
    }
}

async fn submit(app: &TestApp, token: &str, answers: Vec<Value>) -> Value {
    app.graphql_as(None, SUBMIT, json!({ "t": token, "a": answers }))
        .await
}

async fn answers_are_validated_and_nothing_is_stored_after_a_refusal(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = published(&app).await;
    let token = s.token(&app, None).await;
    let replace = |index: usize, answer: Value| {
        let mut answers = s.valid();
        answers[index] = answer;
        answers
    };
    let with = |answer: Value| {
        let mut answers = s.valid();
        answers.push(answer);
        answers
    };
    let cases: Vec<(&str, Vec<Value>, usize)> = vec![
        (
            "one choice below minChoices",
            replace(0, s.choices(&["Shop"])),
            0,
        ),
        (
            "four choices above maxChoices",
            replace(0, s.choices(&["Shop", "App", "Phone", "Mail"])),
            0,
        ),
        (
            "a choice that is no option",
            replace(0, s.choices(&["Shop", "Fax"])),
            0,
        ),
        (
            "a required choice left out",
            vec![s.matrix(1, json!([5, 4, 3])), s.date(3, "2026-05-17")],
            0,
        ),
        (
            "a row rated 6",
            replace(1, s.matrix(1, json!([5, 6, 3]))),
            1,
        ),
        (
            "a row rated 0",
            replace(1, s.matrix(1, json!([0, 4, 3]))),
            1,
        ),
        (
            "too few row ratings",
            replace(1, s.matrix(1, json!([5, 4]))),
            1,
        ),
        (
            "too many row ratings",
            replace(1, s.matrix(1, json!([5, 4, 3, 2]))),
            1,
        ),
        (
            "a required row unrated",
            replace(1, s.matrix(1, json!([5, null, 3]))),
            1,
        ),
        (
            "a required matrix unrated",
            replace(1, s.matrix(1, json!([null, null, null]))),
            1,
        ),
        (
            "a rating for a matrix",
            replace(1, json!({ "questionId": s.q[1], "rating": 4 })),
            1,
        ),
        (
            "row ratings for a date",
            replace(2, s.matrix(3, json!([1, 2, 3]))),
            3,
        ),
        (
            "an optional matrix's bad row",
            with(s.matrix(2, json!([null, 9]))),
            2,
        ),
        (
            "a date before the earliest",
            replace(2, s.date(3, "2025-12-31")),
            3,
        ),
        (
            "a date after the latest",
            replace(2, s.date(3, "2027-01-01")),
            3,
        ),
        ("no such day", replace(2, s.date(3, "2026-02-30")), 3),
        (
            "another date format",
            replace(2, s.date(3, "17.05.2026")),
            3,
        ),
        (
            "a date with a time",
            replace(2, s.date(3, "2026-05-17T10:00:00Z")),
            3,
        ),
        ("a short date", replace(2, s.date(3, "2026-5-17")), 3),
        ("a required date left blank", replace(2, s.date(3, "")), 3),
        (
            "text for a date",
            replace(2, json!({ "questionId": s.q[3], "text": "2026-05-17" })),
            3,
        ),
    ];
    for (why, answers, question) in cases {
        let body = submit(&app, &token, answers).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), format!("answers.{}", s.q[question]), "{why}");
        assert_eq!(
            stored_responses(&app).await,
            (0, 0),
            "{why}: nothing stored"
        );
    }
    // Every refusal left the token usable; the optional questions may be
    // partly answered (an optional matrix) or left blank (a date).
    let mut answers = s.valid();
    answers.push(s.matrix(2, json!([null, 2])));
    answers.push(s.date(4, ""));
    let ok = submit(&app, &token, answers).await;
    let response = data(&ok)["submitSurveyResponse"]["responseId"]
        .as_str()
        .unwrap_or_else(|| panic!("stored: {ok}"))
        .to_owned();
    let read = app
        .graphql_as(Some(&s.admin), RESPONSE, json!({ "id": response }))
        .await;
    assert_eq!(
        data(&read)["node"]["answers"],
        json!([
            { "rating": null, "choices": ["Shop", "App"], "text": null, "rowRatings": [], "date": null },
            { "rating": null, "choices": [], "text": null, "rowRatings": [5, 4, 3], "date": null },
            { "rating": null, "choices": [], "text": null, "rowRatings": [], "date": "2026-05-17" },
            { "rating": null, "choices": [], "text": null, "rowRatings": [null, 2], "date": null },
        ])
    );
    // The limits are inclusive: three choices and the bounds themselves.
    let second = s.token(&app, None).await;
    let ok = submit(
        &app,
        &second,
        vec![
            s.choices(&["Shop", "App", "Mail"]),
            s.matrix(1, json!([1, 1, 1])),
            s.date(3, "2026-12-31"),
            s.date(4, "2031-01-01"),
        ],
    )
    .await;
    assert!(
        data(&ok)["submitSurveyResponse"]["responseId"].is_string(),
        "{ok}"
    );
}

async fn results_count_matrix_rows_and_date_ranges(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = published(&app).await;
    let submissions = [
        (
            ["Shop", "App"].as_slice(),
            json!([5, 4, 1]),
            "2026-05-17",
            Some(json!([3, null])),
        ),
        (
            ["App", "Phone"].as_slice(),
            json!([4, 4, 2]),
            "2026-01-01",
            None,
        ),
        (
            ["Shop", "App", "Mail"].as_slice(),
            json!([4, 5, 2]),
            "2026-09-30",
            Some(json!([null, 4])),
        ),
    ];
    for (choices, rows, date, extras) in submissions {
        let token = s.token(&app, None).await;
        let mut answers = vec![s.choices(choices), s.matrix(1, rows), s.date(3, date)];
        if let Some(extras) = extras {
            answers.push(s.matrix(2, extras));
        }
        let ok = submit(&app, &token, answers).await;
        assert!(
            data(&ok)["submitSurveyResponse"]["responseId"].is_string(),
            "{ok}"
        );
    }
    let body = app
        .graphql_as(Some(&s.admin), RESULTS, json!({ "s": s.survey }))
        .await;
    let results = &data(&body)["surveyResults"];
    assert_eq!(results["responses"], 3);
    let q = &results["questions"];
    let dist = |counts: [i64; 5]| -> Value {
        counts
            .iter()
            .enumerate()
            .map(|(i, n)| json!({ "value": (i + 1).to_string(), "count": n }))
            .collect()
    };
    assert_eq!(q[0]["answers"], 3);
    assert_eq!(
        q[0]["distribution"],
        json!([
            { "value": "Shop", "count": 2 }, { "value": "App", "count": 3 },
            { "value": "Phone", "count": 1 }, { "value": "Mail", "count": 1 },
        ])
    );
    assert_eq!(q[1]["answers"], 3);
    assert_eq!(q[1]["distribution"], json!([]));
    assert_eq!(q[1]["mean"], Value::Null);
    // Staff 5, 4, 4 → 4.3333; Prices 4, 4, 5 → 4.3333; Speed 1, 2, 2 → 1.6667.
    assert_eq!(
        q[1]["rows"],
        json!([
            { "row": "Staff", "answers": 3, "mean": "4.3333", "distribution": dist([0, 0, 0, 2, 1]) },
            { "row": "Prices", "answers": 3, "mean": "4.3333", "distribution": dist([0, 0, 0, 2, 1]) },
            { "row": "Speed", "answers": 3, "mean": "1.6667", "distribution": dist([1, 2, 0, 0, 0]) },
        ])
    );
    // The optional matrix: two responses, each rating one row.
    assert_eq!(q[2]["answers"], 2);
    assert_eq!(
        q[2]["rows"],
        json!([
            { "row": "Parking", "answers": 1, "mean": "3", "distribution": dist([0, 0, 1, 0, 0]) },
            { "row": "Coffee", "answers": 1, "mean": "4", "distribution": dist([0, 0, 0, 1, 0]) },
        ])
    );
    assert_eq!(q[3]["answers"], 3);
    assert_eq!(q[3]["earliestDate"], "2026-01-01");
    assert_eq!(q[3]["latestDate"], "2026-09-30");
    assert_eq!(q[3]["rows"], json!([]));
    assert_eq!(q[4]["answers"], 0);
    assert_eq!(q[4]["earliestDate"], Value::Null);
    assert_eq!(q[4]["latestDate"], Value::Null);
}

async fn matrix_rows_are_translated_and_checked_before_publishing(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let survey = builder(questions()).create(&app, &admin).await;
    let translation = |rows: Value| {
        json!({ "input": { "surveyId": survey.id, "locale": "de", "title": "Ihr Besuch",
            "questions": [
                { "questionId": survey.questions[0], "text": "Was haben Sie genutzt?",
                  "options": ["Laden", "App", "Telefon", "Post"] },
                { "questionId": survey.questions[1], "text": "Wie bewerten Sie unseren Service?",
                  "rows": rows },
                { "questionId": survey.questions[2], "text": "Wie bewerten Sie die Extras?",
                  "rows": ["Parken", "Kaffee"] },
                { "questionId": survey.questions[3], "text": "Wann waren Sie bei uns?" },
                { "questionId": survey.questions[4], "text": "Wann kommen Sie wieder?" },
            ] } })
    };
    let short = app
        .graphql_as(
            Some(&admin),
            SET,
            translation(json!(["Personal", "Preise"])),
        )
        .await;
    assert_eq!(error_code(&short), Some("BAD_USER_INPUT"), "{short}");
    assert_eq!(field(&short), "questions.1.rows");
    let blank = app
        .graphql_as(
            Some(&admin),
            SET,
            translation(json!(["Personal", "", "Tempo"])),
        )
        .await;
    assert_eq!(field(&blank), "questions.1.rows.1");
    // A draft may hold a translation without a matrix's rows, but cannot be
    // published with it.
    let mut partial = translation(json!([]));
    partial["input"]["questions"][1]
        .as_object_mut()
        .expect("question")
        .remove("rows");
    let body = app.graphql_as(Some(&admin), SET, partial).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field(&body), "questions.1.rows");
    let mut no_matrix = translation(json!([]));
    no_matrix["input"]["questions"]
        .as_array_mut()
        .expect("questions")
        .remove(1);
    let set = app.graphql_as(Some(&admin), SET, no_matrix).await;
    assert!(set["errors"].is_null(), "{set}");
    let refused = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": survey.id }))
        .await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    assert_eq!(field(&refused), "translations.de.questions.1.text");
    let set = app
        .graphql_as(
            Some(&admin),
            SET,
            translation(json!(["Personal", "Preise", "Tempo"])),
        )
        .await;
    assert_eq!(
        data(&set)["setSurveyTranslation"]["survey"]["translations"][0]["questions"][1]["rows"],
        json!(["Personal", "Preise", "Tempo"])
    );
    let published = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": survey.id }))
        .await;
    assert_eq!(
        data(&published)["publishSurvey"]["survey"]["status"],
        "ACTIVE"
    );
    // The German invitation shows the translated rows; answers still follow
    // the row order, and the stored rows stay in the default language.
    let s = Published {
        admin: admin.clone(),
        survey: survey.id.clone(),
        q: survey.questions.clone(),
    };
    let token = s.token(&app, Some("de")).await;
    let lookup = app.graphql_as(None, LOOKUP, json!({ "t": token })).await;
    let shown = &data(&lookup)["surveyInvitation"]["questions"][1];
    assert_eq!(shown["text"], "Wie bewerten Sie unseren Service?");
    assert_eq!(shown["rows"], json!(["Staff", "Prices", "Speed"]));
    assert_eq!(shown["rowLabels"], json!(["Personal", "Preise", "Tempo"]));
    assert_eq!(shown["page"], 2);
    let ok = submit(&app, &token, s.valid()).await;
    assert!(
        data(&ok)["submitSurveyResponse"]["responseId"].is_string(),
        "{ok}"
    );
}
