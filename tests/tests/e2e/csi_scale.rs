//! `csiReport` over 1 000 000 ratings, timed. Ignored by default:
//!
//! ```text
//! cargo test -p tests --release --test e2e csi_report_over_a_million_ratings -- --ignored --nocapture
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p tests --release \
//!     --test e2e csi_report_over_a_million_ratings -- --ignored --nocapture
//! ```
//!
//! Seeds one published ACSI set (6 factors), 166 667 survey responses spread
//! over 2025–2026 and their 1 000 002 factor ratings with set-based
//! `INSERT … SELECT` statements in one transaction per table, then times the
//! report by month over the two years through HTTP. The timings are recorded
//! in `docs/csi.md`.

use std::time::{Duration, Instant};

use domain::auth::Role;
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
use serde_json::{json, Value};

use crate::fixtures::{CustomerBuilder, Stage, SurveyBuilder, SurveyStatus};
use crate::helpers::{data, postgres_url, spawn_app, Engine, TestApp};

const RESPONSES: i64 = 166_667;
/// Seconds between two responses: 166 667 × 378 s ≈ 2 years.
const STEP_SECONDS: i64 = 378;

const REPORT: &str = "query($id: ID!, $from: Date!, $to: Date!, $filter: CsiReportFilter) {
  csiReport(factorSetId: $id, from: $from, to: $to, granularity: MONTH, filter: $filter) {
    index responseCount ratingCount
    factors { key mean score priority }
    trend { period index responseCount }
    previousPeriod { index delta }
  } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "seeds 1 000 000 ratings; run with --release -- --ignored --nocapture"]
async fn csi_report_over_a_million_ratings() {
    run(Engine::Sqlite).await;
    if postgres_url().is_some() {
        run(Engine::Postgres).await;
    } else {
        println!("TEST_DATABASE_URL not set; PostgreSQL skipped");
    }
}

async fn run(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let preset = data(
        &app.graphql_as(
            Some(&token),
            "{ csiPresets { name factors { key label weight } } }",
            json!({}),
        )
        .await,
    )["csiPresets"][0]
        .clone();
    let created = app
        .graphql_as(
            Some(&token),
            "mutation($input: CreateCsiFactorSetInput!) { createCsiFactorSet(input: $input) { factorSet { id } } }",
            json!({ "input": { "name": preset["name"], "factors": preset["factors"] } }),
        )
        .await;
    let set_id = data(&created)["createCsiFactorSet"]["factorSet"]["id"].clone();
    let published = app
        .graphql_as(
            Some(&token),
            "mutation($id: ID!) { publishCsiFactorSet(input: { id: $id }) { factorSet { id } } }",
            json!({ "id": set_id }),
        )
        .await;
    data(&published);
    let set: i64 = crate::fixtures::db_key(set_id.as_str().expect("set id"));

    let started = Instant::now();
    let survey_id = seed(&app, set).await;
    let seeded = started.elapsed();

    let from_to = json!({ "id": set_id, "from": "2025-01-01", "to": "2027-01-01" });
    let mut timings = Vec::new();
    let mut report = Value::Null;
    for _ in 0..3 {
        let t = Instant::now();
        let body = app.graphql_as(Some(&token), REPORT, from_to.clone()).await;
        timings.push(t.elapsed());
        report = data(&body)["csiReport"].clone();
    }
    assert_eq!(report["responseCount"], RESPONSES);
    assert_eq!(report["ratingCount"], RESPONSES * 6);
    assert_eq!(report["trend"].as_array().map(Vec::len), Some(24));

    let mut filtered = from_to.clone();
    filtered["filter"] = json!({ "surveyId": crate::fixtures::api_id("Survey", survey_id) });
    let t = Instant::now();
    let body = app.graphql_as(Some(&token), REPORT, filtered).await;
    let survey_scoped = t.elapsed();
    assert_eq!(data(&body)["csiReport"]["responseCount"], RESPONSES);

    timings.sort();
    println!(
        "{engine:?}: seeded {} ratings in {:.1?}; csiReport by MONTH over 24 months: best {}, median {}; with surveyId filter {}; index {}",
        RESPONSES * 6,
        seeded,
        ms(timings[0]),
        ms(timings[1]),
        ms(survey_scoped),
        report["index"],
    );
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// One customer and survey, [`RESPONSES`] invitations and responses, six
/// ratings per response, mostly 4s and 5s with a third spread over 1..5.
async fn seed(app: &TestApp, set: i64) -> i64 {
    let db = app.db();
    let customer = CustomerBuilder::new()
        .name("Bench customer")
        .stage(Stage::Commitment)
        .insert(db)
        .await;
    let survey = SurveyBuilder::new("Bench")
        .status(SurveyStatus::Active)
        .factor_set(set)
        .insert(db)
        .await;

    // Timestamps as each engine stores them: RFC 3339 text on SQLite (as
    // sqlx writes `DateTime<Utc>`), TIMESTAMPTZ on PostgreSQL.
    let (series, ts) = match db.get_database_backend() {
        DatabaseBackend::Postgres => (
            format!("generate_series(1, {RESPONSES}) AS seq(n)"),
            format!("(timestamptz '2025-01-01 00:00:00+00' + n * interval '{STEP_SECONDS} seconds')"),
        ),
        _ => (
            "seq".to_owned(),
            format!(
                "(strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + n * {STEP_SECONDS}, 'unixepoch') || '+00:00')"
            ),
        ),
    };
    let with = match db.get_database_backend() {
        DatabaseBackend::Postgres => String::new(),
        _ => format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {RESPONSES}) "
        ),
    };
    let statements = [
        format!(
            "{with}INSERT INTO survey_invitations (survey_id, customer_id, token_hash, expires_at, created_at, used_at) \
             SELECT {survey}, {customer}, 'bench-' || n, {ts}, {ts}, {ts} FROM {series}"
        ),
        "INSERT INTO survey_responses (survey_id, invitation_id, customer_id, submitted_at) \
         SELECT survey_id, id, customer_id, created_at FROM survey_invitations ORDER BY id"
            .to_owned(),
        format!(
            "INSERT INTO csi_ratings (factor_set_id, factor_id, response_id, customer_id, rating, rated_at) \
             SELECT {set}, f.id, r.id, r.customer_id, CASE WHEN (r.id + f.position) % 3 = 0 THEN 1 + (r.id * 7 + f.position * 13 + r.id / 11) % 5 ELSE 5 - (r.id / 17 + f.position) % 2 END, r.submitted_at \
             FROM survey_responses r CROSS JOIN csi_factors f WHERE f.factor_set_id = {set} ORDER BY r.id, f.id"
        ),
    ];
    for sql in statements {
        let txn = db.begin().await.expect("begin");
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            // Seeding is not a request: lift the server's statement timeout.
            txn.execute_unprepared("SET LOCAL statement_timeout = 0")
                .await
                .expect("no timeout");
        }
        txn.execute_unprepared(&sql).await.expect("seed statement");
        txn.commit().await.expect("commit");
    }
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    survey
}
