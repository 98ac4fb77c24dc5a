//! Prometheus metrics at `/metrics`: off by default (404), and with
//! `--metrics` a parseable exposition whose counters move with traffic.

use std::collections::HashMap;
use std::time::Duration;

use domain::auth::Role;
use serde_json::json;

use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine, TestApp};
use crate::sessions::{self, Got};
use crate::surveys;

on_both_engines!(
    metrics_are_not_served_without_the_setting,
    metrics_count_requests_operations_and_pool
);

/// `GET /metrics` on `app`.
async fn get_metrics(app: &TestApp) -> reqwest::Response {
    app.client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("request sent")
}

async fn metrics_are_not_served_without_the_setting(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = get_metrics(&app).await;
    assert_eq!(response.status(), 404);
}

/// Parses the text exposition into `name{labels}` → value, failing on any
/// line that is neither a comment nor `name{labels} value`.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not `series value`: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unclosed labels in {line}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = get_metrics(app).await;
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    parse(&response.text().await.expect("body"))
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

async fn metrics_count_requests_operations_and_pool(engine: Engine) {
    let app = spawn_app_with(engine, &["--metrics"]).await;
    let token = app.login_as(Role::Agent).await;
    // Names unique to this engine: the sqlite and postgres variants share
    // one process-wide recorder and may run at once.
    let query_name = format!("MetricsProbe{engine:?}");
    let mutation_name = format!("MetricsCreate{engine:?}");
    let ok_query =
        format!("rapport_graphql_operations_total{{operation=\"{query_name}\",outcome=\"OK\"}}");
    let ok_mutation =
        format!("rapport_graphql_operations_total{{operation=\"{mutation_name}\",outcome=\"OK\"}}");
    let refused = format!(
        "rapport_graphql_operations_total{{operation=\"{mutation_name}\",outcome=\"UNAUTHENTICATED\"}}"
    );
    let posts = "rapport_http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"}";

    let before = scrape(&app).await;

    let body = app
        .graphql_as(
            Some(&token),
            &format!("query {query_name} {{ __typename }}"),
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["__typename"], "Query");
    let create = format!(
        "mutation {mutation_name}($input: CreateCustomerInput!) {{ createCustomer(input: $input) {{ customer {{ id }} }} }}"
    );
    let body = app
        .graphql_as(
            Some(&token),
            &create,
            json!({ "input": { "name": "Metered" } }),
        )
        .await;
    assert!(
        data(&body)["createCustomer"]["customer"]["id"].is_string(),
        "{body}"
    );
    let body = app
        .graphql(&create, json!({ "input": { "name": "Refused" } }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let secret = "not-a-real-invitation-token";
    let response = app
        .client
        .get(format!("{}/s/{secret}", app.address))
        .send()
        .await
        .expect("request sent");
    let form = format!(
        "rapport_http_requests_total{{route=\"/s/{{token}}\",method=\"GET\",status=\"{}\"}}",
        response.status().as_u16()
    );

    // A survey submission and the incentive points it credits.
    let survey = surveys::fixture(&app).await;
    let respondent = surveys::insert_customer(&app, "Metered respondent").await;
    survey.answer(&app, respondent).await;

    // An operation over the WebSocket counts like one over HTTP.
    let socket_name = format!("MetricsSocket{engine:?}");
    let ok_socket =
        format!("rapport_graphql_operations_total{{operation=\"{socket_name}\",outcome=\"OK\"}}");
    let mut ws = sessions::open(&app, &[]).await.expect("upgrade");
    match sessions::init(&mut ws, &token).await {
        Got::Msg(m) if m["type"] == "connection_ack" => {}
        other => panic!("expected connection_ack, got {other:?}"),
    }
    sessions::send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": format!("query {socket_name} {{ __typename }}") } }),
    )
    .await;
    match sessions::recv(&mut ws, Duration::from_secs(10)).await {
        Got::Msg(m) if m["type"] == "next" => {
            assert_eq!(m["payload"]["data"]["__typename"], "Query")
        }
        other => panic!("expected next, got {other:?}"),
    }

    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("request sent");
    let text = response.text().await.expect("body");
    assert!(!text.contains(secret), "raw paths must not become labels");
    let after = parse(&text);

    assert!(value(&after, &ok_query) >= value(&before, &ok_query) + 1.0);
    assert!(value(&after, &ok_mutation) >= value(&before, &ok_mutation) + 1.0);
    assert!(value(&after, &refused) >= value(&before, &refused) + 1.0);
    assert!(
        value(&after, &ok_socket) >= value(&before, &ok_socket) + 1.0,
        "{text}"
    );
    let submissions = "rapport_survey_submissions_total";
    assert!(
        value(&after, submissions) >= value(&before, submissions) + 1.0,
        "{text}"
    );
    // The fixture's survey credits 50 incentive points.
    let credited = "rapport_survey_points_credited_total";
    assert!(
        value(&after, credited) >= value(&before, credited) + 50.0,
        "{text}"
    );
    // The query, the mutation and the refused mutation: three POSTs at least.
    assert!(
        value(&after, posts) >= value(&before, posts) + 3.0,
        "{text}"
    );
    assert!(
        value(&after, &form) >= value(&before, &form) + 1.0,
        "{text}"
    );
    let timed = "rapport_http_request_duration_seconds_count{route=\"/graphql\",method=\"POST\"}";
    assert!(
        value(&after, timed) >= value(&before, timed) + 3.0,
        "{text}"
    );
    assert!(
        after.contains_key(
            "rapport_http_request_duration_seconds_bucket{route=\"/graphql\",method=\"POST\",le=\"+Inf\"}"
        ),
        "{text}"
    );
    // SQLite writers take turns at the write gate; each wait is timed.
    if engine == Engine::Sqlite {
        let waits = "rapport_sqlite_write_gate_wait_seconds_count";
        assert!(
            value(&after, waits) >= value(&before, waits) + 1.0,
            "{text}"
        );
    }
    // Pool gauges are read at scrape time: at least one connection is open.
    assert!(
        value(&after, "rapport_db_pool_connections") >= 1.0,
        "{text}"
    );
    assert!(
        after.contains_key("rapport_db_pool_in_use_connections"),
        "{text}"
    );
}
