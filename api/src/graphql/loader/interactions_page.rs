//! The first page of each customer's interactions, over
//! `domain::customers::interactions_page_for` (one window-function query per page size).

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::customers::{interactions_page_for, Interaction};
use domain::pagination::Page;
use domain::DomainError;
use sea_orm::DatabaseConnection;

use super::first_page::{by_limit, FirstPage};

/// Loads first pages of each customer's interactions in batches.
pub struct InteractionsPageLoader(pub DatabaseConnection);

impl BatchLoad for InteractionsPageLoader {
    type Key = FirstPage;
    type Value = Page<Interaction>;

    async fn load(
        &self,
        keys: &[FirstPage],
    ) -> Result<HashMap<FirstPage, Page<Interaction>>, Arc<DomainError>> {
        let mut out = HashMap::with_capacity(keys.len());
        for (limit, ids) in by_limit(keys) {
            let pages = interactions_page_for(&self.0, &ids, limit)
                .await
                .map_err(Arc::new)?;
            out.extend(
                pages
                    .into_iter()
                    .map(|(parent_id, page)| (FirstPage { parent_id, limit }, page)),
            );
        }
        Ok(out)
    }
}
