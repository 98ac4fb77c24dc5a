//! Each customer's latest survey responses, batched over a page of customers.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use domain::feedback::SurveyResponse;
use domain::DomainError;
use sea_orm::DatabaseConnection;

use super::first_page::{by_limit, FirstPage};

/// Loads a customer's newest `limit` responses with three queries per batch
/// and page size.
pub struct LatestResponsesLoader(pub DatabaseConnection);

impl Loader<FirstPage> for LatestResponsesLoader {
    type Value = Vec<SurveyResponse>;
    type Error = Arc<DomainError>;

    async fn load(
        &self,
        keys: &[FirstPage],
    ) -> Result<HashMap<FirstPage, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for (limit, ids) in by_limit(keys) {
            let mut found = domain::feedback::responses_for_customers(&self.0, &ids, limit)
                .await
                .map_err(Arc::new)?;
            for parent_id in ids {
                let rows = found.remove(&parent_id).unwrap_or_default();
                out.insert(FirstPage { parent_id, limit }, rows);
            }
        }
        Ok(out)
    }
}
