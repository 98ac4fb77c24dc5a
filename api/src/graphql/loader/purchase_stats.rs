//! Purchase count and revenue per customer, over
//! `domain::customers::purchase_stats_for` (one grouped query).

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::customers::{purchase_stats_for, PurchaseStats};
use domain::DomainError;
use sea_orm::DatabaseConnection;

/// Loads purchase aggregates for many customers in one statement.
pub struct PurchaseStatsLoader(pub DatabaseConnection);

impl BatchLoad for PurchaseStatsLoader {
    type Key = i64;
    type Value = PurchaseStats;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, PurchaseStats>, Arc<DomainError>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        purchase_stats_for(&self.0, keys).await.map_err(Arc::new)
    }
}
