//! Each customer's latest survey responses, batched over a page of customers.

use std::collections::HashMap;
use std::sync::Arc;

use domain::feedback::{ResponseDetail, SurveyResponse};
use domain::DomainError;
use sea_orm::DatabaseConnection;

use super::BatchLoad;

/// A customer's newest `limit` responses, with or without their answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatestResponses {
    pub customer_id: i64,
    pub limit: u64,
    pub detail: ResponseDetail,
}

/// Loads customers' newest responses with two statements per page size and
/// detail, and one more for answers when they are asked for.
pub struct LatestResponsesLoader(pub DatabaseConnection);

impl BatchLoad for LatestResponsesLoader {
    type Key = LatestResponses;
    type Value = Vec<SurveyResponse>;

    async fn load(
        &self,
        keys: &[LatestResponses],
    ) -> Result<HashMap<LatestResponses, Self::Value>, Arc<DomainError>> {
        let mut groups: HashMap<(u64, ResponseDetail), Vec<i64>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.limit, key.detail))
                .or_default()
                .push(key.customer_id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((limit, detail), ids) in groups {
            let mut found = domain::feedback::responses_for_customers(&self.0, &ids, limit, detail)
                .await
                .map_err(Arc::new)?;
            for customer_id in ids {
                let rows = found.remove(&customer_id).unwrap_or_default();
                out.insert(
                    LatestResponses {
                        customer_id,
                        limit,
                        detail,
                    },
                    rows,
                );
            }
        }
        Ok(out)
    }
}
