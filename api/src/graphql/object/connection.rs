//! Relay connections built from domain pages. Every connection carries
//! `totalCount`, which is counted only when a client selects it.

use std::future::Future;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Object, OutputType};
use domain::pagination::Page;
use futures::future::BoxFuture;

use crate::graphql::error::ApiResult;

/// Counts the whole list behind a connection, under the same filter.
type Counter = Arc<dyn Fn() -> BoxFuture<'static, ApiResult<i64>> + Send + Sync>;

/// The connection-level field every connection adds to its edges and nodes.
pub struct TotalCount(Counter);

#[Object]
impl TotalCount {
    /// How many items the whole list holds under the same filter, over all
    /// pages. Counted only when selected.
    async fn total_count(&self) -> ApiResult<i64> {
        (self.0)().await
    }
}

/// A Relay connection with `totalCount`; its GraphQL name is the node's
/// name followed by `Connection`.
pub type CountedConnection<N> = Connection<String, N, TotalCount>;

/// Turns a domain page into a connection: `node` wraps each item, and
/// `count` (run only if `totalCount` is selected, once per selection) counts
/// the whole list. `count` captures clones of what it needs (services,
/// actor, filter), so it outlives the resolver that built the page.
pub fn counted<T, N, F>(
    page: Page<T>,
    node: impl Fn(T) -> N,
    count: impl Fn() -> F + Send + Sync + 'static,
) -> CountedConnection<N>
where
    N: OutputType,
    F: Future<Output = ApiResult<i64>> + Send + 'static,
{
    let counter: Counter = Arc::new(move || Box::pin(count()));
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        TotalCount(counter),
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(cursor, node(item))),
    );
    connection
}
