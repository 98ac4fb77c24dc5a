//! Storage faults (docs/SECURITY.md, "Storage faults"): the SQLite file's
//! disk fills up under the running server. Writes answer
//! `SERVICE_UNAVAILABLE` and store nothing, `/ready` says 503; once space
//! returns, writes succeed and `/ready` says 200 again, without a restart.
//!
//! The disk is a real 8 MiB tmpfs mounted for the test (the tests run as
//! root, as CI does); where mounting is not permitted the test says so and
//! stops.
//!
//! A database that turns read-only under the running server (SQLite's
//! `SQLITE_READONLY`, PostgreSQL's SQLSTATE 25006) is the same kind of fault,
//! on both engines.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use api::cli::Cli;
use api::Application;
use clap::Parser as _;
use domain::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app_with, Engine, TEST_JWT_SECRET};

on_both_engines!(a_read_only_database_makes_writes_unavailable_until_it_is_writable);

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .ok()?;
        status.success().then_some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Appends to a filler file until the disk is full (again: a failed
    /// write can leave space behind, such as a temporary file removed).
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&filler)
            .expect("filler");
        let block = vec![0x5a_u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        // The last partial block: fill byte by byte.
        while file.write_all(&[0x5a]).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

const CREATE: &str =
    "mutation($n: String!) { createCustomer(input: { name: $n }) { customer { id } } }";

async fn gql(client: &reqwest::Client, address: &str, token: &str, vars: Value) -> Value {
    client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": CREATE, "variables": vars }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json")
}

async fn ready(client: &reqwest::Client, address: &str) -> u16 {
    client
        .get(format!("{address}/ready"))
        .send()
        .await
        .expect("ready answered")
        .status()
        .as_u16()
}

async fn customers(db: &sea_orm::DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM customers",
    ))
    .await
    .expect("count")
    .expect("row")
    .try_get::<i64>("", "n")
    .expect("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_makes_writes_unavailable_and_ready_503_until_space_returns() {
    let Some(disk) = SmallDisk::mount("8m") else {
        eprintln!("cannot mount a tmpfs here (not root?); storage fault test not run");
        return;
    };
    let url = format!(
        "sqlite://{}?mode=rwc",
        disk.path().join("rapport.db").display()
    );
    let data_dir = tempfile::tempdir().expect("data dir");
    let cli = Cli::try_parse_from([
        "rapport",
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--jwt-secret",
        TEST_JWT_SECRET,
        "--data-dir",
        &data_dir.path().display().to_string(),
    ])
    .expect("arguments");
    let app = Application::build(cli.config).await.expect("app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let services = app.services().clone();
    tokio::spawn(app.run_until_stopped());
    let db = services.db.clone();
    services
        .users
        .create_user(
            None,
            "admin@example.com",
            "correct horse battery staple".into(),
            Role::Admin,
        )
        .await
        .expect("user");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let login: Value = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": "mutation { login(input: { email: \"admin@example.com\", password: \"correct horse battery staple\" }) { accessToken } }" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let body = gql(&client, &address, &token, json!({ "n": "Before" })).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(ready(&client, &address).await, 200);
    // An empty write-ahead log, so the next commit must grow a file.
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    let before = customers(&db).await;

    // The disk fills up: a write is refused as retryable and stores
    // nothing, and /ready says 503 while writes fail.
    let mut filler = disk.fill();
    let long = "x".repeat(150);
    // One attempt: SQLite's failed attempts can leave allocated space in its
    // files, so a later write may fit (and then is stored, correctly).
    for n in 0..1 {
        let started = Instant::now();
        let body = gql(
            &client,
            &address,
            &token,
            json!({ "n": format!("Full {n} {long}") }),
        )
        .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "write {n} on a full disk: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused promptly: {:?}",
            started.elapsed()
        );
        filler = disk.fill();
        assert_eq!(
            ready(&client, &address).await,
            503,
            "/ready while writes fail ({n})"
        );
    }
    assert_eq!(customers(&db).await, before, "nothing was written");

    // Space returns: writes work and /ready is 200 again, without a restart.
    std::fs::remove_file(&filler).expect("free space");
    let started = Instant::now();
    assert_eq!(
        ready(&client, &address).await,
        200,
        "/ready after space returns"
    );
    for n in 0..5 {
        let body = gql(
            &client,
            &address,
            &token,
            json!({ "n": format!("After {n}") }),
        )
        .await;
        assert!(body["errors"].is_null(), "write {n} after recovery: {body}");
    }
    let took = started.elapsed();
    eprintln!("recovered: /ready 200 and five writes in {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "no write waits on a stale lock: {took:?}"
    );
    assert_eq!(customers(&db).await, before + 5);
    assert_eq!(ready(&client, &address).await, 200);
    db.close().await.ok();
}

/// The server's one connection is made read-only (SQLite `query_only`,
/// PostgreSQL `default_transaction_read_only`): the engine then refuses every
/// write with its read-only code, as it does for a file or server that went
/// read-only. Writes answer `SERVICE_UNAVAILABLE` and store nothing, `/ready`
/// says 503; once writable again, both recover without a restart.
async fn a_read_only_database_makes_writes_unavailable_until_it_is_writable(engine: Engine) {
    let app = spawn_app_with(engine, &["--db-max-connections", "1"]).await;
    let token = app.login_as(Role::Admin).await;
    let client = reqwest::Client::new();
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "n": "Before" }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(ready(&client, &app.address).await, 200);
    let before = customers(app.db()).await;
    let (read_only, writable) = match engine {
        Engine::Sqlite => ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"),
        Engine::Postgres => (
            "SET default_transaction_read_only = on",
            "SET default_transaction_read_only = off",
        ),
    };
    app.db()
        .execute_unprepared(read_only)
        .await
        .expect("read-only");

    for n in 0..3 {
        let body = app
            .graphql_as(
                Some(&token),
                CREATE,
                json!({ "n": format!("Read-only {n}") }),
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some("SERVICE_UNAVAILABLE"),
            "write {n} on a read-only database: {body}"
        );
        assert_eq!(ready(&client, &app.address).await, 503, "/ready ({n})");
    }
    assert_eq!(customers(app.db()).await, before, "nothing was written");

    app.db()
        .execute_unprepared(writable)
        .await
        .expect("writable");
    assert_eq!(ready(&client, &app.address).await, 200, "/ready recovers");
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "n": "After" }))
        .await;
    assert!(body["errors"].is_null(), "write after recovery: {body}");
    assert_eq!(customers(app.db()).await, before + 1);
}
