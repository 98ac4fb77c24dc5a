//! Inputs of the customers area, each converting into its validated domain type.

use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{Enum, InputObject, MaybeUndefined, ID};
use domain::customers::{self as dc, Currency, CustomerName, Locale, Money, Phone, Tag};
use domain::validation::Email;
use domain::DomainResult;

use crate::graphql::error::ApiError;
use crate::graphql::object::customer::{
    Channel, ChurnReason, CostKind, RelationshipStage, RelationshipType,
};
use crate::graphql::scalar::{parse_id, parse_key, Date, NodeType};

/// A new customer.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// Display name (1–200 characters).
    pub name: String,
    /// E-mail address; unique among customers.
    pub email: Option<String>,
    /// Telephone number (7–15 digits, optional leading +).
    pub phone: Option<String>,
    /// Date of birth.
    pub birthday: Option<Date>,
    /// Preferred language (BCP 47), e.g. `de-AT`.
    pub locale: Option<String>,
    /// Tags (at most 20; lower-cased).
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Phase of the relationship (default AWARENESS).
    pub relationship_stage: Option<RelationshipStage>,
    /// How the business serves this customer.
    pub relationship_type: Option<RelationshipType>,
    /// When the customer was won (default now).
    pub acquired_at: Option<DateTime>,
    /// The customer who referred this one.
    pub referred_by_id: Option<ID>,
    /// Whether the customer agreed to marketing messages (default false).
    #[graphql(default)]
    pub marketing_consent: bool,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl TryFrom<CreateCustomerInput> for dc::NewCustomer {
    type Error = ApiError;

    fn try_from(input: CreateCustomerInput) -> Result<Self, ApiError> {
        Ok(Self {
            name: CustomerName::parse(&input.name)?,
            email: input
                .email
                .filter(|e| !e.trim().is_empty())
                .map(|e| Email::parse("email", &e))
                .transpose()?,
            phone: input
                .phone
                .filter(|p| !p.trim().is_empty())
                .map(|p| Phone::parse(&p))
                .transpose()?,
            birthday: input.birthday.map(Into::into),
            locale: input
                .locale
                .filter(|l| !l.trim().is_empty())
                .map(|l| Locale::parse(&l))
                .transpose()?,
            tags: Tag::parse_all(&input.tags)?,
            relationship_stage: input
                .relationship_stage
                .map_or(dc::RelationshipStage::Awareness, Into::into),
            relationship_type: input.relationship_type.map(Into::into),
            acquired_at: input.acquired_at.map(Into::into),
            referred_by_id: input
                .referred_by_id
                .map(|id| parse_id(NodeType::Customer, "referredById", &id))
                .transpose()?,
            marketing_consent: input.marketing_consent,
        })
    }
}

/// Changes to a customer: omitted fields stay, `null` clears a nullable field.
#[derive(InputObject, Default)]
pub struct UpdateCustomerInput {
    /// The customer's id.
    pub id: ID,
    /// Display name (1–200 characters).
    pub name: Option<String>,
    /// E-mail address; unique among customers.
    pub email: MaybeUndefined<String>,
    /// Telephone number.
    pub phone: MaybeUndefined<String>,
    /// Date of birth.
    pub birthday: MaybeUndefined<Date>,
    /// Preferred language (BCP 47).
    pub locale: MaybeUndefined<String>,
    /// Replaces all tags.
    pub tags: Option<Vec<String>>,
    /// How the business serves this customer.
    pub relationship_type: MaybeUndefined<RelationshipType>,
    /// When the customer was won.
    pub acquired_at: Option<DateTime>,
    /// The customer who referred this one; no self-referral or cycles.
    pub referred_by_id: MaybeUndefined<ID>,
    /// Whether the customer agreed to marketing messages.
    pub marketing_consent: Option<bool>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// `None` keeps, `Some(None)` clears, `Some(Some(v))` sets; blank text clears.
fn patch<T, U>(
    value: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> DomainResult<Option<U>>,
) -> DomainResult<Option<Option<U>>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(v).map(Some),
    }
}

fn nonblank(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

impl TryFrom<UpdateCustomerInput> for dc::CustomerPatch {
    type Error = ApiError;

    fn try_from(input: UpdateCustomerInput) -> Result<Self, ApiError> {
        Ok(Self {
            name: input.name.map(|n| CustomerName::parse(&n)).transpose()?,
            email: patch(input.email, |e| {
                nonblank(e).map(|e| Email::parse("email", &e)).transpose()
            })?,
            phone: patch(input.phone, |p| {
                nonblank(p).map(|p| Phone::parse(&p)).transpose()
            })?,
            birthday: patch(input.birthday, |d| Ok(Some(d.0)))?,
            locale: patch(input.locale, |l| {
                nonblank(l).map(|l| Locale::parse(&l)).transpose()
            })?,
            tags: input.tags.map(|t| Tag::parse_all(&t)).transpose()?,
            relationship_type: patch(input.relationship_type, |t| Ok(Some(t.into())))?,
            acquired_at: input.acquired_at.map(Into::into),
            referred_by_id: patch(input.referred_by_id, |id| {
                parse_key(NodeType::Customer, "referredById", &id).map(Some)
            })?,
            marketing_consent: input.marketing_consent,
        })
    }
}

/// A touchpoint to record.
#[derive(InputObject)]
pub struct RecordInteractionInput {
    /// The customer.
    pub customer_id: ID,
    /// Where it happened.
    pub channel: Channel,
    /// When it happened (default now; at most a day ahead).
    pub occurred_at: Option<DateTime>,
    /// What happened.
    pub summary: Option<String>,
    /// Whether the customer was helped.
    #[graphql(default)]
    pub helped: bool,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl TryFrom<RecordInteractionInput> for dc::NewInteraction {
    type Error = ApiError;

    fn try_from(input: RecordInteractionInput) -> Result<Self, ApiError> {
        Ok(Self {
            customer_id: parse_id(NodeType::Customer, "customerId", &input.customer_id)?,
            channel: input.channel.into(),
            occurred_at: input.occurred_at.map(Into::into),
            summary: input.summary,
            helped: input.helped,
        })
    }
}

/// A purchase to record.
#[derive(InputObject)]
pub struct RecordPurchaseInput {
    /// The customer.
    pub customer_id: ID,
    /// Amount in major units, greater than zero, with no more decimals than
    /// the currency allows.
    pub amount: Decimal,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// When it was made (default now; at most a day ahead).
    pub occurred_at: Option<DateTime>,
    /// The reference in the selling system; recording it twice for the same
    /// customer is `CONFLICT`.
    pub external_ref: String,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl TryFrom<RecordPurchaseInput> for dc::NewPurchase {
    type Error = ApiError;

    fn try_from(input: RecordPurchaseInput) -> Result<Self, ApiError> {
        let customer_id = parse_id(NodeType::Customer, "customerId", &input.customer_id)?;
        let currency = Currency::parse("currency", &input.currency)?;
        Ok(Self {
            customer_id,
            money: Money::parse("amount", input.amount.0, currency)?,
            occurred_at: input.occurred_at.map(Into::into),
            external_ref: input.external_ref,
        })
    }
}

/// A cost to record.
#[derive(InputObject)]
pub struct RecordCostInput {
    /// The customer it was spent on; omit for costs not tied to one customer.
    pub customer_id: Option<ID>,
    /// Acquisition or care.
    pub kind: CostKind,
    /// Amount in major units, greater than zero.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// The day it was incurred (default today).
    pub incurred_on: Option<Date>,
    /// What it was for.
    pub note: Option<String>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

impl TryFrom<RecordCostInput> for dc::NewCost {
    type Error = ApiError;

    fn try_from(input: RecordCostInput) -> Result<Self, ApiError> {
        let customer_id = input
            .customer_id
            .map(|id| parse_id(NodeType::Customer, "customerId", &id))
            .transpose()?;
        let currency = Currency::parse("currency", &input.currency)?;
        Ok(Self {
            customer_id,
            kind: input.kind.into(),
            money: Money::parse("amount", input.amount.0, currency)?,
            incurred_on: input.incurred_on.map(Into::into),
            note: input.note,
        })
    }
}

/// A customer's new relationship stage.
#[derive(InputObject)]
pub struct SetRelationshipStageInput {
    /// The customer's id.
    pub id: ID,
    /// The new stage.
    pub stage: RelationshipStage,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A customer who left.
#[derive(InputObject)]
pub struct ChurnCustomerInput {
    /// The customer's id.
    pub id: ID,
    /// Why they left.
    pub reason: ChurnReason,
    /// Free-text note; required for OTHER.
    pub note: Option<String>,
    /// When they left (default now).
    pub at: Option<DateTime>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// A churned customer who came back.
#[derive(InputObject)]
pub struct ReactivateCustomerInput {
    /// The customer's id.
    pub id: ID,
    /// When they came back (default now).
    pub at: Option<DateTime>,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// The customer whose personal data to erase.
#[derive(InputObject)]
pub struct EraseCustomerInput {
    /// The customer's id.
    pub id: ID,
    /// Echoed in the payload, for the client's own bookkeeping.
    pub client_mutation_id: Option<String>,
}

/// Which customers to list; every set field narrows the list.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Case-insensitive text within the name or e-mail.
    pub text: Option<String>,
    /// Customers carrying this tag.
    pub tag: Option<String>,
    /// Customers in this stage.
    pub relationship_stage: Option<RelationshipStage>,
    /// Customers of this type.
    pub relationship_type: Option<RelationshipType>,
    /// `true`: churned customers only; `false`: active customers only.
    pub churned: Option<bool>,
    /// Acquired on or after this UTC date.
    pub acquired_from: Option<Date>,
    /// Acquired before this UTC date (exclusive).
    pub acquired_to: Option<Date>,
}

/// The first instant of a UTC date: date ranges of filters are half-open
/// `[from, to)` over whole days, as in `MetricsFilter`.
fn start_of(date: Date) -> chrono::DateTime<chrono::Utc> {
    date.0.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl From<CustomerFilter> for dc::CustomerFilter {
    fn from(f: CustomerFilter) -> Self {
        Self {
            text: f.text,
            tag: f.tag,
            relationship_stage: f.relationship_stage.map(Into::into),
            relationship_type: f.relationship_type.map(Into::into),
            churned: f.churned,
            acquired_from: f.acquired_from.map(start_of),
            acquired_to: f.acquired_to.map(start_of),
        }
    }
}

/// What the customer list is sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::CustomerOrderField")]
pub enum CustomerOrderField {
    /// Name, case-insensitively.
    Name,
    /// Acquisition time.
    AcquiredAt,
    /// Total revenue in `orderBy.currency`.
    TotalRevenue,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::SortDirection")]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How to sort the customer list; ties are broken by id.
#[derive(InputObject)]
pub struct CustomerOrder {
    /// The sort field.
    pub field: CustomerOrderField,
    /// The direction.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
    /// For TOTAL_REVENUE: the currency whose revenue is compared (default EUR).
    pub currency: Option<String>,
}

impl From<CustomerOrder> for dc::CustomerOrder {
    fn from(o: CustomerOrder) -> Self {
        Self {
            field: o.field.into(),
            direction: o.direction.into(),
            currency: o.currency,
        }
    }
}
