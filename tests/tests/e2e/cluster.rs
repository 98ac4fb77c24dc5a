//! Several real `rapport serve` processes on one PostgreSQL
//! database behave as one service — subscriptions, throttles, scheduled jobs,
//! start-up and rolling restarts. PostgreSQL only: on SQLite one process
//! serves a file, and these tests say so and return.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use domain::auth::Role;
use futures::{SinkExt as _, StreamExt as _};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    data, error_code, postgres_url, spawn_app, Engine, TestApp, TestDatabase, TEST_JWT_SECRET,
};
use crate::process::{exit_status, gql, send_signal, start_serve};
use crate::sessions::Socket;
use crate::surveys::{fixture, insert_customer};

const SUBMIT: &str = "mutation($t: String!, $a: [SurveyAnswerInput!]!) { submitSurveyResponse(input: { token: $t, answers: $a }) { responseId } }";
const INVITATION: &str = "query($t: String!) { surveyInvitation(token: $t) { title } }";
const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }";

/// Skips a test on SQLite, visibly.
fn postgres_only(name: &str) -> bool {
    if postgres_url().is_none() {
        eprintln!(
            "{name}: several processes share PostgreSQL only; TEST_DATABASE_URL not set, skipped"
        );
        return false;
    }
    true
}

/// One `rapport serve` process of a cluster.
struct Node {
    child: Child,
    address: String,
    port: u16,
    log: PathBuf,
}

impl Node {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three processes on one database, with equal settings.
struct Cluster {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts three processes on `url` at the same moment and waits until
    /// each is ready.
    async fn start(url: &str, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let data_dir = dir.path().display().to_string();
        let env: Vec<(String, String)> = [
            ("DATABASE_URL", url),
            ("RAPPORT_JWT_SECRET", TEST_JWT_SECRET),
            ("RAPPORT_DATA_DIR", data_dir.as_str()),
            ("RAPPORT_DB_MAX_CONNECTIONS", "4"),
            ("RAPPORT_LOG", "info,sqlx=warn,h2=warn,hyper=warn"),
        ]
        .iter()
        .chain(extra.iter())
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let logs: Vec<PathBuf> = (0..3)
            .map(|i| dir.path().join(format!("node{i}.log")))
            .collect();
        let (a, b, c) = tokio::join!(
            start_serve(env.clone(), &logs[0]),
            start_serve(env.clone(), &logs[1]),
            start_serve(env.clone(), &logs[2]),
        );
        let nodes = [a, b, c]
            .into_iter()
            .zip(logs)
            .map(|((child, address), log)| Node {
                port: address
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("port"),
                child,
                address,
                log,
            })
            .collect();
        Self { nodes, _dir: dir }
    }

    /// How many lines of all the logs contain `text`.
    fn log_lines(&self, text: &str) -> usize {
        self.nodes
            .iter()
            .map(|n| n.log().lines().filter(|l| l.contains(text)).count())
            .sum()
    }
}

async fn scalar_i64(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("number")
}

async fn subscribe(port: u16, token: &str, survey_id: &str) -> Socket {
    let mut request = format!("ws://127.0.0.1:{port}/graphql/ws")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })))
        .await
        .expect("init");
    let ack = next_json(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.send(send(json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($s: ID) { feedbackReceived(surveyId: $s) { id surveyId } }",
            "variables": { "s": survey_id }
        }
    })))
    .await
    .expect("subscribe");
    // The subscription is registered once the server has read the message.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws
}

/// The next text message, within `wait`.
async fn next_json(ws: &mut Socket, wait: Duration) -> Value {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .expect("message in time")
            .expect("socket open")
            .expect("message");
        if let Message::Text(text) = msg {
            return serde_json::from_str(text.as_str()).expect("json");
        }
    }
}

/// The next `feedbackReceived` event's response id, within `wait`.
async fn next_event(ws: &mut Socket, wait: Duration) -> Value {
    loop {
        let value = next_json(ws, wait).await;
        assert_ne!(value["type"], "error", "{value}");
        if value["type"] == "next" {
            return value["payload"]["data"]["feedbackReceived"]["id"].clone();
        }
    }
}

/// `count` invitation tokens of one published survey, with its fixture.
async fn invited(app: &TestApp, count: usize) -> (crate::surveys::Fixture, Vec<String>) {
    let f = fixture(app).await;
    let mut tokens = Vec::new();
    for i in 0..count {
        let customer = insert_customer(app, &format!("Customer {i}")).await;
        tokens.push(f.invite(app, customer).await);
    }
    (f, tokens)
}

/// Backends of the test database currently listening for announcements.
async fn listeners(db: &impl ConnectionTrait) -> i64 {
    scalar_i64(
        db,
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_started_together_migrate_an_empty_database_once() {
    if !postgres_only("three_processes_started_together_migrate_an_empty_database_once") {
        return;
    }
    let database = TestDatabase::create(Engine::Postgres).await;
    let cluster = Cluster::start(&database.url, &[]).await;
    let first = "Migration 'm20261123_000001_create_users' has been applied";
    let last = "Migration 'm20261127_230001_cross_process_state' has been applied";
    assert_eq!(cluster.log_lines(first), 1, "the first migration ran once");
    assert_eq!(cluster.log_lines(last), 1, "the last migration ran once");
    assert_eq!(
        cluster.log_lines("No pending migrations"),
        2,
        "the other two found the schema migrated"
    );
    let client = reqwest::Client::new();
    for node in &cluster.nodes {
        let ready = client
            .get(format!("{}/ready", node.address))
            .send()
            .await
            .expect("ready answered");
        assert_eq!(ready.status(), 200, "{} ready", node.address);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_on_one_process_sees_responses_submitted_through_the_others() {
    if !postgres_only("a_subscriber_on_one_process_sees_responses_submitted_through_the_others") {
        return;
    }
    let app = spawn_app(Engine::Postgres).await;
    let (f, tokens) = invited(&app, 2).await;
    let agent = app.login_as(Role::Agent).await;
    let cluster = Cluster::start(&app.database.url, &[]).await;
    let [a, b, c] = [&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]];
    let client = reqwest::Client::new();
    let mut ws = subscribe(a.port, &agent, &f.survey_id).await;

    // Submitted through B, delivered on A within a second.
    let receipt = gql(
        &client,
        &b.address,
        None,
        SUBMIT,
        json!({ "t": tokens[0], "a": f.good_answers() }),
    )
    .await
    .expect("answered");
    let submitted = Instant::now();
    let id = data(&receipt)["submitSurveyResponse"]["responseId"].clone();
    assert_eq!(next_event(&mut ws, Duration::from_secs(5)).await, id);
    assert!(
        submitted.elapsed() < Duration::from_secs(1),
        "delivered across processes within a second, took {:?}",
        submitted.elapsed()
    );

    // Every process loses its listening connection; each reconnects by
    // itself, and A's socket stays open throughout.
    let listening = listeners(app.db()).await;
    assert!(listening >= 3, "each process listens: {listening}");
    app.db()
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .expect("terminate listeners");
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if listeners(app.db()).await >= listening {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "listeners reconnected"
        );
    }
    let receipt = gql(
        &client,
        &c.address,
        None,
        SUBMIT,
        json!({ "t": tokens[1], "a": f.good_answers() }),
    )
    .await
    .expect("answered");
    let id = data(&receipt)["submitSurveyResponse"]["responseId"].clone();
    assert_eq!(
        next_event(&mut ws, Duration::from_secs(5)).await,
        id,
        "the same socket receives responses after the reconnect"
    );
    assert!(
        cluster.log_lines("feedback listener listening again") >= 3,
        "each process noticed the gap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guesses_spread_over_three_processes_hit_one_limit() {
    if !postgres_only("guesses_spread_over_three_processes_hit_one_limit") {
        return;
    }
    let app = spawn_app(Engine::Postgres).await;
    let cluster = Cluster::start(&app.database.url, &[]).await;
    let client = reqwest::Client::new();
    let limit = api::throttle::MAX_FAILURES;
    let mut invalid = 0;
    let mut limited = 0;
    for attempt in 0..limit * 3 {
        let node = &cluster.nodes[attempt % 3];
        let body = gql(
            &client,
            &node.address,
            None,
            INVITATION,
            json!({ "t": format!("{attempt:0>43}") }),
        )
        .await
        .expect("answered");
        match error_code(&body) {
            Some("INVALID_TOKEN") => invalid += 1,
            Some("RATE_LIMITED") => limited += 1,
            other => panic!("attempt {attempt}: unexpected {other:?}: {body}"),
        }
    }
    assert_eq!(invalid, limit, "the documented limit holds in total");
    assert_eq!(limited, limit * 2);

    // Login failures of one client on one account, spread likewise.
    let email = "nobody@example.com";
    let max = usize::try_from(domain::users::MAX_FAILED_LOGINS).expect("small");
    let mut codes = Vec::new();
    for attempt in 0..max + 3 {
        let node = &cluster.nodes[attempt % 3];
        let body = gql(
            &client,
            &node.address,
            None,
            LOGIN,
            json!({ "e": email, "p": "not the password" }),
        )
        .await
        .expect("answered");
        codes.push(error_code(&body).expect("refused").to_owned());
    }
    let expected: Vec<&str> = std::iter::repeat_n("UNAUTHENTICATED", max)
        .chain(std::iter::repeat_n("RATE_LIMITED", 3))
        .collect();
    assert_eq!(codes, expected, "login failures add up across processes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_slots_of_one_client_are_shared_by_every_process() {
    if !postgres_only("login_slots_of_one_client_are_shared_by_every_process") {
        return;
    }
    // The mechanism behind the per-client cap on password verifications:
    // two connections (as two processes would) and one slot.
    let app = spawn_app(Engine::Postgres).await;
    let locks = domain::cluster::lock::SlotLocks {
        namespace: 7,
        slots: 1,
    };
    let first = app.db().begin().await.expect("txn");
    let second = app.db().begin().await.expect("txn");
    let patience = Duration::from_millis(200);
    assert!(locks.acquire(&first, 42, patience).await.expect("lock"));
    assert!(
        !locks.acquire(&second, 42, patience).await.expect("lock"),
        "the slot is taken elsewhere"
    );
    assert!(
        locks.acquire(&second, 43, patience).await.expect("lock"),
        "another client's slot is free"
    );
    first.rollback().await.expect("end");
    assert!(
        locks.acquire(&second, 42, patience).await.expect("lock"),
        "the slot is free once its holder ends"
    );
    second.rollback().await.expect("end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_job_runs_once_across_three_processes_and_is_taken_over_from_a_dead_holder() {
    if !postgres_only("the_daily_job_runs_once_across_three_processes") {
        return;
    }
    let app = spawn_app(Engine::Postgres).await;
    // A holder that died mid-run: its lease ran out, the run never finished.
    let now = chrono::Utc::now();
    let due = domain::loyalty::next_daily_run(now) - chrono::Duration::days(1);
    let due_ms = due.timestamp_millis();
    let past = now.timestamp_millis() - 1_000;
    app.db()
        .execute_unprepared(&format!(
            "INSERT INTO job_runs (job, due_at, holder, lease_until, started_at) VALUES ('loyalty-daily', {due_ms}, 'dead-process', {past}, {past})"
        ))
        .await
        .expect("stale lease");
    // Every process ticks each second: the forced tick.
    let cluster = Cluster::start(&app.database.url, &[("RAPPORT_JOB_TICK", "1s")]).await;
    let started = Instant::now();
    loop {
        let finished = scalar_i64(
            app.db(),
            &format!("SELECT COUNT(*) FROM job_runs WHERE job = 'loyalty-daily' AND due_at = {due_ms} AND finished_at IS NOT NULL"),
        )
        .await;
        if finished == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run finished"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Three more ticks on every process.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        cluster.log_lines("loyalty daily job done"),
        1,
        "one run across three processes"
    );
    let runs = scalar_i64(app.db(), "SELECT COUNT(*) FROM job_runs").await;
    assert_eq!(runs, 1, "one row per due time");
    let taken_over = scalar_i64(
        app.db(),
        "SELECT COUNT(*) FROM job_runs WHERE holder <> 'dead-process'",
    )
    .await;
    assert_eq!(taken_over, 1, "a live process took the run over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_to_one_of_three_processes_loses_no_submission() {
    if !postgres_only("sigterm_to_one_of_three_processes_loses_no_submission") {
        return;
    }
    let app = spawn_app(Engine::Postgres).await;
    let (f, tokens) = invited(&app, 30).await;
    let mut cluster = Cluster::start(&app.database.url, &[]).await;
    let addresses: Vec<String> = cluster.nodes.iter().map(|n| n.address.clone()).collect();
    let answers = f.good_answers();
    let client = reqwest::Client::new();

    // Each submission goes to one process; a refused or broken connection is
    // retried on the next one (what a load balancer or client does).
    let submissions: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let (client, addresses, answers, token) = (
                client.clone(),
                addresses.clone(),
                answers.clone(),
                token.clone(),
            );
            tokio::spawn(async move {
                // Spread over time, so some arrive after the signal.
                tokio::time::sleep(Duration::from_millis(20 * i as u64)).await;
                let mut node = i % 3;
                let mut retries = 0;
                loop {
                    match gql(
                        &client,
                        &addresses[node],
                        None,
                        SUBMIT,
                        json!({ "t": token, "a": answers }),
                    )
                    .await
                    {
                        Ok(body) => return (body, retries),
                        Err(_) => {
                            retries += 1;
                            assert!(retries < 10, "a process answers");
                            node = (node + 1) % 3;
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    send_signal(&cluster.nodes[0].child, "TERM");
    let mut retried = 0;
    for (i, submission) in submissions.into_iter().enumerate() {
        let (body, retries) = submission.await.expect("task");
        retried += retries;
        match error_code(&body) {
            None => {}
            // A retry of a submission whose first answer was lost.
            Some("ALREADY_SUBMITTED") => assert!(retries > 0, "submission {i}: {body}"),
            other => panic!("submission {i}: {other:?}: {body}"),
        }
    }
    let status = exit_status(&mut cluster.nodes[0].child).await;
    assert!(status.success(), "the stopped process exits 0: {status:?}");
    assert!(retried > 0, "some submissions met the stopped process");
    let stored = scalar_i64(app.db(), "SELECT COUNT(*) FROM survey_responses").await;
    assert_eq!(stored, 30, "every submission stored exactly once");
}
