//! The GraphQL schema: roots, objects, inputs, scalars, loaders and the error
//! mapping. Transport only: rules live in `domain`.

pub mod context;
pub mod documents;
pub mod error;
pub mod gate;
pub mod input;
pub mod loader;
pub mod mutation;
pub mod nulls;
pub mod object;
pub mod payload;
pub mod query;
pub mod scalar;
pub mod schema;
pub mod shape;
pub mod subscription;
pub mod variables;
