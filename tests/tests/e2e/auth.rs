//! Sign-in, sessions, JWT refusals and role refusals.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::auth::Role;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

use std::time::{Duration, Instant};

use crate::helpers::{
    data, error_code, spawn_app, spawn_app_with, Engine, TestApp, TEST_JWT_SECRET,
    TRUST_LOCAL_PROXY,
};

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken refreshToken user { email role } } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken } }";
const ME: &str = "{ me { email role } }";

async fn create(app: &TestApp, email: &str, role: Role) {
    app.services
        .users
        .create_user(None, email, "correct horse battery staple".into(), role)
        .await
        .expect("user");
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.graphql(LOGIN, json!({ "e": email, "p": password }))
        .await
}

on_both_engines!(
    login_returns_tokens_that_authenticate_me,
    unknown_email_and_wrong_password_answer_the_same,
    repeated_failures_are_rate_limited,
    a_stranger_cannot_lock_an_account_out,
    forwarding_headers_are_ignored_without_a_trusted_proxy,
    refresh_rotates_and_reuse_revokes_the_family,
    two_tabs_refreshing_at_once_stay_signed_in,
    logout_revokes_the_refresh_token,
    forged_and_foreign_tokens_are_unauthenticated,
    non_admins_cannot_manage_users_and_nothing_is_written,
    role_change_and_deactivation_apply_on_next_request,
    create_user_validates_input,
    weak_passwords_are_refused_and_nothing_is_written,
);

async fn login_returns_tokens_that_authenticate_me(engine: Engine) {
    let app = spawn_app(engine).await;
    create(&app, "ann@example.com", Role::Manager).await;

    let body = login(&app, "ANN@example.com", "correct horse battery staple").await;
    let token = data(&body)["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(body["data"]["login"]["user"]["role"], "MANAGER");

    let me = app.graphql_as(Some(&token), ME, json!({})).await;
    assert_eq!(data(&me)["me"]["email"], "ann@example.com");
    let anonymous = app.graphql(ME, json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
}

async fn unknown_email_and_wrong_password_answer_the_same(engine: Engine) {
    let app = spawn_app(engine).await;
    create(&app, "ann@example.com", Role::Agent).await;

    let wrong = login(&app, "ann@example.com", "not the password").await;
    let unknown = login(&app, "nobody@example.com", "not the password").await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
}

async fn repeated_failures_are_rate_limited(engine: Engine) {
    let app = spawn_app(engine).await;
    create(&app, "ann@example.com", Role::Agent).await;
    for attempt in 0..5 {
        let body = login(&app, "ann@example.com", "wrong password").await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "attempt {attempt}"
        );
    }
    // Even the right password is refused while throttled (from this client).
    let body = login(&app, "ann@example.com", "correct horse battery staple").await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    // Unknown accounts are throttled too, so throttling reveals nothing.
    for _ in 0..5 {
        login(&app, "ghost@example.com", "wrong password").await;
    }
    let ghost = login(&app, "ghost@example.com", "wrong password").await;
    assert_eq!(error_code(&ghost), Some("RATE_LIMITED"));
}

async fn refresh_rotates_and_reuse_revokes_the_family(engine: Engine) {
    let app = spawn_app_with(engine, &["--refresh-reuse-interval", "1s"]).await;
    create(&app, "ann@example.com", Role::Agent).await;
    let body = login(&app, "ann@example.com", "correct horse battery staple").await;
    let first = data(&body)["login"]["refreshToken"]
        .as_str()
        .expect("rt")
        .to_owned();

    let rotated = app.graphql(REFRESH, json!({ "t": first })).await;
    let second = data(&rotated)["refreshSession"]["refreshToken"]
        .as_str()
        .expect("rt")
        .to_owned();
    assert_ne!(first, second);
    let access = rotated["data"]["refreshSession"]["accessToken"]
        .as_str()
        .expect("at");
    assert_eq!(
        data(&app.graphql_as(Some(access), ME, json!({})).await)["me"]["email"],
        "ann@example.com"
    );

    // Replaying the spent token after the reuse interval is refused and
    // revokes the live one as well.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let replay = app.graphql(REFRESH, json!({ "t": first })).await;
    assert_eq!(error_code(&replay), Some("UNAUTHENTICATED"));
    let after = app.graphql(REFRESH, json!({ "t": second })).await;
    assert_eq!(
        error_code(&after),
        Some("UNAUTHENTICATED"),
        "family revoked"
    );
    let garbage = app.graphql(REFRESH, json!({ "t": "not-a-token" })).await;
    assert_eq!(error_code(&garbage), Some("UNAUTHENTICATED"));
}

async fn logout_revokes_the_refresh_token(engine: Engine) {
    let app = spawn_app(engine).await;
    create(&app, "ann@example.com", Role::Agent).await;
    let body = login(&app, "ann@example.com", "correct horse battery staple").await;
    let refresh = data(&body)["login"]["refreshToken"]
        .as_str()
        .expect("rt")
        .to_owned();
    let out = app
        .graphql(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { loggedOut } }",
            json!({ "t": refresh }),
        )
        .await;
    assert_eq!(data(&out)["logout"]["loggedOut"], true);
    let again = app.graphql(REFRESH, json!({ "t": refresh })).await;
    assert_eq!(error_code(&again), Some("UNAUTHENTICATED"));
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

async fn forged_and_foreign_tokens_are_unauthenticated(engine: Engine) {
    let app = spawn_app(engine).await;
    let valid = app.login_as(Role::Admin).await;
    let now = chrono::Utc::now().timestamp();
    let base = json!({
        "iss": "rapport", "aud": "rapport-api", "sub": "1", "iat": now, "nbf": now,
        "exp": now + 600, "typ": "access", "role": "ADMIN", "jti": "x"
    });
    let secret = TEST_JWT_SECRET.as_bytes();
    let with = |key: &str, value: Value| {
        let mut claims = base.clone();
        claims[key] = value;
        claims
    };
    let without = |key: &str| {
        let mut claims = base.clone();
        claims.as_object_mut().expect("object").remove(key);
        claims
    };
    // Sanity: the base claims are accepted, so each refusal below is due to its one change.
    assert!(data(
        &app.graphql_as(Some(&sign(&base, secret)), ME, json!({}))
            .await
    )["me"]
        .is_object());

    let parts: Vec<&str> = valid.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let tampered_payload =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&with("role", json!("ADMIN"))).expect("json"));
    let cases: Vec<(&str, String)> = vec![
        ("alg none", format!("{none_header}.{}.", parts[1])),
        (
            "tampered payload",
            format!("{}.{tampered_payload}.{}", parts[0], parts[2]),
        ),
        (
            "wrong key",
            sign(&base, b"another-secret-another-secret-0000000"),
        ),
        ("expired", sign(&with("exp", json!(now - 3600)), secret)),
        ("future nbf", sign(&with("nbf", json!(now + 3600)), secret)),
        (
            "wrong aud",
            sign(&with("aud", json!("someone-else")), secret),
        ),
        ("missing aud", sign(&without("aud"), secret)),
        ("wrong iss", sign(&with("iss", json!("evil")), secret)),
        ("missing iss", sign(&without("iss"), secret)),
        (
            "not an access token",
            sign(&with("typ", json!("refresh")), secret),
        ),
        (
            "exp of the wrong type",
            sign(&with("exp", json!("never")), secret),
        ),
        ("unknown user", sign(&with("sub", json!("999999")), secret)),
        ("garbage", "abc.def.ghi".to_owned()),
    ];
    for (name, token) in cases {
        let body = app.graphql_as(Some(&token), ME, json!({})).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{name}: {body}");
    }
    let bad_scheme = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Authorization", format!("Basic {valid}"))
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(error_code(&bad_scheme), Some("UNAUTHENTICATED"));
}

async fn non_admins_cannot_manage_users_and_nothing_is_written(engine: Engine) {
    let app = spawn_app(engine).await;
    let create_user = "mutation { createUser(input: { email: \"x@example.com\", password: \"long enough password\", role: ADMIN }) { user { id } } }";
    for role in [Role::Manager, Role::Agent] {
        let token = app.login_as(role).await;
        let body = app.graphql_as(Some(&token), create_user, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role}");
        let list = app
            .graphql_as(Some(&token), "{ users { nodes { id } } }", json!({}))
            .await;
        assert_eq!(error_code(&list), Some("FORBIDDEN"), "{role}");
    }
    let anonymous = app.graphql(create_user, json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    let admin = app.login_as(Role::Admin).await;
    let users = app
        .graphql_as(Some(&admin), "{ users { nodes { email } } }", json!({}))
        .await;
    let emails: Vec<&str> = data(&users)["users"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert!(
        !emails.contains(&"x@example.com"),
        "no user was created: {emails:?}"
    );
    let created = app.graphql_as(Some(&admin), create_user, json!({})).await;
    assert!(data(&created)["createUser"]["user"]["id"].is_string());
    let duplicate = app.graphql_as(Some(&admin), create_user, json!({})).await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"));
}

async fn role_change_and_deactivation_apply_on_next_request(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    create(&app, "bob@example.com", Role::Admin).await;
    let body = login(&app, "bob@example.com", "correct horse battery staple").await;
    let bob = data(&body)["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let bob_id = {
        let me = app.graphql_as(Some(&bob), "{ me { id } }", json!({})).await;
        data(&me)["me"]["id"].as_str().expect("id").to_owned()
    };
    assert!(data(
        &app.graphql_as(Some(&bob), "{ users { nodes { id } } }", json!({}))
            .await
    )["users"]["nodes"]
        .is_array());

    let demote = app
        .graphql_as(
            Some(&admin),
            "mutation($id: ID!) { updateUserRole(input: { id: $id, role: AGENT }) { user { role } } }",
            json!({ "id": bob_id }),
        )
        .await;
    assert_eq!(data(&demote)["updateUserRole"]["user"]["role"], "AGENT");
    let refused = app
        .graphql_as(Some(&bob), "{ users { nodes { id } } }", json!({}))
        .await;
    assert_eq!(
        error_code(&refused),
        Some("FORBIDDEN"),
        "old token carries the old role"
    );

    let deactivate = app
        .graphql_as(
            Some(&admin),
            "mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { active } } }",
            json!({ "id": bob_id }),
        )
        .await;
    assert_eq!(data(&deactivate)["deactivateUser"]["user"]["active"], false);
    let gone = app.graphql_as(Some(&bob), ME, json!({})).await;
    assert_eq!(error_code(&gone), Some("UNAUTHENTICATED"));
    let relogin = login(&app, "bob@example.com", "correct horse battery staple").await;
    assert_eq!(error_code(&relogin), Some("UNAUTHENTICATED"));
}

async fn create_user_validates_input(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let q = "mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p, role: AGENT }) { user { id } } }";
    let cases = [
        ("not-an-email", "long enough password", "email"),
        ("ok@example.com", "short", "password"),
    ];
    for (email, password, field) in cases {
        let body = app
            .graphql_as(Some(&admin), q, json!({ "e": email, "p": password }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let unknown_role = app
        .graphql_as(Some(&admin), "mutation { createUser(input: { email: \"a@b.co\", password: \"long enough password\", role: ROOT }) { user { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&unknown_role), Some("BAD_USER_INPUT"));
    let huge = app
        .graphql(LOGIN, json!({ "e": "a@b.co", "p": "x".repeat(100_000) }))
        .await;
    assert_eq!(
        error_code(&huge),
        Some("BAD_USER_INPUT"),
        "oversized password is refused before hashing"
    );
}

async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> Value {
    app.graphql_from(client, None, LOGIN, json!({ "e": email, "p": password }))
        .await
}

async fn a_stranger_cannot_lock_an_account_out(engine: Engine) {
    // Arrange: the admin's account; test clients speak through a trusted proxy.
    let app = spawn_app_with(engine, &TRUST_LOCAL_PROXY).await;
    create(&app, "admin@example.com", Role::Admin).await;
    let right = "correct horse battery staple";
    let max = domain::users::MAX_FAILED_LOGINS;

    // Act: a stranger sends five wrong passwords, then more, then the right one.
    for attempt in 0..max {
        let body = login_from(&app, "203.0.113.66", "admin@example.com", "guess").await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{attempt}");
    }
    let more = login_from(&app, "203.0.113.66", "admin@example.com", "guess").await;
    let stolen = login_from(&app, "203.0.113.66", "admin@example.com", right).await;

    // Assert: the stranger's address is throttled (even with the right
    // password); the admin, from her own address, is not.
    assert_eq!(error_code(&more), Some("RATE_LIMITED"));
    assert_eq!(error_code(&stolen), Some("RATE_LIMITED"));
    let admin = login_from(&app, "198.51.100.7", "admin@example.com", right).await;
    assert_eq!(data(&admin)["login"]["user"]["role"], "ADMIN");

    // A client with a couple of typos of its own still gets in.
    for _ in 0..2 {
        let typo = login_from(&app, "198.51.100.8", "admin@example.com", "typo").await;
        assert_eq!(error_code(&typo), Some("UNAUTHENTICATED"));
    }
    let after_typos = login_from(&app, "198.51.100.8", "admin@example.com", right).await;
    assert_eq!(data(&after_typos)["login"]["user"]["role"], "ADMIN");

    // More strangers (failures on the account from every address reach the
    // slow-down threshold: 5 + 5) only slow the account's logins down: the
    // right password from a clean address is still accepted, after the wait.
    for _ in 0..max {
        let body = login_from(&app, "192.0.2.1", "admin@example.com", "guess").await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    }
    assert!(2 * max >= domain::users::ACCOUNT_SLOWDOWN_AFTER);
    let started = Instant::now();
    let slowed = login_from(&app, "198.51.100.9", "admin@example.com", right).await;
    let took = started.elapsed();
    assert_eq!(data(&slowed)["login"]["user"]["role"], "ADMIN");
    assert!(
        took >= domain::users::ACCOUNT_SLOWDOWN,
        "an account under attack is slowed down: {took:?}"
    );
    eprintln!("login to an account under attack from a clean address took {took:?} ({engine:?})");
}

async fn forwarding_headers_are_ignored_without_a_trusted_proxy(engine: Engine) {
    // Arrange: no trusted proxy (the default).
    let app = spawn_app(engine).await;
    create(&app, "ann@example.com", Role::Agent).await;

    // Act: five failures claiming one address, then the right password
    // claiming another.
    for n in 0..domain::users::MAX_FAILED_LOGINS {
        let client = format!("203.0.113.{n}");
        login_from(&app, &client, "ann@example.com", "guess").await;
    }
    let body = login_from(
        &app,
        "198.51.100.7",
        "ann@example.com",
        "correct horse battery staple",
    )
    .await;

    // Assert: every request came from the same peer, so the header changed
    // nothing: rotating it does not give a guesser fresh allowances.
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
}

const REFRESH_PAIR: &str = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt } }";

async fn two_tabs_refreshing_at_once_stay_signed_in(engine: Engine) {
    // Arrange: a session (default reuse interval, 30 s).
    let app = spawn_app(engine).await;
    create(&app, "ann@example.com", Role::Agent).await;
    let body = login(&app, "ann@example.com", "correct horse battery staple").await;
    let first = data(&body)["login"]["refreshToken"]
        .as_str()
        .expect("rt")
        .to_owned();

    // Act: four tabs refresh the same token at once, then one more time later.
    let tabs =
        futures::future::join_all((0..4).map(|_| app.graphql(REFRESH_PAIR, json!({ "t": first }))))
            .await;
    let late = app.graphql(REFRESH_PAIR, json!({ "t": first })).await;

    // Assert: every tab got the very same new pair, and it works.
    let pair = data(&tabs[0])["refreshSession"].clone();
    for (n, tab) in tabs.iter().chain([&late]).enumerate() {
        assert_eq!(data(tab)["refreshSession"], pair, "tab {n}");
    }
    let second = pair["refreshToken"].as_str().expect("rt").to_owned();
    assert_ne!(second, first);
    let access = pair["accessToken"].as_str().expect("at");
    assert_eq!(
        data(&app.graphql_as(Some(access), ME, json!({})).await)["me"]["email"],
        "ann@example.com"
    );
    let next = app.graphql(REFRESH, json!({ "t": second })).await;
    let third = data(&next)["refreshSession"]["refreshToken"]
        .as_str()
        .expect("rt")
        .to_owned();

    // Once the successor has itself been spent, the old token is no longer
    // answered: presenting it is reuse and revokes the family.
    let stale = app.graphql(REFRESH, json!({ "t": first })).await;
    assert_eq!(error_code(&stale), Some("UNAUTHENTICATED"));
    let revoked = app.graphql(REFRESH, json!({ "t": third })).await;
    assert_eq!(
        error_code(&revoked),
        Some("UNAUTHENTICATED"),
        "family revoked"
    );
}

async fn weak_passwords_are_refused_and_nothing_is_written(engine: Engine) {
    use sea_orm::{EntityTrait as _, PaginatorTrait as _};
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let users_before = entity::users::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    let q = "mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p, role: AGENT }) { user { id } } }";
    for weak in [
        "aaaaaaaaaaaa",
        "password1234",
        "qwertyuiopas",
        "weak@example.com",
    ] {
        let body = app
            .graphql_as(
                Some(&admin),
                q,
                json!({ "e": "weak@example.com", "p": weak }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{weak}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "password");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too easy to guess"), "{weak}: {message}");
    }
    let users_after = entity::users::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(users_after, users_before, "nothing written");
    let strong = app
        .graphql_as(
            Some(&admin),
            q,
            json!({ "e": "weak@example.com", "p": "tangerine orbit lantern 47" }),
        )
        .await;
    assert!(data(&strong)["createUser"]["user"]["id"].is_string());
}
