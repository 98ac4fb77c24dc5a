//! Invitations and reminders by e-mail (issue 20 §2) against a real SMTP
//! server on loopback (`tests/smtp/sink.py`, Python `aiosmtpd`), whose
//! received messages the tests read: headers, link, language, consent,
//! reminders only while pending, the opt-out, retries while the server is
//! down, and the delivery status staff see.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use domain::auth::Role;
use serde_json::{json, Value};

use crate::fixtures::{api_id, CustomerBuilder};
use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine, TestApp};
use crate::surveys::{fixture, submit, Fixture};

on_both_engines!(
    invitations_are_mailed_in_their_language_with_a_working_link_and_an_opt_out,
    reminders_go_only_to_pending_invitations_days_apart,
    a_mail_server_that_is_down_is_retried_until_it_takes_the_mail,
    email_delivery_is_refused_without_a_mail_server,
);

/// A running `sink.py`: stopped (stdin closed, then killed) on drop.
struct Smtp {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Smtp {
    /// A free loopback port for a server started later.
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port()
    }

    fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut smtp = Self {
            port,
            dir,
            child: None,
        };
        smtp.restart();
        smtp
    }

    fn start() -> Self {
        Self::start_on(Self::free_port())
    }

    fn restart(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp/sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("sink output");
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        self.child = Some(child);
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// The messages received so far, in order.
    fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived (30 s at most).
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} messages arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

const INVITE: &str = "mutation($input: InviteToSurveyInput!) { inviteToSurvey(input: $input) {
  invitations { invitationId customerId token }
  skipped { customerId reason } } }";
const DELIVERIES: &str = "query($s: ID!) { surveyInvitations(surveyId: $s, first: 50) { edges { node {
  id customerId status emailDeliveries { kind state attempts lastError queuedAt scheduledAt sentAt } } } } }";
const REMINDERS: &str = "mutation($input: SetSurveyRemindersInput!) { setSurveyReminders(input: $input) {
  clientMutationId reminders { count intervalDays } survey { id reminders { count intervalDays } } } }";

async fn app_with_mail(engine: Engine, smtp_url: &str, extra: &[&str]) -> TestApp {
    let mut args = vec![
        "--smtp-url",
        smtp_url,
        "--mail-from",
        "Rapport Surveys <surveys@rapport.example>",
        "--outbox-poll",
        "1s",
    ];
    args.extend_from_slice(extra);
    spawn_app_with(engine, &args).await
}

async fn customer(
    app: &TestApp,
    name: &str,
    email: Option<&str>,
    locale: &str,
    consent: bool,
) -> i64 {
    let mut builder = CustomerBuilder::new()
        .name(name)
        .locale(locale)
        .marketing_consent(consent);
    if let Some(email) = email {
        builder = builder.email(email);
    }
    builder.insert(app.db()).await
}

async fn invite_by_email(
    app: &TestApp,
    f: &Fixture,
    customers: &[i64],
    locale: Option<&str>,
) -> Value {
    let ids: Vec<String> = customers.iter().map(|c| api_id("Customer", *c)).collect();
    app.graphql_as(
        Some(&f.admin),
        INVITE,
        json!({ "input": {
            "surveyId": f.survey_id, "customerIds": ids,
            "expiresAt": Utc::now() + Days::days(7), "delivery": "EMAIL", "locale": locale,
        } }),
    )
    .await
}

/// The invitations of the fixture's survey by customer key.
async fn deliveries(app: &TestApp, f: &Fixture) -> Vec<Value> {
    let body = app
        .graphql_as(Some(&f.admin), DELIVERIES, json!({ "s": f.survey_id }))
        .await;
    data(&body)["surveyInvitations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn deliveries_of(app: &TestApp, f: &Fixture, customer: i64) -> Vec<Value> {
    let id = api_id("Customer", customer);
    deliveries(app, f)
        .await
        .into_iter()
        .find(|n| n["customerId"] == id.as_str())
        .map(|n| n["emailDeliveries"].as_array().expect("list").clone())
        .unwrap_or_default()
}

fn header<'a>(message: &'a Value, name: &str) -> Vec<&'a str> {
    message["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .map(|h| h[1].as_str().expect("value"))
        .collect()
}

fn message_to<'a>(messages: &'a [Value], address: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| {
            m["rcptTos"]
                .as_array()
                .expect("rcpt")
                .iter()
                .any(|r| r == address)
        })
        .collect()
}

/// The invitation token in a message's form link.
fn link_token(message: &Value) -> String {
    let text = message["text"].as_str().expect("text part");
    let start = text.find("/s/").expect("a form link") + 3;
    text[start..start + 43].to_owned()
}

/// The payloads of the e-mail messages in the outbox.
async fn email_payloads(app: &TestApp) -> Vec<Value> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db()
        .query_all_raw(Statement::from_string(
            app.db().get_database_backend(),
            "SELECT payload FROM outbox_messages WHERE channel = 'email'",
        ))
        .await
        .expect("query");
    rows.iter()
        .map(|r| {
            serde_json::from_str(&r.try_get::<String>("", "payload").expect("payload"))
                .expect("json")
        })
        .collect()
}

async fn invitations_are_mailed_in_their_language_with_a_working_link_and_an_opt_out(
    engine: Engine,
) {
    let smtp = Smtp::start();
    let app = app_with_mail(engine, &smtp.url(), &[]).await;
    let f = fixture(&app).await;
    let ann = customer(&app, "Ann Smith", Some("ann@example.com"), "en-GB", true).await;
    // A name that tries to add a header line.
    let bob = customer(
        &app,
        "Bob <b>\r\nBcc: evil@example.com",
        Some("bob@example.com"),
        "de-AT",
        true,
    )
    .await;
    let cid = customer(&app, "Cid", Some("cid@example.com"), "en", false).await;
    let dan = customer(&app, "Dan", None, "en", true).await;

    let body = invite_by_email(&app, &f, &[ann, bob, cid, dan], None).await;
    let payload = &data(&body)["inviteToSurvey"];
    assert_eq!(
        payload["invitations"].as_array().expect("list").len(),
        2,
        "{body}"
    );
    let skipped: Vec<(String, String)> = payload["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["customerId"].as_str().expect("id").to_owned(),
                s["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            (api_id("Customer", cid), "NO_CONSENT".to_owned()),
            (api_id("Customer", dan), "NO_EMAIL".to_owned()),
        ]
    );

    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2, "one message per mailable customer");
    let to_ann = message_to(&messages, "ann@example.com");
    let to_bob = message_to(&messages, "bob@example.com");
    assert_eq!((to_ann.len(), to_bob.len()), (1, 1));
    let (a, b) = (to_ann[0], to_bob[0]);
    assert_eq!(a["from"], "Rapport Surveys <surveys@rapport.example>");
    assert_eq!(a["to"], "Ann Smith <ann@example.com>");
    assert_eq!(a["subject"], "Your opinion on How was your flight?");
    assert_eq!(b["subject"], "Ihre Meinung zu How was your flight?");
    assert!(
        b["text"].as_str().expect("text").contains("Zur Umfrage"),
        "German body"
    );
    assert_eq!(header(b, "Content-Language"), vec!["de"]);
    // The name stayed inside the To header: no injected Bcc, one recipient.
    assert!(header(b, "Bcc").is_empty(), "{b}");
    assert_eq!(b["rcptTos"], json!(["bob@example.com"]));
    assert!(b["to"].as_str().expect("to").contains("bob@example.com"));
    // HTML-escaped in the HTML part.
    let html = b["html"].as_str().expect("html part");
    assert!(html.contains("Bob &lt;b&gt;"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    // One-click unsubscribe headers, and the visible link in both parts.
    let unsubscribe = header(a, "List-Unsubscribe");
    assert_eq!(unsubscribe.len(), 1);
    let unsubscribe_url = unsubscribe[0]
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();
    assert!(
        unsubscribe_url.contains("/unsubscribe/"),
        "{unsubscribe_url}"
    );
    assert_eq!(
        header(a, "List-Unsubscribe-Post"),
        vec!["List-Unsubscribe=One-Click"]
    );
    assert!(a["text"].as_str().expect("text").contains(&unsubscribe_url));
    assert!(a["html"].as_str().expect("html").contains(&unsubscribe_url));

    // Status: both sent, once; the links left the outbox once sent. The
    // server records the outcome just after the mail server took the
    // message, so the status may lag the mail by a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ann_status = deliveries_of(&app, &f, ann).await;
    while ann_status.first().is_some_and(|s| s["state"] == "QUEUED") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ann_status = deliveries_of(&app, &f, ann).await;
    }
    assert_eq!(ann_status.len(), 1);
    assert_eq!(ann_status[0]["kind"], "INVITATION");
    assert_eq!(ann_status[0]["state"], "SENT");
    assert_eq!(ann_status[0]["attempts"], 1);
    assert!(ann_status[0]["sentAt"].is_string());
    let deadline = Instant::now() + Duration::from_secs(10);
    while email_payloads(&app)
        .await
        .iter()
        .any(|p| p.get("token").is_some())
    {
        assert!(Instant::now() < deadline, "a sent message kept its link");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The link works: Ann answers through it.
    let answered = submit(&app, &link_token(a), f.good_answers()).await;
    assert!(data(&answered)["submitSurveyResponse"]["responseId"].is_string());

    // The opt-out: GET changes nothing, POST records it.
    let path = &unsubscribe_url[unsubscribe_url.find("/unsubscribe/").expect("path")..];
    let bob_path = {
        let u = header(b, "List-Unsubscribe")[0];
        u[u.find("/unsubscribe/").expect("path")..]
            .trim_end_matches('>')
            .to_owned()
    };
    let page = app
        .client
        .get(format!("{}{bob_path}", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("page").contains("method=\"post\""));
    let again = invite_by_email(&app, &f, &[bob], None).await;
    assert_eq!(
        data(&again)["inviteToSurvey"]["invitations"]
            .as_array()
            .expect("list")
            .len(),
        1,
        "GET did not opt out"
    );
    smtp.wait_for(3).await;
    let posted = app
        .client
        .post(format!("{}{bob_path}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), 200);
    let forged = app
        .client
        .post(format!(
            "{}{}",
            app.address,
            path.replace("/unsubscribe/", "/unsubscribe/9")
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 404, "a forged token records nothing");
    let refused = invite_by_email(&app, &f, &[bob], None).await;
    assert_eq!(
        data(&refused)["inviteToSurvey"]["skipped"],
        json!([{ "customerId": api_id("Customer", bob), "reason": "OPTED_OUT" }])
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 3, "no mail after the opt-out");
}

async fn reminders_go_only_to_pending_invitations_days_apart(engine: Engine) {
    let smtp = Smtp::start();
    // A reminder "day" of 3 s.
    let app = app_with_mail(engine, &smtp.url(), &["--reminder-day", "3s"]).await;
    let f = fixture(&app).await;
    let set = app
        .graphql_as(
            Some(&f.admin),
            REMINDERS,
            json!({ "input": { "surveyId": f.survey_id, "count": 2, "intervalDays": 1, "clientMutationId": "m" } }),
        )
        .await;
    assert_eq!(
        data(&set)["setSurveyReminders"]["survey"]["reminders"],
        json!({ "count": 2, "intervalDays": 1 })
    );
    let bad = app
        .graphql_as(
            Some(&f.admin),
            REMINDERS,
            json!({ "input": { "surveyId": f.survey_id, "count": 4, "intervalDays": 1 } }),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    let agent = app.login_as(Role::Agent).await;
    let forbidden = app
        .graphql_as(
            Some(&agent),
            REMINDERS,
            json!({ "input": { "surveyId": f.survey_id, "count": 0, "intervalDays": 1 } }),
        )
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"));

    // The survey has no Spanish translation, so the invitations carry no
    // locale (an explicit `locale` must be one of the survey's); the
    // e-mails follow each customer's own locale.
    let ann = customer(&app, "Ann", Some("ann@example.com"), "es", true).await;
    let bob = customer(&app, "Bob", Some("bob@example.com"), "es-MX", true).await;
    // Reminders fall due whole "days" after the invitation is issued, which
    // is after this instant (the sink stamps mails with the same clock).
    let issued = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    data(&invite_by_email(&app, &f, &[ann, bob], None).await);
    let first = smtp.wait_for(2).await;
    let bob_invitation = message_to(&first, "bob@example.com")[0].clone();
    assert_eq!(
        bob_invitation["subject"], "Su opinión sobre How was your flight?",
        "the customer's locale picks the e-mail's language"
    );
    // Bob answers at once; Ann does not.
    data(&submit(&app, &link_token(&bob_invitation), f.good_answers()).await);

    let all = smtp.wait_for(4).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = if smtp.messages().len() > all.len() {
        smtp.messages()
    } else {
        all
    };
    let to_ann = message_to(&all, "ann@example.com");
    let to_bob = message_to(&all, "bob@example.com");
    assert_eq!(to_bob.len(), 1, "no reminder after the submission");
    assert_eq!(to_ann.len(), 3, "the invitation and two reminders");
    assert_eq!(
        to_ann[1]["subject"],
        "Recordatorio: su opinión sobre How was your flight?"
    );
    let times: Vec<f64> = to_ann
        .iter()
        .map(|m| m["received"].as_f64().expect("time"))
        .collect();
    // Never early: the first a day, the second two days after the
    // invitation was issued (the mails themselves may leave a poll later,
    // more on a busy machine, so the gaps between them are not exact; the
    // allowance covers the stored time's rounding).
    assert!(
        times[1] - issued >= 3.0 - 0.05,
        "first reminder a day after the invitation: issued {issued}, {times:?}"
    );
    assert!(
        times[2] - issued >= 2.0 * 3.0 - 0.05,
        "second reminder two days after the invitation: issued {issued}, {times:?}"
    );
    assert!(
        times[2] > times[1] && times[1] > times[0],
        "in order: {times:?}"
    );
    // The reminders carry Ann's working link.
    assert_eq!(link_token(to_ann[2]), link_token(to_ann[0]));

    let bob_status = deliveries_of(&app, &f, bob).await;
    let states: Vec<(&str, &str)> = bob_status
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().expect("kind"),
                d["state"].as_str().expect("state"),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("INVITATION", "SENT"),
            ("REMINDER", "NOT_NEEDED"),
            ("REMINDER", "NOT_NEEDED")
        ]
    );
    assert!(bob_status[1]["lastError"]
        .as_str()
        .expect("reason")
        .contains("answered"));
    let ann_status = deliveries_of(&app, &f, ann).await;
    let ann_states: Vec<&str> = ann_status
        .iter()
        .map(|d| d["state"].as_str().expect("state"))
        .collect();
    assert_eq!(ann_states, vec!["SENT", "SENT", "SENT"]);
    // Nothing holds a link any more: Bob's answered, Ann's all sent.
    assert!(email_payloads(&app)
        .await
        .iter()
        .all(|p| p.get("token").is_none()));
}

async fn a_mail_server_that_is_down_is_retried_until_it_takes_the_mail(engine: Engine) {
    let port = Smtp::free_port();
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let app = app_with_mail(engine, &url, &["--smtp-retry", "1s"]).await;
    let f = fixture(&app).await;
    let ann = customer(&app, "Ann", Some("ann@example.com"), "en", true).await;
    data(&invite_by_email(&app, &f, &[ann], None).await);
    // Failed attempts are visible while nothing listens.
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let status = deliveries_of(&app, &f, ann).await;
        if status
            .first()
            .is_some_and(|d| d["attempts"].as_i64() >= Some(1) && d["lastError"].is_string())
        {
            break status[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no failed attempt recorded: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed["state"], "QUEUED", "retried later: {failed}");
    assert!(failed["scheduledAt"].is_string());

    let smtp = Smtp::start_on(port);
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages[0]["to"], "Ann <ann@example.com>");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = deliveries_of(&app, &f, ann).await;
        if status[0]["state"] == "SENT" {
            assert!(status[0]["attempts"].as_i64() >= Some(2), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "not marked sent: {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 1, "sent once");
}

async fn email_delivery_is_refused_without_a_mail_server(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let ann = customer(&app, "Ann", Some("ann@example.com"), "en", true).await;
    let body = invite_by_email(&app, &f, &[ann], None).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        deliveries(&app, &f).await.is_empty(),
        "no invitation issued"
    );
    assert!(email_payloads(&app).await.is_empty(), "nothing queued");
}
