//! The documentation's GraphQL examples are tests.
//!
//! Every ```graphql block in `README.md` and `docs/*.md` must be exactly one
//! named operation, optionally followed by a ```json block of its variables.
//! Each is run (the server validates it against the schema first; a
//! validation error fails the test), in document order (README
//! first, then `docs/` by file name), against one fresh `seed-demo` database,
//! expecting `data` with something in it and no errors.
//!
//! A block may say in comment lines of its own:
//! - `# as: admin|manager|agent|anonymous`: who sends it (default admin);
//! - `# expect-error: CODE`: it demonstrates that error (`extensions.code`).
//!
//! Secrets that only exist at run time are written `"…"` in a variables block
//! and filled in by name: `password` (the demo admin's), `refreshToken` (of
//! the last sign-in), `token` (a fresh invitation to survey 1) and
//! `invitationId` (the id of another fresh, pending invitation to survey 1).

use std::path::{Path, PathBuf};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use serde_json::{json, Value};

use crate::helpers::*;

/// One example from the docs.
struct Example {
    place: String,
    query: String,
    variables: Option<Value>,
    role: String,
    expect_error: Option<String>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// README.md and every docs/*.md, in a fixed order.
fn doc_files() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    let mut files = vec![root.join("README.md")];
    files.extend(docs);
    files
}

/// The fenced block starting at `lines[start]` (the opening fence): its body
/// and the index of the line after the closing fence.
fn fenced(lines: &[&str], start: usize) -> (String, usize) {
    let mut body = String::new();
    let mut i = start + 1;
    while i < lines.len() && !lines[i].trim_start().starts_with("```") {
        body.push_str(lines[i]);
        body.push('\n');
        i += 1;
    }
    (body, i + 1)
}

fn marker<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.lines().find_map(|l| {
        l.trim()
            .strip_prefix('#')
            .map(str::trim)
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(':'))
            .map(str::trim)
    })
}

fn examples() -> Vec<Example> {
    let root = workspace_root();
    let mut out = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("readable doc");
        let lines: Vec<&str> = text.lines().collect();
        let name = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim() != "```graphql" {
                i += 1;
                continue;
            }
            let place = format!("{name}:{}", i + 1);
            let (query, next) = fenced(&lines, i);
            i = next;
            // A variables block right after it (blank lines allowed).
            let mut j = i;
            while j < lines.len() && lines[j].trim().is_empty() {
                j += 1;
            }
            let variables = (j < lines.len() && lines[j].trim() == "```json").then(|| {
                let (body, next) = fenced(&lines, j);
                i = next;
                serde_json::from_str::<Value>(&body)
                    .unwrap_or_else(|e| panic!("{place}: variables are not JSON: {e}"))
            });
            out.push(Example {
                role: marker(&query, "as").unwrap_or("admin").to_lowercase(),
                expect_error: marker(&query, "expect-error").map(str::to_owned),
                place,
                query,
                variables,
            });
        }
    }
    out
}

/// One named operation, or why not.
fn single_named_operation(query: &str) -> Result<(String, OperationType), String> {
    let doc = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
    match doc.operations {
        DocumentOperations::Single(_) => Err("an anonymous operation".to_owned()),
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            let (name, op) = ops.into_iter().next().ok_or("no operation")?;
            Ok((name.to_string(), op.node.ty))
        }
        DocumentOperations::Multiple(ops) => Err(format!("{} operations", ops.len())),
    }
}

/// Whether a top-level answer shows nothing: null, an empty list, an empty
/// connection, or a report without an index.
fn empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => {
            map.get("edges")
                .is_some_and(|e| e.as_array().is_some_and(Vec::is_empty))
                || map.get("index").is_some_and(Value::is_null)
        }
        _ => false,
    }
}

#[test]
fn every_block_is_one_named_operation() {
    let examples = examples();
    assert!(examples.len() >= 20, "found {} blocks", examples.len());
    let problems: Vec<String> = examples
        .iter()
        .filter_map(|e| {
            single_named_operation(&e.query)
                .err()
                .map(|why| format!("{}: {why}", e.place))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

async fn every_example_runs_against_the_demo(engine: Engine) {
    let app = spawn_app(engine).await;
    let logins = seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let mut tokens = std::collections::HashMap::new();
    let mut admin_password = String::new();
    let mut refresh_token = String::new();
    for login in &logins {
        let body = app
            .graphql(
                "mutation SignIn($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken refreshToken } }",
                json!({ "e": login.email, "p": login.password }),
            )
            .await;
        let access = data(&body)["login"]["accessToken"]
            .as_str()
            .expect("access token")
            .to_owned();
        tokens.insert(login.role.as_str().to_lowercase(), access);
        if login.role == domain::auth::Role::Admin {
            admin_password = login.password.clone();
            refresh_token = data(&body)["login"]["refreshToken"]
                .as_str()
                .expect("refresh token")
                .to_owned();
        }
    }

    let mut failures = Vec::new();
    for example in examples() {
        let (name, kind) = match single_named_operation(&example.query) {
            Ok(op) => op,
            Err(why) => {
                failures.push(format!("{}: {why}", example.place));
                continue;
            }
        };
        if kind == OperationType::Subscription {
            // Named and parsed above; subscriptions are exercised over the
            // WebSocket by the surveys tests.
            continue;
        }
        let token = match example.role.as_str() {
            "anonymous" => None,
            role => Some(
                tokens
                    .get(role)
                    .unwrap_or_else(|| panic!("{}: unknown role {role}", example.place))
                    .clone(),
            ),
        };
        let mut variables = example.variables.clone().unwrap_or_else(|| json!({}));
        if let Some(map) = variables.as_object_mut() {
            for (key, value) in map.iter_mut() {
                if value.as_str() != Some("…") {
                    continue;
                }
                *value = match key.as_str() {
                    "password" => json!(admin_password),
                    "refreshToken" => json!(refresh_token),
                    "token" => json!(fresh_invitation(&app, tokens.get("admin")).await.1),
                    "invitationId" => json!(fresh_invitation(&app, tokens.get("admin")).await.0),
                    other => panic!("{}: no run-time value for {other}", example.place),
                };
            }
        }
        let body = app
            .graphql_as(token.as_deref(), &example.query, variables)
            .await;
        // A sign-in in the docs hands its refresh token to the next example.
        if let Some(next) = body["data"]["login"]["refreshToken"]
            .as_str()
            .or_else(|| body["data"]["refreshSession"]["refreshToken"].as_str())
        {
            refresh_token = next.to_owned();
        }
        match (&example.expect_error, error_code(&body)) {
            (Some(expected), Some(code)) if expected == code => {}
            (Some(expected), _) => failures.push(format!(
                "{} {name}: expected {expected}, got {body}",
                example.place
            )),
            (None, Some(_)) => failures.push(format!("{} {name}: {body}", example.place)),
            (None, None) => {
                let empty_fields: Vec<&String> = body["data"]
                    .as_object()
                    .map(|m| m.iter().filter(|(_, v)| empty(v)).map(|(k, _)| k).collect())
                    .unwrap_or_default();
                if body["data"].is_null() || !empty_fields.is_empty() {
                    failures.push(format!(
                        "{} {name}: empty {empty_fields:?}: {body}",
                        example.place
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A new customer invited to survey 1; returns the invitation's id and token.
async fn fresh_invitation(app: &TestApp, admin: Option<&String>) -> (String, String) {
    let admin = admin.map(String::as_str);
    let body = app
        .graphql_as(
            admin,
            "mutation NewRespondent { createCustomer(input: { name: \"Docs Respondent\" }) { customer { id } } }",
            json!({}),
        )
        .await;
    let id = data(&body)["createCustomer"]["customer"]["id"].clone();
    let body = app
        .graphql_as(
            admin,
            "mutation Invite($s: ID!, $c: ID!, $x: DateTime!) { inviteToSurvey(input: { surveyId: $s, customerIds: [$c], expiresAt: $x }) { invitations { invitationId token } } }",
            json!({ "s": crate::fixtures::api_id("Survey", 1), "c": id, "x": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339() }),
        )
        .await;
    let issued = &data(&body)["inviteToSurvey"]["invitations"][0];
    let text = |field: &str| {
        issued[field]
            .as_str()
            .unwrap_or_else(|| panic!("invitation {field}: {body}"))
            .to_owned()
    };
    (text("invitationId"), text("token"))
}

on_both_engines!(every_example_runs_against_the_demo);
