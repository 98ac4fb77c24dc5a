//! Transport and query-shape limits, checked before anything executes.

use std::time::{Duration, Instant};

use domain::auth::Role;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine};
use crate::sessions::open;

on_both_engines!(
    transport_rules_are_enforced,
    query_shape_limits_are_enforced_before_any_sql,
    health_and_readiness_answer,
    cost_counts_page_sizes_before_any_sql,
    an_oversized_answer_ends_with_a_coded_error,
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
        .query(&[(
            "query",
            "mutation { logout(input: { refreshToken: \"x\" }) { loggedOut } }",
        )])
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
    let sensitive = "mutation { a: login(input: { email: \"a@b.co\", password: \"x\" }) { accessToken } b: login(input: { email: \"a@b.co\", password: \"y\" }) { accessToken } }";
    let fragment_cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let cases = [
        ("depth", deep, "OPERATION_TOO_COMPLEX"),
        ("aliases", aliases, "OPERATION_TOO_COMPLEX"),
        ("directives", directives, "OPERATION_TOO_COMPLEX"),
        (
            "fan-out",
            fan_out(25, "__typename"),
            "OPERATION_TOO_COMPLEX",
        ),
        (
            "two sensitive root fields",
            sensitive.to_owned(),
            "BAD_USER_INPUT",
        ),
        (
            "fragment cycle",
            fragment_cycle.to_owned(),
            "BAD_USER_INPUT",
        ),
    ];
    // Twice each: the second time the parsed document comes from the cache
    // and must be refused all the same.
    for (name, query, code) in cases {
        for attempt in 1..=2 {
            let before = app.statements();
            let body = app.graphql(&query, json!({})).await;
            assert_eq!(error_code(&body), Some(code), "{name} #{attempt}: {body}");
            assert_eq!(
                body["errors"].as_array().map(Vec::len),
                Some(1),
                "{name} #{attempt}: one error: {body}"
            );
            assert_eq!(app.statements(), before, "{name} #{attempt}: no SQL ran");
        }
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

fn production(extra: &[&str]) -> api::config::Config {
    use clap::Parser as _;
    let mut args = vec!["rapport", "--env", "production"];
    args.extend_from_slice(extra);
    api::cli::Cli::try_parse_from(args).expect("parse").config
}

/// A secret shaped like `openssl rand -base64 48`.
const STRONG_SECRET: &str = "k3JbM0qW9v+fT2xYpL7nRzC4sD8hUa1GeX5oIw6tVy0QmN3cB9jK2lP7rS4uZ8dE";

#[test]
fn production_refuses_guessable_jwt_secrets() {
    let thirty_two_a = "a".repeat(32);
    for weak in [
        thirty_two_a.as_str(),
        "changeme-changeme-changeme-changeme",
        "changeme-in-production-0123456789abcdef",
        "abababababababababababababababab",
        "0123456789abcdef0123456789abcdef",
        "my-very-secret-production-signing-key-2026",
        "test-secret-test-secret-test-secret-0123",
    ] {
        let err = production(&["--jwt-secret", weak])
            .check()
            .err()
            .unwrap_or_else(|| panic!("{weak:?} accepted in production"));
        assert!(err.to_string().contains("too guessable"), "{weak:?}: {err}");
        // Development keeps accepting any key of 32 bytes or more.
        use clap::Parser as _;
        let dev = api::cli::Cli::try_parse_from([
            "rapport",
            "--env",
            "development",
            "--jwt-secret",
            weak,
        ])
        .expect("parse");
        assert!(dev.config.check().is_ok(), "{weak:?} in development");
    }
    assert!(production(&["--jwt-secret", STRONG_SECRET]).check().is_ok());
    assert!(
        production(&["--jwt-secret", crate::helpers::TEST_JWT_SECRET])
            .check()
            .is_ok()
    );
    // 100 fresh random keys of the documented shapes all pass.
    for _ in 0..100 {
        use base64::Engine as _;
        let bytes: [u8; 48] = std::array::from_fn(|_| rand_byte());
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let hex: String = bytes[..32].iter().map(|b| format!("{b:02x}")).collect();
        for key in [b64, hex] {
            assert!(
                production(&["--jwt-secret", &key]).check().is_ok(),
                "{key} refused"
            );
        }
    }
}

fn rand_byte() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn production_refuses_demo_data() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    let config = production(&[
        "--jwt-secret",
        STRONG_SECRET,
        "--demo",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &url,
    ]);
    let err = api::Application::build(config)
        .await
        .err()
        .expect("the server refuses to start");
    assert!(err.to_string().contains("RAPPORT_DEMO"), "{err}");
    assert!(
        !dir.path().join("r.db").exists(),
        "refused before touching the database"
    );
}

#[cfg(unix)]
#[test]
fn the_development_key_file_is_readable_by_its_owner_only() {
    use clap::Parser as _;
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("dir");
    let data_dir = dir.path().display().to_string();
    let config =
        api::cli::Cli::try_parse_from(["rapport", "--env", "development", "--data-dir", &data_dir])
            .expect("parse")
            .config;
    let path = dir.path().join(".rapport-jwt-secret");
    if std::env::var("RAPPORT_JWT_SECRET").is_ok() {
        return;
    }
    let key = config.jwt_key().expect("generated");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("key file").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "a new key file");
    // A key file left world-readable by an older version is tightened on start.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_eq!(config.jwt_key().expect("read again"), key, "the same key");
    assert_eq!(mode(&path), 0o600, "an existing key file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_fails_when_the_database_is_gone_and_recovers() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("TEST_DATABASE_URL not set; skipped");
        return;
    }
    let app = spawn_app(Engine::Postgres).await;
    let ready = format!("{}/ready", app.address);
    assert_eq!(
        app.client.get(&ready).send().await.expect("sent").status(),
        200
    );
    app.database.set_reachable(false).await;
    let started = std::time::Instant::now();
    let down = app.client.get(&ready).send().await.expect("sent");
    assert_eq!(down.status(), 503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "fails fast"
    );
    let during = app
        .graphql(
            "mutation { login(input: { email: \"a@b.co\", password: \"x\" }) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&during), Some("SERVICE_UNAVAILABLE"), "{during}");
    app.database.set_reachable(true).await;
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

/// `levels` fragments, each spreading the next twice: 2^levels leaves.
fn fan_out(levels: usize, leaf: &str) -> String {
    let mut doc = String::from("{ ...F0 }");
    for i in 0..levels {
        doc.push_str(&format!(
            " fragment F{i} on Query {{ ... on Query {{ ...F{n} }} ... on Query {{ ...F{n} }} }}",
            n = i + 1
        ));
    }
    doc.push_str(&format!(" fragment F{levels} on Query {{ {leaf} }}"));
    doc
}

/// The worst documents that fit in the 256 KiB body limit (with room for the
/// JSON around them).
fn hostile_documents() -> Vec<(&'static str, String)> {
    let room = 250 * 1024;
    let mut long_fan_out = fan_out(64, "__typename");
    long_fan_out.push_str(&" # padding".repeat((room - long_fan_out.len()) / 10));
    vec![
        ("fan-out, 25 levels", fan_out(25, "__typename")),
        (
            "fan-out, invalid leaf at 22 levels",
            fan_out(22, "notAField"),
        ),
        ("fan-out, 64 levels, padded", long_fan_out),
        (
            "deep nesting",
            format!("{}{}", "{ a ".repeat(room / 8), "}".repeat(room / 8)),
        ),
        (
            "many directives",
            format!(
                "{{ __typename {} }}",
                "@include(if: true) ".repeat(room / 20)
            ),
        ),
        ("wide", format!("{{ {} }}", "__typename ".repeat(room / 11))),
        (
            // Within every limit: the largest document validation sees.
            "accepted: nested inline fragments, repeated",
            format!(
                "{{ {} }}",
                format!(
                    "{}__typename{}",
                    "... on Query { ".repeat(60),
                    " }".repeat(60)
                )
                .repeat(room / 1100)
            ),
        ),
        (
            "many fragment definitions",
            format!(
                "{{ __typename }} {}",
                (0..room / 40)
                    .map(|i| format!("fragment F{i} on Query {{ __typename }}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
    ]
}

/// Issue 14: the worst documents within the body limit are each refused with
/// one `OPERATION_TOO_COMPLEX` error, over HTTP and over the WebSocket, and
/// while they are in flight a cheap request is still answered promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_documents_are_refused_without_stalling_the_server() {
    let app = spawn_app(Engine::Sqlite).await;
    let documents = hostile_documents();
    for (name, query) in &documents {
        let body = json!({ "query": query }).to_string();
        assert!(body.len() < 256 * 1024, "{name}: {} bytes", body.len());
    }

    // Alone, each is refused in well under the request timeout.
    for (name, query) in &documents {
        let started = Instant::now();
        let body = app.graphql(query, json!({})).await;
        let took = started.elapsed();
        println!("{name} ({} bytes): answered in {took:?}", query.len());
        if name.starts_with("accepted") {
            assert_eq!(body["data"]["__typename"], "Query", "{name}: {body}");
        } else {
            assert_eq!(
                error_code(&body),
                Some("OPERATION_TOO_COMPLEX"),
                "{name}: {body}"
            );
            assert_eq!(
                body["errors"].as_array().map(Vec::len),
                Some(1),
                "{name}: one error"
            );
        }
        assert!(took < Duration::from_secs(5), "{name}: {took:?}");
    }

    // Together, three of each, while a cheap request is timed over and over.
    let hostile: Vec<_> = (0..3)
        .flat_map(|_| documents.clone())
        .map(|(name, query)| {
            let client = app.client.clone();
            let url = format!("{}/graphql", app.address);
            tokio::spawn(async move {
                let started = Instant::now();
                let body: Value = client
                    .post(url)
                    .json(&json!({ "query": query }))
                    .send()
                    .await
                    .expect("sent")
                    .json()
                    .await
                    .expect("json");
                (name, started.elapsed(), body)
            })
        })
        .collect();
    let mut cheap = Vec::new();
    while hostile.iter().any(|h| !h.is_finished()) {
        let started = Instant::now();
        let body = app.graphql("{ __typename }", json!({})).await;
        cheap.push(started.elapsed());
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut slowest_hostile = Duration::ZERO;
    for handle in hostile {
        let (name, took, body) = handle.await.expect("task");
        if !name.starts_with("accepted") {
            assert_eq!(
                error_code(&body),
                Some("OPERATION_TOO_COMPLEX"),
                "{name}: {body}"
            );
        }
        slowest_hostile = slowest_hostile.max(took);
    }
    cheap.sort();
    let worst = cheap.last().copied().unwrap_or_default();
    println!(
        "{} cheap requests during the flood: median {:?}, worst {worst:?}; slowest hostile answer {slowest_hostile:?}",
        cheap.len(),
        cheap.get(cheap.len() / 2).copied().unwrap_or_default()
    );
    // The request timeout is 15 s; a debug build on a shared machine.
    assert!(
        worst < Duration::from_secs(5),
        "cheap request waited {worst:?}"
    );
    assert!(
        slowest_hostile < Duration::from_secs(15),
        "{slowest_hostile:?}"
    );

    // Over the WebSocket, the same refusal.
    let token = app.login_as(Role::Agent).await;
    let mut ws = open(&app, &[]).await.expect("websocket");
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })))
        .await
        .expect("init");
    let ack = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("in time")
        .expect("message")
        .expect("ok");
    let ack: Value = serde_json::from_str(ack.to_text().expect("text")).expect("json");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let started = Instant::now();
    ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": { "query": fan_out(25, "__typename") } })))
        .await
        .expect("subscribe");
    let reply = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("in time")
        .expect("message")
        .expect("ok");
    let reply: Value = serde_json::from_str(reply.to_text().expect("text")).expect("json");
    println!(
        "fan-out over the WebSocket: answered in {:?}",
        started.elapsed()
    );
    assert_eq!(reply["type"], "next", "{reply}");
    let errors = &reply["payload"]["errors"];
    assert_eq!(
        errors[0]["extensions"]["code"], "OPERATION_TOO_COMPLEX",
        "{reply}"
    );
    assert_eq!(errors.as_array().map(Vec::len), Some(1), "{reply}");
}

/// Ten aliased `customers(first: 100)`, each with twenty aliased
/// `purchases(first: 100)`: 2 KB asking for 200 000 purchases.
fn cost_attack() -> String {
    let purchases = (0..20)
        .map(|i| format!("p{i}: purchases(first: 100) {{ nodes {{ id amount currency }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let customers = (0..10)
        .map(|i| format!("c{i}: customers(first: 100) {{ nodes {{ id {purchases} }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    format!("{{ {customers} }}")
}

/// Issue 14: a connection's children cost its page size; the attack is
/// refused before any SQL, through variables too, and the bench dashboard
/// at the largest page still runs.
async fn cost_counts_page_sizes_before_any_sql(engine: Engine) {
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let token = app.login_as(Role::Agent).await;
    // The bearer token's user lookup runs before any limit is checked.
    let before = app.statements();
    data(
        &app.graphql_as(Some(&token), "{ __typename }", json!({}))
            .await,
    );
    let auth = app.statements() - before;
    let attack = cost_attack();
    assert!(attack.len() < 16_000, "{} bytes", attack.len());
    let by_variable = "query($n: Int) { customers(first: $n) { nodes { purchases(first: $n) { nodes { id } } interactions(first: $n) { nodes { id } } referrals(first: $n) { nodes { id } } } } }";
    for (name, query, variables) in [
        ("aliased pages", attack.as_str(), json!({})),
        ("pages by variable", by_variable, json!({ "n": 100 })),
    ] {
        let before = app.statements();
        let body = app.graphql_as(Some(&token), query, variables).await;
        assert_eq!(
            error_code(&body),
            Some("OPERATION_TOO_COMPLEX"),
            "{name}: {body}"
        );
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{name}");
        assert_eq!(app.statements() - before, auth, "{name}: no SQL ran");
    }
    // The same shape with small pages is fine.
    let small = app
        .graphql_as(Some(&token), by_variable, json!({ "n": 5 }))
        .await;
    data(&small);
    // The document is parsed once and kept; its cost is still counted from
    // each request's variables.
    let again = app
        .graphql_as(Some(&token), by_variable, json!({ "n": 100 }))
        .await;
    assert_eq!(error_code(&again), Some("OPERATION_TOO_COMPLEX"), "{again}");
    let dashboard = include_str!("../../../bench/queries/s1_dashboard.graphql");
    let body = app
        .graphql_as(Some(&token), dashboard, json!({ "first": 100 }))
        .await;
    let edges = data(&body)["customers"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 100, "a full page of the dashboard");
}

/// Issue 14: an answer over `--max-response-bytes` is replaced by one
/// `OPERATION_TOO_COMPLEX` error; a smaller one is not.
async fn an_oversized_answer_ends_with_a_coded_error(engine: Engine) {
    let app = spawn_app_with(engine, &["--max-response-bytes", "4000"]).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let token = app.login_as(Role::Agent).await;
    let query = "query($n: Int) { customers(first: $n) { nodes { id name email } } }";
    let small = app.graphql_as(Some(&token), query, json!({ "n": 5 })).await;
    assert_eq!(
        data(&small)["customers"]["nodes"].as_array().map(Vec::len),
        Some(5)
    );
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .json(&json!({ "query": query, "variables": { "n": 100 } }))
        .send()
        .await
        .expect("sent");
    let bytes = response.bytes().await.expect("body");
    let body: Value = serde_json::from_slice(&bytes).expect("json");
    println!(
        "100 customers against a 4 000-byte ceiling: {} bytes answered",
        bytes.len()
    );
    assert!(bytes.len() < 1_000, "{} bytes", bytes.len());
    assert_eq!(error_code(&body), Some("OPERATION_TOO_COMPLEX"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["maxResponseBytes"], 4000);
    assert!(body["data"].is_null(), "{body}");

    // The operation ran: `data: null` and 200 under both media types
    // (GraphQL over HTTP: a null `data` entry gets 2xx).
    for accept in ["application/json", "application/graphql-response+json"] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .header("accept", accept)
            .json(&json!({ "query": query, "variables": { "n": 100 } }))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(response.headers()["content-type"], accept);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body.get("data"), Some(&Value::Null), "{accept}: {body}");
        assert_eq!(error_code(&body), Some("OPERATION_TOO_COMPLEX"), "{body}");
    }
}
