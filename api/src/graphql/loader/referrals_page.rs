//! The first page of the customers each customer referred, over
//! `domain::customers::referrals_page_for` (one window-function query per page size).

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::customers::{referrals_page_for, Customer};
use domain::pagination::Page;
use domain::DomainError;
use sea_orm::DatabaseConnection;

use super::first_page::{by_limit, FirstPage};

/// Loads first pages of the customers each customer referred in batches.
pub struct ReferralsPageLoader(pub DatabaseConnection);

impl BatchLoad for ReferralsPageLoader {
    type Key = FirstPage;
    type Value = Page<Customer>;

    async fn load(
        &self,
        keys: &[FirstPage],
    ) -> Result<HashMap<FirstPage, Page<Customer>>, Arc<DomainError>> {
        let mut out = HashMap::with_capacity(keys.len());
        for (limit, ids) in by_limit(keys) {
            let pages = referrals_page_for(&self.0, &ids, limit)
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
