//! Customers and relationships (SPEC §3): profiles, relationship stages and
//! types, touchpoints, purchases, costs, churn history, the customer card's
//! batch loaders and the privacy operations (export and erasure).
//!
//! - [`CustomerService`] (here): the area's operations, each checking the
//!   actor's capability, opening the transaction it owns and delegating to
//!   the topic modules below.
//! - `records`: creating, changing and loading a customer.
//! - `churn`: relationship stage, churn and reactivation.
//! - `activity`: touchpoints, purchases and costs.
//! - `list`: filtered, ordered pages of customers.
//! - `cards`: the parts of each card read with a page ([`CardParts`]).
//! - [`batch`]: the batch functions behind the API's loaders.
//! - `birthdays`: upcoming birthdays.
//! - `privacy`: export and erasure.
//!
//! Churn history contract (relied on by `metrics`): a customer counts as a
//! customer at instant `t` when `acquired_at <= t` and no `churn_events` row
//! has `churned_at <= t` and (`reactivated_at IS NULL` or `reactivated_at > t`).

mod activity;
pub mod batch;
pub(crate) mod birthdays;
mod cards;
mod churn;
mod list;
mod privacy;
mod records;
mod types;

pub use crate::money::{Currency, Money};
pub use activity::{NewCost, NewInteraction, NewPurchase};
pub use batch::{
    churn_events_for, customers_by_ids, interaction_counts_for, interactions_page,
    interactions_page_for, purchase_counts_for, purchase_stats_for, purchases_by_ids,
    purchases_page, purchases_page_for, referral_counts_for, referrals_page, referrals_page_for,
    TimeCursor,
};
pub use cards::{CardParts, Cards};
pub use list::{
    CustomerCursor, CustomerFilter, CustomerOrder, CustomerOrderField, SortDirection, SortKey,
};
pub use records::{CustomerPatch, NewCustomer};
pub use types::*;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::auth::{Actor, Capability};
use crate::db::{begin_write, Scrubber};
use crate::error::DomainResult;
use crate::pagination::{Page, PageRequest};

/// Longest free text accepted (interaction summaries, notes).
pub(crate) const MAX_NOTE_LEN: usize = 2_000;

/// Customers, their touchpoints, purchases and costs.
#[derive(Clone)]
pub struct CustomerService {
    db: DatabaseConnection,
    /// Removes erased values' old copies from the files after an erasure.
    scrubber: Arc<Scrubber>,
}

impl CustomerService {
    /// The service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            scrubber: Scrubber::new(),
        }
    }

    /// The connection, for the batch functions behind the API's loaders.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Checks that `actor` may read customers, for a field that shows a
    /// customer a batch loader fetched ([`crate::customers::batch`]): the rule
    /// of [`Self::get`].
    ///
    /// # Errors
    /// `FORBIDDEN`.
    pub fn authorize_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadCustomers)
    }

    /// One customer.
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`.
    pub async fn get(&self, actor: &Actor, id: i64) -> DomainResult<Customer> {
        actor.require(Capability::ReadCustomers)?;
        records::load(&self.db, id).await
    }

    /// One interaction, or `None` (the rule of [`Self::get`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn interaction(&self, actor: &Actor, id: i64) -> DomainResult<Option<Interaction>> {
        actor.require(Capability::ReadCustomers)?;
        entity::interactions::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Interaction::try_from)
            .transpose()
    }

    /// One purchase, or `None` (the rule of [`Self::get`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn purchase(&self, actor: &Actor, id: i64) -> DomainResult<Option<Purchase>> {
        actor.require(Capability::ReadCustomers)?;
        entity::purchases::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Purchase::try_from)
            .transpose()
    }

    /// One cost, or `None` (the rule of [`Self::get`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; database failures.
    pub async fn cost(&self, actor: &Actor, id: i64) -> DomainResult<Option<Cost>> {
        actor.require(Capability::ReadCustomers)?;
        entity::costs::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Cost::try_from)
            .transpose()
    }

    /// A page of customers, filtered and ordered, with the `parts` of each
    /// card read in the same statement (the memberships' programmes and the
    /// responses' answers in one more each).
    ///
    /// # Errors
    /// `FORBIDDEN` (survey read access for responses); `BAD_USER_INPUT` on a
    /// bad filter or a cursor from another order.
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageRequest<CustomerCursor>,
        filter: CustomerFilter,
        order: CustomerOrder,
        parts: CardParts,
    ) -> DomainResult<(Page<Customer>, Cards)> {
        parts.authorize(actor)?;
        let page = list::list(&self.db, page, &filter, &order, &parts).await?;
        let mut rows = Vec::with_capacity(page.items.len());
        let page = page.map(|(customer, row)| {
            rows.push((customer.id, row));
            customer
        });
        let cards = cards::gather(&self.db, &parts, rows).await?;
        Ok((page, cards))
    }

    /// One customer with the `parts` of their card, read in one statement
    /// (the memberships' programmes and the answers in more, as for
    /// [`Self::list`]).
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn card(
        &self,
        actor: &Actor,
        id: i64,
        parts: CardParts,
    ) -> DomainResult<(Customer, Cards)> {
        parts.authorize(actor)?;
        let (customer, row) = list::one(&self.db, id, &parts)
            .await?
            .ok_or(crate::error::DomainError::NotFound("customer"))?;
        let cards = cards::gather(&self.db, &parts, vec![(customer.id, row)]).await?;
        Ok((customer, cards))
    }

    /// How many customers match `filter`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on a bad filter.
    pub async fn count(&self, actor: &Actor, filter: CustomerFilter) -> DomainResult<i64> {
        actor.require(Capability::ReadCustomers)?;
        list::count(&self.db, &filter).await
    }

    /// Creates a customer.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` (birthday, acquiredAt); `NOT_FOUND` for
    /// an unknown referrer; `CONFLICT` for a taken e-mail.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: NewCustomer) -> DomainResult<Customer> {
        actor.require(Capability::WriteCustomers)?;
        let now = Utc::now();
        let acquired_at = records::check_new(&input, now)?;
        let txn = begin_write(&self.db).await?;
        let customer = records::create(&txn, input, acquired_at, now).await?;
        txn.commit().await?;
        Ok(customer)
    }

    /// Applies a patch to a customer.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` for a taken e-mail or an erased
    /// customer; `BAD_USER_INPUT` on `referredById` for self-referral or a cycle.
    #[tracing::instrument(skip(self, actor, patch))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        patch: CustomerPatch,
    ) -> DomainResult<Customer> {
        actor.require(Capability::WriteCustomers)?;
        let now = Utc::now();
        records::check_patch(&patch, now)?;
        let txn = begin_write(&self.db).await?;
        let customer = records::update(&txn, id, patch, now).await?;
        txn.commit().await?;
        Ok(customer)
    }

    /// Moves a customer to another relationship stage (MANAGER and ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` for an erased customer.
    pub async fn set_stage(
        &self,
        actor: &Actor,
        id: i64,
        stage: RelationshipStage,
    ) -> DomainResult<Customer> {
        actor.require(Capability::ChurnCustomers)?;
        let txn = begin_write(&self.db).await?;
        let customer = churn::set_stage(&txn, id, stage).await?;
        txn.commit().await?;
        Ok(customer)
    }

    /// Records that a customer left: appends a churn event and marks the
    /// customer churned; the stage becomes `DISSOLUTION`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` when already churned or erased;
    /// `BAD_USER_INPUT` on `note` (required for `OTHER`) or `at` (future,
    /// before acquisition or before the last reactivation).
    #[tracing::instrument(skip(self, actor, note))]
    pub async fn churn(
        &self,
        actor: &Actor,
        id: i64,
        reason: ChurnReason,
        note: Option<&str>,
        at: Option<DateTime<Utc>>,
    ) -> DomainResult<Customer> {
        actor.require(Capability::ChurnCustomers)?;
        let now = Utc::now();
        let (note, at) = churn::check_churn(reason, note, at, now)?;
        let txn = begin_write(&self.db).await?;
        let customer = churn::churn(&txn, id, reason, note, at, now).await?;
        txn.commit().await?;
        Ok(customer)
    }

    /// Brings a churned customer back: closes the open churn event and clears
    /// the churn fields; the stage becomes `EXPLORATION`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` when the customer is active or
    /// erased; `BAD_USER_INPUT` on `at` (future or before the churn).
    #[tracing::instrument(skip(self, actor))]
    pub async fn reactivate(
        &self,
        actor: &Actor,
        id: i64,
        at: Option<DateTime<Utc>>,
    ) -> DomainResult<Customer> {
        actor.require(Capability::ChurnCustomers)?;
        let now = Utc::now();
        let at = churn::check_reactivation(at, now)?;
        let txn = begin_write(&self.db).await?;
        let customer = churn::reactivate(&txn, id, at, now).await?;
        txn.commit().await?;
        Ok(customer)
    }

    /// Records a touchpoint.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` for an erased customer;
    /// `BAD_USER_INPUT` on `occurredAt` or `summary`.
    #[tracing::instrument(skip_all, fields(customer_id = input.customer_id))]
    pub async fn record_interaction(
        &self,
        actor: &Actor,
        input: NewInteraction,
    ) -> DomainResult<Interaction> {
        actor.require(Capability::RecordActivity)?;
        let now = Utc::now();
        let (summary, occurred_at) = activity::check_interaction(&input, now)?;
        let txn = begin_write(&self.db).await?;
        let model =
            activity::insert_interaction(&txn, input, summary, occurred_at, actor.user_id, now)
                .await?;
        txn.commit().await?;
        Interaction::try_from(model)
    }

    /// Records a purchase and lets the loyalty area credit points for it in
    /// the same transaction (enrolling the customer where a programme says
    /// so). The external reference is unique per customer: a repeat is
    /// `CONFLICT` and writes nothing. A purchase dated before the customer's
    /// `acquiredAt` is refused: the relationship had not begun.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` (repeat, erased customer);
    /// `BAD_USER_INPUT` on `occurredAt` (future, before `acquiredAt`) or
    /// `externalRef`.
    #[tracing::instrument(skip_all, fields(customer_id = input.customer_id))]
    pub async fn record_purchase(
        &self,
        actor: &Actor,
        input: NewPurchase,
    ) -> DomainResult<Purchase> {
        actor.require(Capability::RecordActivity)?;
        let now = Utc::now();
        let (external_ref, occurred_at) = activity::check_purchase(&input, now)?;
        let txn = begin_write(&self.db).await?;
        let purchase =
            activity::insert_purchase(&txn, input, external_ref, occurred_at, now).await?;
        crate::events::purchase_recorded(&txn, &purchase).await?;
        txn.commit().await?;
        Ok(purchase)
    }

    /// Records an acquisition or care cost, for one customer or none.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `BAD_USER_INPUT` on `incurredOn` or `note`.
    #[tracing::instrument(skip_all)]
    pub async fn record_cost(&self, actor: &Actor, input: NewCost) -> DomainResult<Cost> {
        actor.require(Capability::RecordActivity)?;
        let now = Utc::now();
        let (note, incurred_on) = activity::check_cost(&input, now)?;
        let txn = begin_write(&self.db).await?;
        let model = activity::insert_cost(&txn, input, note, incurred_on, now).await?;
        txn.commit().await?;
        Cost::try_from(model)
    }

    /// Customers whose birthday falls within the next `days` days (today
    /// included), soonest first.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on `days` outside 0–366.
    pub async fn upcoming_birthdays(
        &self,
        actor: &Actor,
        days: i32,
        today: Option<NaiveDate>,
    ) -> DomainResult<Vec<UpcomingBirthday>> {
        actor.require(Capability::ReadCustomers)?;
        let today = today.unwrap_or_else(|| Utc::now().date_naive());
        birthdays::upcoming(&self.db, today, days).await
    }

    /// Everything stored about a customer, as JSON (MANAGER and ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn export(&self, actor: &Actor, id: i64) -> DomainResult<serde_json::Value> {
        actor.require(Capability::EraseCustomers)?;
        privacy::export(&self.db, id).await
    }

    /// Removes a customer's personal data and free texts, keeping ids,
    /// amounts and dates, and records the erasure (MANAGER and ADMIN). Then
    /// removes the erased values' old copies from the database files
    /// ([`Scrubber`]): on SQLite before it returns, on PostgreSQL in the
    /// background.
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`; `CONFLICT` when already erased.
    #[tracing::instrument(skip(self, actor), fields(actor = actor.user_id))]
    pub async fn erase(&self, actor: &Actor, id: i64) -> DomainResult<Customer> {
        actor.require(Capability::EraseCustomers)?;
        let txn = begin_write(&self.db).await?;
        records::writable(&txn, id).await?;
        let changed = privacy::erase(&txn, id, actor.user_id, Utc::now()).await?;
        let customer = records::load(&txn, id).await?;
        txn.commit().await?;
        self.scrubber.after_erasure(&self.db, changed).await;
        Ok(customer)
    }
}
