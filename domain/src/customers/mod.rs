//! Customers and relationships (SPEC §3): profiles, relationship stages and
//! types, touchpoints, purchases, costs, churn history, the customer card's
//! batch loaders and the privacy operations (export and erasure).
//!
//! Churn history contract (relied on by `metrics`): a customer counts as a
//! customer at instant `t` when `acquired_at <= t` and no `churn_events` row
//! has `churned_at <= t` and (`reactivated_at IS NULL` or `reactivated_at > t`).

pub mod batch;
pub(crate) mod birthdays;
mod list;
mod privacy;
mod service;
mod types;

pub use crate::money::{Currency, Money};
pub use batch::{
    churn_events_for, customers_by_ids, interactions_page, interactions_page_for,
    purchase_stats_for, purchases_page, purchases_page_for, referrals_page, referrals_page_for,
    TimeCursor,
};
pub use list::{CustomerCursor, CustomerFilter, CustomerOrder, CustomerOrderField, SortDirection};
pub use service::{
    CustomerPatch, CustomerService, NewCost, NewCustomer, NewInteraction, NewPurchase,
};
pub use types::*;
