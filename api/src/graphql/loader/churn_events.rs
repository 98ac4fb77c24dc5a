//! Each customer's churn history, over `domain::customers::churn_events_for`.

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::customers::{churn_events_for, ChurnEvent};
use domain::DomainError;
use sea_orm::DatabaseConnection;

/// Loads churn histories for many customers in one statement.
pub struct ChurnEventsLoader(pub DatabaseConnection);

impl BatchLoad for ChurnEventsLoader {
    type Key = i64;
    type Value = Vec<ChurnEvent>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<ChurnEvent>>, Arc<DomainError>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        churn_events_for(&self.0, keys).await.map_err(Arc::new)
    }
}
