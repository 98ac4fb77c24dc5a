//! `CustomerService`: every customer mutation, each in one transaction.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use entity::{churn_events, costs, customer_tags, customers, interactions, purchases};

use super::list::{self, CustomerCursor, CustomerFilter, CustomerOrder};
use super::types::*;
use crate::auth::{Actor, Capability};
use crate::db::{begin_write, Scrubber};
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::money::Money;
use crate::pagination::{Page, PageRequest};
use crate::sql::Sql;
use crate::validation::{optional_text, Email};

/// Longest free text accepted (interaction summaries, notes).
pub const MAX_NOTE_LEN: usize = 2_000;

/// Advisory lock key serialising referral changes on PostgreSQL.
const REFERRAL_LOCK_KEY: i64 = 0x5241_5050_5245_4631;

/// Longest referral chain walked when checking for cycles.
const MAX_REFERRAL_DEPTH: usize = 10_000;

/// A validated new customer.
#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub name: CustomerName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub birthday: Option<NaiveDate>,
    pub locale: Option<Locale>,
    pub tags: Vec<Tag>,
    pub relationship_stage: RelationshipStage,
    pub relationship_type: Option<RelationshipType>,
    /// Defaults to now.
    pub acquired_at: Option<DateTime<Utc>>,
    pub referred_by_id: Option<i64>,
    pub marketing_consent: bool,
}

/// Changes to a customer: `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct CustomerPatch {
    pub name: Option<CustomerName>,
    pub email: Option<Option<Email>>,
    pub phone: Option<Option<Phone>>,
    pub birthday: Option<Option<NaiveDate>>,
    pub locale: Option<Option<Locale>>,
    /// Replaces the whole tag set.
    pub tags: Option<Vec<Tag>>,
    pub relationship_type: Option<Option<RelationshipType>>,
    pub acquired_at: Option<DateTime<Utc>>,
    pub referred_by_id: Option<Option<i64>>,
    pub marketing_consent: Option<bool>,
}

/// A touchpoint to record.
#[derive(Clone, Debug)]
pub struct NewInteraction {
    pub customer_id: i64,
    pub channel: Channel,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub helped: bool,
}

/// A purchase to record.
#[derive(Clone, Debug)]
pub struct NewPurchase {
    pub customer_id: i64,
    pub money: Money,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub external_ref: String,
}

/// A cost to record.
#[derive(Clone, Debug)]
pub struct NewCost {
    /// `None` for costs not tied to one customer (a campaign).
    pub customer_id: Option<i64>,
    pub kind: CostKind,
    pub money: Money,
    /// Defaults to today.
    pub incurred_on: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Customers, their touchpoints, purchases and costs.
#[derive(Clone)]
pub struct CustomerService {
    db: DatabaseConnection,
    /// Removes erased values' old copies from the files after an erasure.
    scrubber: Arc<Scrubber>,
}

impl CustomerService {
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
        load(&self.db, id).await
    }

    /// A page of customers, filtered and ordered.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on a bad filter or a cursor from another order.
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageRequest<CustomerCursor>,
        filter: CustomerFilter,
        order: CustomerOrder,
    ) -> DomainResult<Page<Customer>> {
        actor.require(Capability::ReadCustomers)?;
        list::list(&self.db, page, &filter, &order).await
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
        if let Some(birthday) = input.birthday {
            check_birthday(birthday, now)?;
        }
        let acquired_at = input.acquired_at.unwrap_or(now);
        not_in_future("acquiredAt", acquired_at, now)?;
        let txn = begin_write(&self.db).await?;
        if let Some(referrer) = input.referred_by_id {
            require_customer(&txn, referrer, "referring customer").await?;
        }
        let model = customers::ActiveModel {
            name: Set(input.name.as_ref().to_owned()),
            email: Set(input.email.map(String::from)),
            phone: Set(input.phone.map(|p| p.as_ref().to_owned())),
            birthday: Set(input.birthday),
            locale: Set(input.locale.map(|l| l.as_ref().to_owned())),
            relationship_stage: Set(input.relationship_stage.as_str().to_owned()),
            relationship_type: Set(input.relationship_type.map(|t| t.as_str().to_owned())),
            acquired_at: Set(acquired_at),
            referred_by_id: Set(input.referred_by_id),
            churned_at: Set(None),
            churn_reason: Set(None),
            churn_note: Set(None),
            marketing_consent: Set(input.marketing_consent),
            erased_at: Set(None),
            erased_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .on_unique("a customer with this email already exists")?;
        replace_tags(&txn, model.id, &input.tags).await?;
        let customer = load(&txn, model.id).await?;
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
        if let Some(Some(birthday)) = patch.birthday {
            check_birthday(birthday, now)?;
        }
        if let Some(acquired_at) = patch.acquired_at {
            not_in_future("acquiredAt", acquired_at, now)?;
        }
        let txn = begin_write(&self.db).await?;
        if matches!(patch.referred_by_id, Some(Some(_))) {
            serialize_referral_changes(&txn).await?;
        }
        let current = writable(&txn, id).await?;
        if let Some(Some(referrer)) = patch.referred_by_id {
            check_referrer(&txn, id, referrer).await?;
        }
        if let (Some(acquired_at), Some(churned_at)) = (patch.acquired_at, current.churned_at) {
            if acquired_at > churned_at {
                return Err(DomainError::validation(
                    "acquiredAt",
                    "must not be after the customer churned",
                ));
            }
        }
        if let Some(acquired_at) = patch.acquired_at {
            let first = purchases::Entity::find()
                .filter(purchases::Column::CustomerId.eq(id))
                .filter(purchases::Column::OccurredAt.lt(acquired_at))
                .order_by_asc(purchases::Column::OccurredAt)
                .one(&txn)
                .await?;
            if let Some(first) = first {
                return Err(DomainError::validation(
                    "acquiredAt",
                    format!(
                        "must not be after the customer's first purchase ({})",
                        first.occurred_at.to_rfc3339()
                    ),
                ));
            }
        }
        let mut model: customers::ActiveModel = current.into();
        if let Some(name) = patch.name {
            model.name = Set(name.as_ref().to_owned());
        }
        if let Some(email) = patch.email {
            model.email = Set(email.map(String::from));
        }
        if let Some(phone) = patch.phone {
            model.phone = Set(phone.map(|p| p.as_ref().to_owned()));
        }
        if let Some(birthday) = patch.birthday {
            model.birthday = Set(birthday);
        }
        if let Some(locale) = patch.locale {
            model.locale = Set(locale.map(|l| l.as_ref().to_owned()));
        }
        if let Some(kind) = patch.relationship_type {
            model.relationship_type = Set(kind.map(|t| t.as_str().to_owned()));
        }
        if let Some(acquired_at) = patch.acquired_at {
            model.acquired_at = Set(acquired_at);
        }
        if let Some(referrer) = patch.referred_by_id {
            model.referred_by_id = Set(referrer);
        }
        if let Some(consent) = patch.marketing_consent {
            model.marketing_consent = Set(consent);
        }
        model.updated_at = Set(now);
        model
            .update(&txn)
            .await
            .on_unique("a customer with this email already exists")?;
        if let Some(tags) = patch.tags {
            replace_tags(&txn, id, &tags).await?;
        }
        let customer = load(&txn, id).await?;
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
        let current = writable(&txn, id).await?;
        let mut model: customers::ActiveModel = current.into();
        model.relationship_stage = Set(stage.as_str().to_owned());
        model.updated_at = Set(Utc::now());
        model.update(&txn).await?;
        let customer = load(&txn, id).await?;
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
        let note = optional_text("note", note, MAX_NOTE_LEN)?;
        if reason == ChurnReason::Other && note.is_none() {
            return Err(DomainError::validation(
                "note",
                "is required when the reason is OTHER",
            ));
        }
        let at = at.unwrap_or(now);
        not_in_future("at", at, now)?;
        let txn = begin_write(&self.db).await?;
        let current = writable(&txn, id).await?;
        if current.churned_at.is_some() {
            return Err(DomainError::conflict("the customer has already churned"));
        }
        if at < current.acquired_at {
            return Err(DomainError::validation(
                "at",
                "must not be before the customer was acquired",
            ));
        }
        let last_reactivation = churn_events::Entity::find()
            .filter(churn_events::Column::CustomerId.eq(id))
            .filter(churn_events::Column::ReactivatedAt.is_not_null())
            .order_by_desc(churn_events::Column::ReactivatedAt)
            .one(&txn)
            .await?
            .and_then(|e| e.reactivated_at);
        if last_reactivation.is_some_and(|r| at < r) {
            return Err(DomainError::validation(
                "at",
                "must not be before the customer's last reactivation",
            ));
        }
        churn_events::ActiveModel {
            customer_id: Set(id),
            churned_at: Set(at),
            reason: Set(reason.as_str().to_owned()),
            note: Set(note.clone()),
            reactivated_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut model: customers::ActiveModel = current.into();
        model.churned_at = Set(Some(at));
        model.churn_reason = Set(Some(reason.as_str().to_owned()));
        model.churn_note = Set(note);
        model.relationship_stage = Set(RelationshipStage::Dissolution.as_str().to_owned());
        model.updated_at = Set(now);
        model.update(&txn).await?;
        let customer = load(&txn, id).await?;
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
        let at = at.unwrap_or(now);
        not_in_future("at", at, now)?;
        let txn = begin_write(&self.db).await?;
        let current = writable(&txn, id).await?;
        let Some(churned_at) = current.churned_at else {
            return Err(DomainError::conflict("the customer is not churned"));
        };
        if at < churned_at {
            return Err(DomainError::validation(
                "at",
                "must not be before the customer churned",
            ));
        }
        churn_events::Entity::update_many()
            .col_expr(churn_events::Column::ReactivatedAt, Expr::value(at))
            .filter(churn_events::Column::CustomerId.eq(id))
            .filter(churn_events::Column::ReactivatedAt.is_null())
            .exec(&txn)
            .await?;
        let mut model: customers::ActiveModel = current.into();
        model.churned_at = Set(None);
        model.churn_reason = Set(None);
        model.churn_note = Set(None);
        model.relationship_stage = Set(RelationshipStage::Exploration.as_str().to_owned());
        model.updated_at = Set(now);
        model.update(&txn).await?;
        let customer = load(&txn, id).await?;
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
        let summary = optional_text("summary", input.summary.as_deref(), MAX_NOTE_LEN)?;
        let occurred_at = input.occurred_at.unwrap_or(now);
        not_in_future("occurredAt", occurred_at, now)?;
        let txn = begin_write(&self.db).await?;
        writable(&txn, input.customer_id).await?;
        let model = interactions::ActiveModel {
            customer_id: Set(input.customer_id),
            channel: Set(input.channel.as_str().to_owned()),
            occurred_at: Set(occurred_at),
            summary: Set(summary),
            helped: Set(input.helped),
            recorded_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
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
        let external_ref =
            crate::validation::required_text("externalRef", &input.external_ref, 200)?;
        let occurred_at = input.occurred_at.unwrap_or(now);
        not_in_future("occurredAt", occurred_at, now)?;
        let txn = begin_write(&self.db).await?;
        let customer = writable(&txn, input.customer_id).await?;
        if occurred_at < customer.acquired_at {
            return Err(DomainError::validation(
                "occurredAt",
                format!(
                    "must not be before the customer was acquired ({})",
                    customer
                        .acquired_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                ),
            ));
        }
        let model = purchases::ActiveModel {
            customer_id: Set(input.customer_id),
            amount_minor: Set(input.money.amount_minor()),
            currency: Set(input.money.currency().code().to_owned()),
            occurred_at: Set(occurred_at),
            external_ref: Set(external_ref),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .on_unique("this purchase (external reference) is already recorded for the customer")?;
        let purchase = Purchase::try_from(model)?;
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
        let note = optional_text("note", input.note.as_deref(), MAX_NOTE_LEN)?;
        let incurred_on = input.incurred_on.unwrap_or_else(|| now.date_naive());
        if incurred_on > (now + chrono::Duration::days(1)).date_naive() {
            return Err(DomainError::validation(
                "incurredOn",
                "must not be more than a day in the future",
            ));
        }
        let txn = begin_write(&self.db).await?;
        if let Some(customer_id) = input.customer_id {
            writable(&txn, customer_id).await?;
        }
        let model = costs::ActiveModel {
            customer_id: Set(input.customer_id),
            kind: Set(input.kind.as_str().to_owned()),
            amount_minor: Set(input.money.amount_minor()),
            currency: Set(input.money.currency().code().to_owned()),
            incurred_on: Set(incurred_on),
            note: Set(note),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
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
        super::birthdays::upcoming(&self.db, today, days).await
    }

    /// Everything stored about a customer, as JSON (MANAGER and ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`; `NOT_FOUND`.
    pub async fn export(&self, actor: &Actor, id: i64) -> DomainResult<serde_json::Value> {
        actor.require(Capability::EraseCustomers)?;
        super::privacy::export(&self.db, id).await
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
        writable(&txn, id).await?;
        let changed = super::privacy::erase(&txn, id, actor.user_id, Utc::now()).await?;
        let customer = load(&txn, id).await?;
        txn.commit().await?;
        self.scrubber.after_erasure(&self.db, changed).await;
        Ok(customer)
    }
}

/// Loads one customer with its tags.
pub(crate) async fn load(db: &impl ConnectionTrait, id: i64) -> DomainResult<Customer> {
    let model = customers::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("customer"))?;
    let tags = customer_tags::Entity::find()
        .filter(customer_tags::Column::CustomerId.eq(id))
        .order_by_asc(customer_tags::Column::Tag)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect();
    Customer::from_model(model, tags)
}

/// The row of a customer that may still be changed, locked for the rest of
/// the transaction (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's `BEGIN
/// IMMEDIATE` already serialises writers), so two concurrent churns cannot
/// both see an active customer and write two churn events. `NO KEY` lets
/// other transactions still reference the row through foreign keys.
async fn writable(db: &impl ConnectionTrait, id: i64) -> DomainResult<customers::Model> {
    let model = customers::Entity::find_by_id(id)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("customer"))?;
    if model.erased_at.is_some() {
        return Err(DomainError::conflict(
            "the customer's personal data was erased; the record is read-only",
        ));
    }
    Ok(model)
}

async fn require_customer(
    db: &impl ConnectionTrait,
    id: i64,
    what: &'static str,
) -> DomainResult<()> {
    customers::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(DomainError::NotFound(what))
}

/// Two concurrent re-referrals (A→B and B→A) could each pass the cycle walk
/// under READ COMMITTED; a transaction-scoped advisory lock, taken before any
/// row lock, makes referral changes take turns on PostgreSQL. SQLite's
/// `BEGIN IMMEDIATE` already serialises writers.
async fn serialize_referral_changes(db: &impl ConnectionTrait) -> DomainResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let mut sql = Sql::new(sea_orm::DbBackend::Postgres);
        sql.push("SELECT pg_advisory_xact_lock(")
            .bind(REFERRAL_LOCK_KEY)
            .push(")");
        db.execute_raw(sql.build()).await?;
    }
    Ok(())
}

/// Rejects self-referral and referral cycles by walking up the referrer's chain.
async fn check_referrer(db: &impl ConnectionTrait, id: i64, referrer: i64) -> DomainResult<()> {
    if referrer == id {
        return Err(DomainError::validation(
            "referredById",
            "a customer cannot refer themself",
        ));
    }
    require_customer(db, referrer, "referring customer").await?;
    let mut next = Some(referrer);
    let mut hops = 0;
    while let Some(current) = next {
        if current == id {
            return Err(DomainError::validation(
                "referredById",
                "would create a referral cycle",
            ));
        }
        hops += 1;
        if hops > MAX_REFERRAL_DEPTH {
            break;
        }
        next = customers::Entity::find_by_id(current)
            .one(db)
            .await?
            .and_then(|c| c.referred_by_id);
    }
    Ok(())
}

fn check_birthday(birthday: NaiveDate, now: DateTime<Utc>) -> DomainResult<()> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if birthday > now.date_naive() || birthday < earliest {
        return Err(DomainError::validation(
            "birthday",
            "must be a past date after 1900-01-01",
        ));
    }
    Ok(())
}

async fn replace_tags(db: &impl ConnectionTrait, id: i64, tags: &[Tag]) -> DomainResult<()> {
    customer_tags::Entity::delete_many()
        .filter(customer_tags::Column::CustomerId.eq(id))
        .exec(db)
        .await?;
    if tags.is_empty() {
        return Ok(());
    }
    customer_tags::Entity::insert_many(tags.iter().map(|tag| customer_tags::ActiveModel {
        customer_id: Set(id),
        tag: Set(tag.as_ref().to_owned()),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}
