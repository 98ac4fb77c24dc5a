//! One shape for every mutation (docs/frontend.md, "Naming and shapes"):
//! `doThing(input: DoThingInput!): DoThingPayload!`, the payload echoing the
//! input's `clientMutationId`; ids in inputs are named after their object.

use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
use domain::auth::Role;
use serde_json::{json, Value};

use crate::authz::row_counts;
use crate::fixtures::{CustomerBuilder, ProgramBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    payloads_echo_the_client_mutation_id,
    malformed_ids_name_the_input_field_and_change_nothing
);

/// `DoThing` for `doThing`.
fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[test]
fn every_mutation_takes_one_input_and_answers_its_payload() {
    let sdl = api::graphql::schema::sdl();
    let doc = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut objects = std::collections::BTreeMap::new();
    let mut inputs = std::collections::BTreeMap::new();
    for definition in &doc.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::Object(object) => {
                let fields: Vec<_> = object
                    .fields
                    .iter()
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                    .collect();
                let mutation_fields: Vec<_> = object
                    .fields
                    .iter()
                    .map(|f| {
                        let args: Vec<_> = f
                            .node
                            .arguments
                            .iter()
                            .map(|a| (a.node.name.node.to_string(), a.node.ty.node.to_string()))
                            .collect();
                        (f.node.name.node.to_string(), args, f.node.ty.node.clone())
                    })
                    .collect();
                objects.insert(name, (fields, mutation_fields));
            }
            TypeKind::InputObject(input) => {
                let fields: Vec<_> = input
                    .fields
                    .iter()
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                    .collect();
                inputs.insert(name, fields);
            }
            _ => {}
        }
    }

    let (_, mutations) = &objects["Mutation"];
    assert!(mutations.len() >= 38, "{} mutations", mutations.len());
    for (name, args, ty) in mutations {
        let input = format!("{}Input", capitalised(name));
        let payload = format!("{}Payload", capitalised(name));
        assert_eq!(
            args,
            &vec![("input".to_owned(), format!("{input}!"))],
            "{name} takes one `input: {input}!`"
        );
        assert!(!ty.nullable, "{name} answers a non-null payload");
        assert_eq!(
            ty.base,
            BaseType::Named(async_graphql::Name::new(&payload)),
            "{name} answers {payload}"
        );
        assert!(
            inputs[&input].contains(&("clientMutationId".to_owned(), "String".to_owned())),
            "{input} has an optional clientMutationId"
        );
        assert!(
            objects[&payload]
                .0
                .contains(&("clientMutationId".to_owned(), "String".to_owned())),
            "{payload} echoes clientMutationId"
        );
    }
}

const CREATE: &str = "mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { clientMutationId customer { name } }
}";

async fn payloads_echo_the_client_mutation_id(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;

    let mut input = CustomerBuilder::new().name("Ann").input();
    input["clientMutationId"] = json!("req-1");
    let with = app
        .graphql_as(Some(&token), CREATE, json!({ "input": input }))
        .await;
    let without = app
        .graphql_as(
            Some(&token),
            CREATE,
            json!({ "input": CustomerBuilder::new().name("Bob").input() }),
        )
        .await;

    assert_eq!(
        data(&with)["createCustomer"],
        json!({ "clientMutationId": "req-1", "customer": { "name": "Ann" } })
    );
    assert_eq!(
        data(&without)["createCustomer"],
        json!({ "clientMutationId": null, "customer": { "name": "Bob" } })
    );
}

/// Sends `query` as `token` and returns the first error's code and field.
async fn refusal(app: &TestApp, token: &str, query: &str) -> (Value, Value) {
    let body = app.graphql_as(Some(token), query, json!({})).await;
    assert!(body["data"].is_null(), "{body}");
    (
        json!(error_code(&body)),
        body["errors"][0]["extensions"]["field"].clone(),
    )
}

async fn malformed_ids_name_the_input_field_and_change_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let program = ProgramBuilder::new("Club").create(&app, &admin).await;
    let customer = CustomerBuilder::new().create(&app, &admin).await;
    let before = row_counts(&app).await;

    let cases = [
        (
            "mutation { updateUserRole(input: { id: \"x\", role: AGENT }) { user { id } } }"
                .to_owned(),
            "id",
        ),
        (
            "mutation { deactivateUser(input: { id: \"x\" }) { user { id } } }".to_owned(),
            "id",
        ),
        (
            "mutation { markFeedbackHelpful(input: { id: \"x\" }) { response { id } } }"
                .to_owned(),
            "id",
        ),
        (
            format!(
                "mutation {{ enrollCustomer(input: {{ loyaltyProgramId: \"x\", customerId: \"{customer}\" }}) {{ membership {{ id }} }} }}"
            ),
            "loyaltyProgramId",
        ),
        (
            "mutation { createReward(input: { loyaltyProgramId: \"x\", name: \"Mug\", costPoints: 5 }) { reward { id } } }"
                .to_owned(),
            "loyaltyProgramId",
        ),
        (
            format!(
                "mutation {{ enrollCustomer(input: {{ loyaltyProgramId: \"{program}\", customerId: \"x\" }}) {{ membership {{ id }} }} }}"
            ),
            "customerId",
        ),
    ];
    for (query, field) in cases {
        assert_eq!(
            refusal(&app, &admin, &query).await,
            (json!("BAD_USER_INPUT"), json!(field)),
            "{query}"
        );
    }
    assert_eq!(row_counts(&app).await, before, "nothing written");
}
