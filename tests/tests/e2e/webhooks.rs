//! Signed webhooks end to end: a receiver on loopback (tests/webhooks/
//! receiver.py) verifies every delivery with the `standardwebhooks` package
//! from PyPI and logs it; the tests read its log and the delivery log.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domain::auth::Role;
use serde_json::{json, Value};

use crate::fixtures::{question, CustomerBuilder, ProgramBuilder, QuestionKind, SurveyBuilder};
use crate::helpers::{
    data, error_code, spawn_app_with, Engine, TestApp, TestDatabase, TEST_JWT_SECRET,
};
use crate::process::{gql, run_create_user, send_signal, start_serve};

on_both_engines!(
    every_event_arrives_signed_and_without_tokens_or_erased_personal_data,
    after_a_rotation_both_secrets_sign_until_the_old_one_expires,
    failed_attempts_are_retried_and_redelivered_under_the_same_webhook_id,
    a_delivery_that_timed_out_arrives_again_with_the_same_webhook_id,
    private_targets_are_refused_unless_allowed_and_only_admins_manage_endpoints,
    a_delivery_cut_by_kill_9_is_made_after_restart,
);

const ALLOW_PRIVATE: [&str; 2] = ["--webhook-allow-private", "true"];

/// The receiver process and its log.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("deliveries.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/webhooks/receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the receiver prints its port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("port, got {line:?} (pip install standardwebhooks?)"));
        Self {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn set_secrets(&self, secrets: &[&str]) {
        let answer = reqwest::Client::new()
            .post(self.url("/__secrets"))
            .json(&json!({ "secrets": secrets }))
            .send()
            .await
            .expect("receiver answers");
        assert_eq!(answer.status(), 200);
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }

    /// Waits (30 s at most) until the log holds at least `n` entries for
    /// which `select` holds; returns those entries.
    async fn wait_for(&self, n: usize, select: impl Fn(&Value) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let found: Vec<Value> = self.entries().into_iter().filter(|e| select(e)).collect();
            if found.len() >= n {
                return found;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{n} deliveries arrived; log: {:?}",
                self.entries()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let body = app.graphql_as(Some(token), query, vars).await;
    data(&body).clone()
}

const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret webhookEndpoint { id url events enabled } } }";
const DELIVERIES: &str = "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 10) { totalCount nodes { id webhookId event state attempts responseStatus lastError lastAttemptAt deliveredAt } } } } }";

/// Creates an endpoint; returns its id and secret.
async fn endpoint(app: &TestApp, admin: &str, url: &str, events: &[&str]) -> (String, String) {
    let created = ok(
        app,
        admin,
        CREATE,
        json!({ "i": { "url": url, "events": events } }),
    )
    .await;
    let created = &created["createWebhookEndpoint"];
    (
        created["webhookEndpoint"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn churn(app: &TestApp, token: &str) -> String {
    let customer = CustomerBuilder::new()
        .name("Grace Churner")
        .email("grace@example.org")
        .create(app, token)
        .await;
    ok(
        app,
        token,
        "mutation($id: ID!) { churnCustomer(input: { id: $id, reason: SUPERIOR_ALTERNATIVE, note: \"too dear\" }) { customer { id } } }",
        json!({ "id": customer }),
    )
    .await;
    customer
}

async fn deliveries(app: &TestApp, admin: &str, endpoint: &str) -> Value {
    ok(app, admin, DELIVERIES, json!({ "id": endpoint })).await["node"]["deliveries"].clone()
}

/// Waits (30 s at most) until the endpoint's newest delivery is in `state`.
async fn wait_for_state(app: &TestApp, admin: &str, endpoint: &str, state: &str) -> Value {
    let started = Instant::now();
    loop {
        let log = deliveries(app, admin, endpoint).await;
        if log["nodes"][0]["state"] == state {
            return log["nodes"][0].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "delivery reached {state}: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn key(global: &str) -> i64 {
    crate::fixtures::db_key(global)
}

async fn every_event_arrives_signed_and_without_tokens_or_erased_personal_data(engine: Engine) {
    let receiver = Receiver::start();
    let app = spawn_app_with(engine, &ALLOW_PRIVATE).await;
    let admin = app.login_as(Role::Admin).await;
    let (_, secret) = endpoint(
        &app,
        &admin,
        &receiver.url("/ok"),
        &[
            "SURVEY_RESPONSE_SUBMITTED",
            "SURVEY_FOLLOWUP_CREATED",
            "LOYALTY_POINTS_CREDITED",
            "LOYALTY_REWARD_REDEEMED",
            "CUSTOMER_CHURNED",
            "CUSTOMER_ERASED",
        ],
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.set_secrets(&[&secret]).await;

    let name = "Ada Lovelace-Webhook";
    let email = "ada.webhook@example.org";
    let customer = CustomerBuilder::new()
        .name(name)
        .email(email)
        .phone("+44 20 7946 0001")
        .create(&app, &admin)
        .await;
    let program = ProgramBuilder::new("Club").create(&app, &admin).await;
    let membership = ok(&app, &admin,
        "mutation($p: ID!, $c: ID!) { enrollCustomer(input: { loyaltyProgramId: $p, customerId: $c }) { membership { id } } }",
        json!({ "p": program, "c": customer }),
    ).await["enrollCustomer"]["membership"]["id"].as_str().expect("membership").to_owned();
    let survey = SurveyBuilder::new("How did we do?")
        .program(program.as_str())
        .incentive_points(40)
        .question(question(
            "How satisfied are you?",
            QuestionKind::Rating,
            json!({ "required": true }),
        ))
        .publish(&app, &admin)
        .await;
    let invited = ok(&app, &admin,
        "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { token } } }",
        json!({ "s": survey.id, "c": [customer], "e": chrono::Utc::now() + chrono::Duration::days(7) }),
    ).await;
    let token = invited["inviteToSurvey"]["invitations"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let submitted = app
        .graphql(
            "mutation($t: String!, $a: [SurveyAnswerInput!]!) { submitSurveyResponse(input: { token: $t, answers: $a }) { responseId pointsAwarded } }",
            json!({ "t": token, "a": [{ "questionId": survey.questions[0], "rating": 1 }] }),
        )
        .await;
    let response_id = data(&submitted)["submitSurveyResponse"]["responseId"]
        .as_str()
        .expect("response id")
        .to_owned();
    let reward = ok(&app, &admin,
        "mutation($p: ID!, $c: Int!) { createReward(input: { loyaltyProgramId: $p, name: \"Mug\", costPoints: $c }) { reward { id } } }",
        json!({ "p": program, "c": 30 }),
    ).await["createReward"]["reward"]["id"].as_str().expect("reward").to_owned();
    let redemption = ok(&app, &admin,
        "mutation($m: ID!, $r: ID!, $k: String!) { redeemReward(input: { membershipId: $m, rewardId: $r, idempotencyKey: $k }) { redemption { id } } }",
        json!({ "m": membership, "r": reward, "k": "webhook-redeem" }),
    ).await["redeemReward"]["redemption"]["id"].as_str().expect("redemption").to_owned();
    ok(&app, &admin,
        "mutation($id: ID!) { churnCustomer(input: { id: $id, reason: DISSATISFACTION, note: \"rude staff\" }) { customer { id } } }",
        json!({ "id": customer }),
    ).await;
    ok(
        &app,
        &admin,
        "mutation($id: ID!) { eraseCustomer(input: { id: $id }) { customer { id } } }",
        json!({ "id": customer }),
    )
    .await;

    let all = receiver.wait_for(6, |_| true).await;
    let of = |kind: &str| -> Value {
        let found: Vec<&Value> = all.iter().filter(|e| e["body"]["type"] == kind).collect();
        assert_eq!(found.len(), 1, "one {kind}: {all:?}");
        found[0]["body"]["data"].clone()
    };
    for entry in &all {
        assert_eq!(entry["verified"], json!([0]), "signature verified: {entry}");
        let id = entry["id"].as_str().expect("webhook-id");
        assert!(id.starts_with("msg_"), "{id}");
        let text = entry["body"].to_string();
        for secret_value in [token.as_str(), name, email, "+44 20", "rude staff"] {
            assert!(!text.contains(secret_value), "{secret_value} in {text}");
        }
    }
    let customer_key = key(&customer);
    let response = of("survey.response.submitted");
    assert_eq!(response["responseId"], key(&response_id));
    assert_eq!(response["surveyId"], key(&survey.id));
    assert_eq!(response["customerId"], customer_key);
    assert_eq!(response["pointsAwarded"], 40);
    let follow_up = of("survey.followup.created");
    assert_eq!(follow_up["responseId"], key(&response_id));
    assert_eq!(follow_up["customerId"], customer_key);
    let credited = of("loyalty.points.credited");
    assert_eq!(credited["points"], 40);
    assert_eq!(credited["reason"], "FEEDBACK_INCENTIVE");
    assert_eq!(credited["membershipId"], key(&membership));
    assert_eq!(credited["customerId"], customer_key);
    let redeemed = of("loyalty.reward.redeemed");
    assert_eq!(redeemed["redemptionId"], key(&redemption));
    assert_eq!(redeemed["rewardId"], key(&reward));
    assert_eq!(redeemed["points"], 30);
    let churned = of("customer.churned");
    assert_eq!(churned["customerId"], customer_key);
    assert_eq!(churned["reason"], "DISSATISFACTION");
    let erased = of("customer.erased");
    let fields: Vec<&String> = erased.as_object().expect("object").keys().collect();
    assert_eq!(fields, ["customerId", "erasedAt"]);
    assert_eq!(erased["customerId"], customer_key);
}

async fn after_a_rotation_both_secrets_sign_until_the_old_one_expires(engine: Engine) {
    let receiver = Receiver::start();
    let app = spawn_app_with(engine, &ALLOW_PRIVATE).await;
    let admin = app.login_as(Role::Admin).await;
    let (id, old) = endpoint(&app, &admin, &receiver.url("/ok"), &["CUSTOMER_CHURNED"]).await;
    let rotated = ok(&app, &admin,
        "mutation($id: ID!) { rotateWebhookEndpointSecret(input: { id: $id }) { secret webhookEndpoint { previousSecretExpiresAt } } }",
        json!({ "id": id }),
    ).await["rotateWebhookEndpointSecret"].clone();
    let new = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    let expires: chrono::DateTime<chrono::Utc> = rotated["webhookEndpoint"]
        ["previousSecretExpiresAt"]
        .as_str()
        .expect("expiry")
        .parse()
        .expect("time");
    let hours = (expires - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&hours), "{hours} minutes");
    // A receiver that knows only the old secret, one that knows only the new.
    receiver.set_secrets(&[&old, &new]).await;
    churn(&app, &admin).await;
    let entry = &receiver.wait_for(1, |_| true).await[0];
    assert_eq!(entry["verified"], json!([0, 1]), "{entry}");
    assert_eq!(entry["signatures"].as_array().expect("list").len(), 2);
    // The secret is never shown again.
    let listed = ok(
        &app,
        &admin,
        "{ webhookEndpoints { id url events enabled } }",
        json!({}),
    )
    .await;
    assert!(!listed.to_string().contains(&new[6..]));
    let schema_text = app
        .graphql_as(
            Some(&admin),
            "{ __type(name: \"WebhookEndpoint\") { fields { name } } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(!schema_text.contains("\"secret\""), "{schema_text}");
}

async fn failed_attempts_are_retried_and_redelivered_under_the_same_webhook_id(engine: Engine) {
    let receiver = Receiver::start();
    let app = spawn_app_with(
        engine,
        &[
            "--webhook-allow-private",
            "true",
            "--webhook-retry-delay",
            "1s",
        ],
    )
    .await;
    let admin = app.login_as(Role::Admin).await;
    let (flaky, secret) =
        endpoint(&app, &admin, &receiver.url("/flaky"), &["CUSTOMER_CHURNED"]).await;
    let (gone, gone_secret) =
        endpoint(&app, &admin, &receiver.url("/gone"), &["CUSTOMER_CHURNED"]).await;
    receiver.set_secrets(&[&secret, &gone_secret]).await;
    churn(&app, &admin).await;

    let flaky_entries = receiver.wait_for(2, |e| e["path"] == "/flaky").await;
    assert_eq!(flaky_entries[0]["id"], flaky_entries[1]["id"]);
    assert_eq!(flaky_entries[0]["status"], 500);
    assert_eq!(flaky_entries[1]["status"], 200);
    assert_eq!(flaky_entries[1]["verified"], json!([0]));
    let delivered = wait_for_state(&app, &admin, &flaky, "DELIVERED").await;
    assert_eq!(delivered["attempts"], 2);
    assert_eq!(delivered["responseStatus"], 200);
    assert_eq!(delivered["event"], "CUSTOMER_CHURNED");
    assert_eq!(delivered["webhookId"], flaky_entries[0]["id"]);

    // 410 Gone is final: one attempt, logged with its status and error.
    let failed = wait_for_state(&app, &admin, &gone, "FAILED").await;
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["responseStatus"], 410);
    assert!(
        failed["lastError"]
            .as_str()
            .expect("error")
            .starts_with("HTTP 410"),
        "{failed}"
    );
    assert_eq!(
        receiver.wait_for(1, |e| e["path"] == "/gone").await.len(),
        1
    );

    // Redelivery sends the same message again.
    let again = ok(&app, &admin,
        "mutation($id: ID!) { redeliverWebhookMessage(input: { id: $id }) { delivery { state attempts webhookId } } }",
        json!({ "id": delivered["id"] }),
    ).await["redeliverWebhookMessage"]["delivery"].clone();
    assert_eq!(again["state"], "QUEUED");
    assert_eq!(again["attempts"], 0);
    let flaky_entries = receiver.wait_for(3, |e| e["path"] == "/flaky").await;
    assert_eq!(flaky_entries[2]["id"], flaky_entries[0]["id"]);
    assert_eq!(flaky_entries[2]["status"], 200);
    wait_for_state(&app, &admin, &flaky, "DELIVERED").await;
    let log = deliveries(&app, &admin, &flaky).await;
    assert_eq!(log["totalCount"], 1);
}

async fn a_delivery_that_timed_out_arrives_again_with_the_same_webhook_id(engine: Engine) {
    let receiver = Receiver::start();
    let app = spawn_app_with(
        engine,
        &[
            "--webhook-allow-private",
            "true",
            "--webhook-retry-delay",
            "1s",
            "--webhook-timeout",
            "1s",
        ],
    )
    .await;
    let admin = app.login_as(Role::Admin).await;
    let (id, secret) = endpoint(
        &app,
        &admin,
        &receiver.url("/slow?sleep=3"),
        &["CUSTOMER_CHURNED"],
    )
    .await;
    receiver.set_secrets(&[&secret]).await;
    churn(&app, &admin).await;
    let entries = receiver.wait_for(2, |_| true).await;
    assert_eq!(
        entries[0]["id"], entries[1]["id"],
        "the repeat is recognisable"
    );
    assert_eq!(entries[0]["attempt"], 1);
    assert_eq!(entries[1]["attempt"], 2);
    assert!(entries.iter().all(|e| e["verified"] == json!([0])));
    let delivered = wait_for_state(&app, &admin, &id, "DELIVERED").await;
    assert_eq!(delivered["attempts"], 2);
}

async fn private_targets_are_refused_unless_allowed_and_only_admins_manage_endpoints(
    engine: Engine,
) {
    let receiver = Receiver::start();
    let app = spawn_app_with(engine, &[]).await;
    let admin = app.login_as(Role::Admin).await;
    let manager = app.login_as(Role::Manager).await;
    let port = receiver.port;
    let mut endpoints = Vec::new();
    for url in [
        format!("http://127.0.0.1:{port}/ok"),
        format!("http://localhost:{port}/ok"),
        format!("http://[::1]:{port}/ok"),
        "http://10.1.2.3/ok".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        endpoints.push(endpoint(&app, &admin, &url, &["CUSTOMER_CHURNED"]).await.0);
    }
    churn(&app, &admin).await;
    for id in &endpoints {
        let failed = wait_for_state(&app, &admin, id, "FAILED").await;
        let error = failed["lastError"].as_str().expect("error");
        assert!(error.starts_with("refused:"), "{error}");
        assert_eq!(failed["responseStatus"], Value::Null);
    }
    assert!(receiver.entries().is_empty(), "nothing reached loopback");

    // Only ADMINs see or manage endpoints.
    let body = app
        .graphql_as(Some(&manager), "{ webhookEndpoints { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let body = app
        .graphql_as(
            Some(&manager),
            CREATE,
            json!({ "i": { "url": "https://example.com/hook", "events": ["CUSTOMER_CHURNED"] } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let body = app
        .graphql_as(
            Some(&manager),
            "mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedWebhookEndpointId } }",
            json!({ "id": endpoints[0] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let node = app
        .graphql_as(
            Some(&manager),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": endpoints[0] }),
        )
        .await;
    assert_eq!(data(&node)["node"], Value::Null);
    // URLs are checked when saved.
    for url in [
        "ftp://example.com/",
        "https://user:pw@example.com/",
        "not a url",
    ] {
        let body = app
            .graphql_as(
                Some(&admin),
                CREATE,
                json!({ "i": { "url": url, "events": ["CUSTOMER_CHURNED"] } }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{url}");
    }
    let listed = ok(&app, &admin, "{ webhookEndpoints { id } }", json!({})).await;
    assert_eq!(
        listed["webhookEndpoints"].as_array().expect("list").len(),
        5
    );
}

async fn a_delivery_cut_by_kill_9_is_made_after_restart(engine: Engine) {
    let receiver = Receiver::start();
    let database = TestDatabase::create(engine).await;
    let dir = tempfile::tempdir().expect("dir");
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", database.url.as_str()),
        ("RAPPORT_JWT_SECRET", TEST_JWT_SECRET),
        ("RAPPORT_DATA_DIR", &dir.path().display().to_string()),
        ("RAPPORT_DB_MAX_CONNECTIONS", "4"),
        ("RAPPORT_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("RAPPORT_OUTBOX_LEASE", "2s"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let log = dir.path().join("serve.log");
    let (mut first, address) = start_serve(env.clone(), &log).await;
    let created = run_create_user(
        env.clone(),
        "admin@example.org",
        "correct horse battery staple",
        "ADMIN",
    );
    assert!(created.status.success(), "{created:?}");
    let client = reqwest::Client::new();
    let login = gql(&client, &address, None,
        "mutation { login(input: { email: \"admin@example.org\", password: \"correct horse battery staple\" }) { accessToken } }",
        json!({}),
    ).await.expect("login");
    let admin = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = gql(
        &client,
        &address,
        Some(&admin),
        CREATE,
        json!({ "i": { "url": receiver.url("/slow?sleep=20"), "events": ["CUSTOMER_CHURNED"] } }),
    )
    .await
    .expect("endpoint");
    let secret = created["data"]["createWebhookEndpoint"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let endpoint_id = created["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    receiver.set_secrets(&[&secret]).await;
    let customer = gql(
        &client,
        &address,
        Some(&admin),
        "mutation { createCustomer(input: { name: \"Kim\" }) { customer { id } } }",
        json!({}),
    )
    .await
    .expect("customer")["data"]["createCustomer"]["customer"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    gql(&client, &address, Some(&admin),
        "mutation($id: ID!) { churnCustomer(input: { id: $id, reason: SUPERIOR_ALTERNATIVE }) { customer { id } } }",
        json!({ "id": customer }),
    ).await.expect("churn");
    // The first attempt is in flight (the receiver holds it) when the
    // process dies.
    let first_attempt = receiver.wait_for(1, |_| true).await[0].clone();
    send_signal(&first, "KILL");
    let _ = first.wait();

    let (mut second, address) = start_serve(env.clone(), &log).await;
    let entries = receiver.wait_for(2, |_| true).await;
    assert_eq!(entries[1]["id"], first_attempt["id"], "the same webhook-id");
    assert_eq!(entries[1]["status"], 200);
    assert_eq!(entries[1]["verified"], json!([0]));
    let started = Instant::now();
    loop {
        let log = gql(
            &client,
            &address,
            Some(&admin),
            DELIVERIES,
            json!({ "id": endpoint_id }),
        )
        .await
        .expect("log");
        let node = &log["data"]["node"]["deliveries"]["nodes"][0];
        if node["state"] == "DELIVERED" {
            assert_eq!(node["attempts"], 2);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "delivered: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = second.kill();
    let _ = second.wait();
}
