//! Automatic Persisted Queries (Apollo's protocol) over POST and GET.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    a_persisted_query_runs_by_its_hash_once_registered,
    persisted_queries_by_get_stay_queries,
);

fn sha256(query: &str) -> String {
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

async fn get(app: &TestApp, params: &[(&str, String)]) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "application/json")
        .query(params)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

async fn a_persisted_query_runs_by_its_hash_once_registered(engine: Engine) {
    let app = spawn_app(engine).await;
    let query = "query Typename { t: __typename }";
    let hash = sha256(query);

    // Unknown hash: Apollo's code and message, so its link sends the query.
    let (_, unknown) = post(
        &app,
        json!({ "extensions": persisted(&hash), "variables": { "a": true } }),
    )
    .await;
    assert_eq!(
        error_code(&unknown),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{unknown}"
    );
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(unknown.get("data").is_none(), "{unknown}");

    // Registered with its text, then run by the hash alone, with new variables.
    let (_, registered) = post(
        &app,
        json!({ "query": query, "extensions": persisted(&hash), "variables": { "a": true } }),
    )
    .await;
    assert_eq!(data(&registered)["t"], "Query");
    let (status, by_hash) = post(
        &app,
        json!({ "extensions": persisted(&hash), "variables": { "a": false } }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(data(&by_hash)["t"], "Query");

    // A text that does not hash to the given hash is refused and not kept.
    let other = "{ __typename }";
    let (_, mismatch) = post(
        &app,
        json!({ "query": other, "extensions": persisted(&sha256("{ x }")) }),
    )
    .await;
    assert_eq!(error_code(&mismatch), Some("BAD_USER_INPUT"), "{mismatch}");
    assert_eq!(
        mismatch["errors"][0]["message"],
        "provided sha does not match query"
    );
    let (_, still_unknown) = post(&app, json!({ "extensions": persisted(&sha256("{ x }")) })).await;
    assert_eq!(
        error_code(&still_unknown),
        Some("PERSISTED_QUERY_NOT_FOUND")
    );

    // Malformed: another version, a hash that is not 64 hex digits.
    for extensions in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
    ] {
        let (status, body) = post(&app, json!({ "extensions": extensions })).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
}

async fn persisted_queries_by_get_stay_queries(engine: Engine) {
    let app = spawn_app(engine).await;
    let query = "{ __typename }";
    let hash = sha256(query);
    let extensions = persisted(&hash).to_string();

    let (_, unknown) = get(&app, &[("extensions", extensions.clone())]).await;
    assert_eq!(
        error_code(&unknown),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{unknown}"
    );
    let (_, registered) = get(
        &app,
        &[
            ("query", query.to_owned()),
            ("extensions", extensions.clone()),
        ],
    )
    .await;
    assert_eq!(data(&registered)["__typename"], "Query");
    let (status, by_hash) = get(&app, &[("extensions", extensions)]).await;
    assert_eq!(status, 200);
    assert_eq!(data(&by_hash)["__typename"], "Query");

    // A mutation registered by POST cannot be run by its hash over GET.
    let mutation = "mutation { logout(input: { refreshToken: \"x\" }) { loggedOut } }";
    let mutation_hash = sha256(mutation);
    post(
        &app,
        json!({ "query": mutation, "extensions": persisted(&mutation_hash) }),
    )
    .await;
    let (status, body) = get(
        &app,
        &[("extensions", persisted(&mutation_hash).to_string())],
    )
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}
