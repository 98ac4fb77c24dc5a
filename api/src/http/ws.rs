//! `GET /graphql/ws`: GraphQL over WebSocket, the graphql-transport-ws
//! protocol (the `graphql-ws` library's). The client authenticates in
//! `connection_init` with `{"authorization": "Bearer …"}`.
//!
//! A socket holds no authority of its own. Every operation re-reads the user
//! as an HTTP request does ([`auth::current_actor`]): a role change applies
//! to the next operation, a deactivated user's socket is closed. Every event
//! of a running subscription re-reads the user before it is delivered, and
//! so does every heartbeat; a subscription whose user changed role ends with
//! `FORBIDDEN` (subscribe again to run it with the new role). When the access
//! token's `exp` passes the socket is closed with 4403: reconnect with a
//! fresh token.
//!
//! Close codes (graphql-transport-ws): 4400 invalid message, 4401 no valid
//! token in `connection_init` or `subscribe` before the acknowledgement, 4403
//! deactivated user or expired token, 4408 no `connection_init` within
//! `RAPPORT_WS_INIT_TIMEOUT`, 4409 a second operation with a running id,
//! 4429 a repeated `connection_init`, 4500 the user could not be read.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensions as _, Request, Response};
use domain::auth::{Actor, Role};
use domain::DomainError;
use futures::stream::{AbortHandle, Abortable, LocalBoxStream, SelectAll};
use futures::StreamExt as _;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::auth;
use crate::graphql::context::{operation_data, ClientAddr, RequestId};
use crate::graphql::error::code;
use crate::graphql::gate::{fill_code, Execution};
use crate::graphql::loader::Rounds;
use crate::graphql::schema::AppSchema;
use crate::http::client::client_addr;
use crate::state::Services;

/// The only subprotocol served.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Per-server WebSocket settings.
#[derive(Clone, Copy, Debug)]
pub struct WsSettings {
    /// `connection_init` must arrive within this (else 4408).
    pub init_timeout: Duration,
    /// Sockets open at once per client address.
    pub max_per_client: usize,
    /// Operations running at once on one socket.
    pub max_operations: usize,
    /// Largest message, in bytes (continuations included).
    pub max_message_bytes: usize,
    /// The server pings and re-reads the user this often; a client silent
    /// for three heartbeats is disconnected.
    pub heartbeat: Duration,
}

/// Open sockets per client address.
#[derive(Debug, Default)]
pub struct OpenSockets(Mutex<HashMap<String, usize>>);

impl OpenSockets {
    /// Counts one more socket for `client`, unless it already has `max`.
    fn admit(sockets: &web::Data<Self>, client: &str, max: usize) -> Option<SocketSlot> {
        let mut map = sockets.0.lock().unwrap_or_else(PoisonError::into_inner);
        let open = map.entry(client.to_owned()).or_default();
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(SocketSlot {
            sockets: sockets.clone(),
            client: client.to_owned(),
        })
    }

    /// Sockets open now from `client`.
    pub fn open(&self, client: &str) -> usize {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client)
            .copied()
            .unwrap_or(0)
    }
}

/// One counted socket; leaves the count when dropped.
struct SocketSlot {
    sockets: web::Data<OpenSockets>,
    client: String,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut map = self
            .sockets
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = map.get_mut(&self.client) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Upgrades to a WebSocket and serves GraphQL over it.
///
/// # Errors
/// When the upgrade handshake is invalid.
pub async fn subscriptions(
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    settings: web::Data<WsSettings>,
    sockets: web::Data<OpenSockets>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let offered = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(PROTOCOL));
    if !offered {
        return Ok(HttpResponse::BadRequest().json(json!({
            "errors": [{ "message": format!("Offer the `{PROTOCOL}` WebSocket subprotocol."),
                         "extensions": { "code": code::BAD_USER_INPUT } }]
        })));
    }
    let client = client_addr(&req);
    let Some(slot) = OpenSockets::admit(&sockets, &client, settings.max_per_client) else {
        tracing::warn!(client = %client, "websocket refused: too many open from this address");
        return Ok(HttpResponse::TooManyRequests().json(json!({
            "errors": [{ "message": format!("At most {} WebSockets may be open from one address.", settings.max_per_client),
                         "extensions": { "code": code::RATE_LIMITED } }]
        })));
    };
    let (mut response, session, stream) = actix_ws::handle(&req, payload)?;
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(PROTOCOL),
    );
    let stream = stream
        .max_frame_size(settings.max_message_bytes)
        .aggregate_continuations()
        .max_continuation_size(settings.max_message_bytes);
    let connection = Connection {
        schema: AppSchema::clone(&schema),
        services: services.get_ref().clone(),
        settings: *settings.get_ref(),
        client: ClientAddr(client),
        session,
        state: State::AwaitingInit,
        operations: HashMap::new(),
        running: SelectAll::new(),
        _slot: slot,
    };
    actix_web::rt::spawn(connection.run(stream));
    Ok(response)
}

/// A message from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Ping {},
    Pong {},
    Subscribe {
        id: String,
        payload: Box<Request>,
    },
    Complete {
        id: String,
    },
}

/// Where the connection stands.
enum State {
    AwaitingInit,
    Ready {
        user_id: i64,
        /// When the access token expires.
        expires: Instant,
    },
}

/// A running operation.
struct Operation {
    abort: AbortHandle,
    /// Subscriptions re-read the user before each event.
    subscription: bool,
    /// The role the operation started with.
    role: Role,
}

/// How a connection ends: a close frame, or the peer is gone.
struct Close(u16, &'static str);

type Event = (String, Option<Response>);

struct Connection {
    schema: AppSchema,
    services: Services,
    settings: WsSettings,
    client: ClientAddr,
    session: Session,
    state: State,
    operations: HashMap<String, Operation>,
    running: SelectAll<LocalBoxStream<'static, Event>>,
    _slot: SocketSlot,
}

impl Connection {
    async fn run(mut self, mut stream: actix_ws::AggregatedMessageStream) {
        let opened = Instant::now();
        let mut heard = opened;
        let mut heartbeat =
            tokio::time::interval_at(opened + self.settings.heartbeat, self.settings.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(client = %self.client.0, "websocket opened");
        let close = loop {
            let deadline = match self.state {
                State::AwaitingInit => opened + self.settings.init_timeout,
                State::Ready { expires, .. } => expires,
            };
            let step = tokio::select! {
                biased;
                () = tokio::time::sleep_until(deadline) => Err(match self.state {
                    State::AwaitingInit => Close(4408, "Connection initialisation timeout"),
                    State::Ready { .. } => Close(4403, "Forbidden: the access token expired"),
                }),
                message = stream.next() => {
                    heard = Instant::now();
                    match message {
                        Some(Ok(message)) => self.on_message(message).await,
                        Some(Err(_)) => Err(Close(4400, "Invalid message")),
                        None => Err(Close(1000, "")),
                    }
                }
                Some((id, response)) = self.running.next(), if !self.running.is_empty() => {
                    self.on_event(id, response).await
                }
                _ = heartbeat.tick() => self.on_heartbeat(heard).await,
            };
            if let Err(close) = step {
                break close;
            }
        };
        let Close(code, reason) = close;
        tracing::info!(client = %self.client.0, code, "websocket closed");
        for operation in self.operations.values() {
            operation.abort.abort();
        }
        let reason = CloseReason {
            code: CloseCode::from(code),
            description: (!reason.is_empty()).then(|| reason.to_owned()),
        };
        let limit = self.write_limit();
        let _ = bounded(limit, self.session.close(Some(reason))).await;
    }

    /// A client that does not take what it is sent within three heartbeats
    /// is treated as gone, so a stalled reader cannot park this task.
    fn write_limit(&self) -> Duration {
        self.settings.heartbeat * 3
    }

    async fn send(&mut self, message: serde_json::Value) -> Result<(), Close> {
        let limit = self.write_limit();
        bounded(limit, self.session.text(message.to_string())).await
    }

    async fn on_message(&mut self, message: AggregatedMessage) -> Result<(), Close> {
        let text = match message {
            AggregatedMessage::Text(text) => text,
            AggregatedMessage::Ping(bytes) => {
                let limit = self.write_limit();
                return bounded(limit, self.session.pong(&bytes)).await;
            }
            AggregatedMessage::Pong(_) => return Ok(()),
            AggregatedMessage::Close(_) => return Err(Close(1000, "")),
            AggregatedMessage::Binary(_) => return Err(Close(4400, "Invalid message")),
        };
        let message: ClientMessage =
            serde_json::from_str(&text).map_err(|_| Close(4400, "Invalid message"))?;
        match message {
            ClientMessage::ConnectionInit { payload } => self.on_init(payload).await,
            ClientMessage::Ping {} => self.send(json!({ "type": "pong" })).await,
            ClientMessage::Pong {} => Ok(()),
            ClientMessage::Subscribe { id, payload } => self.on_subscribe(id, *payload).await,
            ClientMessage::Complete { id } => {
                if let Some(operation) = self.operations.remove(&id) {
                    operation.abort.abort();
                }
                Ok(())
            }
        }
    }

    async fn on_init(&mut self, payload: Option<serde_json::Value>) -> Result<(), Close> {
        if matches!(self.state, State::Ready { .. }) {
            return Err(Close(4429, "Too many initialisation requests"));
        }
        let header = payload.as_ref().and_then(|p| {
            ["authorization", "Authorization"]
                .iter()
                .find_map(|k| p.get(*k).and_then(|v| v.as_str()))
        });
        let bearer = header
            .and_then(|h| auth::verify_bearer(h, &self.services.jwt).ok())
            .ok_or(Close(4401, "Unauthorized"))?;
        self.current_actor(bearer.user_id).await?;
        let left = bearer.expires_at - chrono::Utc::now().timestamp();
        let left = Duration::from_secs(u64::try_from(left).unwrap_or(0));
        let now = Instant::now();
        // A lifetime too long for the clock is as good as a year.
        let expires = now
            .checked_add(left)
            .unwrap_or(now + Duration::from_secs(365 * 86_400));
        self.state = State::Ready {
            user_id: bearer.user_id,
            expires,
        };
        self.send(json!({ "type": "connection_ack" })).await
    }

    /// The user as the database has them now; a deactivated user's socket
    /// closes.
    async fn current_actor(&self, user_id: i64) -> Result<Actor, Close> {
        match auth::current_actor(user_id, &self.services.users).await {
            Ok(actor) => Ok(actor),
            Err(DomainError::Unauthenticated) => Err(Close(4403, "Forbidden")),
            Err(error) => {
                tracing::error!(client = %self.client.0, error = %error, "websocket: user lookup failed");
                Err(Close(4500, "Internal error"))
            }
        }
    }

    async fn on_subscribe(&mut self, id: String, mut request: Request) -> Result<(), Close> {
        let State::Ready { user_id, .. } = self.state else {
            return Err(Close(4401, "Unauthorized"));
        };
        if self.operations.contains_key(&id) {
            return Err(Close(4409, "Subscriber for this id already exists"));
        }
        let actor = self.current_actor(user_id).await?;
        if self.operations.len() >= self.settings.max_operations {
            let message = format!(
                "At most {} operations may run at once on one WebSocket.",
                self.settings.max_operations
            );
            return self
                .send(json!({ "id": id, "type": "error", "payload": [
                    { "message": message, "extensions": { "code": code::RATE_LIMITED } }
                ] }))
                .await;
        }
        let subscription = is_subscription(&mut request);
        let operation_name = request.operation_name.clone();
        let execution = Execution::default();
        let request = request.data(execution.clone());
        let request_id = RequestId(uuid::Uuid::new_v4().to_string());
        let rounds = Rounds::default();
        let role = actor.role;
        let request = operation_data(
            request,
            request_id.clone(),
            self.client.clone(),
            Some(actor),
            &self.services,
            &rounds,
        );
        let responses = rounds.drive_stream(self.schema.execute_stream(request));
        let (abort, registration) = AbortHandle::new_pair();
        let tagged = {
            let id = id.clone();
            let end = id.clone();
            let mut counted = false;
            responses
                .map(move |mut response: Response| {
                    for error in &mut response.errors {
                        fill_code(error, Some(&request_id.0));
                    }
                    // One count per operation, by its first result (a
                    // subscription's later events are not operations).
                    if !counted {
                        counted = true;
                        crate::http::metrics::record_operation(
                            execution.operation_name().or(operation_name.as_deref()),
                            &crate::http::metrics::outcome_of(&response.errors),
                        );
                    }
                    (id.clone(), Some(response))
                })
                .chain(futures::stream::once(async move { (end, None) }))
        };
        self.running
            .push(Abortable::new(tagged, registration).boxed_local());
        self.operations.insert(
            id,
            Operation {
                abort,
                subscription,
                role,
            },
        );
        Ok(())
    }

    async fn on_event(&mut self, id: String, response: Option<Response>) -> Result<(), Close> {
        let Some(response) = response else {
            if self.operations.remove(&id).is_some() {
                return self.send(json!({ "id": id, "type": "complete" })).await;
            }
            return Ok(());
        };
        let Some(started_as) = self
            .operations
            .get(&id)
            .map(|op| op.subscription.then_some(op.role))
        else {
            return Ok(());
        };
        if let (Some(role), State::Ready { user_id, .. }) = (started_as, &self.state) {
            let actor = self.current_actor(*user_id).await?;
            if actor.role != role {
                return self.end_for_role_change(id).await;
            }
        }
        let payload = serde_json::to_value(&response).unwrap_or_else(|_| {
            json!({ "errors": [{ "message": crate::graphql::error::INTERNAL_MESSAGE,
                                 "extensions": { "code": code::INTERNAL } }] })
        });
        self.send(json!({ "id": id, "type": "next", "payload": payload }))
            .await
    }

    /// Ends a subscription that started under another role with `FORBIDDEN`.
    async fn end_for_role_change(&mut self, id: String) -> Result<(), Close> {
        if let Some(operation) = self.operations.remove(&id) {
            operation.abort.abort();
        }
        let error = async_graphql::Error::new(
            "Your role changed; subscribe again to continue with the new role.",
        )
        .extend_with(|_, e| e.set("code", code::FORBIDDEN))
        .into_server_error(Default::default());
        self.send(json!({ "id": id, "type": "error", "payload": [error] }))
            .await
    }

    async fn on_heartbeat(&mut self, heard: Instant) -> Result<(), Close> {
        if heard.elapsed() > self.settings.heartbeat * 3 {
            return Err(Close(1001, "Idle"));
        }
        if let State::Ready { user_id, .. } = self.state {
            let actor = self.current_actor(user_id).await?;
            let stale: Vec<String> = self
                .operations
                .iter()
                .filter(|(_, op)| op.subscription && op.role != actor.role)
                .map(|(id, _)| id.clone())
                .collect();
            for id in stale {
                self.end_for_role_change(id).await?;
            }
        }
        let limit = self.write_limit();
        bounded(limit, self.session.ping(b"")).await
    }
}

/// A write to the socket, given up after `limit`.
async fn bounded(
    limit: Duration,
    write: impl std::future::Future<Output = Result<(), actix_ws::Closed>>,
) -> Result<(), Close> {
    match tokio::time::timeout(limit, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(Close(1000, "")),
    }
}

/// Whether the operation `request` selects is a subscription (parsed once:
/// the schema reuses the parsed document).
fn is_subscription(request: &mut Request) -> bool {
    let wanted = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    doc.operations.iter().any(|(name, op)| {
        op.node.ty == OperationType::Subscription
            && match (&wanted, name) {
                (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
                (Some(_), None) => false,
                (None, _) => true,
            }
    })
}
