//! Attacks and bad input from issue 8 not covered by `limits` and `auth`:
//! page sizes, invitation-token guessing, database errors, login bursts and
//! login timing. Assertions are on counts and codes; the two timing tests
//! compare ratios of medians measured in the same run, never absolute times.

use std::time::{Duration, Instant};

use domain::auth::Role;
use futures::StreamExt as _;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{
    data, error_code, spawn_app, spawn_app_with, Engine, TestApp, TRUST_LOCAL_PROXY,
};

on_both_engines!(
    oversized_and_negative_page_sizes_are_refused_before_sql,
    guessing_invitation_tokens_is_throttled,
    simultaneous_guesses_cannot_overrun_the_throttle,
    a_database_error_is_internal_with_a_request_id_and_no_sql,
    a_burst_of_logins_does_not_stall_other_requests,
    simultaneous_wrong_passwords_cannot_overrun_the_login_throttle,
    a_login_flood_from_one_address_does_not_delay_logins_from_another,
    unknown_user_and_wrong_password_take_the_same_time,
    other_tokens_used_as_bearer_are_unauthenticated,
);

/// Statements a request with `token` costs before any resolver runs (the
/// bearer token's user lookup), measured on a request that touches no data.
async fn auth_statements(app: &TestApp, token: &str) -> u64 {
    let before = app.statements();
    let body = app
        .graphql_as(Some(token), "{ __typename }", json!({}))
        .await;
    assert_eq!(body["data"]["__typename"], "Query");
    app.statements() - before
}

async fn oversized_and_negative_page_sizes_are_refused_before_sql(engine: Engine) {
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let token = app.login_as(Role::Admin).await;
    let auth = auth_statements(&app, &token).await;

    // Root connections and lists with a page size: no SQL beyond authentication.
    let roots = [
        (
            "customers",
            "customers(first: $n) { pageInfo { hasNextPage } }",
        ),
        (
            "customers(last)",
            "customers(last: $n) { pageInfo { hasNextPage } }",
        ),
        ("surveys", "surveys(first: $n) { pageInfo { hasNextPage } }"),
        (
            "surveyResponses",
            "surveyResponses(first: $n) { pageInfo { hasNextPage } }",
        ),
        (
            "followUps",
            "followUps(first: $n) { pageInfo { hasNextPage } }",
        ),
        (
            "mostValuableCustomers",
            "mostValuableCustomers(from: \"2020-01-01\", to: \"2030-01-01\", first: $n) { rank }",
        ),
        ("upcomingBirthdays", "upcomingBirthdays(days: $n) { date }"),
    ];
    for (name, field) in roots {
        for n in [99_999_999_i64, -1, i64::from(i32::MIN)] {
            let query = format!("query($n: Int!) {{ {field} }}");
            let before = app.statements();
            let body = app
                .graphql_as(Some(&token), &query, json!({ "n": n }))
                .await;
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{name} with {n}: {body}"
            );
            assert_eq!(
                app.statements() - before,
                auth,
                "{name} with {n}: no SQL ran beyond authentication"
            );
        }
    }

    // Nested connections: refused, and the page's own query never runs.
    let nested = [
        (
            "Customer.referrals",
            "customer(id: \"Q3VzdG9tZXI6MQ\") { referrals(first: $n) { pageInfo { hasNextPage } } }",
        ),
        (
            "Customer.interactions",
            "customer(id: \"Q3VzdG9tZXI6MQ\") { interactions(first: $n) { pageInfo { hasNextPage } } }",
        ),
        (
            "Customer.purchases",
            "customer(id: \"Q3VzdG9tZXI6MQ\") { purchases(first: $n) { pageInfo { hasNextPage } } }",
        ),
        (
            "LoyaltyProgram.members",
            "loyaltyProgram(id: \"TG95YWx0eVByb2dyYW06MQ\") { members(first: $n) { pageInfo { hasNextPage } } }",
        ),
        (
            "Membership.ledger",
            "membership(id: \"TWVtYmVyc2hpcDox\") { ledger(first: $n) { pageInfo { hasNextPage } } }",
        ),
    ];
    for (name, field) in nested {
        let query = format!("query($n: Int!) {{ {field} }}");
        let before = app.statements();
        let good = app
            .graphql_as(Some(&token), &query, json!({ "n": 1 }))
            .await;
        data(&good);
        let mut good_cost = app.statements() - before;
        if name == "Customer.interactions" || name == "Customer.purchases" {
            // A valid first page is read in the customer's own statement
            // (docs/customers.md), so a refused one must cost no more than
            // the customer alone.
            let before = app.statements();
            let alone = app
                .graphql_as(
                    Some(&token),
                    "query { customer(id: \"Q3VzdG9tZXI6MQ\") { id } }",
                    json!({}),
                )
                .await;
            data(&alone);
            good_cost = app.statements() - before + 1;
        }
        for n in [99_999_999_i64, -1] {
            let before = app.statements();
            let body = app
                .graphql_as(Some(&token), &query, json!({ "n": n }))
                .await;
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{name} with {n}: {body}"
            );
            assert!(
                app.statements() - before < good_cost,
                "{name} with {n}: the page query did not run"
            );
        }
    }
}

/// A token shaped like the ones the server issues (32 random bytes as 43
/// base64url characters), so it passes the format check and is looked up.
fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0_u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

const INVITATION: &str = "query($t: String!) { surveyInvitation(token: $t) { title } }";
const SUBMIT: &str =
    "mutation($t: String!) { submitSurveyResponse(input: { token: $t, answers: [] }) { responseId } }";

async fn guessing_invitation_tokens_is_throttled(engine: Engine) {
    // Arrange: a real survey and invitations exist, so guesses hit a populated table.
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let tries: usize = std::env::var("TOKEN_GUESSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let max = api::throttle::MAX_FAILURES;

    // Act: random tokens, 32 in flight at a time, alternating both public operations.
    let started = Instant::now();
    let statements = app.statements();
    let codes: Vec<String> = futures::stream::iter(0..tries)
        .map(|i| {
            let app = &app;
            async move {
                let token = random_token();
                let query = if i % 2 == 0 { INVITATION } else { SUBMIT };
                let body = app.graphql(query, json!({ "t": token })).await;
                error_code(&body).unwrap_or("none").to_owned()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let elapsed = started.elapsed();

    // Assert: only INVALID_TOKEN then RATE_LIMITED; at most the limit per window got through.
    let invalid = codes.iter().filter(|c| *c == "INVALID_TOKEN").count();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert_eq!(
        invalid + limited,
        tries,
        "every guess is INVALID_TOKEN or RATE_LIMITED: {:?}",
        codes
            .iter()
            .filter(|c| *c != "INVALID_TOKEN" && *c != "RATE_LIMITED")
            .take(5)
            .collect::<Vec<_>>()
    );
    let windows = elapsed.as_secs() / api::throttle::WINDOW.as_secs() + 1;
    assert!(invalid >= max, "the first {max} guesses are looked up");
    assert!(
        invalid <= max * windows as usize,
        "{invalid} guesses were looked up in {elapsed:?}; at most {max} per window may be"
    );
    assert!(limited > 0, "the throttle engaged");
    // Refused guesses cost no SQL: only the looked-up ones touched the database.
    // On PostgreSQL the throttle's state is in the database (shared by every
    // process): each look-up adds its row, count and settlement, and the
    // guesses in flight when the limit is reached (and any that stepped back
    // while look-ups filled it) cost those three until the refusal is known.
    let budget = match engine {
        Engine::Sqlite => invalid * 4,
        Engine::Postgres => invalid * (4 + 3) + 3 * 200,
    };
    let spent = app.statements() - statements;
    assert!(
        spent <= budget as u64,
        "rate-limited guesses run no SQL: {spent} statements for {invalid} look-ups"
    );
    eprintln!(
        "{tries} guesses in {elapsed:?}: {invalid} INVALID_TOKEN, {limited} RATE_LIMITED ({engine:?})"
    );
}

async fn simultaneous_guesses_cannot_overrun_the_throttle(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let max = api::throttle::MAX_FAILURES;

    // Act: 200 guesses sent at once, so many are in flight before any failed.
    let codes = futures::future::join_all((0..200).map(|i| {
        let app = &app;
        async move {
            let token = random_token();
            let query = if i % 2 == 0 { INVITATION } else { SUBMIT };
            let body = app.graphql(query, json!({ "t": token })).await;
            error_code(&body).unwrap_or("none").to_owned()
        }
    }))
    .await;

    // Assert: never more lookups than the limit, however the requests interleave.
    let invalid = codes.iter().filter(|c| *c == "INVALID_TOKEN").count();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert_eq!(invalid + limited, 200, "{codes:?}");
    assert!(
        invalid <= max,
        "{invalid} simultaneous guesses were looked up; the limit is {max}"
    );
}

async fn a_database_error_is_internal_with_a_request_id_and_no_sql(engine: Engine) {
    // Arrange: the costs table disappears under the running application.
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let drop = match engine {
        Engine::Sqlite => "DROP TABLE costs",
        Engine::Postgres => "DROP TABLE costs CASCADE",
    };
    app.db().execute_unprepared(drop).await.expect("drop table");

    // Act
    let body = app
        .graphql_as(
            Some(&token),
            "mutation { recordCost(input: {kind: ACQUISITION, amount: \"10.00\", currency: \"EUR\"}) { cost { id } } }",
            json!({}),
        )
        .await;

    // Assert
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    let request_id = body["errors"][0]["extensions"]["requestId"]
        .as_str()
        .unwrap_or_default();
    assert!(!request_id.is_empty(), "a request id to quote: {body}");
    let text = body.to_string().to_lowercase();
    for leak in [
        "costs",
        "insert",
        "select",
        "no such table",
        "relation",
        "sql",
        "database",
        "at /",
        "src/",
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked: {body}");
    }
    // The rest of the service is unaffected.
    let after = app
        .graphql_as(Some(&token), "{ customerCount }", json!({}))
        .await;
    assert_eq!(data(&after)["customerCount"], 0);
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }";

async fn timed(app: &TestApp, token: Option<&str>, query: &str, vars: Value) -> (Duration, Value) {
    let started = Instant::now();
    let body = app.graphql_as(token, query, vars).await;
    (started.elapsed(), body)
}

async fn a_burst_of_logins_does_not_stall_other_requests(engine: Engine) {
    let _alone = HASHER_HEAVY.lock().await;
    // Arrange: 20 real accounts and an agent session for the light query.
    // Each login comes from its own address (through the trusted test proxy):
    // one address may only have a couple of logins in flight.
    let app = spawn_app_with(engine, &TRUST_LOCAL_PROXY).await;
    let password = "correct horse battery staple";
    for n in 0..20 {
        app.services
            .users
            .create_user(
                None,
                &format!("burst{n}@example.com"),
                password.to_owned(),
                Role::Agent,
            )
            .await
            .expect("user");
    }
    let token = app.login_as(Role::Agent).await;

    // Act: 200 logins at once (half right, half for unknown accounts), while
    // /health and a light query are probed one after another.
    let logins = futures::future::join_all((0..200).map(|i| {
        let app = &app;
        async move {
            let vars = if i % 2 == 0 {
                json!({ "e": format!("burst{}@example.com", (i / 2) % 20), "p": password })
            } else {
                json!({ "e": format!("nobody{i}@example.com"), "p": "not the password" })
            };
            let started = Instant::now();
            let client = format!("10.20.{}.{}", i / 250, i % 250 + 1);
            let body = app.graphql_from(&client, None, LOGIN, vars).await;
            (started.elapsed(), body)
        }
    }));
    let done = std::sync::atomic::AtomicBool::new(false);
    let probes = async {
        let mut samples = Vec::new();
        // Give the burst a moment to fill the hashing queue.
        tokio::time::sleep(Duration::from_millis(50)).await;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let started = Instant::now();
            let health = app
                .client
                .get(format!("{}/health", app.address))
                .send()
                .await
                .expect("health answered");
            assert_eq!(health.status(), 200);
            let body = app
                .graphql_as(Some(&token), "{ customerCount }", json!({}))
                .await;
            assert_eq!(data(&body)["customerCount"], 0, "light query answered");
            samples.push(started.elapsed());
        }
        samples
    };
    let logins = async {
        let out = logins.await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        out
    };
    let (logins, probes) = tokio::join!(logins, probes);

    // Assert: every login answered with its proper outcome (or, on a machine
    // so loaded that a login waited past the request timeout, `TIMEOUT`: shed,
    // not stalled); the probes kept answering while logins queued for the
    // hasher, much faster than a login.
    let mut timed_out = 0;
    let mut signed_in = 0;
    for (i, (_, body)) in logins.iter().enumerate() {
        if error_code(body) == Some("TIMEOUT") {
            timed_out += 1;
        } else if i % 2 == 0 {
            assert!(
                body["data"]["login"]["accessToken"].is_string(),
                "login {i} succeeded: {body}"
            );
            signed_in += 1;
        } else {
            assert_eq!(
                error_code(body),
                Some("UNAUTHENTICATED"),
                "login {i}: {body}"
            );
        }
    }
    assert!(signed_in > 0, "some logins succeeded");
    assert!(
        probes.len() >= 3,
        "probes completed during the burst: {}",
        probes.len()
    );
    let login_median = median(logins.iter().map(|(t, _)| *t).collect());
    let probe_median = median(probes.clone());
    eprintln!(
        "200 logins ({timed_out} cut off by the request timeout): median {login_median:?}; {} probes (health + query) during the burst: median {probe_median:?} ({engine:?})",
        probes.len()
    );
    assert!(
        probe_median * 4 < login_median,
        "probes ({probe_median:?}) must not queue behind logins ({login_median:?})"
    );
}

async fn simultaneous_wrong_passwords_cannot_overrun_the_login_throttle(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let email = "target@example.com";
    app.services
        .users
        .create_user(
            None,
            email,
            "correct horse battery staple".to_owned(),
            Role::Agent,
        )
        .await
        .expect("user");
    let max = domain::users::MAX_FAILED_LOGINS as usize;

    // Act: 40 password guesses for one account, all in flight at once.
    let codes = futures::future::join_all((0..40).map(|i| {
        let app = &app;
        async move {
            let body = app
                .graphql(
                    LOGIN,
                    json!({ "e": email, "p": format!("guess number {i}") }),
                )
                .await;
            error_code(&body).unwrap_or("none").to_owned()
        }
    }))
    .await;

    // Assert: no more passwords were checked than the throttle allows.
    let checked = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert_eq!(checked + limited, 40, "{codes:?}");
    assert!(
        checked <= max,
        "{checked} simultaneous guesses were checked; the limit is {max}"
    );
}

/// Held by the tests that saturate the password hasher, so that they do not
/// run at the same time and measure each other.
static HASHER_HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn percentile(mut samples: Vec<Duration>, pct: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * pct / 100).min(samples.len() - 1)]
}

async fn a_login_flood_from_one_address_does_not_delay_logins_from_another(engine: Engine) {
    let _alone = HASHER_HEAVY.lock().await;
    // Arrange: one real account; clients speak through the trusted test proxy.
    let app = spawn_app_with(engine, &TRUST_LOCAL_PROXY).await;
    let email = "real@example.com";
    let password = "correct horse battery staple";
    app.services
        .users
        .create_user(None, email, password.to_owned(), Role::Agent)
        .await
        .expect("user");
    let baseline = {
        let started = Instant::now();
        let body = app
            .graphql_from(
                "198.51.100.20",
                None,
                LOGIN,
                json!({ "e": email, "p": password }),
            )
            .await;
        data(&body);
        started.elapsed()
    };

    // Act: 100 anonymous logins (each for its own unknown account, so each
    // costs a hash verification) kept in flight from one address — each sender
    // sends again as soon as it is answered — while the real user signs in 40
    // times, one after another, from another address.
    let done = std::sync::atomic::AtomicBool::new(false);
    let flood = futures::future::join_all((0..100).map(|i| {
        let (app, done) = (&app, &done);
        async move {
            let mut codes = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let vars = json!({ "e": format!("flood{i}-{}@example.com", codes.len()), "p": "not the password" });
                let body = app.graphql_from("203.0.113.50", None, LOGIN, vars).await;
                codes.push(error_code(&body).unwrap_or("none").to_owned());
            }
            codes
        }
    }));
    let real = async {
        let mut samples = Vec::new();
        // Let the flood fill its queue first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..40 {
            let started = Instant::now();
            let body = app
                .graphql_from(
                    "198.51.100.20",
                    None,
                    LOGIN,
                    json!({ "e": email, "p": password }),
                )
                .await;
            assert!(
                body["data"]["login"]["accessToken"].is_string(),
                "the real login succeeds during the flood: {body}"
            );
            samples.push(started.elapsed());
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        samples
    };
    let (codes, samples) = tokio::join!(flood, real);
    let codes: Vec<String> = codes.into_iter().flatten().collect();

    // Assert: the flood was answered (refused or rate limited, never let in);
    // the real logins kept their pace. Only a generous bound is asserted; the
    // figure goes to docs/SECURITY.md.
    let refused = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert_eq!(refused + limited, codes.len(), "{codes:?}");
    let p95 = percentile(samples.clone(), 95);
    let p50 = percentile(samples.clone(), 50);
    eprintln!(
        "flood from one address: {} logins ({refused} checked, {limited} RATE_LIMITED); \
         {} logins from another address meanwhile: p50 {p50:?}, p95 {p95:?} (alone: {baseline:?}) ({engine:?})",
        codes.len(),
        samples.len()
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("machine load average: {}", load.trim());
    // The cap held: the flood's surplus was refused rather than verified
    // (without the cap, logins for distinct unknown accounts never are).
    assert!(limited > 0, "the flood's surplus is RATE_LIMITED");
    // Before the cap each real login queued behind the flood's verifications
    // (1.6–3.3 s in the measurement on a quiet machine).
    assert!(
        p95 < Duration::from_secs(2),
        "a flood from one address must not hold up another: p95 {p95:?}"
    );
}

async fn unknown_user_and_wrong_password_take_the_same_time(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let email = "timing@example.com";
    let password = "correct horse battery staple";
    app.services
        .users
        .create_user(None, email, password.to_owned(), Role::Agent)
        .await
        .expect("user");
    let tries: usize = std::env::var("LOGIN_TIMING_TRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);

    // Act: interleaved, so load on the machine affects both alike. A correct
    // login after each wrong one resets the per-account failure throttle.
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..tries {
        let (took, body) = timed(
            &app,
            None,
            LOGIN,
            json!({ "e": format!("nobody{i}@example.com"), "p": "not the password" }),
        )
        .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        unknown.push(took);
        let (took, wrong_body) = timed(
            &app,
            None,
            LOGIN,
            json!({ "e": email, "p": "not the password" }),
        )
        .await;
        assert_eq!(error_code(&wrong_body), Some("UNAUTHENTICATED"));
        assert_eq!(
            body["errors"][0]["message"], wrong_body["errors"][0]["message"],
            "the same message"
        );
        wrong.push(took);
        let ok = app
            .graphql(LOGIN, json!({ "e": email, "p": password }))
            .await;
        data(&ok);
    }

    // Assert: a generous bound only; the measured ratio goes to docs/SECURITY.md.
    let (unknown, wrong) = (median(unknown), median(wrong));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    eprintln!(
        "login timing over {tries} tries: unknown {unknown:?}, wrong password {wrong:?}, ratio {ratio:.3} ({engine:?})"
    );
    assert!(
        (0.5..=2.0).contains(&ratio),
        "unknown {unknown:?} vs wrong password {wrong:?}: ratio {ratio:.3}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn huge_passwords_are_refused_before_hashing_or_sql() {
    let app = spawn_app(Engine::Sqlite).await;
    // 1 MB exceeds the body limit: refused before the JSON is even parsed.
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": LOGIN, "variables": { "e": "a@example.com", "p": "x".repeat(1 << 20) } }))
        .send()
        .await;
    assert!(
        response.map(|r| r.status() == 413).unwrap_or(true),
        "a 1 MB password is refused as a too-large body"
    );
    // Under the body limit but far over the password limit: BAD_USER_INPUT, no SQL.
    let before = app.statements();
    let body = app
        .graphql(
            LOGIN,
            json!({ "e": "a@example.com", "p": "x".repeat(200 * 1024) }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "password");
    assert_eq!(app.statements(), before, "no SQL, so no hashing either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_time_out_without_stalling_others() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app(Engine::Sqlite).await;

    // 50 clients that send half a request and then nothing.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .expect("connect");
        stream
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic")
            .await
            .expect("partial request");
        slow.push(stream);
    }

    // Others are served meanwhile.
    for _ in 0..20 {
        let health = app
            .client
            .get(format!("{}/health", app.address))
            .send()
            .await
            .expect("health answered");
        assert_eq!(health.status(), 200);
    }
    let body = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(data(&body)["__typename"], "Query");

    // And the slow ones are cut off by the server (its request timeout is 10 s).
    for mut stream in slow {
        let mut buf = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut buf)).await;
        assert!(closed.is_ok(), "the server closed a stalled connection");
    }
}

async fn other_tokens_used_as_bearer_are_unauthenticated(engine: Engine) {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    // Arrange: a real session, so its refresh token exists, and a survey invitation.
    let app = spawn_app(engine).await;
    let email = "bearer@example.com";
    let password = "correct horse battery staple";
    app.services
        .users
        .create_user(None, email, password.to_owned(), Role::Admin)
        .await
        .expect("user");
    let login = app
        .graphql(
            "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken refreshToken user { id } } }",
            json!({ "e": email, "p": password }),
        )
        .await;
    let login = &data(&login)["login"];
    let refresh = login["refreshToken"].as_str().expect("refresh").to_owned();
    let user_id = login["user"]["id"].as_str().expect("id").to_owned();
    let subject = crate::fixtures::db_key(&user_id).to_string();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": "rapport", "aud": "rapport-api", "sub": subject, "iat": now, "nbf": now,
        "exp": now + 600, "typ": "access", "role": "ADMIN", "jti": "x"
    });
    // Algorithm confusion: the right secret and claims under another HMAC.
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(crate::helpers::TEST_JWT_SECRET.as_bytes()),
    )
    .expect("sign");
    let hs256 = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(crate::helpers::TEST_JWT_SECRET.as_bytes()),
    )
    .expect("sign");

    // Act and assert
    let ok = app
        .graphql_as(Some(&hs256), "{ me { id } }", json!({}))
        .await;
    assert_eq!(
        data(&ok)["me"]["id"],
        user_id.as_str(),
        "the control token works"
    );
    for (what, token) in [
        ("HS512 instead of the pinned HS256", hs512),
        ("a refresh token", refresh),
        ("an invitation token", random_token()),
    ] {
        let body = app
            .graphql_as(Some(&token), "{ me { id } }", json!({}))
            .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{what}: {body}");
    }
}
