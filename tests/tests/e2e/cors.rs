//! CORS over real HTTP: pre-flight answers for `/graphql`, the development
//! loopback default, exact production origins and the refused wildcard.
//! (The browser side is `tests/browser/test_cors.py`.)

use api::cli::Cli;
use api::Application;
use clap::Parser as _;
use domain::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Engine, TestApp};

on_both_engines!(
    preflight_allows_loopback_origins_in_development,
    production_allows_only_the_listed_origins,
);

async fn preflight(app: &TestApp, origin: &str, method: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}/graphql", app.address))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("pre-flight")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header"))
}

async fn post_me(app: &TestApp, origin: &str, token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/graphql", app.address))
        .header("Origin", origin)
        .bearer_auth(token)
        .json(&json!({ "query": "query Me { me { email } }" }))
        .send()
        .await
        .expect("post")
}

async fn preflight_allows_loopback_origins_in_development(engine: Engine) {
    let app = spawn_app(engine).await;
    for origin in ["http://localhost:5173", "http://127.0.0.1:3000"] {
        for method in ["POST", "GET"] {
            let response = preflight(&app, origin, method).await;
            assert_eq!(response.status(), StatusCode::OK, "{origin} {method}");
            assert_eq!(
                header(&response, "access-control-allow-origin"),
                Some(origin)
            );
            let methods = header(&response, "access-control-allow-methods").expect("methods");
            assert!(
                methods.contains("GET") && methods.contains("POST"),
                "{methods}"
            );
            let headers = header(&response, "access-control-allow-headers")
                .expect("headers")
                .to_ascii_lowercase();
            assert!(
                headers.contains("authorization") && headers.contains("content-type"),
                "{headers}"
            );
            assert_eq!(header(&response, "access-control-max-age"), Some("600"));
            assert_eq!(header(&response, "access-control-allow-credentials"), None);
        }
    }

    // Not loopback, another scheme, a look-alike host: the pre-flight is refused.
    for origin in [
        "https://evil.example",
        "https://localhost:5173",
        "http://localhost.evil.example:5173",
        "http://127.0.0.2:8080",
    ] {
        let response = preflight(&app, origin, "POST").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{origin}");
        assert_eq!(header(&response, "access-control-allow-origin"), None);
    }
    // A header outside the list is not allowed.
    let response = app
        .client
        .request(Method::OPTIONS, format!("{}/graphql", app.address))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "x-forwarded-user")
        .send()
        .await
        .expect("pre-flight");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // The actual request: answered with the origin for allowed pages, without
    // it for others (the browser then keeps the answer from the page).
    let token = app.login_as(Role::Agent).await;
    let allowed = post_me(&app, "http://localhost:5173", &token).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert!(header(&allowed, "vary")
        .expect("vary")
        .to_ascii_lowercase()
        .contains("origin"));
    let other = post_me(&app, "https://evil.example", &token).await;
    assert_eq!(header(&other, "access-control-allow-origin"), None);
}

async fn production_allows_only_the_listed_origins(engine: Engine) {
    let app = spawn_app_with(
        engine,
        &[
            "--env",
            "production",
            "--cors-origin",
            "https://app.example.com,http://localhost:5173",
        ],
    )
    .await;
    for origin in ["https://app.example.com", "http://localhost:5173"] {
        let response = preflight(&app, origin, "POST").await;
        assert_eq!(response.status(), StatusCode::OK, "{origin}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(origin)
        );
    }
    for origin in [
        "http://localhost:5174",
        "http://127.0.0.1:5173",
        "http://app.example.com",
    ] {
        let response = preflight(&app, origin, "POST").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{origin}");
    }
}

#[tokio::test]
async fn production_without_origins_allows_none_and_refuses_the_wildcard() {
    let app = spawn_app_with(Engine::Sqlite, &["--env", "production"]).await;
    let response = preflight(&app, "http://localhost:5173", "POST").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(&response, "access-control-allow-origin"), None);

    let cli = Cli::try_parse_from([
        "rapport",
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--env",
        "production",
        "--jwt-secret",
        crate::helpers::TEST_JWT_SECRET,
        "--database-url",
        "sqlite::memory:",
        "--cors-origin",
        "*",
    ])
    .expect("arguments");
    let err = Application::build(cli.config)
        .await
        .err()
        .expect("the wildcard is refused in production");
    assert!(
        format!("{err:#}").contains("refused in production"),
        "{err:#}"
    );
}
