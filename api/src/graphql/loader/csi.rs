//! Every version of a factor-set family, batched over the families of a page.

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::csi::FactorSet;
use domain::DomainError;
use sea_orm::DatabaseConnection;

/// Loads `versions` by family id with two queries per batch.
pub struct CsiVersionsLoader(pub DatabaseConnection);

impl BatchLoad for CsiVersionsLoader {
    type Key = i64;
    type Value = Vec<FactorSet>;

    async fn load(
        &self,
        family_ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, Arc<DomainError>> {
        domain::csi::factor_sets::versions_of_families(&self.0, family_ids)
            .await
            .map_err(Arc::new)
    }
}
