//! GraphiQL served from the binary: the page under its Content-Security-Policy,
//! every asset it loads with its content type, and the switch between
//! development and production. (The browser side, offline, is
//! `tests/browser/test_graphiql.py`.)

use crate::helpers::{spawn_app, spawn_app_with, Engine, TestApp};

/// The `/graphiql/assets/…` URLs that the page's `src` and `href` attributes load.
fn asset_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            let url = &rest[..rest.find('"').expect("closed attribute")];
            if url != "data:," {
                urls.push(url.to_owned());
            }
        }
    }
    urls
}

async fn get(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("accept", accept)
        .send()
        .await
        .expect("sent")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} header"))
        .to_str()
        .expect("ascii header")
        .to_owned()
}

const BROWSER: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_from_the_binary_under_a_strict_policy() {
    // Arrange
    let app = spawn_app(Engine::Sqlite).await;

    for path in ["/graphiql", "/graphql"] {
        // Act
        let page = get(&app, path, BROWSER).await;

        // Assert
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        let policy = header(&page, "content-security-policy");
        let host = format!("127.0.0.1:{}", app.port);
        for directive in [
            "default-src 'self';".to_owned(),
            "script-src 'self';".to_owned(),
            format!("connect-src 'self' ws://{host} wss://{host};"),
            "object-src 'none';".to_owned(),
            "frame-ancestors 'none'".to_owned(),
        ] {
            assert!(
                policy.contains(&directive),
                "{path}: {directive} in {policy}"
            );
        }
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        let html = page.text().await.expect("text");
        assert!(
            !html.contains("://") && !html.contains("\"//"),
            "{path}: no external URL in the page: {html}"
        );
        assert!(!html.contains("<script>"), "{path}: no inline script");

        let assets = asset_urls(&html);
        assert_eq!(assets.len(), 6, "{path}: {assets:?}");
        for url in assets {
            assert!(url.starts_with("/graphiql/assets/"), "{url}");
            let asset = get(&app, &url, "*/*").await;
            assert_eq!(asset.status(), 200, "{url}");
            let expected = if url.ends_with(".js") {
                "text/javascript; charset=utf-8"
            } else {
                "text/css; charset=utf-8"
            };
            assert_eq!(header(&asset, "content-type"), expected, "{url}");
            assert_eq!(header(&asset, "x-content-type-options"), "nosniff");
            assert!(!asset.bytes().await.expect("body").is_empty(), "{url}");
        }
    }
    let unknown = get(&app, "/graphiql/assets/../Cargo.toml", "*/*").await;
    assert_eq!(unknown.status(), 404);
    let unknown = get(&app, "/graphiql/assets/nope.js", "*/*").await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_off_in_production_unless_asked_for() {
    let cases: [(&[&str], u16, u16, &str); 4] = [
        (&["--env", "production"], 404, 400, "production by default"),
        (
            &["--env", "production", "--graphiql", "true"],
            200,
            200,
            "production with RAPPORT_GRAPHIQL=true",
        ),
        (&["--graphiql", "false"], 404, 400, "development turned off"),
        (&[], 200, 200, "development by default"),
    ];
    for (args, graphiql_status, graphql_status, description) in cases {
        // Arrange
        let app = spawn_app_with(Engine::Sqlite, args).await;

        // Act
        let page = get(&app, "/graphiql", BROWSER).await;
        let asset = get(&app, "/graphiql/assets/start.js", "*/*").await;
        let browser_get = get(&app, "/graphql", BROWSER).await;

        // Assert
        assert_eq!(page.status(), graphiql_status, "{description}: page");
        assert_eq!(asset.status(), graphiql_status, "{description}: asset");
        assert_eq!(
            browser_get.status(),
            graphql_status,
            "{description}: GET /graphql"
        );
    }
}
