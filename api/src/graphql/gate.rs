//! What runs around async-graphql's own parse, validation and execution of
//! every request on every transport (HTTP and WebSocket): the limits of
//! [`crate::graphql::shape`] before it, and after it the null repair of
//! [`crate::graphql::nulls`], the ceiling on an answer's size
//! (`OPERATION_TOO_COMPLEX`) and a code on every error.
//!
//! Before: the raw text's bracket nesting, then the parsed document's shape
//! and cost, then the selected operation's required variables
//! ([`crate::graphql::variables`]). The parsed document is handed on, so
//! the text is parsed once, and kept ([`DocumentCache`]), so a text seen
//! before is not parsed again; the limits run on every request.
//!
//! None of it is an async-graphql extension: with any extension registered,
//! async-graphql resolves every field through its instrumented path (a
//! schema lookup and a boxed future per field and extension), which
//! profiles of the customer list showed costing more than everything here.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::{ErrorExtensions, Request, Response, ServerError, ServerResult, Value};

use crate::graphql::documents::{self, DocumentCache};
use crate::graphql::error::code;
use crate::graphql::shape::{self, Refusal, TypeTable};
use crate::graphql::variables;

/// Documents longer than this are parsed and measured on the blocking pool.
const INLINE_PARSE_BYTES: usize = 8 * 1024;

/// Default ceiling on one answer's JSON size.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Request data that records whether execution began. A transport that
/// attaches it can tell a request error (the document never ran: parse,
/// shape, validation or variable failures) from an answer of an executed
/// operation, whose `data` may be null.
///
/// It also keeps the name of the operation that ran, for metrics.
#[derive(Clone, Debug, Default)]
pub struct Execution(Arc<AtomicBool>, Arc<std::sync::OnceLock<String>>);

impl Execution {
    /// Whether the operation began executing.
    pub fn started(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// The name of the operation that ran, if it had one.
    pub fn operation_name(&self) -> Option<&str> {
        self.1.get().map(String::as_str)
    }

    pub(crate) fn start(&self, operation_name: Option<&str>) {
        if let Some(name) = operation_name {
            let _ = self.1.set(name.to_owned());
        }
        self.0.store(true, Ordering::Release);
    }
}

/// The limits and the schema's types they are measured against.
#[derive(Clone)]
pub struct Limits {
    types: Arc<TypeTable>,
    max_response_bytes: usize,
    documents: Arc<DocumentCache>,
}

impl Limits {
    /// Limits for the schema whose SDL is `sdl`.
    ///
    /// # Errors
    /// When `sdl` is not a schema document.
    pub fn new(
        sdl: &str,
        max_response_bytes: usize,
        documents: Arc<DocumentCache>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            types: Arc::new(TypeTable::from_sdl(sdl)?),
            max_response_bytes,
            documents,
        })
    }

    /// The schema's types.
    pub fn types(&self) -> &TypeTable {
        &self.types
    }
}

fn refuse(refusal: Refusal) -> ServerError {
    let (message, code) = match refusal {
        Refusal::TooComplex(message) => (message, code::OPERATION_TOO_COMPLEX),
        Refusal::Invalid(message) => (message, code::BAD_USER_INPUT),
    };
    let mut error = async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(Default::default());
    // About the whole document: no location.
    error.locations.clear();
    error
}

/// Counts bytes and fails once more than `limit` were written.
struct Ceiling {
    written: usize,
    limit: usize,
}

impl io::Write for Ceiling {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written = self.written.saturating_add(buf.len());
        if self.written > self.limit {
            return Err(io::Error::other("over the ceiling"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether `response` serialises to more than `limit` bytes; stops counting
/// at the limit.
pub fn exceeds(response: &Response, limit: usize) -> bool {
    let mut ceiling = Ceiling { written: 0, limit };
    serde_json::to_writer(&mut ceiling, response).is_err()
}

impl Limits {
    /// Checks `request` against the limits and parses it, or refuses it.
    ///
    /// # Errors
    /// The refusal, as the answer's only error.
    pub async fn prepare(&self, mut request: Request) -> ServerResult<Request> {
        let measure = {
            let types = self.types.clone();
            let cache = self.documents.clone();
            let query = request.query.clone();
            let variables = request.variables.clone();
            let operation = request.operation_name.clone();
            move || -> ServerResult<_> {
                let key = documents::hash(&query);
                let doc = match cache.document(&key) {
                    Some(doc) => (*doc).clone(),
                    None => {
                        if shape::text_nesting_exceeds(&query, 2 * shape::MAX_NESTING) {
                            return Err(refuse(Refusal::TooComplex(format!(
                                "The document nests brackets more than {} levels deep.",
                                2 * shape::MAX_NESTING
                            ))));
                        }
                        let doc = async_graphql::parser::parse_query(&query)
                            .map_err(ServerError::from)?;
                        cache.store_document(key, &query, Arc::new(doc.clone()));
                        doc
                    }
                };
                shape::check(
                    &doc,
                    &types,
                    &variables,
                    operation.as_deref(),
                    shape::Limits::default(),
                )
                .map_err(refuse)?;
                if let Some(message) =
                    variables::missing_required(&doc, &variables, operation.as_deref())
                {
                    return Err(refuse(Refusal::Invalid(message)));
                }
                Ok(doc)
            }
        };
        // Parsing is linear but not free: a large document is parsed off the
        // server's worker threads, so small requests are not queued behind it.
        let doc = if request.query.len() > INLINE_PARSE_BYTES {
            tokio::task::spawn_blocking(measure)
                .await
                .map_err(|_| ServerError::new("The document could not be read.", None))??
        } else {
            measure()?
        };
        // A document of one named operation runs that operation whether or
        // not the request names it; naming it here lets `execute` see it.
        if request.operation_name.is_none() {
            if let async_graphql::parser::types::DocumentOperations::Multiple(operations) =
                &doc.operations
            {
                if let (1, Some(name)) = (operations.len(), operations.keys().next()) {
                    request.operation_name = Some(name.to_string());
                }
            }
        }
        request.set_parsed_query(doc);
        Ok(request)
    }

    /// The answer itself, or `OPERATION_TOO_COMPLEX` in its place when it
    /// would serialise to more than the ceiling.
    pub fn bound(&self, response: Response) -> Response {
        if !exceeds(&response, self.max_response_bytes) {
            return response;
        }
        let limit = self.max_response_bytes;
        let mut error = async_graphql::Error::new(format!(
            "The answer is larger than {limit} bytes; ask for smaller pages or fewer fields."
        ))
        .extend_with(move |_, e| {
            e.set("code", code::OPERATION_TOO_COMPLEX);
            e.set("maxResponseBytes", limit);
        })
        .into_server_error(Default::default());
        error.locations.clear();
        Response::from_errors(vec![error])
    }
}

/// Errors raised before execution (parse, validation, input coercion, limits)
/// carry no code: they are the client's mistake, `BAD_USER_INPUT`. Internal
/// errors get the request id.
pub fn fill_code(error: &mut ServerError, request_id: Option<&str>) {
    crate::graphql::error::name_invalid_argument(error);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let code = match extensions.get("code") {
        Some(Value::String(code)) => code.clone(),
        _ => {
            extensions.set("code", code::BAD_USER_INPUT);
            code::BAD_USER_INPUT.to_owned()
        }
    };
    if code == code::INTERNAL {
        if let Some(id) = request_id {
            extensions.set("requestId", id);
        }
    }
}
