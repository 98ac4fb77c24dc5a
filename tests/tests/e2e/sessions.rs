//! WebSocket sessions (`/graphql/ws`, graphql-transport-ws): no socket
//! outlives the authority of its user or token, and the protocol's close
//! codes and limits hold.

use std::time::{Duration, Instant};

use domain::auth::Role;
use futures::{SinkExt as _, StreamExt as _};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::fixtures::PurchaseBuilder;
use crate::helpers::{data, error_code, spawn_app, spawn_app_with, Engine, TestApp};
use crate::surveys::{ann_invited, insert_customer, submit};

on_both_engines!(
    a_demoted_admins_socket_is_forbidden_on_the_next_operation,
    a_role_change_ends_running_subscriptions,
    a_deactivated_users_subscription_ends_before_the_next_event,
    a_deactivated_users_idle_socket_is_closed_and_refused,
    an_expired_access_token_closes_the_socket,
    protocol_violations_close_with_graphql_ws_codes,
    sockets_per_client_address_are_capped,
    customer_card_fields_answer_over_the_socket,
);

// ------------------------------------------------------------ the client

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the server sent: a protocol message, or the close code (1006 when
/// the connection ended without a close frame).
#[derive(Debug)]
pub(crate) enum Got {
    Msg(Value),
    Closed(u16),
}

/// Opens `/graphql/ws` with the graphql-transport-ws subprotocol and extra
/// headers; `Err(status)` when the upgrade is refused.
pub(crate) async fn open(app: &TestApp, headers: &[(&'static str, &str)]) -> Result<Socket, u16> {
    let mut request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, value.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("websocket: {other}"),
    }
}

pub(crate) async fn send(ws: &mut Socket, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next protocol message or the close, within `within`.
pub(crate) async fn recv(ws: &mut Socket, within: Duration) -> Got {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("nothing from the server within {within:?}"));
        match next {
            Some(Ok(Message::Text(text))) => {
                return Got::Msg(serde_json::from_str(&text).expect("json"))
            }
            Some(Ok(Message::Close(frame))) => {
                return Got::Closed(frame.map_or(1005, |f| u16::from(f.code)))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Got::Closed(1006),
        }
    }
}

/// Sends `connection_init` with the bearer token; the server's answer.
pub(crate) async fn init(ws: &mut Socket, token: &str) -> Got {
    send(
        ws,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    recv(ws, Duration::from_secs(10)).await
}

fn assert_ack(got: Got) {
    match got {
        Got::Msg(m) if m["type"] == "connection_ack" => {}
        other => panic!("expected connection_ack, got {other:?}"),
    }
}

/// Reads until the socket closes; its code. Panics on a `next`.
async fn closed_without_events(ws: &mut Socket, within: Duration) -> u16 {
    loop {
        match recv(ws, within).await {
            Got::Closed(code) => return code,
            Got::Msg(m) => assert_ne!(m["type"], "next", "delivered after the fact: {m}"),
        }
    }
}

fn subscribe(id: &str, query: &str, variables: Value) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
}

/// Runs a query or mutation as operation `id`; its one response.
async fn run(ws: &mut Socket, id: &str, query: &str, variables: Value) -> Value {
    send(ws, subscribe(id, query, variables)).await;
    let mut response = None;
    loop {
        match recv(ws, Duration::from_secs(20)).await {
            Got::Msg(m) if m["id"] == id && m["type"] == "next" => {
                response = Some(m["payload"].clone())
            }
            Got::Msg(m) if m["id"] == id && m["type"] == "complete" => {
                return response.expect("a response before complete")
            }
            Got::Msg(m) if m["id"] == id => panic!("operation {id}: {m}"),
            Got::Msg(_) => continue,
            Got::Closed(code) => panic!("closed with {code} while running {id}"),
        }
    }
}

const FEEDBACK: &str = "subscription { feedbackReceived { id csi } }";
const CREATE_USER: &str = "mutation($e: String!, $r: Role!) { createUser(input: { email: $e, password: \"correct horse battery staple\", role: $r }) { user { id role } } }";
const SET_ROLE: &str =
    "mutation($u: ID!, $r: Role!) { updateUserRole(input: { id: $u, role: $r }) { user { role } } }";
const DEACTIVATE: &str =
    "mutation($u: ID!) { deactivateUser(input: { id: $u }) { user { active } } }";

async fn user_id(app: &TestApp, token: &str) -> String {
    let body = app
        .graphql_as(Some(token), "{ me { id } }", json!({}))
        .await;
    data(&body)["me"]["id"].as_str().expect("id").to_owned()
}

async fn users_with_email(app: &TestApp, email: &str) -> u64 {
    entity::users::Entity::find()
        .filter(entity::users::Column::Email.eq(email))
        .count(app.db())
        .await
        .expect("count")
}

// ------------------------------------------------------------ the tests

async fn a_demoted_admins_socket_is_forbidden_on_the_next_operation(engine: Engine) {
    // Arrange: an admin's socket that can create users.
    let app = spawn_app(engine).await;
    let root = app.login_as(Role::Admin).await;
    let admin = app.login_as(Role::Admin).await;
    let admin_id = user_id(&app, &admin).await;
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &admin).await);
    let before = run(
        &mut ws,
        "1",
        CREATE_USER,
        json!({ "e": "colleague@example.com", "r": "AGENT" }),
    )
    .await;
    assert_eq!(data(&before)["createUser"]["user"]["role"], "AGENT");

    // Act: another admin demotes her over HTTP; she tries again on the socket.
    let demoted = app
        .graphql_as(
            Some(&root),
            SET_ROLE,
            json!({ "u": admin_id, "r": "AGENT" }),
        )
        .await;
    assert_eq!(data(&demoted)["updateUserRole"]["user"]["role"], "AGENT");
    let after = run(
        &mut ws,
        "2",
        CREATE_USER,
        json!({ "e": "backdoor@example.com", "r": "ADMIN" }),
    )
    .await;
    let me = run(&mut ws, "3", "{ me { role } }", json!({})).await;

    // Assert
    assert_eq!(error_code(&after), Some("FORBIDDEN"), "{after}");
    assert_eq!(users_with_email(&app, "backdoor@example.com").await, 0);
    assert_eq!(data(&me)["me"]["role"], "AGENT");
}

async fn a_role_change_ends_running_subscriptions(engine: Engine) {
    // Arrange: a manager's running subscription; heartbeats every second.
    let app = spawn_app_with(engine, &["--ws-heartbeat", "1s"]).await;
    let root = app.login_as(Role::Admin).await;
    let manager = app.login_as(Role::Manager).await;
    let manager_id = user_id(&app, &manager).await;
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &manager).await);
    send(&mut ws, subscribe("s", FEEDBACK, json!({}))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act
    let demoted = app
        .graphql_as(
            Some(&root),
            SET_ROLE,
            json!({ "u": manager_id, "r": "AGENT" }),
        )
        .await;
    assert_eq!(data(&demoted)["updateUserRole"]["user"]["role"], "AGENT");
    let ended = recv(&mut ws, Duration::from_secs(5)).await;

    // Assert: the subscription ends with FORBIDDEN; the socket goes on with
    // the new role.
    let Got::Msg(ended) = ended else {
        panic!("expected an error message, got {ended:?}");
    };
    assert_eq!(ended["id"], "s");
    assert_eq!(ended["type"], "error");
    assert_eq!(ended["payload"][0]["extensions"]["code"], "FORBIDDEN");
    let me = run(&mut ws, "q", "{ me { role } }", json!({})).await;
    assert_eq!(data(&me)["me"]["role"], "AGENT");
}

async fn a_deactivated_users_subscription_ends_before_the_next_event(engine: Engine) {
    // Arrange: an agent subscribed to feedback; an invitation ready to answer.
    let app = spawn_app(engine).await;
    let (f, _, token) = ann_invited(&app).await;
    let agent = app.login_as(Role::Agent).await;
    let agent_id = user_id(&app, &agent).await;
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &agent).await);
    send(&mut ws, subscribe("s", FEEDBACK, json!({}))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Act: deactivate the agent, then a response arrives.
    let off = app
        .graphql_as(Some(&f.admin), DEACTIVATE, json!({ "u": agent_id }))
        .await;
    assert_eq!(data(&off)["deactivateUser"]["user"]["active"], false);
    let receipt = submit(&app, &token, f.good_answers()).await;
    assert!(data(&receipt)["submitSurveyResponse"]["responseId"].is_string());

    // Assert: the event is not delivered; the socket closes with 4403.
    assert_eq!(
        closed_without_events(&mut ws, Duration::from_secs(10)).await,
        4403
    );
}

async fn a_deactivated_users_idle_socket_is_closed_and_refused(engine: Engine) {
    // Arrange: heartbeats every second; an agent's idle subscription.
    let app = spawn_app_with(engine, &["--ws-heartbeat", "1s"]).await;
    let admin = app.login_as(Role::Admin).await;
    let agent = app.login_as(Role::Agent).await;
    let agent_id = user_id(&app, &agent).await;
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &agent).await);
    send(&mut ws, subscribe("s", FEEDBACK, json!({}))).await;

    // Act
    let off = app
        .graphql_as(Some(&admin), DEACTIVATE, json!({ "u": agent_id }))
        .await;
    assert_eq!(data(&off)["deactivateUser"]["user"]["active"], false);
    let started = Instant::now();
    let code = closed_without_events(&mut ws, Duration::from_secs(5)).await;
    let mut again = open(&app, &[]).await.expect("upgrade");
    let refused = init(&mut again, &agent).await;

    // Assert: closed within a heartbeat or two, and a new socket is refused.
    assert_eq!(code, 4403);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(refused, Got::Closed(4403)), "{refused:?}");
}

async fn an_expired_access_token_closes_the_socket(engine: Engine) {
    // Arrange: access tokens live 3 s.
    let app = spawn_app_with(engine, &["--access-token-ttl", "3s"]).await;
    let agent = app.login_as(Role::Agent).await;
    let issued = Instant::now();
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &agent).await);
    let me = run(&mut ws, "1", "{ me { role } }", json!({})).await;
    assert_eq!(data(&me)["me"]["role"], "AGENT");
    send(&mut ws, subscribe("s", FEEDBACK, json!({}))).await;

    // Act: wait for `exp`.
    let code = closed_without_events(&mut ws, Duration::from_secs(8)).await;
    let closed_after = issued.elapsed();
    // Past the verifier's 5 s leeway the token no longer opens a socket.
    tokio::time::sleep(Duration::from_secs(9).saturating_sub(issued.elapsed())).await;
    let mut again = open(&app, &[]).await.expect("upgrade");
    let refused = init(&mut again, &agent).await;

    // Assert
    assert_eq!(code, 4403);
    assert!(closed_after <= Duration::from_secs(5), "{closed_after:?}");
    assert!(matches!(refused, Got::Closed(4401)), "{refused:?}");
}

async fn protocol_violations_close_with_graphql_ws_codes(engine: Engine) {
    let app = spawn_app_with(
        engine,
        &["--ws-init-timeout", "1s", "--ws-max-operations", "2"],
    )
    .await;
    let agent = app.login_as(Role::Agent).await;

    // No connection_init within the timeout: 4408.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    let started = Instant::now();
    assert!(matches!(
        recv(&mut ws, Duration::from_secs(5)).await,
        Got::Closed(4408)
    ));
    assert!(started.elapsed() < Duration::from_secs(3));

    // A repeated connection_init: 4429.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &agent).await);
    let twice = init(&mut ws, &agent).await;
    assert!(matches!(twice, Got::Closed(4429)), "{twice:?}");

    // A bad token, or none: 4401.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    let bad = init(&mut ws, "not.a.token").await;
    assert!(matches!(bad, Got::Closed(4401)), "{bad:?}");
    let mut ws = open(&app, &[]).await.expect("upgrade");
    send(&mut ws, json!({ "type": "connection_init", "payload": {} })).await;
    let none = recv(&mut ws, Duration::from_secs(5)).await;
    assert!(matches!(none, Got::Closed(4401)), "{none:?}");

    // subscribe before the acknowledgement: 4401.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    send(&mut ws, subscribe("1", "{ me { role } }", json!({}))).await;
    let early = recv(&mut ws, Duration::from_secs(5)).await;
    assert!(matches!(early, Got::Closed(4401)), "{early:?}");

    // Not a protocol message: 4400.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    ws.send(Message::Text("hello".into())).await.expect("send");
    let junk = recv(&mut ws, Duration::from_secs(5)).await;
    assert!(matches!(junk, Got::Closed(4400)), "{junk:?}");

    // Two running operations with one id: 4409.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &agent).await);
    send(&mut ws, subscribe("s", FEEDBACK, json!({}))).await;
    send(&mut ws, subscribe("s", FEEDBACK, json!({}))).await;
    let dup = recv(&mut ws, Duration::from_secs(5)).await;
    assert!(matches!(dup, Got::Closed(4409)), "{dup:?}");

    // More running operations than allowed: that one is refused with
    // RATE_LIMITED; completing one frees its place.
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &agent).await);
    send(&mut ws, subscribe("a", FEEDBACK, json!({}))).await;
    send(&mut ws, subscribe("b", FEEDBACK, json!({}))).await;
    send(&mut ws, subscribe("c", FEEDBACK, json!({}))).await;
    let Got::Msg(refused) = recv(&mut ws, Duration::from_secs(5)).await else {
        panic!("expected an error message");
    };
    assert_eq!(
        (&refused["id"], &refused["type"]),
        (&json!("c"), &json!("error"))
    );
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    send(&mut ws, json!({ "id": "a", "type": "complete" })).await;
    let me = run(&mut ws, "q", "{ me { role } }", json!({})).await;
    assert_eq!(data(&me)["me"]["role"], "AGENT");

    // Without the subprotocol the upgrade is refused.
    let mut request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-ws".parse().expect("header"),
    );
    assert!(matches!(
        tokio_tungstenite::connect_async(request).await,
        Err(tungstenite::Error::Http(r)) if r.status() == 400
    ));
}

async fn sockets_per_client_address_are_capped(engine: Engine) {
    let app = spawn_app_with(engine, &["--ws-max-per-client", "3"]).await;
    let mut open_sockets = Vec::new();
    for _ in 0..3 {
        open_sockets.push(open(&app, &[]).await.expect("within the cap"));
    }

    // The fourth is refused, also when it claims another address (no proxy
    // is trusted, so the header is ignored).
    assert_eq!(open(&app, &[]).await.err(), Some(429));
    assert_eq!(
        open(&app, &[("x-forwarded-for", "198.51.100.1")])
            .await
            .err(),
        Some(429)
    );

    // A closed socket frees its place.
    let mut first = open_sockets.remove(0);
    first.close(None).await.ok();
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    let reopened = loop {
        match open(&app, &[]).await {
            Ok(ws) => break ws,
            Err(429) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(status) => panic!("not reopened: {status}"),
        }
    };
    drop(reopened);
}

async fn customer_card_fields_answer_over_the_socket(engine: Engine) {
    // Arrange: two customers with purchases.
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    for name in ["Ann", "Bob"] {
        let customer = insert_customer(&app, name).await;
        for n in 0..2 {
            PurchaseBuilder::new(customer)
                .amount("10.50")
                .external_ref(format!("{name}-{n}"))
                .record(&app, &admin)
                .await;
        }
    }
    let card = "{ customers(first: 10) { edges { node { name purchaseCount isRepeatCustomer \
                totalRevenue { currency amount } memberships { balance } churnHistory { reason } \
                csi latestSurveyResponses(first: 3) { csi } \
                purchases(first: 5) { edges { node { amount currency } } } \
                interactions(first: 5) { edges { node { id } } } \
                referrals(first: 5) { edges { node { id } } } } } } }";

    // Act
    let over_http = app.graphql_as(Some(&admin), card, json!({})).await;
    let mut ws = open(&app, &[]).await.expect("upgrade");
    assert_ack(init(&mut ws, &admin).await);
    let over_socket = run(&mut ws, "card", card, json!({})).await;

    // Assert: the same answer as over HTTP, without errors.
    let nodes = &data(&over_socket)["customers"]["edges"];
    assert_eq!(nodes.as_array().map(Vec::len), Some(2));
    assert_eq!(nodes[0]["node"]["purchaseCount"], 2);
    assert_eq!(nodes[0]["node"]["totalRevenue"][0]["amount"], "21.00");
    assert_eq!(over_socket, over_http);
}
