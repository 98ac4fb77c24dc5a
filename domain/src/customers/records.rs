//! Customer records: creating, changing and loading a customer, with the
//! checks on referrals, birthdays and acquisition dates.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::{customer_tags, customers, purchases};

use super::types::*;
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::sql::Sql;
use crate::validation::Email;

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

/// Checks a new customer's dates before the transaction opens; returns the
/// acquisition instant (defaulting to `now`).
pub(crate) fn check_new(input: &NewCustomer, now: DateTime<Utc>) -> DomainResult<DateTime<Utc>> {
    if let Some(birthday) = input.birthday {
        check_birthday(birthday, now)?;
    }
    let acquired_at = input.acquired_at.unwrap_or(now);
    not_in_future("acquiredAt", acquired_at, now)?;
    Ok(acquired_at)
}

/// Inserts a checked new customer with its tags and loads it back.
pub(crate) async fn create(
    txn: &impl ConnectionTrait,
    input: NewCustomer,
    acquired_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Customer> {
    if let Some(referrer) = input.referred_by_id {
        require_customer(txn, referrer, "referring customer").await?;
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
    .insert(txn)
    .await
    .on_unique("a customer with this email already exists")?;
    replace_tags(txn, model.id, &input.tags).await?;
    load(txn, model.id).await
}

/// Checks a patch's dates before the transaction opens.
pub(crate) fn check_patch(patch: &CustomerPatch, now: DateTime<Utc>) -> DomainResult<()> {
    if let Some(Some(birthday)) = patch.birthday {
        check_birthday(birthday, now)?;
    }
    if let Some(acquired_at) = patch.acquired_at {
        not_in_future("acquiredAt", acquired_at, now)?;
    }
    Ok(())
}

/// Applies a checked patch to a writable customer and loads it back.
pub(crate) async fn update(
    txn: &impl ConnectionTrait,
    id: i64,
    patch: CustomerPatch,
    now: DateTime<Utc>,
) -> DomainResult<Customer> {
    if matches!(patch.referred_by_id, Some(Some(_))) {
        serialize_referral_changes(txn).await?;
    }
    let current = writable(txn, id).await?;
    if let Some(Some(referrer)) = patch.referred_by_id {
        check_referrer(txn, id, referrer).await?;
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
            .one(txn)
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
        .update(txn)
        .await
        .on_unique("a customer with this email already exists")?;
    if let Some(tags) = patch.tags {
        replace_tags(txn, id, &tags).await?;
    }
    load(txn, id).await
}

/// Loads one customer with its tags.
pub(crate) async fn load(db: &impl ConnectionTrait, id: i64) -> DomainResult<Customer> {
    let model = customers::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("customer"))?;
    let tags = tags_of(db, id).await?;
    Customer::from_model(model, tags)
}

/// One customer's tags, in order.
pub(crate) async fn tags_of(db: &impl ConnectionTrait, id: i64) -> DomainResult<Vec<String>> {
    Ok(customer_tags::Entity::find()
        .filter(customer_tags::Column::CustomerId.eq(id))
        .order_by_asc(customer_tags::Column::Tag)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect())
}

/// The row of a customer that may still be changed, locked for the rest of
/// the transaction (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's `BEGIN
/// IMMEDIATE` already serialises writers), so two concurrent churns cannot
/// both see an active customer and write two churn events. `NO KEY` lets
/// other transactions still reference the row through foreign keys.
pub(crate) async fn writable(db: &impl ConnectionTrait, id: i64) -> DomainResult<customers::Model> {
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
