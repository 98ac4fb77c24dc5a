//! Customers by id (`referredBy`), over `domain::customers::customers_by_ids`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use domain::customers::{customers_by_ids, Customer};
use domain::DomainError;
use sea_orm::DatabaseConnection;

/// Loads customers by id in one batch.
pub struct CustomerLoader(pub DatabaseConnection);

impl Loader<i64> for CustomerLoader {
    type Value = Customer;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Customer>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        customers_by_ids(&self.0, keys).await.map_err(Arc::new)
    }
}
