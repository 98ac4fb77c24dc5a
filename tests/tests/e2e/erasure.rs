//! Erasure leaves no copy (docs/SECURITY.md, "Erasure"): after
//! `eraseCustomer`, none of the erased values is left in the database's
//! files. SQLite: `rapport.db` and `rapport.db-wal`, read as bytes when the
//! mutation has returned. PostgreSQL: every relation file of the database
//! (tables, indexes, TOAST, the statistics catalogue), read with
//! `pg_read_binary_file` once the background rewrite has finished.

use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::NaiveDate;
use domain::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::fixtures::{
    day, question, CustomerBuilder, ProgramBuilder, QuestionKind, SurveyBuilder,
};
use crate::helpers::{data, spawn_app, Engine, TestApp};

on_both_engines!(erasure_leaves_no_copy_of_any_personal_value_in_the_database_files);

const NAME: &str = "Zora Wintermoss";
const EMAIL: &str = "zora.wintermoss@example.org";
const PHONE: &str = "+4915790012345";
const BIRTHDAY: &str = "1971-03-29";
const TAG: &str = "orchid-collector";
const SUMMARY: &str = "Quillfeather-summary: her hip surgery delayed the order";
const COST_NOTE: &str = "Quillfeather-cost: courier to her flat in Leith";
const CHURN_NOTE: &str = "Quillfeather-churn: moved in with her sister";
const ADJUST_NOTE: &str = "Quillfeather-adjust: goodwill for the broken vase";
const FOLLOW_UP_NOTE: &str = "Quillfeather-followup: called back, she was in hospital";
/// Repeated inside a long, incompressible answer (stored out of line: SQLite
/// overflow pages, PostgreSQL TOAST), so that whole copies lie inside pages.
const ANSWER_MARK: &str = "Quillfeather-answer-neighbour-Jo";

/// A survey answer of about 6 000 characters that neither engine compresses
/// much: base64 of hashes, with [`ANSWER_MARK`] every ~400 characters.
fn long_answer() -> String {
    let mut text = String::new();
    for i in 0..14_u32 {
        text.push_str(ANSWER_MARK);
        text.push(' ');
        for j in 0..9_u32 {
            let digest = Sha256::digest(format!("filler {i} {j}").as_bytes());
            text.push_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest));
        }
        text.push(' ');
    }
    text
}

/// The byte patterns of every erased value as each engine stores it.
fn markers(engine: Engine) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = [
        ("name", "Wintermoss"),
        ("email", EMAIL),
        ("phone", PHONE),
        ("tag", TAG),
        ("interaction summary", SUMMARY),
        ("cost note", COST_NOTE),
        ("churn note", CHURN_NOTE),
        ("adjustment note", ADJUST_NOTE),
        ("follow-up note", FOLLOW_UP_NOTE),
        ("survey answer", ANSWER_MARK),
    ]
    .into_iter()
    .map(|(what, text)| (what, text.as_bytes().to_vec()))
    .collect();
    let birthday = match engine {
        // SQLite keeps dates as text.
        Engine::Sqlite => BIRTHDAY.as_bytes().to_vec(),
        // PostgreSQL's DATE: days since 2000-01-01 as a native 32-bit integer.
        Engine::Postgres => {
            let day = NaiveDate::parse_from_str(BIRTHDAY, "%Y-%m-%d").expect("date");
            let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("epoch");
            i32::try_from((day - epoch).num_days())
                .expect("days")
                .to_ne_bytes()
                .to_vec()
        }
    };
    out.push(("birthday", birthday));
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Each database file (or relation) with its bytes.
async fn database_files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    match app.engine {
        Engine::Sqlite => {
            let path = app
                .database
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .expect("path")
                .to_owned();
            ["", "-wal"]
                .iter()
                .map(|suffix| {
                    let file = format!("{path}{suffix}");
                    let bytes = std::fs::read(&file).unwrap_or_default();
                    (file, bytes)
                })
                .collect()
        }
        Engine::Postgres => {
            let db = app.db();
            // Dirty pages reach the relation files.
            db.execute_unprepared("CHECKPOINT")
                .await
                .expect("checkpoint");
            let rows = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT c.oid::regclass::text AS rel, \
                            pg_read_binary_file(pg_relation_filepath(c.oid)) AS bytes \
                       FROM pg_class c \
                      WHERE c.relkind IN ('r', 'i', 't', 'm') AND NOT c.relisshared \
                        AND pg_relation_filepath(c.oid) IS NOT NULL",
                ))
                .await
                .expect("relation files");
            rows.iter()
                .map(|r| {
                    (
                        r.try_get::<String>("", "rel").expect("rel"),
                        r.try_get::<Vec<u8>>("", "bytes").expect("bytes"),
                    )
                })
                .collect()
        }
    }
}

/// Which markers appear in which files.
fn found(files: &[(String, Vec<u8>)], engine: Engine) -> Vec<(&'static str, String)> {
    let mut hits = Vec::new();
    for (what, needle) in markers(engine) {
        for (file, bytes) in files {
            if find(bytes, &needle) {
                hits.push((what, file.clone()));
            }
        }
    }
    hits
}

async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let body = app.graphql_as(Some(token), query, vars).await;
    data(&body)
        .as_object()
        .and_then(|o| o.values().next().cloned())
        .unwrap_or(Value::Null)
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// The file of `pg_statistic`, which the background rewrite after an
/// erasure replaces last.
async fn statistics_file(app: &TestApp) -> String {
    let db = app.db();
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT pg_relation_filepath('pg_catalog.pg_statistic') AS path",
    ))
    .await
    .expect("path")
    .expect("row")
    .try_get::<String>("", "path")
    .expect("path")
}

/// Waits until the background rewrite after the erasure has finished.
async fn wait_for_rewrite(app: &TestApp, before: &str) {
    let started = Instant::now();
    while statistics_file(app).await == before {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the background rewrite finished within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn erasure_leaves_no_copy_of_any_personal_value_in_the_database_files(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let admin = app.login_as(Role::Admin).await;

    // Arrange: a customer with every personal field, and every free text
    // that can be written about her.
    let customer = CustomerBuilder::new()
        .name(NAME)
        .email(EMAIL)
        .phone(PHONE)
        .birthday(day(BIRTHDAY))
        .locale("en-GB")
        .tag(TAG)
        .create(&app, &token)
        .await;
    // A second customer, who is not erased, shares the pages.
    CustomerBuilder::new()
        .name("Ada Other")
        .email("ada@example.org")
        .tag("regular")
        .create(&app, &token)
        .await;
    ok(&app, &token,
        "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { interaction { id } } }",
        json!({ "i": { "customerId": customer, "channel": "PHONE", "summary": SUMMARY, "helped": true } }),
    ).await;
    ok(&app, &token,
        "mutation($i: RecordCostInput!) { recordCost(input: $i) { cost { id } } }",
        json!({ "i": { "customerId": customer, "kind": "CARE", "amount": "4.50", "currency": "EUR", "note": COST_NOTE } }),
    ).await;
    ok(
        &app,
        &token,
        "mutation($id: ID!, $n: String) { churnCustomer(input: { id: $id, reason: OTHER, note: $n }) { customer { id } } }",
        json!({ "id": customer, "n": CHURN_NOTE }),
    )
    .await;
    ok(
        &app,
        &token,
        "mutation($id: ID!) { reactivateCustomer(input: { id: $id }) { customer { id } } }",
        json!({ "id": customer }),
    )
    .await;
    let program = ProgramBuilder::new("Club").create(&app, &admin).await;
    let membership = id(&ok(
        &app,
        &admin,
        "mutation($p: ID!, $c: ID!) { enrollCustomer(input: { loyaltyProgramId: $p, customerId: $c }) { membership { id } } }",
        json!({ "p": program, "c": customer }),
    )
    .await["membership"]);
    ok(&app, &admin,
        "mutation($m: ID!, $n: String!) { adjustPoints(input: { membershipId: $m, delta: 25, note: $n, idempotencyKey: \"erasure-adjust\" }) { ledgerEntry { id } } }",
        json!({ "m": membership, "n": ADJUST_NOTE }),
    ).await;
    let survey = SurveyBuilder::new("How did we do?")
        .question(question(
            "Anything else?",
            QuestionKind::Text,
            json!({ "required": true, "maxLength": 10000 }),
        ))
        .question(question(
            "How satisfied are you?",
            QuestionKind::Rating,
            json!({ "required": true }),
        ))
        .publish(&app, &admin)
        .await;
    let (survey_id, questions) = (survey.id, survey.questions);
    let invited = ok(&app, &admin,
        "mutation($s: ID!, $c: [ID!]!, $e: DateTime!) { inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e }) { invitations { token } } }",
        json!({ "s": survey_id, "c": [customer], "e": chrono::Utc::now() + chrono::Duration::days(7) }),
    ).await;
    let invitation_token = invited["invitations"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let submitted = app
        .graphql(
            "mutation($t: String!, $a: [SurveyAnswerInput!]!) { submitSurveyResponse(input: { token: $t, answers: $a }) { responseId } }",
            json!({ "t": invitation_token, "a": [
                { "questionId": questions[0], "text": long_answer() },
                { "questionId": questions[1], "rating": 1 } ] }),
        )
        .await;
    data(&submitted);
    let follow_ups = ok(
        &app,
        &token,
        "{ followUps(first: 10) { nodes { id } } }",
        json!({}),
    )
    .await;
    let follow_up = id(&follow_ups["nodes"][0]);
    ok(
        &app,
        &token,
        "mutation($id: ID!, $n: String!) { resolveFollowUp(input: { id: $id, note: $n }) { followUp { id } } }",
        json!({ "id": follow_up, "n": FOLLOW_UP_NOTE }),
    )
    .await;
    // Planner statistics sample column values (SQLite's sqlite_stat4,
    // PostgreSQL's pg_statistic): gather them, as a production database has.
    app.db()
        .execute_unprepared("ANALYZE")
        .await
        .expect("analyze");

    // The export holds everything.
    let export = ok(
        &app,
        &token,
        "query($id: ID!) { exportCustomerData(id: $id) }",
        json!({ "id": customer }),
    )
    .await
    .to_string();
    for text in [
        NAME,
        EMAIL,
        PHONE,
        BIRTHDAY,
        TAG,
        SUMMARY,
        COST_NOTE,
        CHURN_NOTE,
        ADJUST_NOTE,
        FOLLOW_UP_NOTE,
        ANSWER_MARK,
    ] {
        assert!(export.contains(text), "the export holds {text}");
    }
    // The search finds every value in the files before the erasure.
    let before = found(&database_files(&app).await, engine);
    for (what, _) in markers(engine) {
        assert!(
            before.iter().any(|(w, _)| *w == what),
            "{what} is in the database files before the erasure: {before:?}"
        );
    }

    // Act.
    let statistics = match engine {
        Engine::Postgres => statistics_file(&app).await,
        Engine::Sqlite => String::new(),
    };
    let erased = ok(
        &app,
        &token,
        "mutation($id: ID!) { eraseCustomer(input: { id: $id }) { customer { name email } } }",
        json!({ "id": customer }),
    )
    .await["customer"]
        .clone();
    assert_eq!(erased["name"], "Erased customer");
    if engine == Engine::Postgres {
        wait_for_rewrite(&app, &statistics).await;
    }

    // Assert: no erased value in any file; the other customer is intact.
    let files = database_files(&app).await;
    let after = found(&files, engine);
    let sizes: Vec<(String, usize)> = files
        .iter()
        .filter(|(f, _)| engine == Engine::Sqlite || f.starts_with("customer"))
        .map(|(f, b)| (f.clone(), b.len()))
        .collect();
    eprintln!("{engine:?} after erasure: file sizes {sizes:?}");
    assert!(
        after.is_empty(),
        "erased values survive in the database files: {after:?}"
    );
    assert!(
        files.iter().any(|(_, b)| find(b, b"ada@example.org")),
        "the search still sees values that were not erased"
    );
}
