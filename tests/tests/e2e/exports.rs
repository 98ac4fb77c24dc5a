//! CSV exports: exact bytes, role refusals, refused links, a large export
//! streamed complete and in order, the ledger of a period, and what happens
//! when the client hangs up or the database fails in the middle.

use chrono::{Duration, Utc};
use entity::{survey_answers, survey_invitations, survey_responses, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

use crate::fixtures::{
    api_id, at, insert_membership, insert_question, CustomerBuilder, ProgramBuilder, QuestionKind,
    ResponseBuilder, SurveyBuilder, SurveyStatus,
};
use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine, TestApp};
use domain::auth::Role;

const CREATE_EXPORT: &str = "mutation($input: CreateExportInput!) {
    createExport(input: $input) { url expiresAt filename clientMutationId } }";

/// Asks for a link; returns the whole GraphQL body.
async fn create_export(app: &TestApp, token: Option<&str>, input: Value) -> Value {
    app.graphql_as(token, CREATE_EXPORT, json!({ "input": input }))
        .await
}

/// The link's path on the test server.
fn link_path(body: &Value) -> String {
    let url = data(body)["createExport"]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let at = url.find("/exports/").expect("export path");
    url[at..].to_owned()
}

/// GETs a path; returns status, headers and body.
async fn get(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// Parses RFC 4180 CSV (after the byte order mark) into records.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text =
        std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM")).expect("utf-8");
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR is followed by LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && record.is_empty(), "ends with CRLF");
    records
}

on_both_engines!(
    survey_responses_export_is_exact_csv,
    customers_export_guards_cells_and_hides_erased_customers,
    exports_are_refused_to_agents_strangers_and_bad_links,
    a_large_export_streams_every_response_in_order,
    ledger_export_holds_one_programs_entries_of_the_period,
    a_client_that_hangs_up_stops_the_reading,
    a_database_failure_mid_stream_aborts_the_download,
);

async fn survey_responses_export_is_exact_csv(engine: Engine) {
    let app = spawn_app(engine).await;
    let manager = app.login_as(Role::Manager).await;
    let db = app.db();
    let survey = SurveyBuilder::new("Visit")
        .status(SurveyStatus::Active)
        .insert(db)
        .await;
    let rating = insert_question(db, survey, 1, QuestionKind::Rating).await;
    let choice = insert_question(db, survey, 2, QuestionKind::MultipleChoice).await;
    let nps = insert_question(db, survey, 3, QuestionKind::Nps).await;
    let text = insert_question(db, survey, 4, QuestionKind::Text).await;
    // A question text with a comma and quotes.
    let mut q = entity::survey_questions::ActiveModel {
        id: Set(choice),
        ..Default::default()
    };
    q.text = Set("Which, \"best\"?".to_owned());
    q.update(db).await.expect("question text");
    let ana = CustomerBuilder::new().name("Ana").insert(db).await;
    let bo = CustomerBuilder::new().name("Bo").insert(db).await;
    let first = ResponseBuilder::new(survey, ana)
        .submitted_at(at("2026-11-01T10:00:00Z"))
        .csi("87.5")
        .helpful_at(at("2026-11-02T09:00:00Z"))
        .comment(text, "Zoë said \"great\",\nthanks ☕")
        .insert(db)
        .await;
    let second = ResponseBuilder::new(survey, bo)
        .submitted_at(at("2026-11-01T11:30:00Z"))
        .comment(text, "=HYPERLINK(\"http://x\")")
        .insert(db)
        .await;
    for (response, question, rating_value, choices) in [
        (first, rating, Some(5), None),
        (first, choice, None, Some(r#"["Red","Blue, dark"]"#)),
        (first, nps, Some(9), None),
        (second, rating, Some(2), None),
        (second, nps, Some(6), None),
        (second, choice, None, Some(r#"["-10 off"]"#)),
    ] {
        survey_answers::ActiveModel {
            response_id: Set(response),
            question_id: Set(question),
            rating: Set(rating_value),
            choices: Set(choices.map(str::to_owned)),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("answer");
    }

    let body = create_export(
        &app,
        Some(&manager),
        json!({ "kind": "SURVEY_RESPONSES", "surveyId": api_id("Survey", survey), "clientMutationId": "e1" }),
    )
    .await;
    assert_eq!(
        data(&body)["createExport"]["clientMutationId"],
        "e1",
        "{body}"
    );
    assert_eq!(
        data(&body)["createExport"]["filename"],
        format!("survey-{survey}-responses.csv")
    );
    let (status, headers, csv) = get(&app, &link_path(&body)).await;

    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"survey-{survey}-responses.csv\"").as_str()
    );
    let expected = format!(
        "\u{feff}Response ID,Submitted at,Customer ID,Q1. Question 1,\"Q2. Which, \"\"best\"\"?\",Q3. Question 3,Q4. Question 4,CSI,NPS,NPS category,CSAT satisfied,Helpful\r\n\
         {r1},2026-11-01T10:00:00Z,{c1},5,\"Red; Blue, dark\",9,\"Zoë said \"\"great\"\",\nthanks ☕\",87.5,9,promoter,yes,yes\r\n\
         {r2},2026-11-01T11:30:00Z,{c2},2,'-10 off,6,\"'=HYPERLINK(\"\"http://x\"\")\",,6,detractor,no,no\r\n",
        r1 = api_id("SurveyResponse", first),
        r2 = api_id("SurveyResponse", second),
        c1 = api_id("Customer", ana),
        c2 = api_id("Customer", bo),
    );
    assert_eq!(String::from_utf8(csv.clone()).expect("utf-8"), expected);
    assert_eq!(parse_csv(&csv)[1][6], "Zoë said \"great\",\nthanks ☕");
}

async fn customers_export_guards_cells_and_hides_erased_customers(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let db = app.db();
    let plain = CustomerBuilder::new()
        .name("Dana, \"D\" Ó")
        .email("dana@example.com")
        .phone("+49 30 1234")
        .tag("vip")
        .tag("=cmd")
        .insert(db)
        .await;
    let erased = CustomerBuilder::new()
        .name("Eve")
        .email("eve@example.com")
        .tag("gone")
        .insert(db)
        .await;
    let body = app
        .graphql_as(
            Some(&admin),
            "mutation($input: EraseCustomerInput!) { eraseCustomer(input: $input) { clientMutationId } }",
            json!({ "input": { "id": api_id("Customer", erased) } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let body = create_export(&app, Some(&admin), json!({ "kind": "CUSTOMERS" })).await;
    let (status, _, csv) = get(&app, &link_path(&body)).await;

    assert_eq!(status, 200);
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 3, "header and two customers");
    assert_eq!(
        rows[0][..7],
        [
            "Customer ID",
            "Name",
            "Email",
            "Phone",
            "Birthday",
            "Locale",
            "Tags"
        ]
    );
    assert_eq!(rows[1][0], api_id("Customer", plain));
    assert_eq!(rows[1][1], "Dana, \"D\" Ó");
    assert_eq!(rows[1][2], "dana@example.com");
    assert_eq!(
        rows[1][3], "'+49 30 1234",
        "a phone number starting with + is guarded"
    );
    assert_eq!(rows[1][6], "'=cmd; vip");
    assert_eq!(rows[2][0], api_id("Customer", erased));
    assert_eq!(
        rows[2][1..5],
        ["", "", "", ""],
        "no personal data of the erased customer"
    );
    assert_eq!(rows[2][6], "");
    assert!(!rows[2][15].is_empty(), "erased at is shown");
}

async fn exports_are_refused_to_agents_strangers_and_bad_links(engine: Engine) {
    let app = spawn_app_with(engine, &["--export-link-ttl", "1s"]).await;
    let agent = app.login_as(Role::Agent).await;
    let manager = app.login_as(Role::Manager).await;
    let survey = SurveyBuilder::new("S").insert(app.db()).await;
    let input = json!({ "kind": "SURVEY_RESPONSES", "surveyId": api_id("Survey", survey) });

    let cases = [
        (Some(agent.as_str()), input.clone(), "FORBIDDEN", "agent"),
        (None, input.clone(), "UNAUTHENTICATED", "anonymous"),
        (
            Some(manager.as_str()),
            json!({ "kind": "SURVEY_RESPONSES" }),
            "BAD_USER_INPUT",
            "no survey",
        ),
        (
            Some(manager.as_str()),
            json!({ "kind": "CUSTOMERS", "surveyId": api_id("Survey", survey) }),
            "BAD_USER_INPUT",
            "superfluous survey",
        ),
        (
            Some(manager.as_str()),
            json!({ "kind": "SURVEY_RESPONSES", "surveyId": api_id("Survey", survey + 99) }),
            "NOT_FOUND",
            "unknown survey",
        ),
    ];
    for (token, input, code, what) in cases {
        let body = create_export(&app, token, input).await;
        assert_eq!(error_code(&body), Some(code), "{what}: {body}");
    }

    // A tampered link: one character of the signature changed.
    let body = create_export(&app, Some(&manager), input.clone()).await;
    let path = link_path(&body);
    let mut tampered = path.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let (status, headers, text) = get(&app, &String::from_utf8(tampered).expect("ascii")).await;
    assert_eq!(status, 403);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text, b"This export link is not valid.\n");

    // The user is deactivated: the link stops working.
    users::Entity::update_many()
        .col_expr(
            users::Column::Active,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(users::Column::Role.eq("MANAGER"))
        .exec(app.db())
        .await
        .expect("deactivate");
    let (status, _, text) = get(&app, &path).await;
    assert_eq!(status, 403);
    assert_eq!(
        text,
        b"The user who created this export link may no longer export these data.\n"
    );

    // Expired after the 1 s lifetime.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, _, text) = get(&app, &path).await;
        if status == 410 {
            assert_eq!(text, b"This export link has expired; create a new one.\n");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "link never expired");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn a_large_export_streams_every_response_in_order(engine: Engine) {
    const N: usize = 5000;
    let app = spawn_app(engine).await;
    let manager = app.login_as(Role::Manager).await;
    let db = app.db();
    let survey = SurveyBuilder::new("Big")
        .status(SurveyStatus::Active)
        .insert(db)
        .await;
    let customer = CustomerBuilder::new().insert(db).await;
    let other = SurveyBuilder::new("Other").insert(db).await;
    // A response of another survey in the middle is left out.
    ResponseBuilder::new(other, customer).insert(db).await;
    let now = Utc::now();
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        let invitations = chunk.iter().map(|i| survey_invitations::ActiveModel {
            survey_id: Set(survey),
            customer_id: Set(customer),
            token_hash: Set(format!("big-{i}")),
            expires_at: Set(now + Duration::days(1)),
            created_at: Set(now),
            used_at: Set(Some(now)),
            ..Default::default()
        });
        survey_invitations::Entity::insert_many(invitations)
            .exec(db)
            .await
            .expect("invitations");
    }
    let invitations = survey_invitations::Entity::find()
        .filter(survey_invitations::Column::SurveyId.eq(survey))
        .order_by_asc(survey_invitations::Column::Id)
        .all(db)
        .await
        .expect("invitations");
    for chunk in invitations.chunks(500) {
        let responses = chunk.iter().map(|inv| survey_responses::ActiveModel {
            survey_id: Set(survey),
            invitation_id: Set(inv.id),
            customer_id: Set(customer),
            submitted_at: Set(now),
            ..Default::default()
        });
        survey_responses::Entity::insert_many(responses)
            .exec(db)
            .await
            .expect("responses");
    }
    let expected: Vec<String> = survey_responses::Entity::find()
        .filter(survey_responses::Column::SurveyId.eq(survey))
        .order_by_asc(survey_responses::Column::Id)
        .all(db)
        .await
        .expect("responses")
        .into_iter()
        .map(|r| api_id("SurveyResponse", r.id))
        .collect();
    assert_eq!(expected.len(), N);

    let body = create_export(
        &app,
        Some(&manager),
        json!({ "kind": "SURVEY_RESPONSES", "surveyId": api_id("Survey", survey) }),
    )
    .await;
    let (status, headers, csv) = get(&app, &link_path(&body)).await;

    assert_eq!(status, 200);
    assert!(
        headers.get("content-length").is_none(),
        "streamed in chunks, not buffered"
    );
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), N + 1, "header and every response");
    let ids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, expected, "every response once, in id order");
}

async fn ledger_export_holds_one_programs_entries_of_the_period(engine: Engine) {
    use domain::loyalty::{ledger, LedgerReason, NewEntry};
    let app = spawn_app(engine).await;
    let manager = app.login_as(Role::Manager).await;
    let agent = app.login_as(Role::Agent).await;
    let db = app.db();
    let program = ProgramBuilder::new("Club").insert(db).await;
    let other_program = ProgramBuilder::new("Other club").insert(db).await;
    let ana = CustomerBuilder::new().name("Ana").insert(db).await;
    let bo = CustomerBuilder::new().name("Bo").insert(db).await;
    let ana_m = insert_membership(db, program, ana).await;
    let bo_m = insert_membership(db, program, bo).await;
    let bo_elsewhere = insert_membership(db, other_program, bo).await;
    // (membership, points, reason, reference, occurred at, expires at, note)
    #[rustfmt::skip]
    let plan = [
        (ana_m, 100, LedgerReason::Purchase, "purchase:1", "2026-10-31T23:59:59Z", None, None),
        (ana_m, 40, LedgerReason::Purchase, "purchase:2", "2026-11-01T00:00:00Z", Some("2027-11-01T00:00:00Z"), None),
        (bo_elsewhere, 10, LedgerReason::Promotion, "promotion:1", "2026-11-10T00:00:00Z", None, None),
        (bo_m, 25, LedgerReason::Adjustment, "goodwill:1", "2026-11-15T12:30:00Z", None, Some("=HYPERLINK(\"x\"), sorry")),
        (ana_m, -50, LedgerReason::Redemption, "redemption:7", "2026-11-30T23:59:59Z", None, None),
        (bo_m, 5, LedgerReason::Birthday, "birthday:2026", "2026-12-01T00:00:00Z", None, None),
    ];
    let mut entries = Vec::new();
    for (membership, delta, reason, key, occurred, expires, note) in plan {
        let entry = ledger::append(
            db,
            NewEntry {
                membership_id: membership,
                delta,
                reason,
                source_key: key.to_owned(),
                occurred_at: at(occurred),
                expires_at: expires.map(at),
                actor_id: None,
                note: note.map(str::to_owned),
            },
        )
        .await
        .expect("entry")
        .expect("new entry");
        entries.push(entry.id);
    }
    let input = |program: i64, from: &str, to: &str| json!({ "kind": "LEDGER_ENTRIES", "programId": api_id("LoyaltyProgram", program), "from": from, "to": to });

    // November 2026: `from` inclusive, `to` exclusive; the other programme's
    // entry is left out; id order.
    let body = create_export(
        &app,
        Some(&manager),
        input(program, "2026-11-01", "2026-12-01"),
    )
    .await;
    assert_eq!(
        data(&body)["createExport"]["filename"],
        format!("program-{program}-ledger-2026-11-01-2026-12-01.csv")
    );
    let path = link_path(&body);
    let (status, headers, csv) = get(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let e = |i: usize| api_id("LedgerEntry", entries[i]);
    let expected = format!(
        "\u{feff}Entry ID,Membership ID,Customer ID,Occurred at,Points,Reason,Reference,Expires at,Note\r\n\
         {e1},{ma},{ca},2026-11-01T00:00:00Z,40,PURCHASE,purchase:2,2027-11-01T00:00:00Z,\r\n\
         {e3},{mb},{cb},2026-11-15T12:30:00Z,25,ADJUSTMENT,goodwill:1,,\"'=HYPERLINK(\"\"x\"\"), sorry\"\r\n\
         {e4},{ma},{ca},2026-11-30T23:59:59Z,-50,REDEMPTION,redemption:7,,\r\n",
        e1 = e(1),
        e3 = e(3),
        e4 = e(4),
        ma = api_id("Membership", ana_m),
        mb = api_id("Membership", bo_m),
        ca = api_id("Customer", ana),
        cb = api_id("Customer", bo),
    );
    assert_eq!(String::from_utf8(csv).expect("utf-8"), expected);

    // The bounds move with the period: from the first second of 31 October to
    // the end of the day before 1 December.
    let body = create_export(
        &app,
        Some(&manager),
        input(program, "2026-10-31", "2026-12-02"),
    )
    .await;
    let (_, _, csv) = get(&app, &link_path(&body)).await;
    let ids: Vec<String> = parse_csv(&csv)[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, [e(0), e(1), e(3), e(4), e(5)]);
    // An empty period: the header only.
    let body = create_export(
        &app,
        Some(&manager),
        input(program, "2026-11-02", "2026-11-02"),
    )
    .await;
    let (status, _, csv) = get(&app, &link_path(&body)).await;
    assert_eq!(status, 200);
    assert_eq!(parse_csv(&csv).len(), 1, "the header only");

    // Refusals.
    let field = |body: &Value| {
        body["errors"][0]["extensions"]["field"]
            .as_str()
            .map(str::to_owned)
    };
    let body = create_export(
        &app,
        Some(&agent),
        input(program, "2026-11-01", "2026-12-01"),
    )
    .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "agent: {body}");
    let body = create_export(
        &app,
        Some(&manager),
        input(other_program + 99, "2026-11-01", "2026-12-01"),
    )
    .await;
    assert_eq!(
        error_code(&body),
        Some("NOT_FOUND"),
        "unknown programme: {body}"
    );
    let body = create_export(
        &app,
        Some(&manager),
        input(program, "2026-12-01", "2026-11-01"),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field(&body).as_deref(), Some("from"), "{body}");
    let body = create_export(
        &app,
        Some(&manager),
        json!({ "kind": "LEDGER_ENTRIES", "programId": api_id("LoyaltyProgram", program), "from": "2026-11-01" }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field(&body).as_deref(), Some("to"), "{body}");

    // The manager becomes an agent: the link made before stops working.
    users::Entity::update_many()
        .col_expr(
            users::Column::Role,
            sea_orm::sea_query::Expr::value("AGENT"),
        )
        .filter(users::Column::Role.eq("MANAGER"))
        .exec(db)
        .await
        .expect("demote");
    let (status, _, text) = get(&app, &path).await;
    assert_eq!(status, 403);
    assert_eq!(
        text,
        b"The user who created this export link may no longer export these data.\n"
    );
}

/// Rows of the wide customers export: 30 pages of about 600 bytes a row.
const WIDE_CUSTOMERS: usize = 30_000;

/// Inserts [`WIDE_CUSTOMERS`] customers with long names, so that the export
/// (about 18 MB) is far larger than what the sockets between server and
/// client buffer.
async fn insert_wide_customers(db: &sea_orm::DatabaseConnection) {
    let padding = "x".repeat(560);
    for chunk in (0..WIDE_CUSTOMERS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| {
            CustomerBuilder::new()
                .name(format!("Customer {i} {padding}"))
                .model()
        });
        entity::customers::Entity::insert_many(rows)
            .exec(db)
            .await
            .expect("customers");
    }
}

/// Records in a CSV body whose fields hold no line breaks.
fn lines(csv: &[u8]) -> usize {
    csv.windows(2).filter(|w| *w == b"\r\n").count()
}

/// The statement count once it has not moved for a second.
async fn settled_statements(app: &TestApp) -> u64 {
    let mut last = app.statements();
    let mut still = 0;
    while still < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = app.statements();
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    last
}

/// docs/exports.md: "When the client disconnects, the server stops reading".
/// A client that hangs up after the first bytes costs a small share of the
/// statements of a complete download, and the count stops growing.
async fn a_client_that_hangs_up_stops_the_reading(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    insert_wide_customers(app.db()).await;
    let body = create_export(&app, Some(&admin), json!({ "kind": "CUSTOMERS" })).await;
    let path = link_path(&body);

    // A complete download: two statements a page (customers, their tags).
    let before = settled_statements(&app).await;
    let (status, _, csv) = get(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(lines(&csv), WIDE_CUSTOMERS + 1, "header and every customer");
    let complete = settled_statements(&app).await - before;
    let pages = WIDE_CUSTOMERS as u64 / domain::exports::PAGE_ROWS;
    assert!(
        complete >= 2 * pages,
        "a complete download reads every page: {complete} statements"
    );

    // The same link, read up to the first bytes, then the connection closed.
    let before = settled_statements(&app).await;
    let mut response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let first = response
        .chunk()
        .await
        .expect("first bytes")
        .expect("a chunk");
    assert!(first.starts_with(domain::exports::BOM));
    drop(response);
    let abandoned = settled_statements(&app).await - before;
    eprintln!("{engine:?}: complete download {complete} statements, abandoned {abandoned}");
    assert!(
        abandoned * 3 < complete,
        "reading stopped when the client left: {abandoned} statements against {complete} for the whole file"
    );
}

/// docs/exports.md: "A database failure in the middle aborts the response".
/// The customers table disappears (renamed) while the client is half-way:
/// the chunked transfer ends without its terminating chunk, so the client
/// sees a failed download, not a shorter file that looks complete. Once the
/// table is back, the same link downloads the whole file.
async fn a_database_failure_mid_stream_aborts_the_download(engine: Engine) {
    use sea_orm::ConnectionTrait as _;
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    insert_wide_customers(app.db()).await;
    let body = create_export(&app, Some(&admin), json!({ "kind": "CUSTOMERS" })).await;
    let path = link_path(&body);

    let mut response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let mut received = response
        .chunk()
        .await
        .expect("first bytes")
        .expect("a chunk")
        .to_vec();
    // The server now waits for the client to read; the table goes away.
    app.db()
        .execute_unprepared("ALTER TABLE customers RENAME TO customers_away")
        .await
        .expect("rename");
    let ending = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let records = lines(&received);
    eprintln!("{engine:?}: {records} records, then {ending:?}");
    assert!(
        ending.is_err(),
        "the transfer is aborted, not ended like a complete file ({records} records arrived)"
    );
    assert!(records < WIDE_CUSTOMERS + 1, "{records} records");

    app.db()
        .execute_unprepared("ALTER TABLE customers_away RENAME TO customers")
        .await
        .expect("rename back");
    let (status, _, csv) = get(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(
        lines(&csv),
        WIDE_CUSTOMERS + 1,
        "the whole file once the table is back"
    );
}
