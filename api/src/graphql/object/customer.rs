//! Customers and their card: touchpoints, purchases, revenue, referrals.

use crate::graphql::loader::Loader;
use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{Context, Enum, MergedObject, Object, OutputType, SimpleObject, ID};
use domain::customers::{self as dc, TimeCursor};
use domain::pagination::{Page, PageRequest};

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::loader::churn_events::ChurnEventsLoader;
use crate::graphql::loader::customer::CustomerLoader;
use crate::graphql::loader::first_page::{
    CountLoader, FirstPage, FirstPageList, FirstPageLoader, Interactions, Purchases, Referrals,
};
use crate::graphql::loader::loyalty::PointsCreditedByPurchase;
use crate::graphql::loader::purchase_stats::PurchaseStatsLoader;
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::link;
use crate::graphql::object::loyalty::LoyaltyProgram;
use crate::graphql::scalar::{global_id, Date, NodeType};

/// The five phases of a customer relationship.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::RelationshipStage")]
pub enum RelationshipStage {
    /// The customer has become aware of the business.
    Awareness,
    /// The customer is trying the business out.
    Exploration,
    /// The relationship deepens: more purchases, more trust.
    Expansion,
    /// The customer is committed to the business.
    Commitment,
    /// The relationship is ending or has ended.
    Dissolution,
}

/// How the business serves the customer.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::RelationshipType")]
pub enum RelationshipType {
    /// A person helps the customer when asked.
    PersonalAssistance,
    /// A dedicated person looks after this customer.
    DedicatedPersonalAssistance,
    /// The customer helps themself with the means provided.
    SelfService,
    /// Automated processes serve the customer.
    AutomatedService,
    /// A community of users helps each other.
    Community,
    /// The customer co-creates value with the business.
    CoCreation,
}

/// Why a customer left.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::ChurnReason")]
pub enum ChurnReason {
    /// Their needs changed.
    ChangedRequirements,
    /// They found something better.
    SuperiorAlternative,
    /// They were unhappy with the business.
    Dissatisfaction,
    /// Something else, explained in the note.
    Other,
}

/// The channel of a touchpoint.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::Channel")]
pub enum Channel {
    /// E-mail.
    Email,
    /// Text message.
    Sms,
    /// Telephone call.
    Phone,
    /// Social media.
    Social,
    /// Face to face.
    InPerson,
    /// The website or web app.
    Web,
    /// Live chat.
    Chat,
}

/// What a cost was spent on.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::customers::CostKind")]
pub enum CostKind {
    /// Winning the customer (ads, sales effort, welcome gifts).
    Acquisition,
    /// Looking after the customer (support, service, retention).
    Care,
}

/// A customer with their card. Other areas add fields as further parts
/// (loyalty memberships, survey responses and CSI).
#[derive(MergedObject)]
#[graphql(name = "Customer")]
#[rustfmt::skip]
pub struct Customer(
    pub CustomerCore,
    pub crate::graphql::object::loyalty::CustomerLoyalty,
    pub crate::graphql::object::survey::CustomerFeedback,
);

impl Customer {
    /// Wraps a domain customer; the only constructor.
    pub fn new(customer: dc::Customer) -> Self {
        let id = customer.id;
        Self(
            CustomerCore(customer),
            crate::graphql::object::loyalty::CustomerLoyalty(id),
            crate::graphql::object::survey::CustomerFeedback(id),
        )
    }
}

/// The customers area's part of `Customer`: profile, relationship and card.
pub struct CustomerCore(pub dc::Customer);

/// Rows asked of a nested connection when the client names no size.
const NESTED_DEFAULT: i32 = 10;

/// A nested page request: a plain first page goes through the batching
/// loader; anything with a cursor or `last` is read directly.
pub(crate) fn nested_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> ApiResult<(PageRequest<TimeCursor>, bool)> {
    let plain_first = after.is_none() && last.is_none() && before.is_none();
    let first = if last.is_none() && before.is_none() {
        first.or(Some(NESTED_DEFAULT))
    } else {
        first
    };
    let request = PageRequest::parse(first, after, last, before)?;
    Ok((request, plain_first))
}

#[Object]
impl CustomerCore {
    /// The customer's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Customer, self.0.id)
    }
    /// Display name ("Erased customer" after erasure).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// E-mail address, lower-cased; unique among customers.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Telephone number, digits with an optional leading +.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Date of birth.
    async fn birthday(&self) -> Option<Date> {
        self.0.birthday.map(Date)
    }
    /// Preferred language (BCP 47), e.g. `de-AT`.
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// Tags, lower-cased and sorted.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    /// Phase of the relationship.
    async fn relationship_stage(&self) -> RelationshipStage {
        self.0.relationship_stage.into()
    }
    /// How the business serves this customer.
    async fn relationship_type(&self) -> Option<RelationshipType> {
        self.0.relationship_type.map(Into::into)
    }
    /// When the customer was won.
    async fn acquired_at(&self) -> DateTime {
        self.0.acquired_at.into()
    }
    /// When the customer left, if they have churned and not come back.
    async fn churned_at(&self) -> Option<DateTime> {
        self.0.churned_at.map(Into::into)
    }
    /// Why the customer left.
    async fn churn_reason(&self) -> Option<ChurnReason> {
        self.0.churn_reason.map(Into::into)
    }
    /// Free-text note on the churn.
    async fn churn_note(&self) -> Option<&str> {
        self.0.churn_note.as_deref()
    }
    /// Whether the customer is churned now.
    async fn is_churned(&self) -> bool {
        self.0.churned_at.is_some()
    }
    /// Whether the customer agreed to marketing messages.
    async fn marketing_consent(&self) -> bool {
        self.0.marketing_consent
    }
    /// When the customer's personal data was erased, if it was.
    async fn erased_at(&self) -> Option<DateTime> {
        self.0.erased_at.map(Into::into)
    }
    /// When the record was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }

    /// The customer who referred this one.
    async fn referred_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        let Some(id) = self.0.referred_by_id else {
            return Ok(None);
        };
        let loader = ctx.data::<Loader<CustomerLoader>>()?;
        Ok(loader.load_one(id).await?.map(Customer::new))
    }

    /// Customers this one referred, most recently acquired first.
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 10, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end.")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Customer>> {
        nested_connection::<Referrals, _>(
            ctx,
            self.0.id,
            (first, after, last, before),
            Customer::new,
        )
        .await
    }

    /// Touchpoints, newest first.
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 10, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end.")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Interaction>> {
        nested_connection::<Interactions, _>(
            ctx,
            self.0.id,
            (first, after, last, before),
            Interaction,
        )
        .await
    }

    /// Purchases, newest first.
    async fn purchases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 10, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end.")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Purchase>> {
        nested_connection::<Purchases, _>(ctx, self.0.id, (first, after, last, before), Purchase)
            .await
    }

    /// Every churn of this customer, oldest first, with reactivations.
    async fn churn_history(&self, ctx: &Context<'_>) -> ApiResult<Vec<ChurnEvent>> {
        let loader = ctx.data::<Loader<ChurnEventsLoader>>()?;
        let events = loader.load_one(self.0.id).await?.unwrap_or_default();
        Ok(events.into_iter().map(ChurnEvent).collect())
    }

    /// Number of purchases recorded.
    async fn purchase_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(self.stats(ctx).await?.count)
    }
    /// Revenue per currency (one entry per currency purchased in).
    async fn total_revenue(&self, ctx: &Context<'_>) -> ApiResult<Vec<MoneyAmount>> {
        Ok(self
            .stats(ctx)
            .await?
            .revenue
            .into_iter()
            .map(|r| MoneyAmount {
                currency: r.currency,
                amount: r.amount.into(),
            })
            .collect())
    }
    /// At least two purchases.
    async fn is_repeat_customer(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(self.stats(ctx).await?.is_repeat_customer())
    }
    /// At least five purchases — the point at which many consumers call
    /// themselves loyal.
    async fn is_loyal(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(self.stats(ctx).await?.is_loyal())
    }
}

impl CustomerCore {
    async fn stats(&self, ctx: &Context<'_>) -> ApiResult<dc::PurchaseStats> {
        let loader = ctx.data::<Loader<PurchaseStatsLoader>>()?;
        Ok(loader.load_one(self.0.id).await?.unwrap_or_default())
    }
}

/// A customer's nested list `L` as a connection whose `totalCount` is
/// counted through a batching loader, so a page of customers selecting it
/// costs one statement in all.
async fn nested_connection<L: FirstPageList, N: OutputType>(
    ctx: &Context<'_>,
    parent_id: i64,
    (first, after, last, before): (Option<i32>, Option<String>, Option<i32>, Option<String>),
    node: impl Fn(L::Item) -> N,
) -> ApiResult<CountedConnection<N>> {
    let page = nested_page::<L>(ctx, parent_id, first, after, last, before).await?;
    let counts = ctx.data::<Loader<CountLoader<L>>>()?.clone();
    Ok(counted(page, node, move || {
        let counts = counts.clone();
        async move { Ok(counts.load_one(parent_id).await?.unwrap_or(0)) }
    }))
}

/// One page of a customer's nested list `L`: a plain first page through its
/// batched loader (one query for every customer of the outer page), any other
/// page straight from the domain.
async fn nested_page<L: FirstPageList>(
    ctx: &Context<'_>,
    parent_id: i64,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> ApiResult<Page<L::Item>> {
    let (request, plain) = nested_request(first, after, last, before)?;
    if plain {
        let key = FirstPage {
            parent_id,
            limit: request.limit,
        };
        let loader = ctx.data::<Loader<FirstPageLoader<L>>>()?;
        Ok(loader.load_one(key).await?.unwrap_or_else(empty_page))
    } else {
        Ok(L::page(&ctx.services()?.db, parent_id, &request).await?)
    }
}

fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        has_previous_page: false,
        has_next_page: false,
    }
}

/// An amount of money in one currency.
#[derive(SimpleObject, Clone)]
pub struct MoneyAmount {
    /// ISO 4217 code.
    pub currency: String,
    /// Exact amount in major units (e.g. `19.99`).
    pub amount: Decimal,
}

/// One churn of a customer and, if they came back, the reactivation.
pub struct ChurnEvent(pub dc::ChurnEvent);

#[Object]
impl ChurnEvent {
    /// When the customer left.
    async fn churned_at(&self) -> DateTime {
        self.0.churned_at.into()
    }
    /// Why they left.
    async fn reason(&self) -> ChurnReason {
        self.0.reason.into()
    }
    /// Free-text note (blank after erasure).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When they came back, if they did.
    async fn reactivated_at(&self) -> Option<DateTime> {
        self.0.reactivated_at.map(Into::into)
    }
}

/// A touchpoint with a customer.
pub struct Interaction(pub dc::Interaction);

#[Object]
impl Interaction {
    /// The interaction's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Interaction, self.0.id)
    }
    /// The customer's id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The customer (batched).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(ctx, Some(self.0.customer_id)).await
    }
    /// Where it happened.
    async fn channel(&self) -> Channel {
        self.0.channel.into()
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime {
        self.0.occurred_at.into()
    }
    /// What happened (blank after erasure).
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// Whether the customer was helped.
    async fn helped(&self) -> bool {
        self.0.helped
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// Points one loyalty programme credited for a purchase.
pub struct PointsCredit(pub domain::loyalty::PointsCredit);

#[Object]
impl PointsCredit {
    /// The programme's id.
    async fn loyalty_program_id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.program.id)
    }
    /// The programme (loaded with the credit).
    async fn loyalty_program(&self) -> LoyaltyProgram {
        LoyaltyProgram(self.0.program.clone())
    }
    /// Points credited (base and promotion together).
    async fn points(&self) -> i64 {
        self.0.points
    }
}

/// A purchase by a customer.
pub struct Purchase(pub dc::Purchase);

#[Object]
impl Purchase {
    /// The purchase's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Purchase, self.0.id)
    }
    /// The customer's id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The customer (batched).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(ctx, Some(self.0.customer_id)).await
    }
    /// Exact amount in major units.
    async fn amount(&self) -> Decimal {
        self.0.amount.into()
    }
    /// ISO 4217 code.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// When it was made.
    async fn occurred_at(&self) -> DateTime {
        self.0.occurred_at.into()
    }
    /// The reference in the selling system; unique per customer.
    async fn external_ref(&self) -> &str {
        &self.0.external_ref
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// The points each loyalty programme credited to the customer for this
    /// purchase (its `PURCHASE` and `PROMOTION` ledger entries), one line per
    /// programme that credited any, in programme order; empty when none did.
    /// Referral bonuses go to the referrer and are not listed.
    async fn points_credited(&self, ctx: &Context<'_>) -> ApiResult<Vec<PointsCredit>> {
        let loader = ctx.data::<Loader<PointsCreditedByPurchase>>()?;
        Ok(loader
            .load_one((self.0.customer_id, self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PointsCredit)
            .collect())
    }
}

/// An acquisition or care cost.
pub struct Cost(pub dc::Cost);

#[Object]
impl Cost {
    /// The cost's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Cost, self.0.id)
    }
    /// The id of the customer it was spent on, if one.
    async fn customer_id(&self) -> Option<ID> {
        self.0
            .customer_id
            .map(|id| global_id(NodeType::Customer, id))
    }
    /// The customer it was spent on, if one (batched).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        link::customer(ctx, self.0.customer_id).await
    }
    /// Acquisition or care.
    async fn kind(&self) -> CostKind {
        self.0.kind.into()
    }
    /// Exact amount in major units.
    async fn amount(&self) -> Decimal {
        self.0.amount.into()
    }
    /// ISO 4217 code.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// The day it was incurred.
    async fn incurred_on(&self) -> Date {
        Date(self.0.incurred_on)
    }
    /// What it was for.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// A customer whose birthday is coming up.
pub struct UpcomingBirthday(pub dc::UpcomingBirthday);

#[Object]
impl UpcomingBirthday {
    /// The customer.
    async fn customer(&self) -> Customer {
        Customer::new(self.0.customer.clone())
    }
    /// The day it is celebrated (28 February for 29 February birthdays in
    /// common years).
    async fn date(&self) -> Date {
        Date(self.0.date)
    }
    /// Days from today (0 = today).
    async fn days_until(&self) -> i64 {
        self.0.days_until
    }
    /// The age reached that day.
    async fn turning(&self) -> i32 {
        self.0.turning
    }
}
