//! `spawn_app()`: the real application on a random port with its own database,
//! and typed helpers to speak GraphQL to it over HTTP.

use std::sync::atomic::Ordering;
use std::time::Duration;

use api::cli::Cli;
use api::state::Services;
use api::Application;
use clap::Parser as _;
use domain::auth::Role;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};

/// The storage engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs one async test body on SQLite and, when `TEST_DATABASE_URL` is set,
/// on PostgreSQL, as two tests named `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::helpers::Engine::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_none() {
                    eprintln!("TEST_DATABASE_URL not set; PostgreSQL variant skipped");
                    return;
                }
                super::$name($crate::helpers::Engine::Postgres).await;
            }
        }
    )+};
}

/// The PostgreSQL server URL for tests, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A database owned by one test, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> Self {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("rapport.db").display()
                );
                Self {
                    url,
                    _dir: Some(dir),
                    drop_pg: None,
                }
            }
            Engine::Postgres => {
                let server = postgres_url().expect("TEST_DATABASE_URL");
                let name = format!("rapport_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&server)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = replace_db_name(&server, &name);
                Self {
                    url,
                    _dir: None,
                    drop_pg: Some((server, name)),
                }
            }
        }
    }
}

impl TestDatabase {
    /// Takes a PostgreSQL test database away (`false`: new connections are
    /// refused and the open ones terminated) or brings it back (`true`).
    pub async fn set_reachable(&self, reachable: bool) {
        let (server, name) = self
            .drop_pg
            .as_ref()
            .expect("only a PostgreSQL database can go away");
        let admin = Database::connect(server.as_str()).await.expect("admin");
        admin
            .execute_unprepared(&format!(
                "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {reachable}"
            ))
            .await
            .expect("allow or refuse connections");
        if !reachable {
            admin
                .execute_unprepared(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .await
                .expect("terminate");
        }
        admin.close().await.ok();
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    format!("{base}/{name}{query}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.drop_pg.take() {
            // Drop runs outside async context: use a private runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async move {
                        if let Ok(admin) = Database::connect(&server).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await.ok();
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// A running application and an HTTP client for it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub engine: Engine,
    pub client: reqwest::Client,
    pub services: Services,
    pub database: TestDatabase,
}

/// The JWT secret every test app uses, so tests can forge tokens on purpose.
/// Random-looking, so production-mode test apps accept it too.
pub const TEST_JWT_SECRET: &str = "Vq7Zr2LkP9wX4mTb8NcYd3HfJ6sGa1QeU5oRi0KtWz";

/// Settings that make the test app trust `X-Forwarded-For` from 127.0.0.1, so
/// a test can speak as several client addresses ([`TestApp::graphql_from`]).
pub const TRUST_LOCAL_PROXY: [&str; 2] = ["--trusted-proxies", "127.0.0.1/32"];

/// Starts the application on a random port with a fresh database.
pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, &[]).await
}

/// Like [`spawn_app`], with extra command-line settings.
pub async fn spawn_app_with(engine: Engine, extra: &[&str]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        api::telemetry::init("info", api::config::LogFormat::Text);
    }
    let database = TestDatabase::create(engine).await;
    let data_dir = tempfile::tempdir().expect("temp dir").keep();
    let mut args = vec![
        "rapport".to_owned(),
        "serve".to_owned(),
        "--bind".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--database-url".to_owned(),
        database.url.clone(),
        "--jwt-secret".to_owned(),
        TEST_JWT_SECRET.to_owned(),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
    ];
    if !extra.contains(&"--db-max-connections") {
        args.extend(["--db-max-connections".to_owned(), "8".to_owned()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let cli = Cli::try_parse_from(args).expect("valid test arguments");
    let app = Application::build(cli.config)
        .await
        .expect("application builds");
    let port = app.port();
    let services = app.services().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        engine,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
        services,
        database,
    }
}

impl TestApp {
    /// The application's database connection, to arrange data and inspect state.
    pub fn db(&self) -> &DatabaseConnection {
        &self.services.db
    }

    /// Statements sent to the database so far.
    pub fn statements(&self) -> u64 {
        self.services.statements.load(Ordering::SeqCst)
    }

    /// POSTs a GraphQL request, optionally with a bearer token; returns the JSON body.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// POSTs a GraphQL request as if forwarded for `client` (honoured only by
    /// an app started with [`TRUST_LOCAL_PROXY`]).
    pub async fn graphql_from(
        &self,
        client: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .header("x-forwarded-for", client)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// POSTs an anonymous GraphQL request with an `Accept-Language` header.
    pub async fn graphql_in(&self, accept_language: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .header("accept-language", accept_language)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// POSTs an anonymous GraphQL request.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await
    }

    /// Creates a user with `role` directly and signs in; returns the access token.
    pub async fn login_as(&self, role: Role) -> String {
        let email = format!(
            "{}-{}@example.com",
            role.as_str().to_lowercase(),
            uuid::Uuid::new_v4().simple()
        );
        let password = "correct horse battery staple".to_owned();
        self.services
            .users
            .create_user(None, &email, password.clone(), role)
            .await
            .expect("create user");
        let body = self
            .graphql(
                "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
                json!({ "input": { "email": email, "password": password } }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Asserts the body has no errors and returns `data`.
pub fn data(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    &body["data"]
}
