//! Surveys and incentivised feedback (SPEC §4, issue 6): the staff flow, the
//! public respondent flow, exactly-once incentives, bad input, results,
//! follow-ups, the subscription and the form page.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use domain::auth::Role;
use futures::{SinkExt as _, StreamExt as _};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::fixtures::{
    api_id, db_key, question, CreatedSurvey, CustomerBuilder, FactorSetStatus, ProgramBuilder,
    QuestionKind, Stage, SurveyBuilder,
};
use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine, TestApp};
use crate::sessions::open;

on_both_engines!(
    full_flow_stores_the_response_credits_points_and_computes_csi,
    submissions_move_the_submission_counter,
    one_token_submitted_concurrently_credits_points_once,
    bad_submissions_are_rejected_whole_and_the_token_stays_usable,
    a_hundred_thousand_answers_are_refused_and_nothing_is_stored,
    sql_and_html_like_text_is_stored_literally,
    unknown_expired_used_closed_and_revoked_tokens_get_distinct_codes,
    invitations_skip_erased_churned_unknown_and_answered_customers_and_reissue_live_ones,
    marking_feedback_helpful_credits_the_bonus_once,
    dissatisfied_responses_raise_one_follow_up_each,
    results_report_exact_csat_nps_and_distributions,
    roles_are_enforced_and_nothing_is_written,
    survey_lifecycle_rules_are_enforced,
    invalid_tokens_are_rate_limited_per_address,
    feedback_received_streams_new_responses_over_websocket,
    form_page_is_served_with_a_strict_csp,
    customer_responses_batch_and_erasure_hook,
    latest_responses_are_each_customers_newest_for_one_or_several,
    pages_cost_a_constant_number_of_statements,
    customer_cards_show_latest_responses_in_constant_statements,
    a_submission_costs_a_fixed_number_of_statements,
);

// ---------------------------------------------------------------- arrange

pub(crate) struct Fixture {
    pub(crate) admin: String,
    pub(crate) survey_id: String,
    /// Question ids in order: rating, nps, on_time, customs, safety, snacks,
    /// single choice, multiple choice, text.
    q: Vec<String>,
    program_id: i64,
}

pub(crate) async fn insert_customer(app: &TestApp, name: &str) -> i64 {
    CustomerBuilder::new()
        .name(name)
        .stage(Stage::Commitment)
        .acquired_at(Utc::now() - Days::days(100))
        .insert(app.db())
        .await
}

async fn insert_program(app: &TestApp) -> i64 {
    ProgramBuilder::new("Frequent Flyer").insert(app.db()).await
}

/// The SPEC's airline factor set, published.
async fn insert_factor_set(app: &TestApp, status: FactorSetStatus) -> i64 {
    let now = Utc::now();
    let set = entity::csi_factor_sets::ActiveModel {
        name: Set("Airline".to_owned()),
        version: Set(1),
        status: Set(FactorSetStatus::Draft.as_str().to_owned()),
        scale_min: Set(1),
        scale_max: Set(5),
        lock_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("factor set");
    for (i, (key, weight)) in [
        ("on_time", "0.35"),
        ("customs", "0.20"),
        ("safety", "0.35"),
        ("snacks", "0.10"),
    ]
    .into_iter()
    .enumerate()
    {
        entity::csi_factors::ActiveModel {
            factor_set_id: Set(set.id),
            key: Set(key.to_owned()),
            label: Set(key.replace('_', " ")),
            weight: Set(weight.to_owned()),
            position: Set(i as i32 + 1),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("factor");
    }
    if status != FactorSetStatus::Draft {
        entity::csi_factor_sets::Entity::update_many()
            .col_expr(
                entity::csi_factor_sets::Column::Status,
                Expr::value(status.as_str()),
            )
            .filter(entity::csi_factor_sets::Column::Id.eq(set.id))
            .exec(app.db())
            .await
            .expect("publish set");
    }
    set.id
}

const CREATE: &str = "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id status csiThreshold questions { id position kind options maxLength scaleMin scaleMax } } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { id status } } }";
const INVITE: &str = "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { invitationId customerId token formUrl reissued expiresAt } skipped { customerId reason } } }";
const SUBMIT: &str = "mutation($t: String!, $a: [SurveyAnswerInput!]!) { submitSurveyResponse(input: { token: $t, answers: $a }) { responseId pointsAwarded csi } }";
const INVITATION: &str = "query($t: String!) { surveyInvitation(token: $t) { title incentivePoints questions { id kind text options } } }";

fn survey_input(set_id: i64, program_id: i64) -> Value {
    use QuestionKind::*;
    let factor = |text: &str, key: &str| question(text, CsiFactor, json!({ "factorKey": key }));
    SurveyBuilder::new("How was your flight?")
        .with("description", json!("Two minutes, 50 points."))
        .with("locale", json!("en"))
        .factor_set(set_id)
        .program(program_id)
        .incentive_points(50)
        .helpful_bonus_points(20)
        .question(question(
            "Overall, how satisfied are you?",
            Rating,
            json!({ "required": true }),
        ))
        .question(question(
            "How likely are you to recommend us?",
            Nps,
            Value::Null,
        ))
        .question(factor("On-time departure", "on_time"))
        .question(factor("Fast customs", "customs"))
        .question(factor("Safety", "safety"))
        .question(factor("Snacks", "snacks"))
        .question(question(
            "Which cabin?",
            SingleChoice,
            json!({ "options": ["Economy", "Business"] }),
        ))
        .question(question(
            "What did you use?",
            MultipleChoice,
            json!({ "options": ["Wifi", "Lounge", "Meals"] }),
        ))
        .question(question(
            "Anything else?",
            Text,
            json!({ "maxLength": 200 }),
        ))
        .input()
}

/// A published survey with a programme and the airline factor set.
pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.login_as(Role::Admin).await;
    let program_id = insert_program(app).await;
    let (survey, f) = airline_survey(app, admin, program_id).await;
    assert_eq!(survey["status"], "DRAFT");
    assert_eq!(survey["csiThreshold"], "60", "default threshold");
    f.publish(app).await;
    f
}

/// A draft survey over a new airline factor set, crediting `program_id`:
/// the `createSurvey` answer and the fixture for it.
async fn airline_survey(app: &TestApp, admin: String, program_id: i64) -> (Value, Fixture) {
    let set_id = insert_factor_set(app, FactorSetStatus::Published).await;
    let body = app
        .graphql_as(
            Some(&admin),
            CREATE,
            json!({ "input": survey_input(set_id, program_id) }),
        )
        .await;
    let survey = data(&body)["createSurvey"]["survey"].clone();
    let created = CreatedSurvey::from_answer(&survey);
    let f = Fixture {
        admin,
        survey_id: created.id,
        q: created.questions,
        program_id,
    };
    (survey, f)
}

/// The published survey's fixture, a new customer Ann and her invitation
/// token.
pub(crate) async fn ann_invited(app: &TestApp) -> (Fixture, i64, String) {
    let f = fixture(app).await;
    let customer = insert_customer(app, "Ann").await;
    let token = f.invite(app, customer).await;
    (f, customer, token)
}

impl Fixture {
    /// Invites `customer` and submits [`Self::good_answers`], which must be
    /// accepted.
    pub(crate) async fn answer(&self, app: &TestApp, customer: i64) {
        let token = self.invite(app, customer).await;
        data(&submit(app, &token, self.good_answers()).await);
    }

    /// Publishes the survey, which must become ACTIVE.
    async fn publish(&self, app: &TestApp) {
        let published = app
            .graphql_as(Some(&self.admin), PUBLISH, json!({ "id": self.survey_id }))
            .await;
        assert_eq!(
            data(&published)["publishSurvey"]["survey"]["status"],
            "ACTIVE"
        );
    }

    pub(crate) async fn invite(&self, app: &TestApp, customer: i64) -> String {
        let body = app
            .graphql_as(
                Some(&self.admin),
                INVITE,
                json!({ "s": self.survey_id, "c": [api_id("Customer", customer)], "e": Utc::now() + Days::days(7) }),
            )
            .await;
        data(&body)["inviteToSurvey"]["invitations"][0]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("token: {body}"))
            .to_owned()
    }

    /// A complete, valid answer set: the airline ratings 5, 4, 5, 2.
    pub(crate) fn good_answers(&self) -> Value {
        json!([
            { "questionId": self.q[0], "rating": 4 },
            { "questionId": self.q[1], "rating": 9 },
            { "questionId": self.q[2], "rating": 5 },
            { "questionId": self.q[3], "rating": 4 },
            { "questionId": self.q[4], "rating": 5 },
            { "questionId": self.q[5], "rating": 2 },
            { "questionId": self.q[6], "choices": ["Business"] },
            { "questionId": self.q[7], "choices": ["Wifi", "Meals"] },
            { "questionId": self.q[8], "text": "Great crew" }
        ])
    }

    /// [`Self::good_answers`] with an overall rating of 1, which raises one
    /// `LOW_RATING` follow-up.
    pub(crate) fn unhappy_answers(&self) -> Value {
        let mut answers = self.good_answers();
        answers[0]["rating"] = json!(1);
        answers
    }
}

pub(crate) async fn submit(app: &TestApp, token: &str, answers: Value) -> Value {
    app.graphql(SUBMIT, json!({ "t": token, "a": answers }))
        .await
}

async fn count<E>(app: &TestApp) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    PaginatorTrait::count(E::find(), app.db())
        .await
        .expect("count")
}

async fn balance(app: &TestApp, program_id: i64, customer: i64) -> i64 {
    entity::memberships::Entity::find()
        .filter(entity::memberships::Column::ProgramId.eq(program_id))
        .filter(entity::memberships::Column::CustomerId.eq(customer))
        .one(app.db())
        .await
        .expect("query")
        .map_or(0, |m| m.balance)
}

/// Nothing of a submission is stored and its invitation is unused.
async fn assert_nothing_stored(app: &TestApp, why: &str) {
    assert_eq!(
        count::<entity::survey_responses::Entity>(app).await,
        0,
        "{why}: responses"
    );
    assert_eq!(
        count::<entity::survey_answers::Entity>(app).await,
        0,
        "{why}: answers"
    );
    assert_eq!(
        count::<entity::csi_ratings::Entity>(app).await,
        0,
        "{why}: ratings"
    );
    assert_eq!(
        count::<entity::ledger_entries::Entity>(app).await,
        0,
        "{why}: ledger"
    );
    assert_eq!(
        count::<entity::follow_ups::Entity>(app).await,
        0,
        "{why}: follow-ups"
    );
    let used = entity::survey_invitations::Entity::find()
        .filter(entity::survey_invitations::Column::UsedAt.is_not_null())
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(used, 0, "{why}: invitation still usable");
}

// ---------------------------------------------------------------- tests

/// `rapport_survey_submissions_total` from `/metrics` (0 when absent).
async fn submissions_counted(app: &TestApp) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("request sent")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|line| line.strip_prefix("rapport_survey_submissions_total "))
        .map_or(0.0, |v| v.parse().expect("a number"))
}

async fn submissions_move_the_submission_counter(engine: Engine) {
    let app = spawn_app_with(engine, &["--metrics"]).await;
    let f = fixture(&app).await;
    let customer = insert_customer(&app, "Metered").await;
    let body = app
        .graphql_as(
            Some(&f.admin),
            INVITE,
            json!({ "s": f.survey_id, "c": [api_id("Customer", customer)], "e": Utc::now() + Days::days(7) }),
        )
        .await;
    let token = data(&body)["inviteToSurvey"]["invitations"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let before = submissions_counted(&app).await;
    let receipt = submit(&app, &token, f.good_answers()).await;
    assert_eq!(data(&receipt)["submitSurveyResponse"]["pointsAwarded"], 50);
    assert!(submissions_counted(&app).await >= before + 1.0);
}

async fn full_flow_stores_the_response_credits_points_and_computes_csi(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let customer = insert_customer(&app, "Ann").await;
    let body = app
        .graphql_as(
            Some(&f.admin),
            INVITE,
            json!({ "s": f.survey_id, "c": [api_id("Customer", customer)], "e": Utc::now() + Days::days(7) }),
        )
        .await;
    let issued = &data(&body)["inviteToSurvey"]["invitations"][0];
    let token = issued["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 43, "32 bytes base64url");
    assert!(issued["formUrl"]
        .as_str()
        .expect("url")
        .ends_with(&format!("/s/{token}")));
    let stored = entity::survey_invitations::Entity::find()
        .one(app.db())
        .await
        .expect("query")
        .expect("invitation");
    assert_ne!(stored.token_hash, token, "only the hash is stored");
    assert_eq!(stored.token_hash.len(), 64);

    // The respondent sees the survey without a staff token.
    let seen = app.graphql(INVITATION, json!({ "t": token })).await;
    let seen = &data(&seen)["surveyInvitation"];
    assert_eq!(seen["title"], "How was your flight?");
    assert_eq!(seen["incentivePoints"], 50);
    assert_eq!(seen["questions"].as_array().map(Vec::len), Some(9));

    let receipt = submit(&app, &token, f.good_answers()).await;
    let receipt = &data(&receipt)["submitSurveyResponse"];
    assert_eq!(receipt["pointsAwarded"], 50);
    assert_eq!(receipt["csi"], "87.5", "SPEC airline example");
    assert_eq!(balance(&app, f.program_id, customer).await, 50);
    let entry = entity::ledger_entries::Entity::find()
        .one(app.db())
        .await
        .expect("query")
        .expect("entry");
    assert_eq!(entry.reason, "FEEDBACK_INCENTIVE");
    assert_eq!(
        entry.source_key,
        format!(
            "response:{}",
            db_key(receipt["responseId"].as_str().expect("id"))
        )
    );
    assert_eq!(count::<entity::csi_ratings::Entity>(&app).await, 4);
    assert_eq!(count::<entity::survey_answers::Entity>(&app).await, 9);
    let response = entity::survey_responses::Entity::find()
        .one(app.db())
        .await
        .expect("query")
        .expect("response");
    assert_eq!(response.weighted_mean.as_deref(), Some("4.5"));

    // Staff read it back.
    let agent = app.login_as(Role::Agent).await;
    let list = app
        .graphql_as(
            Some(&agent),
            "query($s: ID!) { surveyResponses(filter: { surveyId: $s }, first: 10) { edges { node { id customerId csi weightedMean answers { questionId rating choices text } } } pageInfo { hasNextPage } } }",
            json!({ "s": f.survey_id }),
        )
        .await;
    let node = &data(&list)["surveyResponses"]["edges"][0]["node"];
    assert_eq!(node["customerId"], api_id("Customer", customer));
    assert_eq!(node["csi"], "87.5");
    assert_eq!(node["answers"][7]["choices"], json!(["Wifi", "Meals"]));
    assert_eq!(node["answers"][8]["text"], "Great crew");

    // Partial CSI: only two factors answered, weights renormalised.
    let other = insert_customer(&app, "Bob").await;
    let token = f.invite(&app, other).await;
    let partial = submit(
        &app,
        &token,
        json!([
            { "questionId": f.q[0], "rating": 5 },
            { "questionId": f.q[2], "rating": 5 },
            { "questionId": f.q[5], "rating": 2 }
        ]),
    )
    .await;
    assert_eq!(data(&partial)["submitSurveyResponse"]["csi"], "83.3333");
}

async fn one_token_submitted_concurrently_credits_points_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let (f, customer, token) = ann_invited(&app).await;
    let answers = f.good_answers();

    let bodies =
        futures::future::join_all((0..100).map(|_| submit(&app, &token, answers.clone()))).await;

    let ok = bodies.iter().filter(|b| b.get("errors").is_none()).count();
    let already = bodies
        .iter()
        .filter(|b| error_code(b) == Some("ALREADY_SUBMITTED"))
        .count();
    assert_eq!(
        (ok, already),
        (1, 99),
        "codes: {:?}",
        bodies.iter().map(error_code).collect::<Vec<_>>()
    );
    // The 99 that lost the claim attached nothing to the winner's response.
    assert_eq!(count::<entity::survey_responses::Entity>(&app).await, 1);
    assert_eq!(count::<entity::survey_answers::Entity>(&app).await, 9);
    assert_eq!(count::<entity::ledger_entries::Entity>(&app).await, 1);
    assert_eq!(count::<entity::csi_ratings::Entity>(&app).await, 4);
    assert_eq!(balance(&app, f.program_id, customer).await, 50);
}

async fn bad_submissions_are_rejected_whole_and_the_token_stays_usable(engine: Engine) {
    let app = spawn_app(engine).await;
    let (f, _, token) = ann_invited(&app).await;
    // A question of another survey.
    let foreign = SurveyBuilder::new("Other")
        .question(question("Q", QuestionKind::Rating, Value::Null))
        .create(&app, &f.admin)
        .await
        .questions[0]
        .clone();

    let q = &f.q;
    let with = |extra: Value| {
        let mut answers = vec![json!({ "questionId": q[0], "rating": 4 })];
        answers.push(extra);
        Value::Array(answers)
    };
    let too_many: Vec<Value> = (0..201)
        .map(|_| json!({ "questionId": q[0], "rating": 4 }))
        .collect();
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "missing required",
            json!([{ "questionId": q[1], "rating": 9 }]),
            format!("answers.{}", q[0]),
        ),
        ("no answers at all", json!([]), format!("answers.{}", q[0])),
        (
            "wrong kind: text for a rating",
            json!([{ "questionId": q[0], "text": "five" }]),
            format!("answers.{}", q[0]),
        ),
        (
            "wrong kind: rating for choices",
            with(json!({ "questionId": q[6], "rating": 1 })),
            format!("answers.{}", q[6]),
        ),
        (
            "wrong kind: nothing set",
            with(json!({ "questionId": q[1] })),
            format!("answers.{}", q[1]),
        ),
        (
            "rating above 5",
            json!([{ "questionId": q[0], "rating": 6 }]),
            format!("answers.{}", q[0]),
        ),
        (
            "rating below 1",
            json!([{ "questionId": q[0], "rating": 0 }]),
            format!("answers.{}", q[0]),
        ),
        (
            "NPS above 10",
            with(json!({ "questionId": q[1], "rating": 11 })),
            format!("answers.{}", q[1]),
        ),
        (
            "NPS negative",
            with(json!({ "questionId": q[1], "rating": -1 })),
            format!("answers.{}", q[1]),
        ),
        (
            "CSI factor out of scale",
            with(json!({ "questionId": q[2], "rating": 7 })),
            format!("answers.{}", q[2]),
        ),
        (
            "choice not among options",
            with(json!({ "questionId": q[6], "choices": ["First"] })),
            format!("answers.{}", q[6]),
        ),
        (
            "two choices for single choice",
            with(json!({ "questionId": q[6], "choices": ["Economy", "Business"] })),
            format!("answers.{}", q[6]),
        ),
        (
            "multiple choice with a stranger",
            with(json!({ "questionId": q[7], "choices": ["Wifi", "Pool"] })),
            format!("answers.{}", q[7]),
        ),
        (
            "duplicate question",
            with(json!({ "questionId": q[0], "rating": 5 })),
            format!("answers.{}", q[0]),
        ),
        (
            "foreign question",
            with(json!({ "questionId": foreign, "rating": 5 })),
            format!("answers.{foreign}"),
        ),
        (
            "unknown question",
            with(json!({ "questionId": api_id("SurveyQuestion", 999_999), "rating": 5 })),
            format!("answers.{}", api_id("SurveyQuestion", 999_999)),
        ),
        (
            "malformed question id",
            with(json!({ "questionId": "abc", "rating": 5 })),
            "answers.1.questionId".to_owned(),
        ),
        (
            "text over the limit",
            with(json!({ "questionId": q[8], "text": "x".repeat(201) })),
            format!("answers.{}", q[8]),
        ),
        (
            "NUL byte in text",
            with(json!({ "questionId": q[8], "text": "a\u{0}b" })),
            format!("answers.{}", q[8]),
        ),
        ("201 answers", Value::Array(too_many), "answers".to_owned()),
    ];
    for (why, answers, field) in cases {
        let body = submit(&app, &token, answers).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{why}: {body}"
        );
        assert_nothing_stored(&app, why).await;
    }

    let ok = submit(&app, &token, f.good_answers()).await;
    assert_eq!(data(&ok)["submitSurveyResponse"]["pointsAwarded"], 50);
}

async fn a_hundred_thousand_answers_are_refused_and_nothing_is_stored(engine: Engine) {
    // With a body limit large enough to reach the resolver: BAD_USER_INPUT on `answers`.
    let app = spawn_app_with(engine, &["--max-body-bytes", "20000000"]).await;
    let (f, _, token) = ann_invited(&app).await;
    let flood: Vec<Value> = (0..100_000)
        .map(|_| json!({ "questionId": f.q[0], "rating": 4 }))
        .collect();
    let body = submit(&app, &token, Value::Array(flood.clone())).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "answers");
    assert_nothing_stored(&app, "100 000 answers").await;
    let ok = submit(&app, &token, f.good_answers()).await;
    assert_eq!(data(&ok)["submitSurveyResponse"]["pointsAwarded"], 50);

    // With the default limit the body itself is refused before any parsing.
    let app = spawn_app(engine).await;
    let (f, _, token) = ann_invited(&app).await;
    let status = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": SUBMIT, "variables": { "t": token, "a": flood } }))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert!(status.as_ref().map_or(true, |s| *s == 413), "{status:?}");
    assert_nothing_stored(&app, "oversized body").await;
    let ok = submit(&app, &token, f.good_answers()).await;
    assert_eq!(data(&ok)["submitSurveyResponse"]["pointsAwarded"], 50);
}

async fn sql_and_html_like_text_is_stored_literally(engine: Engine) {
    let app = spawn_app(engine).await;
    let (f, _, token) = ann_invited(&app).await;
    let nasty = "'); DROP TABLE surveys; --<script>alert(1)</script>&amp;";
    let body = submit(
        &app,
        &token,
        json!([
            { "questionId": f.q[0], "rating": 5 },
            { "questionId": f.q[8], "text": nasty }
        ]),
    )
    .await;
    data(&body);
    let stored = entity::survey_answers::Entity::find()
        .filter(entity::survey_answers::Column::Text.is_not_null())
        .one(app.db())
        .await
        .expect("query")
        .expect("answer");
    assert_eq!(stored.text.as_deref(), Some(nasty));
    assert_eq!(count::<entity::surveys::Entity>(&app).await, 1);
}

async fn unknown_expired_used_closed_and_revoked_tokens_get_distinct_codes(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let (ann, bob, cid, dan) = (
        insert_customer(&app, "Ann").await,
        insert_customer(&app, "Bob").await,
        insert_customer(&app, "Cid").await,
        insert_customer(&app, "Dan").await,
    );
    let check = |token: String, code: &'static str, why: &'static str| {
        let app = &app;
        let answers = f.good_answers();
        async move {
            let seen = app.graphql(INVITATION, json!({ "t": token })).await;
            assert_eq!(
                error_code(&seen),
                Some(code),
                "surveyInvitation {why}: {seen}"
            );
            let sent = submit(app, &token, answers).await;
            assert_eq!(error_code(&sent), Some(code), "submit {why}: {sent}");
        }
    };
    check("A".repeat(43), "INVALID_TOKEN", "unknown").await;
    check("not a token".into(), "INVALID_TOKEN", "malformed").await;

    let used = f.invite(&app, ann).await;
    data(&submit(&app, &used, f.good_answers()).await);
    check(used, "ALREADY_SUBMITTED", "used").await;

    let expired = f.invite(&app, bob).await;
    entity::survey_invitations::Entity::update_many()
        .col_expr(
            entity::survey_invitations::Column::ExpiresAt,
            Expr::value(Utc::now() - Days::minutes(1)),
        )
        .filter(entity::survey_invitations::Column::CustomerId.eq(bob))
        .exec(app.db())
        .await
        .expect("expire");
    check(expired, "TOKEN_EXPIRED", "expired").await;

    let first = f.invite(&app, cid).await;
    let second = f.invite(&app, cid).await;
    check(first, "INVALID_TOKEN", "revoked by re-issue").await;

    let open = f.invite(&app, dan).await;
    let closed = app
        .graphql_as(
            Some(&f.admin),
            "mutation($id: ID!) { closeSurvey(input: { id: $id }) { survey { status } } }",
            json!({ "id": f.survey_id }),
        )
        .await;
    assert_eq!(data(&closed)["closeSurvey"]["survey"]["status"], "CLOSED");
    check(open, "CONFLICT", "closed survey").await;
    check(second, "CONFLICT", "closed survey, re-issued token").await;
    assert_eq!(count::<entity::survey_responses::Entity>(&app).await, 1);
}

async fn invitations_skip_erased_churned_unknown_and_answered_customers_and_reissue_live_ones(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let ann = insert_customer(&app, "Ann").await;
    let erased = insert_customer(&app, "Erased").await;
    let churned = insert_customer(&app, "Churned").await;
    let answered = insert_customer(&app, "Answered").await;
    for (id, column) in [
        (erased, entity::customers::Column::ErasedAt),
        (churned, entity::customers::Column::ChurnedAt),
    ] {
        entity::customers::Entity::update_many()
            .col_expr(column, Expr::value(Utc::now()))
            .filter(entity::customers::Column::Id.eq(id))
            .exec(app.db())
            .await
            .expect("update");
    }
    let token = f.invite(&app, answered).await;
    data(&submit(&app, &token, f.good_answers()).await);
    let first = f.invite(&app, ann).await;

    let body = app
        .graphql_as(
            Some(&f.admin),
            INVITE,
            json!({
                "s": f.survey_id,
                "c": [api_id("Customer", ann), api_id("Customer", erased), api_id("Customer", churned), api_id("Customer", answered), api_id("Customer", 987_654), api_id("Customer", ann)],
                "e": Utc::now() + Days::days(7)
            }),
        )
        .await;
    let payload = &data(&body)["inviteToSurvey"];
    let invitations = payload["invitations"].as_array().expect("list");
    assert_eq!(invitations.len(), 1, "{payload}");
    assert_eq!(invitations[0]["customerId"], api_id("Customer", ann));
    assert_eq!(invitations[0]["reissued"], true);
    assert_ne!(invitations[0]["token"], first.as_str());
    let skipped: Vec<(String, String)> = payload["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["customerId"].as_str().unwrap_or_default().to_owned(),
                s["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            (api_id("Customer", erased), "ERASED".to_owned()),
            (api_id("Customer", churned), "CHURNED".to_owned()),
            (api_id("Customer", answered), "ALREADY_RESPONDED".to_owned()),
            (api_id("Customer", 987_654), "UNKNOWN_CUSTOMER".to_owned()),
        ]
    );
    let live = entity::survey_invitations::Entity::find()
        .filter(entity::survey_invitations::Column::CustomerId.eq(ann))
        .filter(entity::survey_invitations::Column::UsedAt.is_null())
        .filter(entity::survey_invitations::Column::RevokedAt.is_null())
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(live, 1, "never two live invitations");

    let past = app
        .graphql_as(
            Some(&f.admin),
            INVITE,
            json!({ "s": f.survey_id, "c": [api_id("Customer", ann)], "e": Utc::now() - Days::days(1) }),
        )
        .await;
    assert_eq!(error_code(&past), Some("BAD_USER_INPUT"));
    assert_eq!(past["errors"][0]["extensions"]["field"], "expiresAt");
}

async fn marking_feedback_helpful_credits_the_bonus_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let (f, customer, token) = ann_invited(&app).await;
    let receipt = submit(&app, &token, f.good_answers()).await;
    let response_id = data(&receipt)["submitSurveyResponse"]["responseId"]
        .as_str()
        .expect("id")
        .to_owned();
    let manager = app.login_as(Role::Manager).await;
    const MARK: &str = "mutation($r: ID!) { markFeedbackHelpful(input: { id: $r }) { response { id helpful helpfulAt helpfulBonus helpfulBonusPointsCredited } } }";
    // The result says whether this call credited the bonus.
    for (attempt, outcome, points) in [(0, "CREDITED", 20), (1, "ALREADY_CREDITED", 0)] {
        let body = app
            .graphql_as(Some(&manager), MARK, json!({ "r": response_id }))
            .await;
        let marked = &data(&body)["markFeedbackHelpful"]["response"];
        assert_eq!(marked["helpful"], true, "attempt {attempt}");
        assert_eq!(marked["helpfulBonus"], outcome, "attempt {attempt}");
        assert_eq!(
            marked["helpfulBonusPointsCredited"], points,
            "attempt {attempt}"
        );
    }
    assert_eq!(balance(&app, f.program_id, customer).await, 70);
    // Read anywhere else, the response carries no outcome.
    let read = app
        .graphql_as(
            Some(&manager),
            "query($r: ID!) { surveyResponse(id: $r) { helpful helpfulBonus } }",
            json!({ "r": response_id }),
        )
        .await;
    assert_eq!(
        data(&read)["surveyResponse"],
        json!({ "helpful": true, "helpfulBonus": null })
    );

    // A survey without a helpful bonus: NO_BONUS, the first time and again.
    entity::surveys::Entity::update_many()
        .col_expr(entity::surveys::Column::HelpfulBonusPoints, Expr::value(0))
        .exec(app.db())
        .await
        .expect("no bonus");
    let bob = insert_customer(&app, "Bob").await;
    let token = f.invite(&app, bob).await;
    let receipt = submit(&app, &token, f.good_answers()).await;
    let bob_response = data(&receipt)["submitSurveyResponse"]["responseId"].clone();
    let bob_before = balance(&app, f.program_id, bob).await;
    for attempt in 0..2 {
        let body = app
            .graphql_as(Some(&manager), MARK, json!({ "r": bob_response }))
            .await;
        let marked = &data(&body)["markFeedbackHelpful"]["response"];
        assert_eq!(marked["helpfulBonus"], "NO_BONUS", "attempt {attempt}");
        assert_eq!(marked["helpfulBonusPointsCredited"], 0);
    }
    assert_eq!(balance(&app, f.program_id, bob).await, bob_before);
    // Ann's response keeps saying ALREADY_CREDITED: the ledger remembers.
    let body = app
        .graphql_as(Some(&manager), MARK, json!({ "r": response_id }))
        .await;
    assert_eq!(
        data(&body)["markFeedbackHelpful"]["response"]["helpfulBonus"],
        "ALREADY_CREDITED"
    );
    let helpful = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::Reason.eq("HELPFUL_FEEDBACK"))
        .all(app.db())
        .await
        .expect("query");
    assert_eq!(helpful.len(), 1);
    assert_eq!(
        helpful[0].source_key,
        format!("helpful:{}", db_key(&response_id))
    );

    let missing = app
        .graphql_as(
            Some(&manager),
            MARK,
            json!({ "r": api_id("SurveyResponse", 999_999) }),
        )
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"));
}

async fn dissatisfied_responses_raise_one_follow_up_each(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let answer = |rating: i64, nps: Option<i64>, factors: [i64; 4]| {
        let mut list = vec![json!({ "questionId": f.q[0], "rating": rating })];
        if let Some(nps) = nps {
            list.push(json!({ "questionId": f.q[1], "rating": nps }));
        }
        for (i, r) in factors.iter().enumerate() {
            list.push(json!({ "questionId": f.q[2 + i], "rating": r }));
        }
        Value::Array(list)
    };
    let cases = [
        ("happy", answer(5, Some(10), [5, 5, 5, 5]), vec![]),
        (
            "low rating",
            answer(2, Some(8), [5, 5, 5, 5]),
            vec!["LOW_RATING"],
        ),
        (
            "detractor",
            answer(4, Some(6), [5, 5, 5, 5]),
            vec!["NPS_DETRACTOR"],
        ),
        ("low csi", answer(3, None, [2, 2, 2, 2]), vec!["LOW_CSI"]),
        (
            "everything",
            answer(1, Some(0), [1, 1, 1, 1]),
            vec!["LOW_CSI", "NPS_DETRACTOR", "LOW_RATING"],
        ),
    ];
    let mut expected = Vec::new();
    for (i, (why, answers, reasons)) in cases.into_iter().enumerate() {
        let customer = insert_customer(&app, &format!("C{i}")).await;
        let token = f.invite(&app, customer).await;
        let body = submit(&app, &token, answers).await;
        let id = data(&body)["submitSurveyResponse"]["responseId"].clone();
        if !reasons.is_empty() {
            expected.push((why, id, reasons));
        }
    }
    assert_eq!(
        count::<entity::follow_ups::Entity>(&app).await,
        expected.len() as u64
    );
    let agent = app.login_as(Role::Agent).await;
    const LIST: &str = "query($s: FollowUpStatus) { followUps(filter: { status: $s }, first: 50) { edges { node { id responseId surveyId reasons status note } } } }";
    let list = app
        .graphql_as(Some(&agent), LIST, json!({ "s": "OPEN" }))
        .await;
    let nodes = data(&list)["followUps"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(nodes.len(), expected.len());
    for (why, response_id, reasons) in &expected {
        let node = nodes
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["responseId"] == *response_id)
            .unwrap_or_else(|| panic!("{why}: follow-up"));
        assert_eq!(node["reasons"], json!(reasons), "{why}");
        assert_eq!(node["surveyId"], f.survey_id.as_str());
    }

    // Resolving: agents may not; managers may, once.
    let first = nodes[0]["node"]["id"].clone();
    const RESOLVE: &str = "mutation($id: ID!, $n: String!) { resolveFollowUp(input: { id: $id, note: $n }) { followUp { status note resolvedById } } }";
    let refused = app
        .graphql_as(Some(&agent), RESOLVE, json!({ "id": first, "n": "called" }))
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    let manager = app.login_as(Role::Manager).await;
    let blank = app
        .graphql_as(Some(&manager), RESOLVE, json!({ "id": first, "n": "  " }))
        .await;
    assert_eq!(error_code(&blank), Some("BAD_USER_INPUT"));
    let done = app
        .graphql_as(
            Some(&manager),
            RESOLVE,
            json!({ "id": first, "n": "Called back, voucher sent" }),
        )
        .await;
    assert_eq!(
        data(&done)["resolveFollowUp"]["followUp"]["status"],
        "RESOLVED"
    );
    assert_eq!(
        data(&done)["resolveFollowUp"]["followUp"]["note"],
        "Called back, voucher sent"
    );
    let again = app
        .graphql_as(
            Some(&manager),
            RESOLVE,
            json!({ "id": first, "n": "again" }),
        )
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    let open = app
        .graphql_as(Some(&agent), LIST, json!({ "s": "OPEN" }))
        .await;
    assert_eq!(
        data(&open)["followUps"]["edges"].as_array().map(Vec::len),
        Some(expected.len() - 1)
    );
    let resolved = app
        .graphql_as(Some(&agent), LIST, json!({ "s": "RESOLVED" }))
        .await;
    assert_eq!(
        data(&resolved)["followUps"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

async fn results_report_exact_csat_nps_and_distributions(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    // Five responses: ratings 5, 4, 3, 2, 5 → CSAT 3/5 = 60 %;
    // NPS 10, 9, 7, 6, 0 → (2 − 2) / 5 = 0; on a second pass the NPS 10 is dropped below.
    let rows = [
        (5, Some(10), "Economy", vec!["Wifi"]),
        (4, Some(9), "Business", vec!["Wifi", "Meals"]),
        (3, Some(7), "Economy", vec![]),
        (2, Some(6), "Economy", vec!["Lounge"]),
        (5, Some(0), "Business", vec!["Wifi"]),
        (4, None, "Economy", vec![]),
    ];
    let mut customers = Vec::new();
    for (i, (rating, nps, cabin, used)) in rows.iter().enumerate() {
        let customer = insert_customer(&app, &format!("C{i}")).await;
        customers.push(customer);
        let token = f.invite(&app, customer).await;
        let mut answers = vec![
            json!({ "questionId": f.q[0], "rating": rating }),
            json!({ "questionId": f.q[2], "rating": rating }),
            json!({ "questionId": f.q[6], "choices": [cabin] }),
        ];
        if let Some(nps) = nps {
            answers.push(json!({ "questionId": f.q[1], "rating": nps }));
        }
        if !used.is_empty() {
            answers.push(json!({ "questionId": f.q[7], "choices": used }));
        }
        data(&submit(&app, &token, Value::Array(answers)).await);
    }
    // Two more invited who do not answer; one re-issued (counts once).
    let silent = insert_customer(&app, "Silent").await;
    f.invite(&app, silent).await;
    f.invite(&app, silent).await;
    let quiet = insert_customer(&app, "Quiet").await;
    f.invite(&app, quiet).await;

    let agent = app.login_as(Role::Agent).await;
    let body = app
        .graphql_as(
            Some(&agent),
            "query($s: ID!) { surveyResults(surveyId: $s) { invitationsSent responses responseRate csat ratingAnswers nps promoters passives detractors questions { questionId kind answers mean distribution { value count } } } }",
            json!({ "s": f.survey_id }),
        )
        .await;
    let r = &data(&body)["surveyResults"];
    assert_eq!(r["invitationsSent"], 8);
    assert_eq!(r["responses"], 6);
    assert_eq!(r["responseRate"], "75");
    // RATING: 5, 4, 3, 2, 5, 4 → four of six are 4–5.
    assert_eq!(r["ratingAnswers"], 6);
    assert_eq!(r["csat"], "66.67");
    // NPS: 10, 9 promoters; 7 passive; 6, 0 detractors → (2 − 2)/5 = 0.
    assert_eq!(
        (
            r["promoters"].clone(),
            r["passives"].clone(),
            r["detractors"].clone()
        ),
        (json!(2), json!(1), json!(2))
    );
    assert_eq!(r["nps"], "0");
    let q = r["questions"].as_array().expect("questions");
    let dist = |i: usize| -> Vec<(String, i64)> {
        q[i]["distribution"]
            .as_array()
            .expect("distribution")
            .iter()
            .map(|b| {
                (
                    b["value"].as_str().unwrap_or_default().to_owned(),
                    b["count"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, i64)]| {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), *b))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        dist(0),
        pairs(&[("1", 0), ("2", 1), ("3", 1), ("4", 2), ("5", 2)])
    );
    assert_eq!(q[0]["mean"], "3.8333");
    assert_eq!(q[0]["answers"], 6);
    assert_eq!(q[1]["answers"], 5);
    assert_eq!(q[1]["mean"], "6.4");
    assert_eq!(dist(1).len(), 11, "NPS 0..10");
    assert_eq!(dist(6), pairs(&[("Economy", 4), ("Business", 2)]));
    assert_eq!(dist(7), pairs(&[("Wifi", 3), ("Lounge", 1), ("Meals", 1)]));
    assert_eq!(q[7]["answers"], 4);
    assert_eq!(q[8]["answers"], 0);
    assert_eq!(dist(8), vec![]);
    assert!(q[8]["mean"].is_null());

    // Second survey with promoters only: NPS 100, no RATING answers → csat null.
    let only = SurveyBuilder::new("NPS only")
        .question(question(
            "Recommend?",
            QuestionKind::Nps,
            json!({ "required": true }),
        ))
        .publish(&app, &f.admin)
        .await;
    let (sid, qid) = (only.id, only.questions[0].clone());
    let invite = app
        .graphql_as(Some(&f.admin), INVITE, json!({ "s": sid, "c": [api_id("Customer", customers[0]), api_id("Customer", customers[1]), api_id("Customer", customers[2])], "e": Utc::now() + Days::days(1) }))
        .await;
    for (i, score) in [10, 9, 3].iter().enumerate() {
        let token = data(&invite)["inviteToSurvey"]["invitations"][i]["token"]
            .as_str()
            .expect("t")
            .to_owned();
        data(
            &submit(
                &app,
                &token,
                json!([{ "questionId": qid, "rating": score }]),
            )
            .await,
        );
    }
    let body = app
        .graphql_as(
            Some(&agent),
            "query($s: ID!) { surveyResults(surveyId: $s) { nps csat responseRate } }",
            json!({ "s": sid }),
        )
        .await;
    let r = &data(&body)["surveyResults"];
    assert_eq!(r["nps"], "33.33", "(2 − 1) / 3");
    assert!(r["csat"].is_null());
    assert_eq!(r["responseRate"], "100");
}

async fn roles_are_enforced_and_nothing_is_written(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let customer = insert_customer(&app, "Ann").await;
    let agent = app.login_as(Role::Agent).await;
    let input = json!({ "input": { "title": "By an agent", "questions": [{ "text": "Q", "kind": "RATING" }] } });
    let cases: Vec<(&str, &str, Value)> = vec![
        ("createSurvey", CREATE, input.clone()),
        ("publishSurvey", PUBLISH, json!({ "id": f.survey_id })),
        (
            "closeSurvey",
            "mutation($id: ID!) { closeSurvey(input: { id: $id }) { survey { id } } }",
            json!({ "id": f.survey_id }),
        ),
        (
            "updateSurvey",
            "mutation($id: ID!) { updateSurvey(input: { id: $id, title: \"x\" }) { survey { id } } }",
            json!({ "id": f.survey_id }),
        ),
        (
            "inviteToSurvey",
            INVITE,
            json!({ "s": f.survey_id, "c": [api_id("Customer", customer)], "e": Utc::now() + Days::days(1) }),
        ),
        (
            "markFeedbackHelpful",
            "mutation($r: ID!) { markFeedbackHelpful(input: { id: $r }) { response { id } } }",
            json!({ "r": api_id("SurveyResponse", 1) }),
        ),
        (
            "resolveFollowUp",
            "mutation($id: ID!) { resolveFollowUp(input: { id: $id, note: \"n\" }) { followUp { id } } }",
            json!({ "id": api_id("FollowUp", 1) }),
        ),
    ];
    for (what, query, vars) in &cases {
        let body = app.graphql_as(Some(&agent), query, vars.clone()).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "agent {what}: {body}");
        let body = app.graphql(query, vars.clone()).await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "anonymous {what}: {body}"
        );
    }
    assert_eq!(count::<entity::surveys::Entity>(&app).await, 1);
    assert_eq!(count::<entity::survey_invitations::Entity>(&app).await, 0);
    for query in [
        "{ surveys(first: 5) { edges { node { id } } } }",
        "query { followUps { edges { node { id } } } }",
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{query}");
        let body = app.graphql_as(Some(&agent), query, json!({})).await;
        data(&body);
    }
    let results = app
        .graphql_as(Some(&agent), "query($s: ID!) { surveyResults(surveyId: $s) { responses } survey(id: $s) { title status questions { kind } } }", json!({ "s": f.survey_id }))
        .await;
    assert_eq!(data(&results)["survey"]["status"], "ACTIVE");
    let manager = app.login_as(Role::Manager).await;
    let created = app.graphql_as(Some(&manager), CREATE, input).await;
    assert_eq!(data(&created)["createSurvey"]["survey"]["status"], "DRAFT");
}

async fn survey_lifecycle_rules_are_enforced(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let program_id = insert_program(&app).await;
    let draft_set = insert_factor_set(&app, FactorSetStatus::Draft).await;
    let published_set = insert_factor_set(&app, FactorSetStatus::Published).await;
    let create = |input: Value| app.graphql_as(Some(&admin), CREATE, json!({ "input": input }));

    // Input validation names the field.
    let bad = [
        (
            "blank title",
            json!({ "title": " ", "questions": [] }),
            "title",
        ),
        (
            "choice without options",
            json!({ "title": "t", "questions": [{ "text": "q", "kind": "SINGLE_CHOICE", "options": ["only"] }] }),
            "questions.0.options",
        ),
        (
            "duplicate options",
            json!({ "title": "t", "questions": [{ "text": "q", "kind": "MULTIPLE_CHOICE", "options": ["a", "a"] }] }),
            "questions.0.options.1",
        ),
        (
            "options on a rating",
            json!({ "title": "t", "questions": [{ "text": "q", "kind": "RATING", "options": ["a", "b"] }] }),
            "questions.0.options",
        ),
        (
            "factor without a set",
            json!({ "title": "t", "questions": [{ "text": "q", "kind": "CSI_FACTOR", "factorKey": "on_time" }] }),
            "questions.0.factorKey",
        ),
        (
            "negative points",
            json!({ "title": "t", "incentivePoints": -1, "questions": [] }),
            "incentivePoints",
        ),
        (
            "threshold over 100",
            json!({ "title": "t", "csiThreshold": "101", "questions": [] }),
            "csiThreshold",
        ),
        (
            "text limit too big",
            json!({ "title": "t", "questions": [{ "text": "q", "kind": "TEXT", "maxLength": 100000 }] }),
            "questions.0.maxLength",
        ),
        (
            "unknown programme",
            json!({ "title": "t", "loyaltyProgramId": api_id("LoyaltyProgram", 99_999), "questions": [] }),
            "loyaltyProgramId",
        ),
        (
            "closes before it opens",
            json!({ "title": "t", "opensAt": "2030-01-02T00:00:00Z", "closesAt": "2030-01-01T00:00:00Z", "questions": [] }),
            "closesAt",
        ),
    ];
    for (why, input, field) in bad {
        let body = create(input).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{why}");
    }
    assert_eq!(count::<entity::surveys::Entity>(&app).await, 0);

    // Publishing checks: questions, the set's status and keys.
    let empty = create(json!({ "title": "Empty", "questions": [] })).await;
    let empty_id = data(&empty)["createSurvey"]["survey"]["id"].clone();
    let body = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": empty_id }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "questions",
        "{body}"
    );

    let factor = |set: i64, key: &str| {
        json!({ "title": "CSI", "factorSetId": api_id("CsiFactorSet", set), "loyaltyProgramId": api_id("LoyaltyProgram", program_id),
                "questions": [{ "text": "Rate", "kind": "RATING" }, { "text": "F", "kind": "CSI_FACTOR", "factorKey": key }] })
    };
    let on_draft = create(factor(draft_set, "on_time")).await;
    let id = data(&on_draft)["createSurvey"]["survey"]["id"].clone();
    let body = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": id }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "factorSetId",
        "{body}"
    );

    let unknown_key = create(factor(published_set, "legroom")).await;
    let id = data(&unknown_key)["createSurvey"]["survey"]["id"].clone();
    let body = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": id }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "questions.1.factorKey",
        "{body}"
    );

    // Fix it with updateSurvey, publish, then it is frozen.
    const UPDATE: &str = "mutation($input: UpdateSurveyInput!) { updateSurvey(input: $input) { survey { title description questions { factorKey } } } }";
    let fixed = app
        .graphql_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "id": id, "title": "CSI fixed", "description": null, "questions": [{ "text": "F", "kind": "CSI_FACTOR", "factorKey": "safety", "required": true }] } }),
        )
        .await;
    assert_eq!(data(&fixed)["updateSurvey"]["survey"]["title"], "CSI fixed");
    assert_eq!(
        data(&fixed)["updateSurvey"]["survey"]["questions"],
        json!([{ "factorKey": "safety" }])
    );
    let published = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": id }))
        .await;
    assert_eq!(
        data(&published)["publishSurvey"]["survey"]["status"],
        "ACTIVE"
    );
    let again = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": id }))
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    let frozen = app
        .graphql_as(
            Some(&admin),
            UPDATE,
            json!({ "input": { "id": id, "title": "changed" } }),
        )
        .await;
    assert_eq!(error_code(&frozen), Some("CONFLICT"));

    // Invitations need an ACTIVE survey.
    let customer = insert_customer(&app, "Ann").await;
    let draft_invite = app
        .graphql_as(
            Some(&admin),
            INVITE,
            json!({ "s": empty_id, "c": [api_id("Customer", customer)], "e": Utc::now() + Days::days(1) }),
        )
        .await;
    assert_eq!(error_code(&draft_invite), Some("CONFLICT"));

    // Listing by status.
    let list = app
        .graphql_as(Some(&admin), "{ surveys(filter: { status: ACTIVE }, first: 10) { edges { node { id status } } } all: surveys(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }", json!({}))
        .await;
    let d = data(&list);
    assert_eq!(d["surveys"]["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(d["all"]["edges"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["all"]["pageInfo"]["hasNextPage"], true);
    let next = app
        .graphql_as(Some(&admin), "query($a: String) { surveys(first: 10, after: $a) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }", json!({ "a": d["all"]["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(
        data(&next)["surveys"]["edges"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(data(&next)["surveys"]["pageInfo"]["hasPreviousPage"], true);
}

async fn invalid_tokens_are_rate_limited_per_address(engine: Engine) {
    let app = spawn_app(engine).await;
    let (f, _, token) = ann_invited(&app).await;
    for attempt in 0..30 {
        let body = app
            .graphql(INVITATION, json!({ "t": format!("{attempt:0>43}") }))
            .await;
        assert_eq!(
            error_code(&body),
            Some("INVALID_TOKEN"),
            "attempt {attempt}"
        );
    }
    let limited = app
        .graphql(INVITATION, json!({ "t": "B".repeat(43) }))
        .await;
    assert_eq!(error_code(&limited), Some("RATE_LIMITED"));
    let valid = submit(&app, &token, f.good_answers()).await;
    assert_eq!(
        error_code(&valid),
        Some("RATE_LIMITED"),
        "the address is throttled"
    );
    assert_nothing_stored(&app, "throttled").await;
}

async fn feedback_received_streams_new_responses_over_websocket(engine: Engine) {
    let app = spawn_app(engine).await;
    let (f, customer, token) = ann_invited(&app).await;
    let agent = app.login_as(Role::Agent).await;

    let mut ws = open(&app, &[]).await.expect("websocket");
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {agent}") } })))
        .await
        .expect("init");
    let next_json = |msg: Message| -> Value {
        serde_json::from_str(msg.to_text().expect("text")).expect("json")
    };
    let ack = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("ack in time")
        .expect("message")
        .expect("ok");
    assert_eq!(next_json(ack)["type"], "connection_ack");
    ws.send(send(json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($s: ID) { feedbackReceived(surveyId: $s) { id surveyId customerId csi answers { questionId rating } } }",
            "variables": { "s": f.survey_id }
        }
    })))
    .await
    .expect("subscribe");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let receipt = submit(&app, &token, f.good_answers()).await;
    let response_id = data(&receipt)["submitSurveyResponse"]["responseId"].clone();

    let event = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("event in time")
            .expect("message")
            .expect("ok");
        if msg.is_text() {
            let value = next_json(msg);
            if value["type"] == "next" {
                break value;
            }
            assert_ne!(value["type"], "error", "{value}");
        }
    };
    let node = &event["payload"]["data"]["feedbackReceived"];
    assert_eq!(node["id"], response_id);
    assert_eq!(node["surveyId"], f.survey_id.as_str());
    assert_eq!(node["customerId"], api_id("Customer", customer));
    assert_eq!(node["csi"], "87.5");
    ws.close(None).await.ok();

    // Without a staff token the connection is refused.
    let mut anon = open(&app, &[]).await.expect("websocket");
    anon.send(send(json!({ "type": "connection_init", "payload": {} })))
        .await
        .expect("init");
    let reply = tokio::time::timeout(Duration::from_secs(10), anon.next()).await;
    let acked = matches!(&reply, Ok(Some(Ok(m))) if m.is_text() && next_json(m.clone())["type"] == "connection_ack");
    assert!(
        !acked,
        "anonymous connection must not be acknowledged: {reply:?}"
    );
}

async fn form_page_is_served_with_a_strict_csp(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = app
        .client
        .get(format!("{}/s/{}", app.address, "A".repeat(43)))
        .send()
        .await
        .expect("form");
    assert_eq!(response.status().as_u16(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("CSP")
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce")
        .to_owned();
    assert_eq!(
        response
            .headers()
            .get("referrer-policy")
            .and_then(|v| v.to_str().ok()),
        Some("no-referrer")
    );
    let html = response.text().await.expect("html");
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(html.contains("name=\"viewport\""));
    assert!(
        !html.contains(&"A".repeat(43)),
        "the token is not echoed into the page"
    );
}

async fn latest_responses_are_each_customers_newest_for_one_or_several(engine: Engine) {
    let app = spawn_app(engine).await;
    let first = fixture(&app).await;
    let (_, second) = airline_survey(&app, first.admin.clone(), first.program_id).await;
    second.publish(&app).await;
    let (ann, bob, cid) = (
        insert_customer(&app, "Ann").await,
        insert_customer(&app, "Bob").await,
        insert_customer(&app, "Cid").await,
    );
    // Ann answers the first survey, then the second; Bob only the first.
    for (f, customer) in [(&first, ann), (&first, bob), (&second, ann)] {
        f.answer(&app, customer).await;
    }
    let surveys_of = |batch: &HashMap<i64, Vec<domain::feedback::SurveyResponse>>, c: i64| {
        batch
            .get(&c)
            .map(|rs| {
                rs.iter()
                    .map(|r| api_id("Survey", r.survey_id))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    for (per_customer, ann_expected) in [
        (1, vec![second.survey_id.clone()]),
        (2, vec![second.survey_id.clone(), first.survey_id.clone()]),
        (20, vec![second.survey_id.clone(), first.survey_id.clone()]),
    ] {
        let before = app.statements();
        let batch = domain::feedback::responses_for_customers(
            app.db(),
            &[cid, bob, ann],
            per_customer,
            domain::feedback::ResponseDetail::Summary,
        )
        .await
        .expect("batch");
        assert_eq!(app.statements() - before, 2, "ids, then rows");
        assert_eq!(surveys_of(&batch, ann), ann_expected, "{per_customer}");
        assert_eq!(surveys_of(&batch, bob), vec![first.survey_id.clone()]);
        assert!(surveys_of(&batch, cid).is_empty());
    }
}

async fn customer_responses_batch_and_erasure_hook(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let (ann, bob, cid) = (
        insert_customer(&app, "Ann").await,
        insert_customer(&app, "Bob").await,
        insert_customer(&app, "Cid").await,
    );
    for customer in [ann, bob] {
        f.answer(&app, customer).await;
    }
    let live = f.invite(&app, cid).await;

    let before = app.statements();
    let batch = domain::feedback::responses_for_customers(
        app.db(),
        &[ann, bob, cid],
        5,
        domain::feedback::ResponseDetail::WithAnswers,
    )
    .await
    .expect("batch");
    assert_eq!(
        app.statements() - before,
        3,
        "ids, rows, then their answers"
    );
    assert_eq!(batch.get(&ann).map(Vec::len), Some(1));
    assert_eq!(batch.get(&bob).map(Vec::len), Some(1));
    assert!(!batch.contains_key(&cid));
    assert_eq!(batch[&ann][0].answers.len(), 9);
    let before = app.statements();
    let summary = domain::feedback::responses_for_customers(
        app.db(),
        &[ann, bob, cid],
        5,
        domain::feedback::ResponseDetail::Summary,
    )
    .await
    .expect("summary");
    assert_eq!(app.statements() - before, 2, "ids and rows without answers");
    assert!(summary[&ann][0].answers.is_empty());
    assert_eq!(summary[&ann][0].id, batch[&ann][0].id);
    assert_eq!(summary[&ann][0].csi, batch[&ann][0].csi);

    domain::feedback::on_customer_erased(app.db(), ann, Utc::now())
        .await
        .expect("erase");
    domain::feedback::on_customer_erased(app.db(), cid, Utc::now())
        .await
        .expect("erase");
    let batch = domain::feedback::responses_for_customers(
        app.db(),
        &[ann, bob],
        5,
        domain::feedback::ResponseDetail::WithAnswers,
    )
    .await
    .expect("batch");
    assert!(
        batch[&ann][0].answers.iter().all(|a| a.text.is_none()),
        "free text removed"
    );
    assert_eq!(batch[&ann][0].answers.len(), 9, "ratings and choices stay");
    assert!(
        batch[&bob][0].answers.iter().any(|a| a.text.is_some()),
        "others untouched"
    );
    let seen = app.graphql(INVITATION, json!({ "t": live })).await;
    assert_eq!(
        error_code(&seen),
        Some("INVALID_TOKEN"),
        "live invitation revoked"
    );
}

async fn pages_cost_a_constant_number_of_statements(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    for i in 0..12 {
        let customer = insert_customer(&app, &format!("C{i}")).await;
        f.answer(&app, customer).await;
        data(&app.graphql_as(Some(&f.admin), CREATE, json!({ "input": { "title": format!("S{i}"), "questions": [{ "text": "Q", "kind": "RATING" }] } })).await);
    }
    let cost = |query: &'static str, n: i64| {
        let app = &app;
        let vars = json!({ "s": f.survey_id, "n": n });
        let token = f.admin.clone();
        async move {
            let before = app.statements();
            let body = app.graphql_as(Some(&token), query, vars).await;
            data(&body);
            app.statements() - before
        }
    };
    for query in [
        "query($n: Int) { surveys(first: $n) { edges { node { id questions { id text } } } } }",
        "query($s: ID!, $n: Int) { surveyResponses(filter: { surveyId: $s }, first: $n) { edges { node { id answers { questionId rating } } } } }",
        "query($n: Int) { followUps(first: $n) { edges { node { id surveyId } } } }",
    ] {
        // A page costs a fixed handful of statements (the page, one batch per
        // relation, the factor-set scales when present), whatever its size.
        let small = cost(query, 2).await;
        let large = cost(query, 12).await;
        assert!(small <= 5 && large <= 5, "{query}: {small} vs {large}");
    }
}

async fn customer_cards_show_latest_responses_in_constant_statements(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let mut customers = Vec::new();
    for i in 0..6 {
        let customer = insert_customer(&app, &format!("R{i}")).await;
        if i % 2 == 0 {
            f.answer(&app, customer).await;
        }
        customers.push(customer);
    }
    let query = "query($n: Int) { customers(first: $n) { edges { node { id \
                 latestSurveyResponses(first: 1) { customerId csi } } } } }";
    let cost = |n: i64| {
        let app = &app;
        let token = f.admin.clone();
        async move {
            let before = app.statements();
            let body = app.graphql_as(Some(&token), query, json!({ "n": n })).await;
            let edges = data(&body)["customers"]["edges"]
                .as_array()
                .expect("edges")
                .clone();
            (edges, app.statements() - before)
        }
    };
    let (edges, large) = cost(6).await;
    let (_, small) = cost(2).await;
    assert_eq!(small, large, "statements grow with the page");
    for edge in edges {
        let node = &edge["node"];
        let id = db_key(node["id"].as_str().expect("id"));
        let latest = node["latestSurveyResponses"].as_array().expect("list");
        let answered = customers.iter().position(|c| *c == id).expect("ours") % 2 == 0;
        assert_eq!(latest.len(), usize::from(answered), "{node}");
        if answered {
            assert_eq!(latest[0]["csi"], "87.5");
        }
    }
    // Asking for the answers costs exactly one statement more, and gets them.
    let with_answers = "query($n: Int) { customers(first: $n) { edges { node { id \
                        latestSurveyResponses(first: 1) { csi answers { questionId } } } } } }";
    let before = app.statements();
    let body = app
        .graphql_as(Some(&f.admin), with_answers, json!({ "n": 6 }))
        .await;
    assert_eq!(app.statements() - before, large + 1, "{body}");
    let answered = data(&body)["customers"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["latestSurveyResponses"].get(0))
        .map(|r| r["answers"].as_array().map(Vec::len))
        .collect::<Vec<_>>();
    assert_eq!(answered, vec![Some(9); 3], "{body}");
    let bad = app
        .graphql_as(
            Some(&f.admin),
            "query { customers(first: 1) { edges { node { latestSurveyResponses(first: 21) { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
}

/// The statements of one `submitSurveyResponse` (everything the request
/// sends, reads before the write transaction included), for a customer who
/// is already a member of the survey's programme and for one enrolled by
/// the credit. The count does not grow with the number of answers or rated
/// factors: answers and CSI ratings are one multi-row insert each.
async fn a_submission_costs_a_fixed_number_of_statements(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let cost = |token: String, answers: Value| {
        let app = &app;
        async move {
            let before = app.statements();
            let body = submit(app, &token, answers).await;
            assert_eq!(data(&body)["submitSurveyResponse"]["pointsAwarded"], 50);
            app.statements() - before
        }
    };
    // Members already: the programme's membership exists.
    let member_named = |name: &'static str| {
        let (app, program_id) = (&app, f.program_id);
        async move {
            let customer = insert_customer(app, name).await;
            entity::memberships::ActiveModel {
                program_id: Set(program_id),
                customer_id: Set(customer),
                balance: Set(0),
                lifetime_points: Set(0),
                enrolled_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(app.db())
            .await
            .expect("membership");
            customer
        }
    };
    let member = member_named("Member").await;
    let token = f.invite(&app, member).await;
    let full = cost(token, f.good_answers()).await;
    // Fewer answers, one rated factor: the same statements.
    let other = member_named("Brief").await;
    let token = f.invite(&app, other).await;
    let brief = cost(
        token,
        json!([
            { "questionId": f.q[0], "rating": 4 },
            { "questionId": f.q[2], "rating": 5 }
        ]),
    )
    .await;
    // Not yet a member: the credit enrols the customer.
    let newcomer = insert_customer(&app, "Newcomer").await;
    let token = f.invite(&app, newcomer).await;
    let enrolling = cost(token, f.good_answers()).await;
    // One read before the write transaction (the invitation with its
    // survey, the survey's questions, translations, factor-set scale and
    // factors, the programme, membership, e-mails and webhooks), then two
    // statements in it: the claim with the response, its answers and CSI
    // ratings (one statement on PostgreSQL, which also announces the
    // response to live dashboards; one batch on SQLite); the ledger entry.
    // One more enrols a
    // newcomer. PostgreSQL adds the shared look-up throttle (its row
    // written, counted and deleted).
    let shared = match engine {
        Engine::Sqlite => 0,
        Engine::Postgres => 3,
    };
    assert_eq!(
        (full, brief, enrolling),
        (3 + shared, 3 + shared, 4 + shared),
        "statements per submission"
    );
    assert_eq!(balance(&app, f.program_id, member).await, 50);
    assert_eq!(balance(&app, f.program_id, newcomer).await, 50);
}
