//! Customers by id (`referredBy`), over `domain::customers::customers_by_ids`.

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::customers::{customers_by_ids, Customer};
use domain::DomainError;
use sea_orm::DatabaseConnection;

/// Loads customers by id in one batch.
pub struct CustomerLoader(pub DatabaseConnection);

impl BatchLoad for CustomerLoader {
    type Key = i64;
    type Value = Customer;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Customer>, Arc<DomainError>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        customers_by_ids(&self.0, keys).await.map_err(Arc::new)
    }
}
