//! Relay object identification (global ids, `node`, `nodes`), nullable
//! lookups and the specification's null propagation.

use domain::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::fixtures::{api_id, db_key, CustomerBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    every_type_is_refetched_by_its_global_id,
    node_answers_null_for_what_it_cannot_show,
    nodes_takes_at_most_100_ids,
    arguments_refuse_ids_of_another_type,
    lookups_answer_null_when_absent,
    a_failing_field_is_null_and_nulls_up_to_the_nearest_nullable,
);

/// Every `Node` type with the table behind it.
const NODE_TABLES: &[(&str, &str)] = &[
    ("Customer", "customers"),
    ("Interaction", "interactions"),
    ("Purchase", "purchases"),
    ("Cost", "costs"),
    ("LoyaltyProgram", "loyalty_programs"),
    ("Membership", "memberships"),
    ("LedgerEntry", "ledger_entries"),
    ("Reward", "rewards"),
    ("Promotion", "promotions"),
    ("Redemption", "redemptions"),
    ("CsiFactorSet", "csi_factor_sets"),
    ("CsiFactor", "csi_factors"),
    ("Survey", "surveys"),
    ("SurveyQuestion", "survey_questions"),
    ("SurveyResponse", "survey_responses"),
    ("FollowUp", "follow_ups"),
    ("User", "users"),
];

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

async fn demo(engine: Engine) -> TestApp {
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    app
}

/// The lowest key of `table`.
async fn first_key(app: &TestApp, table: &str) -> i64 {
    let backend = app.db().get_database_backend();
    let row = app
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT MIN(id) AS k FROM {table}"),
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<Option<i64>>("", "k")
        .expect("key")
        .unwrap_or_else(|| panic!("the demo data has no {table}"))
}

async fn every_type_is_refetched_by_its_global_id(engine: Engine) {
    // Arrange
    let app = demo(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let mut ids = Vec::new();
    for (ty, table) in NODE_TABLES {
        ids.push((*ty, api_id(ty, first_key(&app, table).await)));
    }

    // Act and assert: one at a time, then all at once in order.
    for (ty, id) in &ids {
        let body = app
            .graphql_as(Some(&admin), NODE, json!({ "id": id }))
            .await;
        assert_eq!(
            data(&body)["node"],
            json!({ "__typename": ty, "id": id }),
            "{ty} {id}"
        );
    }
    let all: Vec<&String> = ids.iter().map(|(_, id)| id).collect();
    let body = app
        .graphql_as(Some(&admin), NODES, json!({ "ids": all }))
        .await;
    let expected: Vec<Value> = ids
        .iter()
        .map(|(ty, id)| json!({ "__typename": ty, "id": id }))
        .collect();
    assert_eq!(data(&body)["nodes"], json!(expected));

    // The id a type's own field gives is the id `node` takes.
    let body = app
        .graphql_as(
            Some(&admin),
            "{ customers(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let id = data(&body)["customers"]["edges"][0]["node"]["id"].clone();
    let body = app
        .graphql_as(Some(&admin), NODE, json!({ "id": id }))
        .await;
    assert_eq!(data(&body)["node"]["id"], id);
}

async fn node_answers_null_for_what_it_cannot_show(engine: Engine) {
    // Arrange
    let app = demo(engine).await;
    let agent = app.login_as(Role::Agent).await;
    let admin = app.login_as(Role::Admin).await;
    let me = data(
        &app.graphql_as(Some(&agent), "{ me { id } }", json!({}))
            .await,
    )["me"]["id"]
        .as_str()
        .expect("my id")
        .to_owned();
    let admin_id = data(
        &app.graphql_as(Some(&admin), "{ me { id } }", json!({}))
            .await,
    )["me"]["id"]
        .as_str()
        .expect("admin id")
        .to_owned();
    let cases = [
        ("not base64", "!!".to_owned()),
        ("a numeric key", "1".to_owned()),
        ("padded", format!("{}==", api_id("Customer", 1))),
        ("an unknown type", api_id("Cat", 1)),
        ("a key of zero", api_id("Customer", 0)),
        ("an unknown customer", api_id("Customer", 987_654_321)),
        ("an unknown survey", api_id("Survey", 987_654_321)),
        ("an invitation (no object)", api_id("SurveyInvitation", 1)),
        ("another user, for an agent", admin_id.clone()),
    ];

    for (what, id) in &cases {
        // Act
        let body = app
            .graphql_as(Some(&agent), NODE, json!({ "id": id }))
            .await;
        // Assert: null and no error, whatever the reason.
        assert_eq!(body, json!({ "data": { "node": null } }), "{what}");
    }

    // An agent reads their own user; an admin reads anyone.
    let body = app
        .graphql_as(Some(&agent), NODE, json!({ "id": me }))
        .await;
    assert_eq!(
        data(&body)["node"],
        json!({ "__typename": "User", "id": me })
    );
    let body = app
        .graphql_as(Some(&admin), NODE, json!({ "id": me }))
        .await;
    assert_eq!(data(&body)["node"]["id"], json!(me));

    // Without a token: UNAUTHENTICATED, as every staff lookup.
    let body = app
        .graphql(NODE, json!({ "id": api_id("Customer", 1) }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

async fn nodes_takes_at_most_100_ids(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let customer = CustomerBuilder::new().create(&app, &token).await;
    let hundred: Vec<String> = (0..100).map(|_| customer.clone()).collect();
    let too_many: Vec<String> = (0..101).map(|_| customer.clone()).collect();

    // Act
    let ok = app
        .graphql_as(Some(&token), NODES, json!({ "ids": hundred }))
        .await;
    let refused = app
        .graphql_as(Some(&token), NODES, json!({ "ids": too_many }))
        .await;

    // Assert
    let nodes = data(&ok)["nodes"].as_array().expect("a list").clone();
    assert_eq!(nodes.len(), 100);
    assert!(nodes.iter().all(|n| n["id"] == json!(customer)));
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"));
    assert_eq!(refused["errors"][0]["extensions"]["field"], "ids");
    assert_eq!(refused["data"], Value::Null, "nodes is non-null: {refused}");
}

async fn arguments_refuse_ids_of_another_type(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let customer = CustomerBuilder::new().create(&app, &token).await;
    let key = db_key(&customer);
    let interactions = || async {
        let backend = app.db().get_database_backend();
        app.db()
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM interactions".to_owned(),
            ))
            .await
            .expect("count")
            .expect("a row")
            .try_get::<i64>("", "n")
            .expect("n")
    };
    let before = interactions().await;

    let record =
        "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input) { interaction { id } } }";
    let cases = [
        ("a survey id", api_id("Survey", key)),
        ("a bare key", key.to_string()),
        ("garbage", "Q3VzdG9tZXI".to_owned()),
    ];
    for (what, id) in &cases {
        // Act: as an argument of a lookup and as an input field of a mutation.
        let lookup = app
            .graphql_as(
                Some(&token),
                "query($id: ID!) { customer(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        let write = app
            .graphql_as(
                Some(&token),
                record,
                json!({ "input": { "customerId": id, "channel": "EMAIL" } }),
            )
            .await;

        // Assert
        assert_eq!(
            error_code(&lookup),
            Some("BAD_USER_INPUT"),
            "{what}: {lookup}"
        );
        assert_eq!(lookup["errors"][0]["extensions"]["field"], "id", "{what}");
        assert_eq!(lookup["data"], json!({ "customer": null }), "{what}");
        assert_eq!(
            error_code(&write),
            Some("BAD_USER_INPUT"),
            "{what}: {write}"
        );
        assert_eq!(
            write["errors"][0]["extensions"]["field"], "customerId",
            "{what}"
        );
    }
    assert_eq!(
        interactions().await,
        before,
        "no refused write stored a row"
    );

    // The customer's own id is accepted.
    let body = app
        .graphql_as(
            Some(&token),
            record,
            json!({ "input": { "customerId": customer, "channel": "EMAIL" } }),
        )
        .await;
    assert!(data(&body)["recordInteraction"]["interaction"]["id"].is_string());
}

async fn lookups_answer_null_when_absent(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    CustomerBuilder::new().create(&app, &token).await;
    let unknown = 987_654_321;
    let lookups = [
        ("customer", "Customer"),
        ("survey", "Survey"),
        ("surveyResponse", "SurveyResponse"),
        ("csiFactorSet", "CsiFactorSet"),
        ("loyaltyProgram", "LoyaltyProgram"),
        ("membership", "Membership"),
    ];

    for (field, ty) in lookups {
        // Act
        let query = format!("query($id: ID!) {{ customerCount {field}(id: $id) {{ id }} }}");
        let body = app
            .graphql_as(Some(&token), &query, json!({ "id": api_id(ty, unknown) }))
            .await;

        // Assert: the key is there, null, beside its sibling, with no error.
        assert_eq!(
            body,
            json!({ "data": { "customerCount": 1, field: null } }),
            "{field}"
        );
    }
}

async fn a_failing_field_is_null_and_nulls_up_to_the_nearest_nullable(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let agent = app.login_as(Role::Agent).await;
    let first = CustomerBuilder::new().create(&app, &admin).await;
    let second = CustomerBuilder::new().create(&app, &admin).await;

    // A failing nullable root field is null beside its sibling.
    let body = app
        .graphql_as(
            Some(&admin),
            r#"{ customerCount customer(id: "garbage") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({ "customerCount": 2, "customer": null })
    );
    assert_eq!(body["errors"][0]["path"], json!(["customer"]));
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));

    // A failing non-null root field nulls `data`, sibling included.
    let body = app
        .graphql_as(
            Some(&agent),
            "{ customerCount users { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["users"]));
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));

    // A failing non-null field nulls its object up to the nullable lookup;
    // the sibling stays.
    let body = app
        .graphql_as(
            Some(&admin),
            "query($id: ID!) { customerCount customer(id: $id) { id latestSurveyResponses(first: 0) { id } } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({ "customerCount": 2, "customer": null }),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["path"],
        json!(["customer", "latestSurveyResponses"])
    );
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    // In a list of nullable items, each failing item is null and the list stays.
    let body = app
        .graphql_as(
            Some(&admin),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { latestSurveyResponses(first: 0) { id } } } }",
            json!({ "ids": [first, second] }),
        )
        .await;
    assert_eq!(body["data"], json!({ "nodes": [null, null] }), "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));

    // An alias is the key that turns null.
    let body = app
        .graphql_as(
            Some(&admin),
            r#"{ total: customerCount c: customer(id: "garbage") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["data"], json!({ "total": 2, "c": null }));
}
