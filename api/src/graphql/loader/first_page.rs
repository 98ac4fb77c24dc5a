//! First pages of per-customer lists (interactions, purchases, referrals):
//! one generic loader over the domain's batch functions, each of which reads
//! the first `limit` rows of many parents with one window-function query.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use domain::customers::{
    interaction_counts_for, interactions_page, interactions_page_for, purchase_counts_for,
    purchases_page, purchases_page_for, referral_counts_for, referrals_page, referrals_page_for,
    Customer, Interaction, Purchase, TimeCursor,
};
use domain::pagination::{Page, PageRequest};
use domain::{DomainError, DomainResult};
use sea_orm::DatabaseConnection;

use super::BatchLoad;

/// The first `limit` rows of a parent's list (no cursor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstPage {
    pub parent_id: i64,
    pub limit: u64,
}

/// Groups keys by page size, so each distinct size costs one batch query.
pub fn by_limit(keys: &[FirstPage]) -> BTreeMap<u64, Vec<i64>> {
    let mut groups: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for key in keys {
        groups.entry(key.limit).or_default().push(key.parent_id);
    }
    groups
}

/// A per-parent list whose first pages a domain batch function reads.
pub trait FirstPageList: Send + Sync + 'static {
    /// The list's rows.
    type Item: Clone + Send + Sync + 'static;

    /// The first `limit` rows of each parent in `ids`, as pages.
    fn pages(
        db: &DatabaseConnection,
        ids: &[i64],
        limit: u64,
    ) -> impl Future<Output = DomainResult<HashMap<i64, Page<Self::Item>>>> + Send;

    /// How many rows each parent in `ids` has (absent: none).
    fn counts(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = DomainResult<HashMap<i64, i64>>> + Send;

    /// Any page of one parent's list (what is not a plain first page).
    fn page(
        db: &DatabaseConnection,
        parent_id: i64,
        request: &PageRequest<TimeCursor>,
    ) -> impl Future<Output = DomainResult<Page<Self::Item>>> + Send;
}

/// Loads first pages of the list `L` in batches: one query per page size.
pub struct FirstPageLoader<L>(DatabaseConnection, PhantomData<fn() -> L>);

impl<L> FirstPageLoader<L> {
    /// A loader reading from `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<L: FirstPageList> BatchLoad for FirstPageLoader<L> {
    type Key = FirstPage;
    type Value = Page<L::Item>;

    async fn load(
        &self,
        keys: &[FirstPage],
    ) -> Result<HashMap<FirstPage, Page<L::Item>>, Arc<DomainError>> {
        let mut out = HashMap::with_capacity(keys.len());
        for (limit, ids) in by_limit(keys) {
            let pages = L::pages(&self.0, &ids, limit).await.map_err(Arc::new)?;
            out.extend(
                pages
                    .into_iter()
                    .map(|(parent_id, page)| (FirstPage { parent_id, limit }, page)),
            );
        }
        Ok(out)
    }
}

/// A customer's interactions, over `domain::customers::interactions_page_for`.
pub struct Interactions;

impl FirstPageList for Interactions {
    type Item = Interaction;

    fn pages(
        db: &DatabaseConnection,
        ids: &[i64],
        limit: u64,
    ) -> impl Future<Output = DomainResult<HashMap<i64, Page<Interaction>>>> + Send {
        interactions_page_for(db, ids, limit)
    }

    fn counts(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = DomainResult<HashMap<i64, i64>>> + Send {
        interaction_counts_for(db, ids)
    }

    fn page(
        db: &DatabaseConnection,
        parent_id: i64,
        request: &PageRequest<TimeCursor>,
    ) -> impl Future<Output = DomainResult<Page<Interaction>>> + Send {
        interactions_page(db, parent_id, request)
    }
}

/// A customer's purchases, over `domain::customers::purchases_page_for`.
pub struct Purchases;

impl FirstPageList for Purchases {
    type Item = Purchase;

    fn pages(
        db: &DatabaseConnection,
        ids: &[i64],
        limit: u64,
    ) -> impl Future<Output = DomainResult<HashMap<i64, Page<Purchase>>>> + Send {
        purchases_page_for(db, ids, limit)
    }

    fn counts(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = DomainResult<HashMap<i64, i64>>> + Send {
        purchase_counts_for(db, ids)
    }

    fn page(
        db: &DatabaseConnection,
        parent_id: i64,
        request: &PageRequest<TimeCursor>,
    ) -> impl Future<Output = DomainResult<Page<Purchase>>> + Send {
        purchases_page(db, parent_id, request)
    }
}

/// The customers a customer referred, over `domain::customers::referrals_page_for`.
pub struct Referrals;

impl FirstPageList for Referrals {
    type Item = Customer;

    fn pages(
        db: &DatabaseConnection,
        ids: &[i64],
        limit: u64,
    ) -> impl Future<Output = DomainResult<HashMap<i64, Page<Customer>>>> + Send {
        referrals_page_for(db, ids, limit)
    }

    fn counts(
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> impl Future<Output = DomainResult<HashMap<i64, i64>>> + Send {
        referral_counts_for(db, ids)
    }

    fn page(
        db: &DatabaseConnection,
        parent_id: i64,
        request: &PageRequest<TimeCursor>,
    ) -> impl Future<Output = DomainResult<Page<Customer>>> + Send {
        referrals_page(db, parent_id, request)
    }
}

/// Counts the rows of the list `L` of many parents in one statement, for
/// `totalCount` on a nested connection.
pub struct CountLoader<L>(DatabaseConnection, PhantomData<fn() -> L>);

impl<L> CountLoader<L> {
    /// A loader reading from `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<L: FirstPageList> BatchLoad for CountLoader<L> {
    type Key = i64;
    type Value = i64;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, Arc<DomainError>> {
        let counts = L::counts(&self.0, keys).await.map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|id| (*id, counts.get(id).copied().unwrap_or(0)))
            .collect())
    }
}

/// First pages of customers' interactions.
pub type InteractionsPageLoader = FirstPageLoader<Interactions>;
/// First pages of customers' purchases.
pub type PurchasesPageLoader = FirstPageLoader<Purchases>;
/// First pages of the customers each customer referred.
pub type ReferralsPageLoader = FirstPageLoader<Referrals>;
