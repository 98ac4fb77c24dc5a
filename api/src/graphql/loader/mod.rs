//! DataLoaders: one file per relation or per-parent aggregate, each glue over a
//! domain batch function, so lists never cost a query per row.

pub mod churn_events;
pub mod customer;
pub mod first_page;
pub mod interactions_page;
pub mod latest_responses;
pub mod loyalty;
pub mod purchase_stats;
pub mod purchases_page;
pub mod referrals_page;

use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ObjectType, SchemaBuilder, SubscriptionType};
use sea_orm::DatabaseConnection;

/// Adds the customer card's loaders. `DataLoader::new` batches without
/// caching, so schema-wide loaders never serve stale rows across requests.
pub fn with_customer_loaders<Q, M, S>(
    builder: SchemaBuilder<Q, M, S>,
    db: &DatabaseConnection,
) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    builder
        .data(batching(customer::CustomerLoader(db.clone())))
        .data(batching(churn_events::ChurnEventsLoader(db.clone())))
        .data(batching(purchase_stats::PurchaseStatsLoader(db.clone())))
        .data(batching(interactions_page::InteractionsPageLoader(
            db.clone(),
        )))
        .data(batching(purchases_page::PurchasesPageLoader(db.clone())))
        .data(batching(referrals_page::ReferralsPageLoader(db.clone())))
        .data(batching(latest_responses::LatestResponsesLoader(
            db.clone(),
        )))
}

/// How long a loader waits for more keys before it queries. Resolvers of one
/// page register their keys within microseconds; 2 ms keeps a busy machine
/// from splitting a page's batch while adding little latency.
pub const BATCH_WINDOW: Duration = Duration::from_millis(2);

/// A non-caching loader with the [`BATCH_WINDOW`].
pub fn batching<K, T>(loader: T) -> DataLoader<T>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Loader<K>,
{
    DataLoader::new(loader, tokio::spawn).delay(BATCH_WINDOW)
}
pub mod csi;
