//! Filters, orders and counts of the lists: survey
//! responses, follow-ups, surveys and ledger entries each get a typed filter
//! and an `orderBy`, keyset-paginated; every connection has `totalCount`,
//! counted under the same filter and, for nested connections, batched.

use chrono::{Duration, Utc};
use domain::auth::Role;
use domain::feedback::FollowUpStatus;
use domain::loyalty::LedgerReason;
use serde_json::{json, Value};

use crate::fixtures::{
    api_id, append_entry, at, insert_membership, insert_question, CustomerBuilder, FollowUpBuilder,
    ProgramBuilder, PurchaseBuilder, QuestionKind, ResponseBuilder, SurveyBuilder, SurveyStatus,
};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    survey_response_filters_each_narrow_the_list,
    survey_responses_page_across_each_order,
    follow_up_filters_each_narrow_the_list,
    survey_filters_and_orders,
    ledger_filters_and_orders,
    bad_filters_are_refused_with_the_field,
    nested_total_counts_cost_constant_statements,
);

// ---------------------------------------------------------------- helpers

/// The node ids of a connection answer, in order.
fn ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges: {connection}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Runs `query` as `token` and returns `data[field]`.
async fn list(app: &TestApp, token: &str, query: &str, vars: Value, field: &str) -> Value {
    let body = app.graphql_as(Some(token), query, vars).await;
    data(&body)[field].clone()
}

/// Walks a list forwards one item a page, and asserts the same items come
/// back in `expected` order; then reads the last two backwards.
async fn walk(
    app: &TestApp,
    token: &str,
    query: &str,
    vars: Value,
    field: &str,
    expected: &[String],
) {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let mut v = vars.clone();
        v["first"] = json!(1);
        v["after"] = after.clone();
        let page = list(app, token, query, v, field).await;
        seen.extend(ids(&page));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(
            seen.len() <= expected.len(),
            "{field}: runaway walk {seen:?}"
        );
    }
    assert_eq!(seen, expected, "{field}: forward walk {vars}");
    let mut v = vars.clone();
    v["last"] = json!(2);
    let page = list(app, token, query, v, field).await;
    assert_eq!(
        ids(&page),
        expected[expected.len().saturating_sub(2)..],
        "{field}: last two {vars}"
    );
}

fn field_of(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["field"].as_str()
}

async fn customer(app: &TestApp, name: &str) -> i64 {
    CustomerBuilder::new().name(name).insert(app.db()).await
}

// ------------------------------------------------------- survey responses

/// Two surveys, three customers, four responses; each filter leaves out at
/// least one of them.
struct Responses {
    admin: String,
    survey_a: String,
    c1: String,
    c2: String,
    r: [String; 4],
}

async fn responses(app: &TestApp) -> Responses {
    let a = SurveyBuilder::new("Flight")
        .status(SurveyStatus::Active)
        .insert(app.db())
        .await;
    let b = SurveyBuilder::new("Hotel")
        .status(SurveyStatus::Active)
        .insert(app.db())
        .await;
    let text = insert_question(app.db(), a, 1, QuestionKind::Text).await;
    let (c1, c2, c3) = (
        customer(app, "Ann").await,
        customer(app, "Ben").await,
        customer(app, "Cem").await,
    );
    let r1 = ResponseBuilder::new(a, c1)
        .submitted_at(at("2026-01-01T10:00:00Z"))
        .csi("40")
        .helpful_at(at("2026-01-02T10:00:00Z"))
        .comment(text, "Late flight, 50% refund?")
        .insert(app.db())
        .await;
    let r2 = ResponseBuilder::new(a, c2)
        .submitted_at(at("2026-02-01T10:00:00Z"))
        .csi("87.5")
        .insert(app.db())
        .await;
    let r3 = ResponseBuilder::new(a, c1)
        .submitted_at(at("2026-03-01T10:00:00Z"))
        .comment(text, "Great SNACKS")
        .insert(app.db())
        .await;
    let r4 = ResponseBuilder::new(b, c3)
        .submitted_at(at("2026-02-15T10:00:00Z"))
        .csi("60")
        .insert(app.db())
        .await;
    Responses {
        admin: app.login_as(Role::Agent).await,
        survey_a: api_id("Survey", a),
        c1: api_id("Customer", c1),
        c2: api_id("Customer", c2),
        r: [r1, r2, r3, r4].map(|k| api_id("SurveyResponse", k)),
    }
}

const RESPONSES: &str = "query($f: SurveyResponseFilter, $o: SurveyResponseOrder, $first: Int, $after: String, $last: Int) { \
    surveyResponses(filter: $f, orderBy: $o, first: $first, after: $after, last: $last) { \
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";

async fn survey_response_filters_each_narrow_the_list(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = responses(&app).await;
    let [r1, r2, r3, r4] = f.r.clone();
    let cases: Vec<(&str, Value, Vec<&String>)> = vec![
        (
            "no filter, newest first",
            json!({}),
            vec![&r3, &r4, &r2, &r1],
        ),
        (
            "survey",
            json!({ "surveyId": f.survey_a }),
            vec![&r3, &r2, &r1],
        ),
        ("customer", json!({ "customerId": f.c1 }), vec![&r3, &r1]),
        (
            "customer and survey",
            json!({ "customerId": f.c2, "surveyId": f.survey_a }),
            vec![&r2],
        ),
        (
            "submitted range, from inclusive, to exclusive",
            json!({ "submittedFrom": "2026-02-01T10:00:00Z", "submittedTo": "2026-03-01T10:00:00Z" }),
            vec![&r4, &r2],
        ),
        ("csi at least", json!({ "csiMin": "50" }), vec![&r4, &r2]),
        ("csi at most", json!({ "csiMax": "60" }), vec![&r4, &r1]),
        (
            "csi exactly",
            json!({ "csiMin": "60", "csiMax": "60" }),
            vec![&r4],
        ),
        ("csi decimal bound", json!({ "csiMin": "87.5" }), vec![&r2]),
        ("helpful", json!({ "helpful": true }), vec![&r1]),
        (
            "not helpful",
            json!({ "helpful": false }),
            vec![&r3, &r4, &r2],
        ),
        (
            "with comment",
            json!({ "hasComment": true }),
            vec![&r3, &r1],
        ),
        (
            "without comment",
            json!({ "hasComment": false }),
            vec![&r4, &r2],
        ),
        (
            "text, case-insensitive",
            json!({ "text": "snack" }),
            vec![&r3],
        ),
        (
            "text with a percent sign taken literally",
            json!({ "text": "50%" }),
            vec![&r1],
        ),
        (
            "a lone wildcard matches only itself",
            json!({ "text": "%" }),
            vec![&r1],
        ),
        (
            "an underscore matches only itself",
            json!({ "text": "_" }),
            vec![],
        ),
        (
            "blank text is no filter",
            json!({ "text": "  " }),
            vec![&r3, &r4, &r2, &r1],
        ),
    ];
    for (what, filter, expected) in cases {
        let answer = list(
            &app,
            &f.admin,
            RESPONSES,
            json!({ "f": filter, "first": 10 }),
            "surveyResponses",
        )
        .await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&answer), expected, "{what}");
        assert_eq!(
            answer["totalCount"],
            json!(expected.len()),
            "{what}: totalCount"
        );
    }
}

async fn survey_responses_page_across_each_order(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = responses(&app).await;
    let [r1, r2, r3, r4] = f.r.clone();
    let orders: Vec<(Value, Vec<String>)> = vec![
        (
            json!({ "field": "SUBMITTED_AT", "direction": "ASC" }),
            vec![r1.clone(), r2.clone(), r4.clone(), r3.clone()],
        ),
        (
            json!({ "field": "SUBMITTED_AT", "direction": "DESC" }),
            vec![r3.clone(), r4.clone(), r2.clone(), r1.clone()],
        ),
        // Responses without a CSI sort below every CSI.
        (
            json!({ "field": "CSI", "direction": "ASC" }),
            vec![r3.clone(), r1.clone(), r4.clone(), r2.clone()],
        ),
        (
            json!({ "field": "CSI", "direction": "DESC" }),
            vec![r2.clone(), r4.clone(), r1.clone(), r3.clone()],
        ),
    ];
    for (order, expected) in orders {
        walk(
            &app,
            &f.admin,
            RESPONSES,
            json!({ "o": order }),
            "surveyResponses",
            &expected,
        )
        .await;
    }
    // Under a filter, the order and the count still hold.
    let answer = list(
        &app,
        &f.admin,
        RESPONSES,
        json!({ "f": { "surveyId": f.survey_a }, "o": { "field": "CSI" }, "first": 2 }),
        "surveyResponses",
    )
    .await;
    assert_eq!(ids(&answer), vec![r3.clone(), r1.clone()]);
    assert_eq!(answer["totalCount"], 3);
    // A cursor belongs to the order it was issued for.
    let cursor = answer["pageInfo"]["endCursor"].clone();
    let body = app
        .graphql_as(
            Some(&f.admin),
            RESPONSES,
            json!({ "o": { "field": "SUBMITTED_AT" }, "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field_of(&body), Some("after"), "{body}");
}

// -------------------------------------------------------------- follow-ups

const FOLLOW_UPS: &str =
    "query($f: FollowUpFilter, $o: FollowUpOrder, $first: Int, $after: String, $last: Int) { \
    followUps(filter: $f, orderBy: $o, first: $first, after: $after, last: $last) { \
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";

async fn follow_up_filters_each_narrow_the_list(engine: Engine) {
    let app = spawn_app(engine).await;
    let a = SurveyBuilder::new("Flight").insert(app.db()).await;
    let b = SurveyBuilder::new("Hotel").insert(app.db()).await;
    let (c1, c2) = (customer(&app, "Ann").await, customer(&app, "Ben").await);
    let now = Utc::now();
    let ra = ResponseBuilder::new(a, c1).insert(app.db()).await;
    let ra2 = ResponseBuilder::new(a, c2).insert(app.db()).await;
    let rb = ResponseBuilder::new(b, c1).insert(app.db()).await;
    let f1 = FollowUpBuilder::new(ra, c1)
        .opened_at(now - Duration::days(10))
        .insert(app.db())
        .await;
    let f2 = FollowUpBuilder::new(ra2, c2)
        .status(FollowUpStatus::Resolved)
        .opened_at(now - Duration::days(2))
        .insert(app.db())
        .await;
    let f3 = FollowUpBuilder::new(rb, c1)
        .opened_at(now - Duration::hours(1))
        .insert(app.db())
        .await;
    let [f1, f2, f3] = [f1, f2, f3].map(|k| api_id("FollowUp", k));
    let three_days_ago = (now - Duration::days(3)).to_rfc3339();
    let agent = app.login_as(Role::Agent).await;
    let cases: Vec<(&str, Value, Vec<&String>)> = vec![
        ("no filter, newest first", json!({}), vec![&f3, &f2, &f1]),
        ("open", json!({ "status": "OPEN" }), vec![&f3, &f1]),
        ("resolved", json!({ "status": "RESOLVED" }), vec![&f2]),
        (
            "survey",
            json!({ "surveyId": api_id("Survey", a) }),
            vec![&f2, &f1],
        ),
        (
            "customer",
            json!({ "customerId": api_id("Customer", c1) }),
            vec![&f3, &f1],
        ),
        (
            "older than 5 days",
            json!({ "olderThanDays": 5 }),
            vec![&f1],
        ),
        (
            "older than 0 days",
            json!({ "olderThanDays": 0 }),
            vec![&f3, &f2, &f1],
        ),
        (
            "opened from",
            json!({ "openedFrom": three_days_ago }),
            vec![&f3, &f2],
        ),
        (
            "opened before",
            json!({ "openedTo": three_days_ago }),
            vec![&f1],
        ),
        (
            "open and of survey A",
            json!({ "status": "OPEN", "surveyId": api_id("Survey", a) }),
            vec![&f1],
        ),
    ];
    for (what, filter, expected) in cases {
        let answer = list(
            &app,
            &agent,
            FOLLOW_UPS,
            json!({ "f": filter, "first": 10 }),
            "followUps",
        )
        .await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&answer), expected, "{what}");
        assert_eq!(
            answer["totalCount"],
            json!(expected.len()),
            "{what}: totalCount"
        );
    }
    walk(
        &app,
        &agent,
        FOLLOW_UPS,
        json!({ "o": { "field": "OPENED_AT", "direction": "ASC" } }),
        "followUps",
        &[f1.clone(), f2.clone(), f3.clone()],
    )
    .await;
    walk(
        &app,
        &agent,
        FOLLOW_UPS,
        json!({ "o": { "field": "OPENED_AT", "direction": "DESC" } }),
        "followUps",
        &[f3, f2, f1],
    )
    .await;
}

// ----------------------------------------------------------------- surveys

const SURVEYS: &str =
    "query($f: SurveyFilter, $o: SurveyOrder, $first: Int, $after: String, $last: Int) { \
    surveys(filter: $f, orderBy: $o, first: $first, after: $after, last: $last) { \
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";

async fn survey_filters_and_orders(engine: Engine) {
    let app = spawn_app(engine).await;
    let insert = |title: &'static str, status: SurveyStatus, created: &'static str| {
        let app = &app;
        async move {
            let key = SurveyBuilder::new(title)
                .status(status)
                .created_at(at(created))
                .insert(app.db())
                .await;
            api_id("Survey", key)
        }
    };
    let s1 = insert(
        "Airline check-in",
        SurveyStatus::Active,
        "2026-01-01T00:00:00Z",
    )
    .await;
    let s2 = insert(
        "Hotel stay 100%",
        SurveyStatus::Draft,
        "2026-02-01T00:00:00Z",
    )
    .await;
    let s3 = insert(
        "airline lounge",
        SurveyStatus::Closed,
        "2026-03-01T00:00:00Z",
    )
    .await;
    let agent = app.login_as(Role::Agent).await;
    let cases: Vec<(&str, Value, Vec<&String>)> = vec![
        ("no filter, newest first", json!({}), vec![&s3, &s2, &s1]),
        ("active", json!({ "status": "ACTIVE" }), vec![&s1]),
        ("draft", json!({ "status": "DRAFT" }), vec![&s2]),
        (
            "title text, case-insensitive",
            json!({ "text": "AIRLINE" }),
            vec![&s3, &s1],
        ),
        (
            "title text and status",
            json!({ "text": "airline", "status": "CLOSED" }),
            vec![&s3],
        ),
        (
            "a percent sign taken literally",
            json!({ "text": "100%" }),
            vec![&s2],
        ),
        (
            "a lone wildcard matches only itself",
            json!({ "text": "%" }),
            vec![&s2],
        ),
    ];
    for (what, filter, expected) in cases {
        let answer = list(
            &app,
            &agent,
            SURVEYS,
            json!({ "f": filter, "first": 10 }),
            "surveys",
        )
        .await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&answer), expected, "{what}");
        assert_eq!(
            answer["totalCount"],
            json!(expected.len()),
            "{what}: totalCount"
        );
    }
    walk(
        &app,
        &agent,
        SURVEYS,
        json!({ "o": { "field": "TITLE", "direction": "ASC" } }),
        "surveys",
        &[s1.clone(), s3.clone(), s2.clone()],
    )
    .await;
    walk(
        &app,
        &agent,
        SURVEYS,
        json!({ "o": { "field": "CREATED_AT", "direction": "ASC" } }),
        "surveys",
        &[s1.clone(), s2.clone(), s3.clone()],
    )
    .await;
    walk(
        &app,
        &agent,
        SURVEYS,
        json!({ "f": { "text": "airline" }, "o": { "field": "TITLE", "direction": "DESC" } }),
        "surveys",
        &[s3, s1],
    )
    .await;
}

// ------------------------------------------------------------------ ledger

const LEDGER: &str = "query($id: ID!, $f: LedgerEntryFilter, $o: LedgerEntryOrder, $first: Int, $after: String, $last: Int) { \
    membership(id: $id) { ledger(filter: $f, orderBy: $o, first: $first, after: $after, last: $last) { \
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }";

async fn ledger_filters_and_orders(engine: Engine) {
    let app = spawn_app(engine).await;
    let program = ProgramBuilder::new("Miles").insert(app.db()).await;
    let member = customer(&app, "Ann").await;
    let membership = insert_membership(app.db(), program, member).await;
    let db = app.db();
    let e1 = append_entry(
        db,
        membership,
        100,
        LedgerReason::Purchase,
        at("2026-01-01T00:00:00Z"),
    )
    .await;
    let e2 = append_entry(
        db,
        membership,
        50,
        LedgerReason::Birthday,
        at("2026-02-01T00:00:00Z"),
    )
    .await;
    let e3 = append_entry(
        db,
        membership,
        -30,
        LedgerReason::Redemption,
        at("2026-03-01T00:00:00Z"),
    )
    .await;
    // Recorded last, occurred first.
    let e4 = append_entry(
        db,
        membership,
        20,
        LedgerReason::Purchase,
        at("2025-12-01T00:00:00Z"),
    )
    .await;
    let [e1, e2, e3, e4] = [e1, e2, e3, e4].map(|k| api_id("LedgerEntry", k));
    // A second member: the programme's members connection counts both.
    let other = customer(&app, "Ben").await;
    insert_membership(app.db(), program, other).await;
    let id = api_id("Membership", membership);
    let agent = app.login_as(Role::Agent).await;
    let ledger = |vars: Value| {
        let (app, agent, id) = (&app, &agent, id.clone());
        async move {
            let mut vars = vars;
            vars["id"] = json!(id);
            let body = app.graphql_as(Some(agent), LEDGER, vars).await;
            data(&body)["membership"]["ledger"].clone()
        }
    };
    let cases: Vec<(&str, Value, Vec<&String>)> = vec![
        (
            "no filter, newest recorded first",
            json!({}),
            vec![&e4, &e3, &e2, &e1],
        ),
        (
            "one reason",
            json!({ "reasons": ["PURCHASE"] }),
            vec![&e4, &e1],
        ),
        (
            "two reasons",
            json!({ "reasons": ["PURCHASE", "REDEMPTION"] }),
            vec![&e4, &e3, &e1],
        ),
        (
            "an empty reason list is no filter",
            json!({ "reasons": [] }),
            vec![&e4, &e3, &e2, &e1],
        ),
        (
            "occurred range, from inclusive, to exclusive",
            json!({ "occurredFrom": "2026-01-01T00:00:00Z", "occurredTo": "2026-03-01T00:00:00Z" }),
            vec![&e2, &e1],
        ),
    ];
    let members = app
        .graphql_as(
            Some(&agent),
            "query($p: ID!) { loyaltyProgram(id: $p) { members(first: 1) { totalCount edges { node { id } } } } }",
            json!({ "p": api_id("LoyaltyProgram", program) }),
        )
        .await;
    let members = &data(&members)["loyaltyProgram"]["members"];
    assert_eq!(members["totalCount"], 2, "{members}");
    assert_eq!(ids(members), vec![id.clone()], "{members}");
    for (what, filter, expected) in cases {
        let answer = ledger(json!({ "f": filter, "first": 10 })).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&answer), expected, "{what}");
        assert_eq!(
            answer["totalCount"],
            json!(expected.len()),
            "{what}: totalCount"
        );
    }
    let orders: Vec<(Value, Vec<String>)> = vec![
        (
            json!({ "field": "RECORDED", "direction": "ASC" }),
            vec![e1.clone(), e2.clone(), e3.clone(), e4.clone()],
        ),
        (
            json!({ "field": "OCCURRED_AT", "direction": "ASC" }),
            vec![e4.clone(), e1.clone(), e2.clone(), e3.clone()],
        ),
        (
            json!({ "field": "POINTS", "direction": "DESC" }),
            vec![e1.clone(), e2.clone(), e4.clone(), e3.clone()],
        ),
    ];
    for (order, expected) in orders {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = ledger(json!({ "o": order, "first": 1, "after": after })).await;
            seen.extend(ids(&page));
            if page["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
            assert!(seen.len() <= expected.len(), "runaway walk {seen:?}");
        }
        assert_eq!(seen, expected, "{order}");
        let last = ledger(json!({ "o": order, "last": 2 })).await;
        assert_eq!(ids(&last), expected[2..], "{order}: last two");
    }
}

// ------------------------------------------------------------- bad input

async fn bad_filters_are_refused_with_the_field(engine: Engine) {
    let app = spawn_app(engine).await;
    let agent = app.login_as(Role::Agent).await;
    let long = "x".repeat(101);
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            RESPONSES,
            "empty submitted range",
            json!({ "f": { "submittedFrom": "2026-02-01T00:00:00Z", "submittedTo": "2026-02-01T00:00:00Z" } }),
            "filter.submittedTo",
        ),
        (
            RESPONSES,
            "csi above the scale",
            json!({ "f": { "csiMin": "100.5" } }),
            "filter.csiMin",
        ),
        (
            RESPONSES,
            "csi below the scale",
            json!({ "f": { "csiMax": "-1" } }),
            "filter.csiMax",
        ),
        (
            RESPONSES,
            "csi range upside down",
            json!({ "f": { "csiMin": "70", "csiMax": "50" } }),
            "filter.csiMax",
        ),
        (
            RESPONSES,
            "overlong comment search",
            json!({ "f": { "text": long } }),
            "filter.text",
        ),
        (
            RESPONSES,
            "malformed survey id",
            json!({ "f": { "surveyId": "not-an-id" } }),
            "filter.surveyId",
        ),
        (
            FOLLOW_UPS,
            "negative age",
            json!({ "f": { "olderThanDays": -1 } }),
            "filter.olderThanDays",
        ),
        (
            FOLLOW_UPS,
            "opened range upside down",
            json!({ "f": { "openedFrom": "2026-03-01T00:00:00Z", "openedTo": "2026-01-01T00:00:00Z" } }),
            "filter.openedTo",
        ),
        (
            SURVEYS,
            "overlong title search",
            json!({ "f": { "text": long } }),
            "filter.text",
        ),
    ];
    for (query, what, vars, field) in cases {
        let body = app.graphql_as(Some(&agent), query, vars).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{what}: {body}");
        assert_eq!(field_of(&body), Some(field), "{what}: {body}");
    }
    let program = ProgramBuilder::new("Miles").insert(app.db()).await;
    let member = customer(&app, "Ann").await;
    let membership = insert_membership(app.db(), program, member).await;
    let body = app
        .graphql_as(
            Some(&agent),
            LEDGER,
            json!({ "id": api_id("Membership", membership), "f": { "occurredFrom": "2026-01-01T00:00:00Z", "occurredTo": "2025-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field_of(&body), Some("filter.occurredTo"), "{body}");
    // Without a token, no list answers.
    let body = app.graphql(RESPONSES, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

// ------------------------------------------------------- nested counts

async fn nested_total_counts_cost_constant_statements(engine: Engine) {
    let app = spawn_app(engine).await;
    let program = ProgramBuilder::new("Miles").insert(app.db()).await;
    let referrer = CustomerBuilder::new()
        .name("Count 0")
        .acquired_at(Utc::now() - Duration::days(10))
        .insert(app.db())
        .await;
    let mut expected = vec![(api_id("Customer", referrer), 0, 0)];
    for i in 1..6_i64 {
        let c = CustomerBuilder::new()
            .name(format!("Count {i}"))
            .acquired_at(Utc::now() - Duration::days(10 - i))
            .referred_by(referrer)
            .insert(app.db())
            .await;
        for _ in 0..i {
            PurchaseBuilder::new(c).insert(app.db()).await;
        }
        let membership = insert_membership(app.db(), program, c).await;
        for _ in 0..(i % 3) {
            append_entry(
                app.db(),
                membership,
                10,
                LedgerReason::Adjustment,
                Utc::now(),
            )
            .await;
        }
        expected.push((api_id("Customer", c), i, i % 3));
    }
    let agent = app.login_as(Role::Agent).await;
    let query = "query($n: Int) { customers(first: $n, filter: { text: \"count\" }, orderBy: { field: NAME }) { totalCount edges { node { id \
                 purchases(first: 1) { totalCount } interactions { totalCount } referrals { totalCount } \
                 memberships { ledger(first: 1) { totalCount } } } } } }";
    let run = |n: i64| {
        let (app, agent) = (&app, &agent);
        async move {
            let before = app.statements();
            let body = app.graphql_as(Some(agent), query, json!({ "n": n })).await;
            let answer = data(&body)["customers"].clone();
            (answer, app.statements() - before)
        }
    };
    let (small, small_cost) = run(2).await;
    let (large, large_cost) = run(6).await;
    assert_eq!(small_cost, large_cost, "statements grow with the page");
    assert_eq!(small["totalCount"], 6);
    assert_eq!(large["totalCount"], 6);
    let nodes = large["edges"].as_array().expect("edges");
    assert_eq!(nodes.len(), 6);
    for (edge, (id, purchases, entries)) in nodes.iter().zip(&expected) {
        let node = &edge["node"];
        assert_eq!(node["id"], json!(id));
        assert_eq!(node["purchases"]["totalCount"], json!(purchases), "{node}");
        assert_eq!(node["interactions"]["totalCount"], 0, "{node}");
        let referrals = if *id == expected[0].0 { 5 } else { 0 };
        assert_eq!(node["referrals"]["totalCount"], json!(referrals), "{node}");
        let ledgers: Vec<Value> = node["memberships"]
            .as_array()
            .expect("memberships")
            .iter()
            .map(|m| m["ledger"]["totalCount"].clone())
            .collect();
        let want: Vec<Value> = if *id == expected[0].0 {
            vec![]
        } else {
            vec![json!(entries)]
        };
        assert_eq!(ledgers, want, "{node}");
    }
}
