//! Transport and query-shape limits, checked before anything executes.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_app_with, Engine};

on_both_engines!(
    transport_rules_are_enforced,
    query_shape_limits_are_enforced_before_any_sql,
    health_and_readiness_answer,
);

async fn transport_rules_are_enforced(engine: Engine) {
    let app = spawn_app(engine).await;
    let url = format!("{}/graphql", app.address);

    let text = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(text.status(), 415);
    let form = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=x")
        .send()
        .await
        .expect("sent");
    assert_eq!(form.status(), 415);

    let big = "x".repeat(10 * 1024 * 1024);
    let huge = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    assert!(
        huge.map(|r| r.status() == 413).unwrap_or(true),
        "10 MiB body is refused"
    );

    let batch = app
        .client
        .post(&url)
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .expect("sent");
    assert_eq!(batch.status(), 400);
    let body: Value = batch.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    let malformed = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .expect("sent");
    assert_eq!(malformed.status(), 400);
    let invalid_utf8 = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .expect("sent");
    assert_eq!(invalid_utf8.status(), 400);
    let deep = format!(
        "{{\"query\":\"{{ __typename }}\",\"variables\":{{\"a\":{}1{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let deep = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .expect("sent");
    assert_eq!(deep.status(), 400);

    let get_mutation = app
        .client
        .get(&url)
        .query(&[("query", "mutation { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .expect("sent");
    assert_eq!(get_mutation.status(), 405);
    let get_query = app
        .client
        .get(&url)
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .expect("sent");
    assert_eq!(get_query.status(), 200);
    assert_eq!(
        get_query.json::<Value>().await.expect("json")["data"]["__typename"],
        "Query"
    );
    let graphiql = app.client.get(&url).send().await.expect("sent");
    assert!(
        graphiql.text().await.expect("text").contains("graphiql"),
        "GraphiQL in development"
    );

    // Server still healthy afterwards.
    let ok = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(ok["data"]["__typename"], "Query");
}

async fn query_shape_limits_are_enforced_before_any_sql(engine: Engine) {
    let app = spawn_app(engine).await;
    let deep = format!(
        "{{ {}__typename{} }}",
        "__schema { types { fields { type { ofType { ".repeat(4),
        " } } } } }".repeat(4)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..100)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let directives = format!("{{ __typename {} }}", "@include(if: true) ".repeat(1000));
    let sensitive = "mutation { a: login(email: \"a@b.co\", password: \"x\") { accessToken } b: login(email: \"a@b.co\", password: \"y\") { accessToken } }";
    let fragment_cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let cases = [
        ("depth", deep),
        ("aliases", aliases),
        ("directives", directives),
        ("two sensitive root fields", sensitive.to_owned()),
        ("fragment cycle", fragment_cycle.to_owned()),
    ];
    for (name, query) in cases {
        let before = app.statements();
        let body = app.graphql(&query, json!({})).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{name}: {body}");
        assert_eq!(app.statements(), before, "{name}: no SQL ran");
    }
}

async fn health_and_readiness_answer(engine: Engine) {
    let app = spawn_app(engine).await;
    let health = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn production_disables_introspection_and_graphiql() {
    let app = spawn_app_with(Engine::Sqlite, &["--env", "production"]).await;
    let body = app
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection is off: {body}"
    );
    assert!(
        !body.to_string().contains("queryType\":{"),
        "no schema leaks: {body}"
    );
    let graphiql = app
        .client
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(graphiql.status(), 400);
}

#[test]
fn production_refuses_a_short_jwt_secret() {
    use clap::Parser as _;
    let cli =
        api::cli::Cli::try_parse_from(["rapport", "--env", "production", "--jwt-secret", "short"])
            .expect("parse");
    assert!(cli.config.check().is_err());
    let cli = api::cli::Cli::try_parse_from(["rapport", "--env", "production"]).expect("parse");
    let err = cli.config.check();
    assert!(err.is_err() || std::env::var("RAPPORT_JWT_SECRET").is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_fails_when_the_database_is_gone_and_recovers() {
    let Some(server) = crate::helpers::postgres_url() else {
        eprintln!("TEST_DATABASE_URL not set; skipped");
        return;
    };
    use sea_orm::{ConnectionTrait, Database};
    let app = spawn_app(Engine::Postgres).await;
    let ready = format!("{}/ready", app.address);
    assert_eq!(
        app.client.get(&ready).send().await.expect("sent").status(),
        200
    );
    let name = app
        .database
        .url
        .rsplit('/')
        .next()
        .expect("name")
        .split('?')
        .next()
        .expect("name")
        .to_owned();
    let admin = Database::connect(&server).await.expect("admin");
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
        ))
        .await
        .expect("block");
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .expect("terminate");
    let started = std::time::Instant::now();
    let down = app.client.get(&ready).send().await.expect("sent");
    assert_eq!(down.status(), 503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "fails fast"
    );
    let during = app
        .graphql(
            "mutation { login(email: \"a@b.co\", password: \"x\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&during), Some("SERVICE_UNAVAILABLE"), "{during}");
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
        ))
        .await
        .expect("unblock");
    let mut recovered = false;
    for _ in 0..20 {
        if app.client.get(&ready).send().await.expect("sent").status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "ready again without a restart");
}
