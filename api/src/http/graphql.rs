//! `POST /graphql` and `GET /graphql`, GraphQL over HTTP.
//!
//! The transport rules are enforced here, before the schema sees anything:
//! JSON bodies only (415), a bounded body (413, from the payload limit), no
//! batched arrays (400), well-formed parameters (400), mutations only by POST
//! (405), an execution timeout (`TIMEOUT`), and a panic answered with 500
//! instead of a reset connection.
//!
//! The answer's media type is negotiated from `Accept` ([`MediaType`]). A
//! request error, where the document never executed (authentication, parse,
//! shape, validation or variable failures), has no `data` entry and is
//! answered 200 under `application/json` and 4xx under
//! `application/graphql-response+json` (401 for a bad token, 400 otherwise).
//! An executed operation is answered 200 under both, with `data` (null when
//! nothing could be returned: field errors on non-null roots, the timeout,
//! the answer-size ceiling).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensions, Executor, Request, Response, ServerError, Variables};
use futures::FutureExt as _;
use serde_json::{Map, Value as Json};
use tracing_actix_web::RequestId as TracingRequestId;

use crate::auth;
use crate::graphql::context::{operation_data, AcceptLanguage, ClientAddr, RequestId};
use crate::graphql::documents::{self, DocumentCache};
use crate::graphql::error::{code, to_graphql};
use crate::graphql::gate::{fill_code, Execution};
use crate::graphql::loader::Rounds;
use crate::http::client::client_addr;
use crate::http::media::{self, MediaType};
use crate::state::Services;

/// Per-server HTTP settings.
#[derive(Clone, Copy, Debug)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    /// Whether a browser's `GET /graphql` without a query gets GraphiQL
    /// (`Config::graphiql_enabled`); otherwise it gets 400 `Missing query.`.
    pub graphiql: bool,
    /// Add `x-sql-statements` (statements sent while the request ran) to
    /// every response; a benchmark aid, off by default.
    pub statement_count_header: bool,
}

/// `body` as JSON in `media`, with `status`. The answer depends on
/// `Accept`, hence `Vary: Accept`.
fn reply(media: MediaType, status: StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, media.as_str()))
            .insert_header((header::VARY, "accept"))
            .body(bytes),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

fn error_response(media: MediaType, status: StatusCode, message: &str, code: &str) -> HttpResponse {
    reply(
        media,
        status,
        &serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": code } }]
        }),
    )
}

/// A request error: no `data` entry; 200 under `application/json` (the
/// request was well formed), `status` under
/// `application/graphql-response+json`.
fn request_error(media: MediaType, status: StatusCode, errors: &[ServerError]) -> HttpResponse {
    let status = match media {
        MediaType::Json => StatusCode::OK,
        MediaType::GraphqlResponseJson => status,
    };
    reply(media, status, &serde_json::json!({ "errors": errors }))
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime == "application/graphql-response+json"
        })
        .unwrap_or(false)
}

/// Why a request's `extensions.persistedQuery` could not give a query.
#[derive(Debug)]
enum PersistedRefusal {
    /// Malformed: answered like the other transport errors (400).
    Malformed(&'static str),
    /// A request error with a code (`PERSISTED_QUERY_NOT_FOUND`, or
    /// `BAD_USER_INPUT` when the text does not hash to the given hash).
    Refused(&'static str, &'static str),
}

/// Automatic Persisted Queries (Apollo's protocol): with
/// `extensions.persistedQuery = { version: 1, sha256Hash }`, a request with a
/// query registers it under its SHA-256 (which must be `sha256Hash`), and a
/// request without one runs the text registered under `sha256Hash`. Returns
/// the query to run; `query` itself without a `persistedQuery`.
fn persisted_query(
    documents: &DocumentCache,
    query: Option<String>,
    persisted: Option<&Json>,
) -> Result<Option<String>, PersistedRefusal> {
    let Some(persisted) = persisted.filter(|p| !p.is_null()) else {
        return Ok(query);
    };
    const SHAPE: &str = "extensions.persistedQuery must be { version: 1, sha256Hash }.";
    if persisted.get("version").and_then(Json::as_i64) != Some(1) {
        return Err(PersistedRefusal::Malformed(
            "Only version 1 of persisted queries is supported.",
        ));
    }
    let hash = persisted
        .get("sha256Hash")
        .and_then(Json::as_str)
        .and_then(documents::parse_hash)
        .ok_or(PersistedRefusal::Malformed(SHAPE))?;
    match query {
        Some(query) => {
            if documents::hash(&query) != hash {
                return Err(PersistedRefusal::Refused(
                    "provided sha does not match query",
                    code::BAD_USER_INPUT,
                ));
            }
            documents.register(hash, &query);
            Ok(Some(query))
        }
        None => match documents.query(&hash) {
            Some(query) => Ok(Some(query.to_string())),
            None => Err(PersistedRefusal::Refused(
                "PersistedQueryNotFound",
                code::PERSISTED_QUERY_NOT_FOUND,
            )),
        },
    }
}

fn persisted_refusal(media: MediaType, refusal: PersistedRefusal) -> HttpResponse {
    match refusal {
        PersistedRefusal::Malformed(message) => error_response(
            media,
            StatusCode::BAD_REQUEST,
            message,
            code::BAD_USER_INPUT,
        ),
        PersistedRefusal::Refused(message, code) => {
            let error = async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", code))
                .into_server_error(Default::default());
            request_error(media, StatusCode::BAD_REQUEST, &[error])
        }
    }
}

/// The GraphQL request in a POST body's object, or why it is not one:
/// `query` is required and a string; `operationName` is a string, and
/// `variables` and `extensions` are maps, each or null or absent. Other keys
/// are ignored.
fn request_from_object(mut object: Map<String, Json>) -> Result<Request, &'static str> {
    let query = match object.remove("query") {
        Some(Json::String(query)) => query,
        None | Some(Json::Null) => return Err("Missing query."),
        Some(_) => return Err("query must be a string."),
    };
    let mut request = Request::new(query);
    match object.remove("operationName") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) => request = request.operation_name(name),
        Some(_) => return Err("operationName must be a string."),
    }
    match object.remove("variables") {
        None | Some(Json::Null) => {}
        Some(variables @ Json::Object(_)) => {
            request = request.variables(Variables::from_json(variables));
        }
        Some(_) => return Err("variables must be a map."),
    }
    match object.remove("extensions") {
        None | Some(Json::Null) => {}
        Some(Json::Object(extensions)) => {
            for (name, value) in extensions {
                let value = async_graphql::Value::from_json(value)
                    .map_err(|_| "extensions must be a map.")?;
                request.extensions.insert(name, value);
            }
        }
        Some(_) => return Err("extensions must be a map."),
    }
    Ok(request)
}

/// `POST /graphql`. Generic over the executor so tests can serve a schema
/// with resolvers the public one must not have (see the panic test below);
/// the server mounts it with `AppSchema`.
pub async fn post<E: Executor>(
    schema: web::Data<E>,
    services: web::Data<Services>,
    settings: web::Data<HttpSettings>,
    request_id: TracingRequestId,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let media = MediaType::negotiate(req.headers());
    if !is_json(&req) {
        return error_response(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the request as application/json.",
            code::BAD_USER_INPUT,
        );
    }
    let value: Json = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                "The body is not valid JSON.",
                code::BAD_USER_INPUT,
            )
        }
    };
    let object = match value {
        Json::Object(object) => object,
        Json::Array(_) => {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                "Send one GraphQL request object; batches are not supported.",
                code::BAD_USER_INPUT,
            )
        }
        _ => {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                "The body is not a GraphQL request: expected {\"query\", \"variables\", \"operationName\"}.",
                code::BAD_USER_INPUT,
            )
        }
    };
    let mut object = object;
    let persisted = object
        .get("extensions")
        .and_then(|e| e.get("persistedQuery"))
        .cloned();
    if persisted.is_some() {
        let query = match object.remove("query") {
            Some(Json::String(query)) => Some(query),
            None | Some(Json::Null) => None,
            Some(_) => {
                return error_response(
                    media,
                    StatusCode::BAD_REQUEST,
                    "query must be a string.",
                    code::BAD_USER_INPUT,
                )
            }
        };
        match persisted_query(&services.documents, query, persisted.as_ref()) {
            Ok(Some(query)) => {
                object.insert("query".to_owned(), Json::String(query));
            }
            Ok(None) => {}
            Err(refusal) => return persisted_refusal(media, refusal),
        }
    }
    let request = match request_from_object(object) {
        Ok(request) => request,
        Err(message) => {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                message,
                code::BAD_USER_INPUT,
            )
        }
    };
    execute(
        schema.get_ref(),
        &services,
        &settings,
        request_id,
        &req,
        request,
        media,
    )
    .await
}

/// `GET /graphql`: a query in the URL, or GraphiQL for a browser in development.
pub async fn get<E: Executor>(
    schema: web::Data<E>,
    services: web::Data<Services>,
    settings: web::Data<HttpSettings>,
    request_id: TracingRequestId,
    req: HttpRequest,
) -> HttpResponse {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        query: Option<String>,
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let media = MediaType::negotiate(req.headers());
    let mut params = web::Query::<Params>::from_query(req.query_string())
        .ok()
        .map(|q| q.into_inner());
    if let Some(params) = params.as_mut() {
        if let Some(raw) = params.extensions.as_deref() {
            let Ok(extensions @ Json::Object(_)) = serde_json::from_str::<Json>(raw) else {
                return error_response(
                    media,
                    StatusCode::BAD_REQUEST,
                    "extensions must be a JSON map.",
                    code::BAD_USER_INPUT,
                );
            };
            match persisted_query(
                &services.documents,
                params.query.take(),
                extensions.get("persistedQuery"),
            ) {
                Ok(query) => params.query = query,
                Err(refusal) => return persisted_refusal(media, refusal),
            }
        }
    }
    let Some(Params {
        query: Some(query),
        operation_name,
        variables,
        extensions: _,
    }) = params
    else {
        if !settings.graphiql || !media::accepts_html(req.headers()) {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                "Missing query.",
                code::BAD_USER_INPUT,
            );
        }
        return crate::http::graphiql::page_response(&req);
    };
    if is_mutation(&query, operation_name.as_deref()) {
        let mut response = error_response(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            "Mutations must be sent with POST.",
            code::BAD_USER_INPUT,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let mut request = Request::new(query);
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if let Some(raw) = variables {
        match serde_json::from_str::<Json>(&raw) {
            Ok(vars @ Json::Object(_)) => request = request.variables(Variables::from_json(vars)),
            Ok(Json::Null) => {}
            Ok(_) | Err(_) => {
                return error_response(
                    media,
                    StatusCode::BAD_REQUEST,
                    "variables must be a JSON map.",
                    code::BAD_USER_INPUT,
                )
            }
        }
    }
    execute(
        schema.get_ref(),
        &services,
        &settings,
        request_id,
        &req,
        request,
        media,
    )
    .await
}

fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    doc.operations.iter().any(|(name, op)| {
        op.node.ty == OperationType::Mutation
            && match (operation_name, name) {
                (Some(wanted), Some(name)) => wanted == name.as_str(),
                _ => true,
            }
    })
}

async fn execute<E: Executor>(
    schema: &E,
    services: &Services,
    settings: &HttpSettings,
    request_id: TracingRequestId,
    req: &HttpRequest,
    request: Request,
    media: MediaType,
) -> HttpResponse {
    if !settings.statement_count_header {
        return execute_inner(schema, services, settings, request_id, req, request, media).await;
    }
    let before = services.statements.load(Ordering::Relaxed);
    let mut response =
        execute_inner(schema, services, settings, request_id, req, request, media).await;
    let sent = services
        .statements
        .load(Ordering::Relaxed)
        .saturating_sub(before);
    response.headers_mut().insert(
        header::HeaderName::from_static("x-sql-statements"),
        header::HeaderValue::from(sent),
    );
    response
}

async fn execute_inner<E: Executor>(
    schema: &E,
    services: &Services,
    settings: &HttpSettings,
    request_id: TracingRequestId,
    req: &HttpRequest,
    request: Request,
    media: MediaType,
) -> HttpResponse {
    let operation = request.operation_name.clone();
    let execution = Execution::default();
    let (response, outcome) = run_operation(
        schema,
        services,
        settings,
        request_id,
        req,
        request,
        media,
        execution.clone(),
    )
    .await;
    let name = execution.operation_name().or(operation.as_deref());
    crate::http::metrics::record_operation(name, &outcome);
    response
}

#[allow(clippy::too_many_arguments)]
async fn run_operation<E: Executor>(
    schema: &E,
    services: &Services,
    settings: &HttpSettings,
    request_id: TracingRequestId,
    req: &HttpRequest,
    request: Request,
    media: MediaType,
    execution: Execution,
) -> (HttpResponse, String) {
    let request_id = RequestId(request_id.to_string());
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    let actor = match auth::authenticate(header, &services.jwt, &services.users).await {
        Ok(actor) => actor,
        Err(err) => {
            let mut error = ServerError::new("", None);
            let gql = to_graphql(&err);
            error.message = gql.message.clone();
            error.extensions = gql.extensions;
            fill_code(&mut error, Some(&request_id.0));
            let outcome = crate::http::metrics::outcome_of(std::slice::from_ref(&error));
            let mut response = request_error(media, StatusCode::UNAUTHORIZED, &[error]);
            if response.status() == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            return (response, outcome);
        }
    };
    let client = ClientAddr(client_addr(req));
    let rounds = Rounds::default();
    let request = operation_data(
        request,
        request_id.clone(),
        client,
        actor,
        services,
        &rounds,
    )
    .data(AcceptLanguage(crate::http::language::preferences(req)))
    .data(execution.clone());
    let run = AssertUnwindSafe(rounds.drive(schema.execute(request))).catch_unwind();
    match tokio::time::timeout(settings.request_timeout, run).await {
        Ok(Ok(mut response)) => {
            // The gate fills codes and request ids already; this keeps every
            // error coded whatever produced it.
            for error in &mut response.errors {
                fill_code(error, Some(&request_id.0));
            }
            let outcome = crate::http::metrics::outcome_of(&response.errors);
            if !execution.started() && response.data == async_graphql::Value::Null {
                // Parse, shape, validation or variable failure: the
                // operation never ran.
                return (
                    request_error(media, StatusCode::BAD_REQUEST, &response.errors),
                    outcome,
                );
            }
            (reply(media, StatusCode::OK, &response), outcome)
        }
        Ok(Err(_panic)) => {
            tracing::error!(request_id = %request_id.0, "resolver panicked");
            let response = reply(
                media,
                StatusCode::INTERNAL_SERVER_ERROR,
                &serde_json::json!({
                    "errors": [{ "message": crate::graphql::error::INTERNAL_MESSAGE,
                                 "extensions": { "code": code::INTERNAL, "requestId": request_id.0 } }]
                }),
            );
            (response, code::INTERNAL.to_owned())
        }
        Err(_elapsed) => {
            let error = async_graphql::Error::new("The request took too long and was cut off.")
                .extend_with(|_, e| e.set("code", code::TIMEOUT))
                .into_server_error(Default::default());
            (
                reply(media, StatusCode::OK, &Response::from_errors(vec![error])),
                code::TIMEOUT.to_owned(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{test, web, App};
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use clap::Parser as _;
    use tracing_actix_web::TracingLogger;

    use super::*;

    /// A query root that exists only in this test: the public schema has no
    /// way to make a resolver panic, and must not get one.
    struct Crashing;

    #[Object]
    impl Crashing {
        async fn crash(&self) -> i32 {
            let nothing: Vec<i32> = Vec::new();
            nothing[0]
        }

        async fn ok(&self) -> i32 {
            1
        }
    }

    #[actix_web::test]
    async fn a_panicking_resolver_is_a_500_with_a_code_and_the_next_request_succeeds() {
        // Arrange: the real handler around a schema with a panicking resolver.
        let cli = crate::cli::Cli::try_parse_from([
            "rapport",
            "--jwt-secret",
            "test-secret-test-secret-test-secret-0123",
        ])
        .expect("test arguments parse");
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("in-memory database");
        let services = crate::startup::services(&cli.config, db).expect("services");
        let schema = Schema::new(Crashing, EmptyMutation, EmptySubscription);
        let app = test::init_service(
            App::new()
                .wrap(TracingLogger::default())
                .app_data(web::Data::new(schema))
                .app_data(web::Data::new(services))
                .app_data(web::Data::new(HttpSettings {
                    request_timeout: Duration::from_secs(10),
                    graphiql: false,
                    statement_count_header: false,
                }))
                .route(
                    "/graphql",
                    web::post().to(post::<Schema<Crashing, EmptyMutation, EmptySubscription>>),
                ),
        )
        .await;

        // Act
        let crash = test::TestRequest::post()
            .uri("/graphql")
            .set_json(serde_json::json!({ "query": "{ crash }" }))
            .send_request(&app)
            .await;
        let status = crash.status();
        let body: serde_json::Value = test::read_body_json(crash).await;
        let crash_gql = test::TestRequest::post()
            .uri("/graphql")
            .insert_header((header::ACCEPT, "application/graphql-response+json"))
            .set_json(serde_json::json!({ "query": "{ crash }" }))
            .send_request(&app)
            .await;
        let gql_status = crash_gql.status();
        let gql_type = crash_gql.headers().get(header::CONTENT_TYPE).cloned();
        let next = test::TestRequest::post()
            .uri("/graphql")
            .set_json(serde_json::json!({ "query": "{ ok }" }))
            .send_request(&app)
            .await;
        let next_status = next.status();
        let next_body: serde_json::Value = test::read_body_json(next).await;

        // Assert
        assert_eq!(status, 500);
        assert_eq!(body["errors"][0]["extensions"]["code"], code::INTERNAL);
        assert!(
            body["errors"][0]["extensions"]["requestId"].is_string(),
            "{body}"
        );
        assert!(!body.to_string().contains("index out of bounds"), "{body}");
        assert_eq!(gql_status, 500);
        assert_eq!(
            gql_type,
            Some(header::HeaderValue::from_static(
                "application/graphql-response+json"
            ))
        );
        assert_eq!(next_status, 200);
        assert_eq!(next_body["data"]["ok"], 1);
    }
}
