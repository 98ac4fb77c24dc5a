//! Client addresses: forwarding headers count only from trusted proxies, and
//! then only the right-most untrusted hop; the throttle, the WebSocket cap
//! and the request log all use that address.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine, TestApp};
use crate::process::ServerProcess;
use crate::sessions::open;
use crate::surveys::{fixture, insert_customer};

on_both_engines!(
    forged_forwarding_headers_neither_bypass_the_throttle_nor_lock_a_victim_out,
    behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client,
);

const INVITATION: &str = "query($t: String!) { surveyInvitation(token: $t) { title } }";
/// Failed look-ups allowed per address and minute (`api::throttle`).
const LIMIT: usize = 30;

/// A client whose connections come from `local` (any 127/8 address reaches
/// the server on 127.0.0.1).
fn client_from(local: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(local))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// A well-formed, unknown invitation token.
fn guess(n: usize) -> String {
    format!("{n:0>43}")
}

async fn look_up(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    headers: &[(&str, String)],
) -> Value {
    let mut request = client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": INVITATION, "variables": { "t": token } }));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

async fn forged_forwarding_headers_neither_bypass_the_throttle_nor_lock_a_victim_out(
    engine: Engine,
) {
    // Arrange: no proxy is trusted (the default). The victim, at 127.0.0.2,
    // holds a valid invitation.
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let customer = insert_customer(&app, "Victim").await;
    let valid = f.invite(&app, customer).await;
    let attacker = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let victim = client_from(Ipv4Addr::new(127, 0, 0, 2));

    // Act: the attacker guesses while claiming to be the victim, then
    // rotates the claimed address.
    for n in 0..LIMIT {
        let claimed = [
            ("x-forwarded-for", "127.0.0.2".to_owned()),
            ("forwarded", "for=127.0.0.2".to_owned()),
        ];
        let body = look_up(&app, &attacker, &guess(n), &claimed).await;
        assert_eq!(error_code(&body), Some("INVALID_TOKEN"), "guess {n}");
    }
    let rotated = look_up(
        &app,
        &attacker,
        &guess(LIMIT),
        &[
            ("x-forwarded-for", "203.0.113.77".to_owned()),
            ("forwarded", "for=203.0.113.78".to_owned()),
        ],
    )
    .await;
    let victims_own = look_up(&app, &victim, &valid, &[]).await;

    // Assert: the attacker's own address is throttled whatever it claims;
    // the victim's address is untouched.
    assert_eq!(error_code(&rotated), Some("RATE_LIMITED"), "{rotated}");
    assert!(
        data(&victims_own)["surveyInvitation"]["title"].is_string(),
        "{victims_own}"
    );
}

async fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(engine: Engine) {
    // Arrange: the proxy is 127.0.0.1; 127.0.0.2 is not trusted.
    let app = spawn_app_with(
        engine,
        &[
            "--trusted-proxies",
            "127.0.0.1/32",
            "--ws-max-per-client",
            "1",
        ],
    )
    .await;
    let proxy = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let stranger = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let via = |xff: &str| vec![("x-forwarded-for", xff.to_owned())];

    // Act: 203.0.113.7 guesses through the proxy, forging a different
    // left-most hop each time.
    for n in 0..LIMIT {
        let body = look_up(
            &app,
            &proxy,
            &guess(n),
            &via(&format!("198.18.0.{n}, 203.0.113.7")),
        )
        .await;
        assert_eq!(error_code(&body), Some("INVALID_TOKEN"), "guess {n}");
    }
    let code = |body: Value| error_code(&body).map(str::to_owned);
    let forged_again = code(look_up(&app, &proxy, &guess(99), &via("9.9.9.9, 203.0.113.7")).await);
    let trusted_hop_skipped =
        code(look_up(&app, &proxy, &guess(99), &via("203.0.113.7, 127.0.0.1")).await);
    let by_forwarded = code(
        look_up(
            &app,
            &proxy,
            &guess(99),
            &[("forwarded", "for=\"203.0.113.7:4711\"".to_owned())],
        )
        .await,
    );
    let another_client = code(look_up(&app, &proxy, &guess(99), &via("203.0.113.8")).await);
    let right_most_differs =
        code(look_up(&app, &proxy, &guess(99), &via("203.0.113.7, 198.51.100.4")).await);
    let untrusted_peer = code(look_up(&app, &stranger, &guess(99), &via("203.0.113.7")).await);

    // Assert
    assert_eq!(forged_again.as_deref(), Some("RATE_LIMITED"));
    assert_eq!(trusted_hop_skipped.as_deref(), Some("RATE_LIMITED"));
    assert_eq!(by_forwarded.as_deref(), Some("RATE_LIMITED"));
    assert_eq!(another_client.as_deref(), Some("INVALID_TOKEN"));
    assert_eq!(right_most_differs.as_deref(), Some("INVALID_TOKEN"));
    assert_eq!(
        untrusted_peer.as_deref(),
        Some("INVALID_TOKEN"),
        "a header from an untrusted peer is ignored"
    );

    // The WebSocket cap counts per client too (one socket each here).
    let first = open(&app, &[("x-forwarded-for", "203.0.113.20")]).await;
    assert!(first.is_ok());
    assert_eq!(
        open(&app, &[("x-forwarded-for", "203.0.113.20")])
            .await
            .err(),
        Some(429)
    );
    assert!(open(&app, &[("x-forwarded-for", "203.0.113.21")])
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn request_log_lines_name_the_client_address() {
    // Arrange: the real binary behind a trusted proxy at 127.0.0.1.
    let dir = tempfile::tempdir().expect("dir");
    let server =
        ServerProcess::start_with(dir, &[("RAPPORT_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let client = reqwest::Client::new();

    // Act
    for xff in ["198.18.5.5, 203.0.113.99", "203.0.113.98, 127.0.0.1"] {
        client
            .post(format!("{}/graphql", server.address))
            .header("x-forwarded-for", xff)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("sent");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert
    let log = strip_colours(&std::fs::read_to_string(&server.log).expect("log"));
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("http_request") && l.contains("/graphql"))
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("client=203.0.113.99")),
        "{log}"
    );
    assert!(
        lines.iter().any(|l| l.contains("client=203.0.113.98")),
        "{log}"
    );
    assert!(!log.contains("client=198.18.5.5"), "{log}");
}

/// The log without ANSI colour sequences.
fn strip_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
