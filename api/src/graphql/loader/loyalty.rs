//! Loyalty loaders: memberships per customer (the customer card), ledger
//! first pages and expiring points per membership, so lists of memberships
//! cost a constant number of statements.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use domain::loyalty::{ExpiringPoints, LedgerEntry, LoyaltyService, Membership};
use domain::pagination::Page;
use domain::DomainError;

/// Loads every membership of a batch of customers in three statements, over
/// `domain::loyalty::memberships_for_customers`.
pub struct MembershipsByCustomer {
    loyalty: LoyaltyService,
}

impl MembershipsByCustomer {
    /// A batching, non-caching loader (safe to share across requests), with
    /// the shared [`super::BATCH_WINDOW`].
    pub fn data_loader(loyalty: LoyaltyService) -> DataLoader<Self> {
        super::batching(Self { loyalty })
    }
}

impl Loader<i64> for MembershipsByCustomer {
    type Value = Vec<Membership>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.loyalty
            .memberships_for_customers(keys)
            .await
            .map_err(Arc::new)
    }
}

/// The first page of many memberships' ledgers, keyed by `(membership id,
/// page size)`: one statement per distinct page size in a batch.
pub struct LedgerFirstPages {
    loyalty: LoyaltyService,
}

impl LedgerFirstPages {
    /// A batching, non-caching loader (safe to share across requests), with
    /// the shared [`super::BATCH_WINDOW`].
    pub fn data_loader(loyalty: LoyaltyService) -> DataLoader<Self> {
        super::batching(Self { loyalty })
    }
}

impl Loader<(i64, u64)> for LedgerFirstPages {
    type Value = Page<LedgerEntry>;
    type Error = Arc<DomainError>;

    async fn load(
        &self,
        keys: &[(i64, u64)],
    ) -> Result<HashMap<(i64, u64), Self::Value>, Self::Error> {
        let mut by_limit: HashMap<u64, Vec<i64>> = HashMap::new();
        for (id, limit) in keys {
            by_limit.entry(*limit).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (limit, ids) in by_limit {
            let pages = self
                .loyalty
                .ledger_first_pages(&ids, limit)
                .await
                .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(id, page)| ((id, limit), page)));
        }
        Ok(out)
    }
}

/// Points about to expire for many memberships in one statement.
pub struct ExpiringPointsByMembership {
    loyalty: LoyaltyService,
}

impl ExpiringPointsByMembership {
    /// A batching, non-caching loader (safe to share across requests), with
    /// the shared [`super::BATCH_WINDOW`].
    pub fn data_loader(loyalty: LoyaltyService) -> DataLoader<Self> {
        super::batching(Self { loyalty })
    }
}

impl Loader<i64> for ExpiringPointsByMembership {
    type Value = Vec<ExpiringPoints>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.loyalty
            .expiring_points_for(keys)
            .await
            .map_err(Arc::new)
    }
}
