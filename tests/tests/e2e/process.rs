//! Tests of the real `rapport` binary as a process: logs, signals.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The `rapport` command line as a binary of this package (see `src/bin`).
pub fn rapport_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rapport-under-test"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Runs `rapport create-user --password-stdin` with `env`, the password on
/// its standard input, and returns what it printed and its exit status.
pub fn run_create_user<I, K, V>(env: I, email: &str, password: &str, role: &str) -> Output
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut child = Command::new(rapport_binary())
        .args([
            "create-user",
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
        ])
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn create-user");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    child.wait_with_output().expect("wait")
}

/// Starts `rapport serve` on a free loopback port with `env`, its output
/// appended to `log`, and waits (60 s at most) until `/ready` answers 200.
/// Returns the process and the server's base URL.
pub async fn start_serve<I, K, V>(env: I, log: &Path) -> (Child, String)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let child = Command::new(rapport_binary())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .envs(env)
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("spawn server");
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{address}/ready")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, address)
}

/// Sends `SIG{signal}` (`TERM`, `KILL`, …) to `child`.
pub fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "SIG{signal} sent");
}

/// Waits (30 s at most) for `child` to exit and returns its status.
pub async fn exit_status(child: &mut Child) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server exits after the signal"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POSTs one GraphQL request to the server at `address`, with a bearer
/// token when given; the whole answer, or the transport error.
pub async fn gql(
    client: &reqwest::Client,
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value, reqwest::Error> {
    let mut request = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await?.json().await
}

/// A server process on a temporary SQLite database, logging to a file.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
    pub log: PathBuf,
    /// Keeps the database directory alive as long as the process.
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    pub fn env(dir: &std::path::Path) -> Vec<(&'static str, String)> {
        vec![
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.join("rapport.db").display()),
            ),
            ("RAPPORT_DATA_DIR", dir.display().to_string()),
            (
                "RAPPORT_LOG",
                "debug,sqlx=warn,h2=warn,hyper=warn".to_owned(),
            ),
        ]
    }

    pub fn create_user(dir: &std::path::Path, email: &str, password: &str, role: &str) {
        let output = run_create_user(Self::env(dir), email, password, role);
        assert!(output.status.success(), "create-user succeeded");
    }

    pub async fn start(dir: tempfile::TempDir) -> Self {
        Self::start_with(dir, &[]).await
    }

    /// Starts the server with extra environment variables.
    pub async fn start_with(dir: tempfile::TempDir, extra: &[(&str, &str)]) -> Self {
        let log = dir.path().join("server.log");
        let env = Self::env(dir.path())
            .into_iter()
            .chain(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let (child, address) = start_serve(env, &log).await;
        Self {
            child,
            address,
            log,
            _dir: dir,
        }
    }

    pub fn signal(&self, signal: &str) {
        send_signal(&self.child, signal);
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(client: &reqwest::Client, address: &str, query: &str, variables: Value) -> Value {
    gql(client, address, None, query, variables)
        .await
        .expect("answered")
}

#[test]
fn create_user_refuses_a_weak_password_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |password: &str| {
        run_create_user(
            ServerProcess::env(dir.path()),
            "ann@example.com",
            password,
            "ADMIN",
        )
    };
    let weak = run("aaaaaaaaaaaa");
    assert!(!weak.status.success(), "a weak password is refused");
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("too easy to guess"), "{stderr}");
    // Nothing was written: the same e-mail can then be created.
    let strong = run("tangerine orbit lantern 47");
    assert!(
        strong.status.success(),
        "{}",
        String::from_utf8_lossy(&strong.stderr)
    );
}

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken refreshToken } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logs_never_contain_passwords_or_tokens() {
    let dir = tempfile::tempdir().expect("dir");
    let password = "Sup3r-Secret-Passphrase-XYZ";
    ServerProcess::create_user(dir.path(), "ann@example.com", password, "ADMIN");
    let server = ServerProcess::start(dir).await;
    let client = reqwest::Client::new();

    let body = post(
        &client,
        &server.address,
        LOGIN,
        json!({ "e": "ann@example.com", "p": password }),
    )
    .await;
    let access = body["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let refresh = body["data"]["login"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    post(
        &client,
        &server.address,
        LOGIN,
        json!({ "e": "ann@example.com", "p": "Wrong-Passphrase-QQQ" }),
    )
    .await;
    post(
        &client,
        &server.address,
        "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken } }",
        json!({ "t": refresh }),
    )
    .await;
    client
        .post(format!("{}/graphql", server.address))
        .bearer_auth(&access)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let log = std::fs::read_to_string(&server.log).expect("log");
    assert!(log.contains("/graphql"), "request logging is on: {log}");
    for (what, secret) in [
        ("password", password),
        ("wrong password", "Wrong-Passphrase-QQQ"),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
    ] {
        assert!(!log.contains(secret), "{what} leaked into the logs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_zero() {
    let dir = tempfile::tempdir().expect("dir");
    ServerProcess::create_user(
        dir.path(),
        "ann@example.com",
        "correct horse battery staple",
        "ADMIN",
    );
    let mut server = ServerProcess::start(dir).await;
    let client = reqwest::Client::new();

    // Open the connections first, so every request below rides an accepted
    // connection: SIGTERM stops accepting new ones, which is not what this tests.
    let warm: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/health", server.address);
            tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    for request in warm {
        assert!(request.await.expect("task").is_ok(), "warm-up request");
    }
    // Logins hash with argon2, so these are genuinely in flight when the signal lands.
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            let address = server.address.clone();
            tokio::spawn(async move {
                post(
                    &client,
                    &address,
                    LOGIN,
                    json!({ "e": format!("user{i}@example.com"), "p": "whatever it is" }),
                )
                .await
            })
        })
        .collect();
    // Long enough for every connection to be accepted on a loaded machine
    // (a request not yet read when the signal lands is not in flight).
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal("TERM");
    for request in requests {
        let body = request.await.expect("task");
        assert!(
            body["errors"][0]["extensions"]["code"].is_string(),
            "in-flight request answered: {body}"
        );
    }
    let status = exit_status(&mut server.child).await;
    assert!(status.success(), "exit code 0, got {status:?}");
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Issue 14: a flood of the largest answers the cost limit accepts, mixed
/// with the 200 000-purchase attack (refused), keeps the server's peak
/// memory bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_large_queries_keeps_memory_bounded() {
    let dir = tempfile::tempdir().expect("dir");
    let server = ServerProcess::start_with(dir, &[("RAPPORT_DEMO", "true")]).await;
    let log = std::fs::read_to_string(&server.log).expect("log");
    let password = log
        .lines()
        .find(|l| l.contains("agent@demo.rapport.dev"))
        .and_then(|l| l.split_whitespace().last())
        .expect("demo credentials in the log")
        .to_owned();
    let client = reqwest::Client::new();
    let login = post(
        &client,
        &server.address,
        LOGIN,
        json!({ "e": "agent@demo.rapport.dev", "p": password }),
    )
    .await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let purchases = (0..20)
        .map(|i| format!("p{i}: purchases(first: 100) {{ nodes {{ id amount currency }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let attack = format!(
        "{{ {} }}",
        (0..10)
            .map(|i| format!("c{i}: customers(first: 100) {{ nodes {{ id {purchases} }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Close to the cost limit: 100 customers with 20 purchases each.
    let large = "{ customers(first: 100) { nodes { id name email phone relationshipStage acquiredAt purchaseCount totalRevenue { currency amount } purchases(first: 20) { nodes { id amount currency occurredAt externalRef } } } } }";
    let before = peak_rss_kib(server.child.id());
    let started = Instant::now();
    let mut answered_bytes = 0_usize;
    let mut refused = 0;
    for _round in 0..4 {
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let client = client.clone();
                let url = format!("{}/graphql", server.address);
                let token = token.clone();
                let query = if i % 2 == 0 {
                    attack.clone()
                } else {
                    large.to_owned()
                };
                tokio::spawn(async move {
                    client
                        .post(url)
                        .bearer_auth(token)
                        .json(&json!({ "query": query }))
                        .send()
                        .await
                        .expect("sent")
                        .bytes()
                        .await
                        .expect("body")
                })
            })
            .collect();
        for task in tasks {
            let bytes = task.await.expect("task");
            let body: Value = serde_json::from_slice(&bytes).expect("json");
            if body["errors"][0]["extensions"]["code"] == "OPERATION_TOO_COMPLEX" {
                refused += 1;
            } else {
                assert!(body["data"]["customers"]["nodes"].is_array(), "{body}");
                answered_bytes = answered_bytes.max(bytes.len());
            }
        }
    }
    let after = peak_rss_kib(server.child.id());
    println!(
        "peak RSS {} MiB before, {} MiB after 128 requests ({refused} refused, largest answer {answered_bytes} bytes) in {:?}",
        before / 1024,
        after / 1024,
        started.elapsed()
    );
    assert_eq!(refused, 64, "every attack is refused");
    assert!(
        answered_bytes > 30_000,
        "the large query is large: {answered_bytes}"
    );
    assert!(after < 256 * 1024, "peak RSS {} MiB", after / 1024);
}

/// `serve --demo` with its output piped (not a terminal): one block with the
/// GraphiQL URL and the three logins, and no ANSI colour codes anywhere.
#[tokio::test]
async fn demo_console_output_is_one_plain_block_when_piped() {
    let dir = tempfile::tempdir().expect("dir");
    let server = ServerProcess::start_with(dir, &[("RAPPORT_DEMO", "true")]).await;
    let output = std::fs::read_to_string(&server.log).expect("log");
    assert!(
        !output.contains("\x1b["),
        "ANSI codes in piped output:\n{output}"
    );
    let block_start = output.find("Rapport demo data loaded").expect("demo block");
    let block = &output[block_start..];
    let block = &block[..block.find("\n====").expect("block end")];
    assert!(
        block.contains(&format!("GraphiQL:  {}/graphiql", server.address)),
        "{block}"
    );
    for (role, email) in [
        ("ADMIN", "admin@demo.rapport.dev"),
        ("MANAGER", "manager@demo.rapport.dev"),
        ("AGENT", "agent@demo.rapport.dev"),
    ] {
        let line = block
            .lines()
            .find(|l| l.contains(email))
            .unwrap_or_else(|| panic!("{email} in\n{block}"));
        assert!(line.trim_start().starts_with(role), "{line}");
        assert_eq!(
            line.split_whitespace().count(),
            3,
            "role, e-mail, password: {line}"
        );
    }
    // The German survey's open invitation: its form link, whose survey is
    // in German and asks every question type over three pages.
    let link = block
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{}/s/", server.address)))
        .unwrap_or_else(|| panic!("German form link in\n{block}"));
    assert!(block.contains("German survey"), "{block}");
    let token = link.rsplit('/').next().expect("token");
    let body = post(
        &reqwest::Client::new(),
        &server.address,
        "query($t: String!) { surveyInvitation(token: $t) { locale questions { kind page } } }",
        json!({ "t": token }),
    )
    .await;
    let survey = &body["data"]["surveyInvitation"];
    assert_eq!(survey["locale"], "de", "{body}");
    let mut kinds: Vec<&str> = survey["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .filter_map(|q| q["kind"].as_str())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "CSI_FACTOR",
            "DATE",
            "MATRIX",
            "MULTIPLE_CHOICE",
            "NPS",
            "RATING",
            "SINGLE_CHOICE",
            "TEXT"
        ]
    );
    let last_page = survey["questions"]
        .as_array()
        .and_then(|qs| qs.last())
        .map(|q| q["page"].clone());
    assert_eq!(last_page, Some(json!(3)));

    // Its CSI factors belong to a PUBLISHED factor set of its own.
    let admin = block
        .lines()
        .find(|l| l.contains("admin@demo.rapport.dev"))
        .and_then(|l| l.split_whitespace().nth(2))
        .expect("admin password");
    let client = reqwest::Client::new();
    let login = post(
        &client,
        &server.address,
        "mutation($p: String!) { login(input: { email: \"admin@demo.rapport.dev\", password: $p }) { accessToken } }",
        json!({ "p": admin }),
    )
    .await;
    let access = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login: {login}"));
    let body = gql(
        &client,
        &server.address,
        Some(access),
        "{ surveys(filter: { text: \"Wie war Ihr Einkauf\" }, first: 5) { nodes { status
           questions { kind factorKey } factorSet { name status factors { key } } } } }",
        json!({}),
    )
    .await
    .expect("answered");
    let german = &body["data"]["surveys"]["nodes"][0];
    assert_eq!(german["status"], "ACTIVE", "{body}");
    assert_eq!(german["factorSet"]["name"], "Einkaufserlebnis");
    assert_eq!(german["factorSet"]["status"], "PUBLISHED");
    let keys: Vec<&Value> = german["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .filter(|q| q["kind"] == "CSI_FACTOR")
        .map(|q| &q["factorKey"])
        .collect();
    assert_eq!(keys, [&json!("beratung"), &json!("auswahl")]);
    assert_eq!(
        german["factorSet"]["factors"],
        json!([{ "key": "beratung" }, { "key": "auswahl" }])
    );
}
