//! One schema for the server, the tests and `rapport export-schema`.

use std::any::{Any, TypeId};
use std::sync::Arc;

use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::{Data, Executor, Request, Response, Schema, SchemaBuilder, Value};

use crate::graphql::context::RequestId;
use crate::graphql::gate::{fill_code, Execution, Limits};
use crate::graphql::mutation::Mutation;
use crate::graphql::nulls;
use crate::graphql::query::Query;
use crate::graphql::subscription::Subscription;
use crate::state::Services;

/// The schema's own type, as async-graphql builds it.
pub type BareSchema = Schema<Query, Mutation, Subscription>;

/// The schema as served: async-graphql's, with the limits before each
/// request and the repairs after it ([`crate::graphql::gate`]).
#[derive(Clone)]
pub struct AppSchema {
    schema: BareSchema,
    limits: Limits,
}

/// The schema's types and resolvers, without limits or runtime data.
fn bare() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The schema's types and resolvers with async-graphql's recursion check
/// set above ours (see [`crate::graphql::shape`]; our limits replace
/// async-graphql's depth, complexity and directive limits, which expand
/// fragments exponentially), but no runtime data.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    // async-graphql's own recursion check runs after ours (which is one level
    // stricter), so it never refuses; its default of 32 would.
    bare().limit_recursive_depth(crate::graphql::shape::MAX_NESTING as usize)
}

/// The schema as served, with the services attached. Production turns off
/// introspection and field suggestions.
///
/// # Errors
/// When the schema's own SDL cannot be read back (a bug).
pub fn build(
    services: Services,
    production: bool,
    max_response_bytes: usize,
) -> anyhow::Result<AppSchema> {
    let limits = Limits::new(
        &bare().finish().sdl(),
        max_response_bytes,
        services.documents.clone(),
    )?;
    let mut builder = schema_builder().data(services);
    if production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    Ok(AppSchema {
        schema: builder.finish(),
        limits,
    })
}

/// Request data of type `T`, if the transport attached it.
fn data_of<T: Any + Clone>(data: &Data) -> Option<T> {
    data.get(&TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
        .cloned()
}

/// Whether async-graphql executed the operation: an answer with data, or
/// with an error at a path, did; errors without a path and no data are a
/// request refused before execution (parse, validation, variables).
fn executed(response: &Response) -> bool {
    response.data != Value::Null
        || response.errors.is_empty()
        || response.errors.iter().any(|error| !error.path.is_empty())
}

/// What every answer goes through after async-graphql: null repair, the size
/// ceiling and codes.
struct After {
    limits: Limits,
    query: String,
    operation: Option<String>,
    execution: Option<Execution>,
    request_id: Option<String>,
}

impl After {
    fn of(limits: &Limits, request: &Request) -> Self {
        Self {
            limits: limits.clone(),
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            execution: data_of::<Execution>(&request.data),
            request_id: data_of::<RequestId>(&request.data).map(|id| id.0),
        }
    }

    fn apply(&self, mut response: Response) -> Response {
        if executed(&response) {
            if let Some(execution) = &self.execution {
                execution.start(self.operation.as_deref());
            }
            nulls::propagate(
                self.limits.types(),
                &self.query,
                self.operation.as_deref(),
                &mut response,
            );
            response = self.limits.bound(response);
        }
        with_codes(response, self.request_id.as_deref())
    }
}

fn with_codes(mut response: Response, request_id: Option<&str>) -> Response {
    for error in &mut response.errors {
        fill_code(error, request_id);
    }
    response
}

impl Executor for AppSchema {
    async fn execute(&self, request: Request) -> Response {
        let request_id = data_of::<RequestId>(&request.data).map(|id| id.0);
        let request = match self.limits.prepare(request).await {
            Ok(request) => request,
            Err(error) => {
                return with_codes(Response::from_errors(vec![error]), request_id.as_deref())
            }
        };
        let after = After::of(&self.limits, &request);
        let response = self.schema.execute(request).await;
        after.apply(response)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        stream::once(async move {
            let request_id = data_of::<RequestId>(&request.data).map(|id| id.0);
            let request = match this.limits.prepare(request).await {
                Ok(request) => request,
                Err(error) => {
                    let response =
                        with_codes(Response::from_errors(vec![error]), request_id.as_deref());
                    return stream::once(async { response }).boxed();
                }
            };
            let after = After::of(&this.limits, &request);
            this.schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default())
                .map(move |response| after.apply(response))
                .boxed()
        })
        .flatten()
        .boxed()
    }
}

impl AppSchema {
    /// Runs a subscription (or a query or mutation, as one answer) over a
    /// stream; see [`Executor::execute_stream`].
    pub fn execute_stream(&self, request: Request) -> BoxStream<'static, Response> {
        Executor::execute_stream(self, request, None)
    }
}

/// The SDL committed as `schema.graphql`, with `@specifiedBy` on the
/// scalars that follow a published specification.
pub fn sdl() -> String {
    bare()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
