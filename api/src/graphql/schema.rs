//! One schema for the server, the tests and `rapport export-schema`.

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder};

use crate::graphql::documents::DocumentCache;

use crate::graphql::extension::Limits;
use crate::graphql::mutation::Mutation;
use crate::graphql::nulls::NullPropagation;
use crate::graphql::query::Query;
use crate::graphql::subscription::Subscription;
use crate::state::Services;

/// The application schema type.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema's types and resolvers, without limits or runtime data.
fn bare() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The schema with its limits (see [`crate::graphql::shape`]; they replace
/// async-graphql's depth, complexity and directive limits, which
/// expand fragments exponentially) and extensions but no runtime data.
///
/// # Errors
/// When the schema's own SDL cannot be read back (a bug).
pub fn schema_builder(
    max_response_bytes: usize,
    documents: Arc<DocumentCache>,
) -> anyhow::Result<SchemaBuilder<Query, Mutation, Subscription>> {
    let limits = Limits::new(&bare().finish().sdl(), max_response_bytes, documents)?;
    // async-graphql's own recursion check runs after ours (which is one level
    // stricter), so it never refuses; its default of 32 would.
    Ok(bare()
        .limit_recursive_depth(crate::graphql::shape::MAX_NESTING as usize)
        .extension(limits)
        .extension(NullPropagation))
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
    let mut builder = schema_builder(max_response_bytes, services.documents.clone())?;
    builder = builder.data(services);
    if production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    Ok(builder.finish())
}

/// The SDL committed as `schema.graphql`, with `@specifiedBy` on the
/// scalars that follow a published specification.
pub fn sdl() -> String {
    bare()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
