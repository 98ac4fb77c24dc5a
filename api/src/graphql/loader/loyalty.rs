//! Loyalty loaders: memberships per customer (the customer card), ledger
//! first pages and expiring points per membership, so lists of memberships
//! cost a constant number of statements.

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchLoad;
use domain::loyalty::{
    ExpiringPoints, LedgerEntry, LedgerFilter, LoyaltyService, Membership, PointsCredit, Promotion,
    Reward,
};
use domain::pagination::Page;
use domain::DomainError;

/// Loads every membership of a batch of customers in two statements, over
/// `domain::loyalty::memberships_for_customers`.
pub struct MembershipsByCustomer(pub LoyaltyService);

impl BatchLoad for MembershipsByCustomer {
    type Key = i64;
    type Value = Vec<Membership>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Arc<DomainError>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.0
            .memberships_for_customers(keys)
            .await
            .map_err(Arc::new)
    }
}

/// The first page of many memberships' ledgers, keyed by `(membership id,
/// page size)`: one statement per distinct page size in a batch.
pub struct LedgerFirstPages(pub LoyaltyService);

impl BatchLoad for LedgerFirstPages {
    type Key = (i64, u64);
    type Value = Page<LedgerEntry>;

    async fn load(
        &self,
        keys: &[(i64, u64)],
    ) -> Result<HashMap<(i64, u64), Self::Value>, Arc<DomainError>> {
        let mut by_limit: HashMap<u64, Vec<i64>> = HashMap::new();
        for (id, limit) in keys {
            by_limit.entry(*limit).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (limit, ids) in by_limit {
            let pages = self
                .0
                .ledger_first_pages(&ids, limit)
                .await
                .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(id, page)| ((id, limit), page)));
        }
        Ok(out)
    }
}

/// How many ledger entries of many memberships match a filter, keyed by
/// `(membership id, filter)`: one grouped statement per distinct filter in a
/// batch (a page of memberships usually shares one).
pub struct LedgerCounts(pub LoyaltyService);

impl BatchLoad for LedgerCounts {
    type Key = (i64, LedgerFilter);
    type Value = i64;

    async fn load(
        &self,
        keys: &[(i64, LedgerFilter)],
    ) -> Result<HashMap<(i64, LedgerFilter), i64>, Arc<DomainError>> {
        let mut by_filter: HashMap<&LedgerFilter, Vec<i64>> = HashMap::new();
        for (id, filter) in keys {
            by_filter.entry(filter).or_default().push(*id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (filter, ids) in by_filter {
            let counts = self
                .0
                .ledger_counts_for(&ids, filter)
                .await
                .map_err(Arc::new)?;
            out.extend(
                ids.into_iter()
                    .map(|id| ((id, filter.clone()), counts.get(&id).copied().unwrap_or(0))),
            );
        }
        Ok(out)
    }
}

/// Points about to expire for many memberships in one statement.
pub struct ExpiringPointsByMembership(pub LoyaltyService);

impl BatchLoad for ExpiringPointsByMembership {
    type Key = i64;
    type Value = Vec<ExpiringPoints>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Arc<DomainError>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.0.expiring_points_for(keys).await.map_err(Arc::new)
    }
}

/// The points each programme credited for a purchase, keyed by `(customer id,
/// purchase id)`, over `domain::loyalty::points_credited_for` (four statements
/// per batch).
pub struct PointsCreditedByPurchase(pub sea_orm::DatabaseConnection);

impl BatchLoad for PointsCreditedByPurchase {
    type Key = (i64, i64);
    type Value = Vec<PointsCredit>;

    async fn load(
        &self,
        keys: &[(i64, i64)],
    ) -> Result<HashMap<(i64, i64), Self::Value>, Arc<DomainError>> {
        domain::loyalty::points_credited_for(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// The first page of many programmes' rewards, keyed by `(programme id, page
/// size)`: one statement per distinct page size in a batch, over
/// `domain::loyalty::reward_first_pages`.
pub struct RewardFirstPages(pub sea_orm::DatabaseConnection);

impl BatchLoad for RewardFirstPages {
    type Key = (i64, u64);
    type Value = Page<Reward>;

    async fn load(
        &self,
        keys: &[(i64, u64)],
    ) -> Result<HashMap<(i64, u64), Self::Value>, Arc<DomainError>> {
        let mut by_limit: HashMap<u64, Vec<i64>> = HashMap::new();
        for (id, limit) in keys {
            by_limit.entry(*limit).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (limit, ids) in by_limit {
            let pages = domain::loyalty::reward_first_pages(&self.0, &ids, limit)
                .await
                .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(id, page)| ((id, limit), page)));
        }
        Ok(out)
    }
}

/// The first page of many programmes' promotions, keyed by `(programme id,
/// page size)`, over `domain::loyalty::promotion_first_pages`.
pub struct PromotionFirstPages(pub sea_orm::DatabaseConnection);

impl BatchLoad for PromotionFirstPages {
    type Key = (i64, u64);
    type Value = Page<Promotion>;

    async fn load(
        &self,
        keys: &[(i64, u64)],
    ) -> Result<HashMap<(i64, u64), Self::Value>, Arc<DomainError>> {
        let mut by_limit: HashMap<u64, Vec<i64>> = HashMap::new();
        for (id, limit) in keys {
            by_limit.entry(*limit).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (limit, ids) in by_limit {
            let pages = domain::loyalty::promotion_first_pages(&self.0, &ids, limit)
                .await
                .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(id, page)| ((id, limit), page)));
        }
        Ok(out)
    }
}
