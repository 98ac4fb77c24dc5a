//! `rapport-load`: sends one GraphQL operation over HTTP at a fixed
//! concurrency for a fixed time and reports throughput, latency percentiles and
//! errors. Every response body is checked: an HTTP 200 carrying `errors` counts
//! as a failure.
//!
//! Per-request variables can come from a JSON-lines file, each line used once
//! (e.g. fresh invitation tokens for submission throughput).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use serde_json::Value;

/// Load driver for Rapport's GraphQL endpoint.
#[derive(Debug, Parser)]
struct Args {
    /// GraphQL endpoint; several, comma-separated, spread the clients over
    /// them round-robin (one server process each, as a load balancer would).
    #[arg(
        long,
        default_value = "http://127.0.0.1:8080/graphql",
        value_delimiter = ','
    )]
    url: Vec<String>,
    /// File holding the GraphQL document to send.
    #[arg(long)]
    query_file: PathBuf,
    /// Variables for every request (JSON object).
    #[arg(long, default_value = "{}")]
    variables: String,
    /// JSON-lines file of per-request variables, each line used once.
    #[arg(long)]
    variables_file: Option<PathBuf>,
    /// Bearer token.
    #[arg(long, env = "RAPPORT_TOKEN")]
    token: Option<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Print the result as one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let query = std::fs::read_to_string(&args.query_file)
        .with_context(|| format!("Failed to read {}", args.query_file.display()))?;
    let shared_vars: Value =
        serde_json::from_str(&args.variables).context("--variables is not JSON")?;
    let per_request: Option<Arc<Vec<Value>>> = match &args.variables_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            let lines = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<Vec<Value>, _>>()
                .context("--variables-file must hold one JSON object per line")?;
            Some(Arc::new(lines))
        }
        None => None,
    };
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if args.url.is_empty() {
        bail!("--url needs at least one endpoint");
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let next_line = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let client = client.clone();
        let url = args.url[worker % args.url.len()].clone();
        let query = query.clone();
        let token = args.token.clone();
        let shared_vars = shared_vars.clone();
        let per_request = per_request.clone();
        let next_line = next_line.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut first_error: Option<String> = None;
            while Instant::now() < deadline {
                let variables = match &per_request {
                    Some(lines) => match lines.get(next_line.fetch_add(1, Ordering::Relaxed)) {
                        Some(v) => v.clone(),
                        None => break,
                    },
                    None => shared_vars.clone(),
                };
                let mut request = client
                    .post(&url)
                    .json(&serde_json::json!({ "query": query, "variables": variables }));
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                let sent = Instant::now();
                let outcome = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        match response.json::<Value>().await {
                            Ok(body) if status.is_success() && body.get("errors").is_none() => {
                                Ok(())
                            }
                            Ok(body) => Err(format!("HTTP {status}: {body}")),
                            Err(e) => Err(format!("HTTP {status}: unreadable body: {e}")),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                latencies.push(sent.elapsed());
                if let Err(message) = outcome {
                    errors += 1;
                    first_error.get_or_insert(message);
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let (l, e, f) = worker.await?;
        latencies.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i.min(latencies.len() - 1)].as_secs_f64() * 1000.0
    };
    let requests = latencies.len();
    let throughput = requests as f64 / elapsed;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "requests": requests, "errors": errors, "seconds": elapsed,
                "throughput": throughput, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99)
            })
        );
    } else {
        println!(
            "requests {requests}  errors {errors}  {throughput:.1} req/s  p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms",
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
    if let Some(message) = first_error {
        eprintln!(
            "first error: {}",
            message.chars().take(500).collect::<String>()
        );
    }
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}
