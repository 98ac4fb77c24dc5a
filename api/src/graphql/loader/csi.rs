//! Every version of a factor-set family, batched over the families of a page.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use domain::csi::FactorSet;
use domain::DomainError;
use sea_orm::DatabaseConnection;

/// Loads `versions` by family id with two queries per batch.
pub struct CsiVersionsLoader(pub DatabaseConnection);

impl Loader<i64> for CsiVersionsLoader {
    type Value = Vec<FactorSet>;
    type Error = Arc<DomainError>;

    async fn load(&self, family_ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        domain::csi::factor_sets::versions_of_families(&self.0, family_ids)
            .await
            .map_err(Arc::new)
    }
}
