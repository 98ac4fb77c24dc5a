//! Conditional questions and hidden fields (issue 19 §3): conditions checked
//! when a survey is written (on choices, ratings, a matrix row's rating and
//! dates), a question required only while shown and its
//! answer refused while hidden, the condition on the public query; hidden
//! field keys declared and bounded, values per invitation stored with the
//! response, filtered, exported (guarded) and cleared by erasure, never on
//! the public query.

use chrono::{Duration as Days, Utc};
use domain::auth::Role;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::fixtures::{api_id, db_key, question, CustomerBuilder, QuestionKind, SurveyBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    conditions_and_hidden_field_keys_are_checked_when_a_survey_is_written,
    a_question_is_required_only_while_shown_and_refused_while_hidden,
    hidden_fields_are_stored_filtered_exported_and_erased,
    matrix_row_and_date_conditions_decide_what_is_shown,
);

const READ: &str = "query($id: ID!) { survey(id: $id) { hiddenFields
  questions { id showWhen { questionId questionPosition anyOf ratingMin ratingMax } } } }";
const UPDATE: &str = "mutation($input: UpdateSurveyInput!) { updateSurvey(input: $input) {
  survey { hiddenFields } } }";
const INVITE: &str =
    "mutation($s: ID!, $c: [ID!]!, $e: DateTime!, $h: [RecipientHiddenFieldsInput!]) {
  inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e, hiddenFields: $h }) {
  invitations { customerId token } } }";
const LOOKUP: &str = "query($t: String!) { surveyInvitation(token: $t) {
  questions { id required showWhen { questionId anyOf ratingMin ratingMax } } } }";
const SUBMIT: &str = "mutation($t: String!, $a: [SurveyAnswerInput!]!) {
  submitSurveyResponse(input: { token: $t, answers: $a }) { responseId } }";
const RESPONSES: &str = "query($f: SurveyResponseFilter) { surveyResponses(filter: $f, first: 10) {
  totalCount nodes { id customerId hiddenFields { key value } } } }";

fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {body}"))
}

/// 1 rating (required); 2 "Did anything go wrong?" Yes/No (required);
/// 3 "What went wrong?" (TEXT, required, shown when 2 is "Yes");
/// 4 "What could we do better?" (TEXT, shown when 1 is at most 3).
fn questions() -> Vec<Value> {
    vec![
        question(
            "How satisfied are you?",
            QuestionKind::Rating,
            json!({ "required": true }),
        ),
        question(
            "Did anything go wrong?",
            QuestionKind::SingleChoice,
            json!({ "required": true, "options": ["Yes", "No"] }),
        ),
        question(
            "What went wrong?",
            QuestionKind::Text,
            json!({ "required": true, "showWhen": { "questionPosition": 2, "equals": "Yes" } }),
        ),
        question(
            "What could we do better?",
            QuestionKind::Text,
            json!({ "showWhen": { "questionPosition": 1, "ratingMax": 3 } }),
        ),
    ]
}

fn builder(questions: Vec<Value>) -> SurveyBuilder {
    questions.into_iter().fold(
        SurveyBuilder::new("After your order").with("hiddenFields", json!(["orderNumber", "shop"])),
        SurveyBuilder::question,
    )
}

async fn create_raw(app: &TestApp, admin: &str, questions: Vec<Value>, extra: Value) -> Value {
    let mut input = builder(questions).input();
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    app.graphql_as(
        Some(admin),
        SurveyBuilder::CREATE,
        json!({ "input": input }),
    )
    .await
}

async fn conditions_and_hidden_field_keys_are_checked_when_a_survey_is_written(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let with_condition = |index: usize, condition: Value| {
        let mut qs = questions();
        qs[index]["showWhen"] = condition;
        qs
    };
    let cases = [
        (
            "the first question",
            with_condition(0, json!({ "questionPosition": 1, "ratingMin": 1 })),
            "questions.0.showWhen.questionPosition",
        ),
        (
            "itself",
            with_condition(2, json!({ "questionPosition": 3, "equals": "Yes" })),
            "questions.2.showWhen.questionPosition",
        ),
        (
            "a later question",
            with_condition(1, json!({ "questionPosition": 4, "ratingMin": 1 })),
            "questions.1.showWhen.questionPosition",
        ),
        (
            "not an option",
            with_condition(2, json!({ "questionPosition": 2, "equals": "Maybe" })),
            "questions.2.showWhen.equals",
        ),
        (
            "off the scale",
            with_condition(3, json!({ "questionPosition": 1, "ratingMax": 9 })),
            "questions.3.showWhen.ratingMax",
        ),
        (
            "a rating test on options",
            with_condition(3, json!({ "questionPosition": 2, "ratingMin": 1 })),
            "questions.3.showWhen.ratingMin",
        ),
        (
            "a TEXT question",
            with_condition(3, json!({ "questionPosition": 3, "equals": "x" })),
            "questions.3.showWhen.questionPosition",
        ),
    ];
    for (why, qs, expected) in cases {
        let body = create_raw(&app, &admin, qs, json!({})).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), expected, "{why}");
    }
    let too_many: Vec<String> = (0..21).map(|i| format!("k{i}")).collect();
    for (keys, expected) in [
        (json!(too_many), "hiddenFields"),
        (json!(["orderNumber", "order-number"]), "hiddenFields.1"),
        (json!(["a", "a"]), "hiddenFields.1"),
        (json!(["k".repeat(65)]), "hiddenFields.0"),
    ] {
        let body = create_raw(&app, &admin, questions(), json!({ "hiddenFields": keys })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(field(&body), expected);
    }
    let survey = builder(questions()).create(&app, &admin).await;
    let read = app
        .graphql_as(Some(&admin), READ, json!({ "id": survey.id }))
        .await;
    let read = &data(&read)["survey"];
    assert_eq!(read["hiddenFields"], json!(["orderNumber", "shop"]));
    let conditions: Vec<Value> = read["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| q["showWhen"].clone())
        .collect();
    assert_eq!(
        conditions,
        vec![
            Value::Null,
            Value::Null,
            json!({ "questionId": survey.questions[1], "questionPosition": 2, "anyOf": ["Yes"],
                    "ratingMin": null, "ratingMax": null }),
            json!({ "questionId": survey.questions[0], "questionPosition": 1, "anyOf": [],
                    "ratingMin": null, "ratingMax": 3 }),
        ]
    );
    // Updates are checked the same way, and keep the conditions of the
    // questions they leave alone.
    let bad = app
        .graphql_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "id": survey.id, "hiddenFields": ["ok", "2nd"] } }),
        )
        .await;
    assert_eq!(field(&bad), "hiddenFields.1");
    let bad = app
        .graphql_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "id": survey.id,
                "questions": with_condition(3, json!({ "questionPosition": 2, "anyOf": [] })) } }),
        )
        .await;
    assert_eq!(field(&bad), "questions.3.showWhen.anyOf");
    let updated = app
        .graphql_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "id": survey.id, "hiddenFields": ["orderNumber"] } }),
        )
        .await;
    assert_eq!(
        data(&updated)["updateSurvey"]["survey"]["hiddenFields"],
        json!(["orderNumber"])
    );
    let again = app
        .graphql_as(Some(&admin), READ, json!({ "id": survey.id }))
        .await;
    assert_eq!(
        data(&again)["survey"]["questions"][2]["showWhen"]["anyOf"],
        json!(["Yes"])
    );
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
    async fn invite(&self, app: &TestApp, customers: &[i64], hidden: Value) -> Value {
        let ids: Vec<String> = customers.iter().map(|c| api_id("Customer", *c)).collect();
        app.graphql_as(
            Some(&self.admin),
            INVITE,
            json!({ "s": self.survey, "c": ids, "e": Utc::now() + Days::days(7), "h": hidden }),
        )
        .await
    }

    /// A new customer's token, with `hidden` values (or none).
    async fn token(&self, app: &TestApp, hidden: Option<Value>) -> (i64, String) {
        let customer = CustomerBuilder::new().insert(app.db()).await;
        let hidden = hidden.map(
            |values| json!([{ "customerId": api_id("Customer", customer), "values": values }]),
        );
        let body = self
            .invite(app, &[customer], hidden.unwrap_or(Value::Null))
            .await;
        let token = data(&body)["inviteToSurvey"]["invitations"][0]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        (customer, token)
    }

    fn rating(&self, r: i32) -> Value {
        json!({ "questionId": self.q[0], "rating": r })
    }

    fn wrong(&self, answer: &str) -> Value {
        json!({ "questionId": self.q[1], "choices": [answer] })
    }

    fn text(&self, index: usize, text: &str) -> Value {
        json!({ "questionId": self.q[index], "text": text })
    }
}

async fn list(app: &TestApp, admin: &str, filter: Value) -> Value {
    app.graphql_as(Some(admin), RESPONSES, json!({ "f": filter }))
        .await
}

async fn submit(app: &TestApp, token: &str, answers: Vec<Value>) -> Value {
    app.graphql_as(None, SUBMIT, json!({ "t": token, "a": answers }))
        .await
}

async fn a_question_is_required_only_while_shown_and_refused_while_hidden(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = published(&app).await;
    let (_, token) = s.token(&app, None).await;
    // The public query carries the conditions, so any form can apply them.
    let lookup = app.graphql_as(None, LOOKUP, json!({ "t": token })).await;
    let shown = &data(&lookup)["surveyInvitation"]["questions"];
    assert_eq!(
        shown[2]["showWhen"],
        json!({ "questionId": s.q[1], "anyOf": ["Yes"], "ratingMin": null, "ratingMax": null })
    );
    assert_eq!(shown[3]["showWhen"]["questionId"], s.q[0]);
    assert_eq!(shown[0]["showWhen"], Value::Null);

    let refused = |body: &Value, question: &str, why: &str| {
        assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(body), format!("answers.{question}"), "{why}");
    };
    let cases = [
        (
            "an answer to a hidden question",
            vec![s.rating(5), s.wrong("No"), s.text(2, "nothing")],
            2,
        ),
        (
            "an answer behind an unanswered question",
            vec![s.rating(5), s.text(2, "nothing")],
            2,
        ),
        (
            "a required question while shown",
            vec![s.rating(5), s.wrong("Yes")],
            2,
        ),
        (
            "a rating outside the condition",
            vec![s.rating(4), s.wrong("No"), s.text(3, "faster")],
            3,
        ),
    ];
    for (why, answers, question) in cases {
        // An answer to a hidden question is named before a missing one.
        let body = submit(&app, &token, answers).await;
        refused(&body, &s.q[question], why);
    }
    // A required question that is hidden is not required; the token was
    // left usable by every refusal above.
    let ok = submit(&app, &token, vec![s.rating(5), s.wrong("No")]).await;
    assert!(data(&ok)["submitSurveyResponse"]["responseId"].is_string());
    // Both conditions true: both dependent questions answered.
    let (_, second) = s.token(&app, None).await;
    let ok = submit(
        &app,
        &second,
        vec![
            s.rating(2),
            s.wrong("Yes"),
            s.text(2, "late"),
            s.text(3, "be on time"),
        ],
    )
    .await;
    assert!(data(&ok)["submitSurveyResponse"]["responseId"].is_string());
}

async fn hidden_fields_are_stored_filtered_exported_and_erased(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = published(&app).await;
    let survey_key = db_key(&s.survey);
    // Refused values change nothing.
    let customer = CustomerBuilder::new().insert(app.db()).await;
    let stranger = CustomerBuilder::new().insert(app.db()).await;
    let values =
        |values: Value| json!([{ "customerId": api_id("Customer", customer), "values": values }]);
    let cases = [
        (
            values(json!([{ "key": "coupon", "value": "X" }])),
            "hiddenFields.0.values.0.key",
        ),
        (
            values(json!([{ "key": "orderNumber", "value": "x".repeat(501) }])),
            "hiddenFields.0.values.0.value",
        ),
        (
            values(json!([{ "key": "shop", "value": "a" }, { "key": "shop", "value": "b" }])),
            "hiddenFields.0.values.1.key",
        ),
        (
            json!([{ "customerId": api_id("Customer", stranger), "values": [] }]),
            "hiddenFields.0.customerId",
        ),
    ];
    for (hidden, expected) in cases {
        let body = s.invite(&app, &[customer], hidden).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(field(&body), expected);
    }
    let issued = entity::survey_invitations::Entity::find()
        .filter(entity::survey_invitations::Column::SurveyId.eq(survey_key))
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(issued, 0);
    // A value of exactly 500 characters is accepted.
    let long = "7".repeat(500);
    let (_, long_token) = s
        .token(&app, Some(json!([{ "key": "orderNumber", "value": long }])))
        .await;
    // Never on the public query.
    let public = app
        .graphql_as(
            None,
            "query($t: String!) { surveyInvitation(token: $t) { hiddenFields } }",
            json!({ "t": long_token }),
        )
        .await;
    assert!(public["errors"][0]["message"].is_string(), "{public}");

    let (ann, ann_token) = s
        .token(
            &app,
            Some(json!([{ "key": "shop", "value": "Berlin" }, { "key": "orderNumber", "value": "A-100" }])),
        )
        .await;
    let (_, bob_token) = s
        .token(
            &app,
            Some(json!([{ "key": "orderNumber", "value": "=HYPERLINK(\"http://x\")" }])),
        )
        .await;
    let (_, cid_token) = s.token(&app, None).await;
    for token in [&ann_token, &bob_token, &cid_token, &long_token] {
        let ok = submit(&app, token, vec![s.rating(5), s.wrong("No")]).await;
        data(&ok);
    }
    let by_order = list(
        &app,
        &s.admin,
        json!({ "surveyId": s.survey,
        "hiddenField": { "key": "orderNumber", "value": "A-100" } }),
    )
    .await;
    let found = &data(&by_order)["surveyResponses"];
    assert_eq!(found["totalCount"], 1);
    assert_eq!(found["nodes"][0]["customerId"], api_id("Customer", ann));
    assert_eq!(
        found["nodes"][0]["hiddenFields"],
        json!([{ "key": "orderNumber", "value": "A-100" }, { "key": "shop", "value": "Berlin" }])
    );
    let none = list(
        &app,
        &s.admin,
        json!({ "hiddenField": { "key": "shop", "value": "Hamburg" } }),
    )
    .await;
    assert_eq!(data(&none)["surveyResponses"]["totalCount"], 0);
    let all = list(&app, &s.admin, json!({ "surveyId": s.survey })).await;
    assert_eq!(data(&all)["surveyResponses"]["totalCount"], 4);
    let bad = list(
        &app,
        &s.admin,
        json!({ "hiddenField": { "key": "order number", "value": "A-100" } }),
    )
    .await;
    assert_eq!(field(&bad), "filter.hiddenField.key");

    // The export has one column per key, guarded against formulas.
    let export = app
        .graphql_as(
            Some(&s.admin),
            "mutation($input: CreateExportInput!) { createExport(input: $input) { url } }",
            json!({ "input": { "kind": "SURVEY_RESPONSES", "surveyId": s.survey } }),
        )
        .await;
    let url = data(&export)["createExport"]["url"].as_str().expect("url");
    let path = &url[url.find("/exports/").expect("path")..];
    let csv = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].ends_with(",Helpful,Hidden: orderNumber,Hidden: shop"),
        "{}",
        lines[0]
    );
    assert!(csv.contains(",A-100,Berlin\r\n"), "{csv}");
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://x\"\")\",\r\n"),
        "{csv}"
    );
    assert!(csv.contains(&format!(",{long},\r\n")), "{csv}");

    // Erasing a customer clears the values of their invitations and responses.
    app.graphql_as(
        Some(&s.admin),
        "mutation($id: ID!) { eraseCustomer(input: { id: $id }) { customer { id } } }",
        json!({ "id": api_id("Customer", ann) }),
    )
    .await;
    let after = list(
        &app,
        &s.admin,
        json!({ "customerId": api_id("Customer", ann) }),
    )
    .await;
    assert_eq!(
        data(&after)["surveyResponses"]["nodes"][0]["hiddenFields"],
        json!([])
    );
    let gone = list(
        &app,
        &s.admin,
        json!({ "hiddenField": { "key": "orderNumber", "value": "A-100" } }),
    )
    .await;
    assert_eq!(data(&gone)["surveyResponses"]["totalCount"], 0);
    let kept = entity::survey_invitations::Entity::find()
        .filter(entity::survey_invitations::Column::CustomerId.eq(ann))
        .filter(entity::survey_invitations::Column::HiddenFields.is_not_null())
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(kept, 0);
}

/// 1 a required MATRIX "Staff", "Price"; 2 "What was wrong with the price?"
/// (TEXT, required, shown when row 2 is rated at most 2); 3 "When did you
/// visit?" (DATE); 4 "How was the summer?" (TEXT, required, shown for a
/// visit in June, July or August 2026).
fn matrix_and_date_questions() -> Vec<Value> {
    vec![
        question(
            "How do you rate …",
            QuestionKind::Matrix,
            json!({ "required": true, "rows": ["Staff", "Price"] }),
        ),
        question(
            "What was wrong with the price?",
            QuestionKind::Text,
            json!({ "required": true,
                    "showWhen": { "questionPosition": 1, "matrixRow": 2, "ratingMax": 2 } }),
        ),
        question("When did you visit?", QuestionKind::Date, Value::Null),
        question(
            "How was the summer?",
            QuestionKind::Text,
            json!({ "required": true, "showWhen": { "questionPosition": 3,
                    "dateAfter": "2026-05-31", "dateBefore": "2026-09-01" } }),
        ),
    ]
}

async fn matrix_row_and_date_conditions_decide_what_is_shown(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let with_condition = |index: usize, condition: Value| {
        let mut qs = matrix_and_date_questions();
        qs[index]["showWhen"] = condition;
        qs
    };
    let cases = [
        (
            "a matrix without a row",
            with_condition(1, json!({ "questionPosition": 1, "ratingMax": 2 })),
            "questions.1.showWhen.matrixRow",
        ),
        (
            "row 3 of two",
            with_condition(
                1,
                json!({ "questionPosition": 1, "matrixRow": 3, "ratingMax": 2 }),
            ),
            "questions.1.showWhen.matrixRow",
        ),
        (
            "a matrix rating off the scale",
            with_condition(
                1,
                json!({ "questionPosition": 1, "matrixRow": 1, "ratingMax": 6 }),
            ),
            "questions.1.showWhen.ratingMax",
        ),
        (
            "options on a matrix",
            with_condition(
                1,
                json!({ "questionPosition": 1, "matrixRow": 1, "equals": "Staff" }),
            ),
            "questions.1.showWhen.anyOf",
        ),
        (
            "a date without days",
            with_condition(3, json!({ "questionPosition": 3 })),
            "questions.3.showWhen.dateAfter",
        ),
        (
            "no day between",
            with_condition(
                3,
                json!({ "questionPosition": 3, "dateAfter": "2026-06-01", "dateBefore": "2026-06-02" }),
            ),
            "questions.3.showWhen.dateBefore",
        ),
        (
            "a row of a date",
            with_condition(
                3,
                json!({ "questionPosition": 3, "matrixRow": 1, "dateAfter": "2026-06-01" }),
            ),
            "questions.3.showWhen.matrixRow",
        ),
        (
            "days on a matrix",
            with_condition(
                3,
                json!({ "questionPosition": 1, "dateBefore": "2026-06-01" }),
            ),
            "questions.3.showWhen.dateBefore",
        ),
        (
            "ratings on a date",
            with_condition(3, json!({ "questionPosition": 3, "ratingMin": 1 })),
            "questions.3.showWhen.ratingMin",
        ),
    ];
    for (why, qs, expected) in cases {
        let body = create_raw(&app, &admin, qs, json!({})).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), expected, "{why}");
    }
    assert_eq!(
        entity::surveys::Entity::find()
            .count(app.db())
            .await
            .expect("count"),
        0,
        "no refused survey was stored"
    );

    let survey = builder(matrix_and_date_questions())
        .publish(&app, &admin)
        .await;
    let q = survey.questions;
    let s = Published {
        admin,
        survey: survey.id,
        q: q.clone(),
    };
    let (_, token) = s.token(&app, None).await;
    let lookup = app
        .graphql_as(
            None,
            "query($t: String!) { surveyInvitation(token: $t) { questions {
               showWhen { questionId ratingMin ratingMax matrixRow dateAfter dateBefore } } } }",
            json!({ "t": token }),
        )
        .await;
    let shown = &data(&lookup)["surveyInvitation"]["questions"];
    assert_eq!(
        shown[1]["showWhen"],
        json!({ "questionId": q[0], "ratingMin": null, "ratingMax": 2, "matrixRow": 2,
                "dateAfter": null, "dateBefore": null })
    );
    assert_eq!(
        shown[3]["showWhen"],
        json!({ "questionId": q[2], "ratingMin": null, "ratingMax": null, "matrixRow": null,
                "dateAfter": "2026-05-31", "dateBefore": "2026-09-01" })
    );

    let rows = |staff: i32, price: Option<i32>| json!({ "questionId": q[0], "rowRatings": [staff, price] });
    let visit = |day: &str| json!({ "questionId": q[2], "date": day });
    let cases = [
        ("a low price without its reason", vec![rows(5, Some(1))], 1),
        (
            "a reason for a good price",
            vec![rows(1, Some(3)), s.text(1, "too dear")],
            1,
        ),
        (
            "a summer visit without its answer",
            vec![rows(4, Some(4)), visit("2026-06-01")],
            3,
        ),
        (
            "a September visit with a summer answer",
            vec![rows(4, Some(4)), visit("2026-09-01"), s.text(3, "hot")],
            3,
        ),
        (
            "the last day of May",
            vec![rows(4, Some(4)), visit("2026-05-31"), s.text(3, "hot")],
            3,
        ),
    ];
    for (why, answers, question) in cases {
        let body = submit(&app, &token, answers).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), format!("answers.{}", q[question]), "{why}");
    }
    assert_eq!(
        entity::survey_responses::Entity::find()
            .count(app.db())
            .await
            .expect("count"),
        0,
        "no refused response was stored"
    );
    let ok = submit(
        &app,
        &token,
        vec![
            rows(4, Some(2)),
            s.text(1, "too dear"),
            visit("2026-08-31"),
            s.text(3, "sunny"),
        ],
    )
    .await;
    assert!(
        data(&ok)["submitSurveyResponse"]["responseId"].is_string(),
        "{ok}"
    );
    let (_, second) = s.token(&app, None).await;
    let ok = submit(&app, &second, vec![rows(3, Some(3)), visit("2026-09-01")]).await;
    assert!(
        data(&ok)["submitSurveyResponse"]["responseId"].is_string(),
        "{ok}"
    );
}
