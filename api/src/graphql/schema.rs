//! One schema for the server, the tests and `rapport export-schema`.

use async_graphql::{Schema, SchemaBuilder};

use crate::graphql::extension::Limits;
use crate::graphql::mutation::Mutation;
use crate::graphql::query::Query;
use crate::graphql::subscription::Subscription;
use crate::state::Services;

/// The application schema type.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Deepest selection nesting accepted (standard introspection queries need 14).
pub const MAX_DEPTH: usize = 16;
/// Highest query complexity accepted (connections count `first` × children).
pub const MAX_COMPLEXITY: usize = 5_000;
/// Most directives in one document.
pub const MAX_DIRECTIVES: usize = 50;

/// The schema with its limits and extensions but no runtime data.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(64)
        .limit_directives(MAX_DIRECTIVES)
        .extension(Limits)
}

/// The schema as served, with the services attached. Production turns off
/// introspection and field suggestions.
pub fn build(services: Services, production: bool) -> AppSchema {
    let mut builder = schema_builder();
    builder = builder.data(services);
    if production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL committed as `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
