//! GraphQL over HTTP (issue 24): content negotiation, and the status and body
//! of every failure class under `application/json` and
//! `application/graphql-response+json`.

use domain::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{spawn_app, Engine, TestApp};

on_both_engines!(
    every_failure_class_has_the_status_and_body_of_its_media_type,
    accept_chooses_the_media_type,
    get_requests_follow_the_same_rules,
    a_variable_coercion_failure_changes_nothing,
);

const JSON: &str = "application/json";
const GQL: &str = "application/graphql-response+json";

/// What came back: status, `Content-Type`, body.
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

async fn post_raw(app: &TestApp, accept: &str, token: Option<&str>, body: &str) -> Answer {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request.send().await.expect("sent")).await
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.json().await.expect("JSON body");
    Answer {
        status,
        content_type,
        body,
    }
}

/// Asserts a request error: no `data` entry, one or more errors, the first
/// with `code`.
fn assert_request_error(answer: &Answer, code: &str, case: &str) {
    let body = &answer.body;
    assert!(body.get("data").is_none(), "{case}: data entry in {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], code,
        "{case}: {body}"
    );
}

async fn every_failure_class_has_the_status_and_body_of_its_media_type(engine: Engine) {
    let app = spawn_app(engine).await;
    let deep = format!(
        "{{ a: __typename {} __typename {} }}",
        "... on Query { ".repeat(200),
        "}".repeat(200)
    );
    // (case, body, code, status under application/json, under graphql-response+json)
    let cases: Vec<(&str, String, &str, u16, u16)> = vec![
        (
            "JSON parse failure",
            "{\"query\": ".to_owned(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "missing query",
            json!({ "notquery": "{ __typename }" }).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "null query",
            json!({ "query": null }).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "query not a string",
            json!({ "query": 0 }).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "variables not a map",
            json!({ "query": "{ __typename }", "variables": "{}" }).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "operationName not a string",
            json!({ "query": "{ __typename }", "operationName": 1 }).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "extensions not a map",
            json!({ "query": "{ __typename }", "extensions": ["x"] }).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "batch",
            json!([{ "query": "{ __typename }" }]).to_string(),
            "BAD_USER_INPUT",
            400,
            400,
        ),
        (
            "document parse failure",
            json!({ "query": "{" }).to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
        (
            "validation failure",
            json!({ "query": "{ nope }" }).to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
        (
            "operation not determined",
            json!({ "query": "query A { __typename } query B { __typename }" }).to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
        (
            "variable of the wrong type",
            json!({ "query": "query($id: ID!) { customer(id: $id) { id } }", "variables": { "id": 5.5 } })
                .to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
        (
            "required variable missing",
            json!({ "query": "query($id: ID!) { customer(id: $id) { id } }" }).to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
        (
            "required variable null",
            json!({ "query": "query($id: ID!) { customer(id: $id) { id } }", "variables": { "id": null } })
                .to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
        (
            "shape: nested too deep",
            json!({ "query": deep }).to_string(),
            "OPERATION_TOO_COMPLEX",
            200,
            400,
        ),
        (
            "shape: fragment cycle",
            json!({ "query": "query { ...A } fragment A on Query { ... on Query { ...A } }" })
                .to_string(),
            "BAD_USER_INPUT",
            200,
            400,
        ),
    ];
    for (case, body, code, json_status, gql_status) in &cases {
        for (accept, status) in [(JSON, json_status), (GQL, gql_status)] {
            let answer = post_raw(&app, accept, None, body).await;
            let case = format!("{case} ({accept})");
            assert_eq!(answer.status, *status, "{case}: {}", answer.body);
            assert_eq!(answer.content_type, accept, "{case}");
            assert_request_error(&answer, code, &case);
        }
    }

    // The missing variable is named, before anything executes.
    let missing = post_raw(
        &app,
        GQL,
        None,
        &json!({ "query": "query($id: ID!) { customer(id: $id) { id } }" }).to_string(),
    )
    .await;
    assert_eq!(
        missing.body["errors"][0]["message"],
        "Variable \"$id\" of required type \"ID!\" was not provided."
    );
    assert!(missing.body["errors"][0].get("path").is_none());

    // A bad token: a request error, 401 with a challenge under graphql-response+json.
    let query = json!({ "query": "{ __typename }" }).to_string();
    let bad_token = post_raw(&app, JSON, Some("not-a-token"), &query).await;
    assert_eq!(bad_token.status, 200);
    assert_eq!(bad_token.content_type, JSON);
    assert_request_error(&bad_token, "UNAUTHENTICATED", "bad token (json)");
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", GQL)
        .bearer_auth("not-a-token")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let bad_token = answer(response).await;
    assert_eq!(bad_token.status, 401);
    assert_eq!(bad_token.content_type, GQL);
    assert_request_error(&bad_token, "UNAUTHENTICATED", "bad token (gql)");

    // Field errors during execution: 200 with data under both.
    let field_error =
        json!({ "query": "{ __typename customer(id: \"Q3VzdG9tZXI6MQ\") { id } }" }).to_string();
    for accept in [JSON, GQL] {
        let answer = post_raw(&app, accept, None, &field_error).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.content_type, accept);
        assert_eq!(
            answer.body["data"]["__typename"], "Query",
            "{}",
            answer.body
        );
        assert_eq!(
            answer.body["errors"][0]["extensions"]["code"],
            "UNAUTHENTICATED"
        );
        assert_eq!(answer.body["errors"][0]["path"], json!(["customer"]));
        assert_eq!(
            answer.body["data"]["customer"],
            Value::Null,
            "{}",
            answer.body
        );
    }

    // Success with a token, under both.
    let token = app.login_as(Role::Admin).await;
    for accept in [JSON, GQL] {
        let answer = post_raw(
            &app,
            accept,
            Some(&token),
            &json!({ "query": "{ customers(first: 1) { edges { node { id } } } }" }).to_string(),
        )
        .await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type, accept);
        assert_eq!(
            answer.body,
            json!({ "data": { "customers": { "edges": [] } } })
        );
    }

    // Transport refusals keep their status and follow the negotiated type.
    for accept in [JSON, GQL] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("content-type", "text/plain")
            .header("accept", accept)
            .body("{ __typename }")
            .send()
            .await
            .expect("sent");
        let refused = answer(response).await;
        assert_eq!(refused.status, 415);
        assert_eq!(refused.content_type, accept);
        assert_request_error(&refused, "BAD_USER_INPUT", "415");
    }
}

/// Sends `GET /graphql?query={__typename}` with exactly these header lines
/// (reqwest always adds `Accept`); returns the response head.
async fn raw_get_head(app: &TestApp, headers: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let request = format!(
        "GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("written");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response.to_ascii_lowercase()
}

async fn accept_chooses_the_media_type(engine: Engine) {
    let app = spawn_app(engine).await;
    let cases = [
        ("*/*", JSON),
        ("application/json", JSON),
        (GQL, GQL),
        (
            "application/graphql-response+json, application/json;q=0.9",
            GQL,
        ),
        (
            "application/json, application/graphql-response+json;q=0.9",
            JSON,
        ),
        (
            "application/graphql-response+json;q=0, application/json",
            JSON,
        ),
        ("text/html", JSON),
    ];
    for (accept, expected) in cases {
        let answer = post_raw(&app, accept, None, "{\"query\":\"{ __typename }\"}").await;
        assert_eq!(answer.status, 200, "{accept}");
        assert_eq!(answer.content_type, expected, "{accept}");
        assert_eq!(answer.body, json!({ "data": { "__typename": "Query" } }));
    }

    // No Accept at all: application/json.
    let head = raw_get_head(&app, "").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/json\r\n"),
        "{head}"
    );
    assert!(head.contains("vary: accept"), "{head}");
    let head = raw_get_head(&app, &format!("Accept: {GQL}\r\n")).await;
    assert!(
        head.contains("content-type: application/graphql-response+json\r\n"),
        "{head}"
    );
}

async fn get_requests_follow_the_same_rules(engine: Engine) {
    let app = spawn_app(engine).await;
    let url = format!("{}/graphql", app.address);
    let get = |accept: &'static str, query: Vec<(&'static str, &'static str)>| {
        let request = app.client.get(&url).header("accept", accept).query(&query);
        async move { answer(request.send().await.expect("sent")).await }
    };
    for accept in [JSON, GQL] {
        let ok = get(accept, vec![("query", "{ __typename }")]).await;
        assert_eq!(ok.status, 200);
        assert_eq!(ok.content_type, accept);
        assert_eq!(ok.body, json!({ "data": { "__typename": "Query" } }));

        let invalid = get(accept, vec![("query", "{ nope }")]).await;
        assert_eq!(invalid.status, if accept == GQL { 400 } else { 200 });
        assert_eq!(invalid.content_type, accept);
        assert_request_error(&invalid, "BAD_USER_INPUT", "GET validation failure");

        let mutation = get(
            accept,
            vec![(
                "query",
                "mutation { logout(input: { refreshToken: \"x\" }) { loggedOut } }",
            )],
        )
        .await;
        assert_eq!(mutation.status, 405);
        assert_eq!(mutation.content_type, accept);
        assert_request_error(&mutation, "BAD_USER_INPUT", "GET mutation");

        let variables = get(
            accept,
            vec![("query", "{ __typename }"), ("variables", "[1]")],
        )
        .await;
        assert_eq!(variables.status, 400);
        assert_request_error(&variables, "BAD_USER_INPUT", "GET variables not a map");

        // A JSON client without a query gets 400, not GraphiQL.
        let missing = get(accept, vec![]).await;
        assert_eq!(missing.status, 400);
        assert_eq!(missing.content_type, accept);
        assert_request_error(&missing, "BAD_USER_INPUT", "GET without query");
    }
    // A browser still gets GraphiQL in development.
    let page = app
        .client
        .get(&url)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("text").contains("graphiql"));
}

async fn a_variable_coercion_failure_changes_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let create = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }";
    let cases = [
        json!({ "query": create }),
        json!({ "query": create, "variables": { "input": null } }),
        json!({ "query": create, "variables": { "input": { "name": 5 } } }),
    ];
    for body in &cases {
        for accept in [JSON, GQL] {
            let answer = post_raw(&app, accept, Some(&token), &body.to_string()).await;
            assert_eq!(
                answer.status,
                if accept == GQL { 400 } else { 200 },
                "{body}: {}",
                answer.body
            );
            assert_request_error(&answer, "BAD_USER_INPUT", &body.to_string());
        }
    }
    let customers = entity::customers::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(customers, 0);
}
