//! Loyalty programmes, memberships, the points ledger, rewards and promotions.

// Relay connections take four page arguments plus filters and the context.
#![allow(clippy::too_many_arguments)]

use crate::graphql::loader::Loader;
use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use domain::keyset::OrderCursor;
use domain::loyalty::{LedgerFilter, LedgerOrder};
use domain::pagination::{Direction, Page, PageRequest};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::loyalty::{LedgerEntryFilter, LedgerEntryOrder};
use crate::graphql::loader::customer::CustomerLoader;
use crate::graphql::loader::loyalty::{
    ExpiringPointsByMembership, LedgerCounts, LedgerFirstPages, MembershipsByCustomer,
    PromotionFirstPages, RewardFirstPages,
};
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::customer::{Customer, Purchase};
use crate::graphql::object::link;
use crate::graphql::object::survey::SurveyResponse;
use crate::graphql::object::user::User;
use domain::loyalty::LedgerSource;
use domain::pagination::KeyCursor;

use crate::graphql::scalar::{global_id, NodeType};

/// Why a balance changed (SPEC §6).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::loyalty::LedgerReason")]
pub enum LedgerReason {
    /// Points earned on a purchase.
    Purchase,
    /// Incentive for a complete survey response.
    FeedbackIncentive,
    /// Bonus when staff marked feedback helpful.
    HelpfulFeedback,
    /// Bonus for referring a customer who bought within the window.
    Referral,
    /// Yearly birthday bonus.
    Birthday,
    /// Extra points a promotion added to a purchase.
    Promotion,
    /// Points spent on a reward.
    Redemption,
    /// Points written off when they expired.
    Expiry,
    /// A manual correction by staff.
    Adjustment,
}

/// A status level reached by lifetime points.
pub struct LoyaltyTier(pub domain::loyalty::Tier);

#[Object]
impl LoyaltyTier {
    /// Tier name, unique within its programme.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Lifetime points from which the tier applies.
    async fn min_lifetime_points(&self) -> i64 {
        self.0.min_lifetime_points
    }
    /// Multiplier on purchase points earned in this tier.
    async fn earn_multiplier(&self) -> Decimal {
        self.0.earn_multiplier.into()
    }
}

/// A loyalty programme (SPEC §6).
pub struct LoyaltyProgram(pub domain::loyalty::Program);

#[Object]
impl LoyaltyProgram {
    /// The programme's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.id)
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// ISO 4217 code; only purchases in this currency earn points.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Points per unit of the currency, before multipliers.
    async fn points_per_currency_unit(&self) -> Decimal {
        self.0.points_per_currency_unit.into()
    }
    /// Days after which earned points expire; null when they never do.
    async fn points_expire_after_days(&self) -> Option<i32> {
        self.0.points_expire_after_days
    }
    /// Tiers, lowest first; the first starts at 0 lifetime points.
    async fn tiers(&self) -> Vec<LoyaltyTier> {
        self.0.tiers.iter().cloned().map(LoyaltyTier).collect()
    }
    /// Points the referrer earns when a referred customer first buys in time.
    async fn referral_bonus_points(&self) -> i64 {
        self.0.referral_bonus_points
    }
    /// Days after the referred customer's acquisition within which their first
    /// purchase earns the referral bonus.
    async fn referral_window_days(&self) -> i32 {
        self.0.referral_window_days
    }
    /// Points credited once a year on a consenting member's birthday.
    async fn birthday_bonus_points(&self) -> i64 {
        self.0.birthday_bonus_points
    }
    /// Whether a customer who is not a member is enrolled by a purchase in
    /// the programme's currency (which then earns points).
    async fn enroll_on_first_purchase(&self) -> bool {
        self.0.enroll_on_first_purchase
    }
    /// When the programme was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the programme was last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
    /// Rewards on offer, cheapest first.
    async fn rewards(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Reward>> {
        rewards_connection(ctx, self.0.id, first, after, last, before).await
    }
    /// Promotions, latest start first.
    async fn promotions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Promotion>> {
        promotions_connection(ctx, self.0.id, first, after, last, before).await
    }
    /// Members, in enrolment order.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<Membership>> {
        let actor = ctx.actor()?;
        let services = ctx.services()?;
        let request = PageRequest::<i64>::parse(first, after, last, before)?;
        let page = services.loyalty.members(actor, self.0.id, &request).await?;
        // Programmes are few (a plain list by design), so each counts its own.
        let (loyalty, actor, program_id) = (services.loyalty.clone(), actor.clone(), self.0.id);
        Ok(counted(page, Membership, move || {
            let (loyalty, actor) = (loyalty.clone(), actor.clone());
            async move { Ok(loyalty.count_members(&actor, program_id).await?) }
        }))
    }
}

/// An empty first page.
fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        has_previous_page: false,
        has_next_page: false,
    }
}

/// A page of a programme's rewards, cheapest first, with `totalCount`.
pub async fn rewards_connection(
    ctx: &Context<'_>,
    program_id: i64,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> ApiResult<CountedConnection<Reward>> {
    let actor = ctx.actor()?.clone();
    let services = ctx.services()?.clone();
    let request = PageRequest::<KeyCursor<i64>>::parse(first, after, last, before)?;
    let page = if request.cursor.is_none() && request.direction == Direction::Forward {
        // The common first page batches across the programmes of a list.
        services.loyalty.authorize_configuration_read(&actor)?;
        ctx.data::<Loader<RewardFirstPages>>()?
            .load_one((program_id, request.limit))
            .await
            .map_err(ApiError::from)?
            .unwrap_or_else(empty_page)
    } else {
        services
            .loyalty
            .rewards(&actor, program_id, &request)
            .await?
    };
    Ok(counted(page, Reward, move || {
        let (services, actor) = (services.clone(), actor.clone());
        async move {
            services
                .loyalty
                .reward_count(&actor, program_id)
                .await
                .map_err(ApiError::from)
        }
    }))
}

/// A page of a programme's promotions, latest start first, with `totalCount`.
pub async fn promotions_connection(
    ctx: &Context<'_>,
    program_id: i64,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> ApiResult<CountedConnection<Promotion>> {
    let actor = ctx.actor()?.clone();
    let services = ctx.services()?.clone();
    let request =
        PageRequest::<KeyCursor<chrono::DateTime<chrono::Utc>>>::parse(first, after, last, before)?;
    let page = if request.cursor.is_none() && request.direction == Direction::Forward {
        services.loyalty.authorize_configuration_read(&actor)?;
        ctx.data::<Loader<PromotionFirstPages>>()?
            .load_one((program_id, request.limit))
            .await
            .map_err(ApiError::from)?
            .unwrap_or_else(empty_page)
    } else {
        services
            .loyalty
            .promotions(&actor, program_id, &request)
            .await?
    };
    Ok(counted(page, Promotion, move || {
        let (services, actor) = (services.clone(), actor.clone());
        async move {
            services
                .loyalty
                .promotion_count(&actor, program_id)
                .await
                .map_err(ApiError::from)
        }
    }))
}

/// A customer's membership of a programme.
pub struct Membership(pub domain::loyalty::Membership);

#[Object]
impl Membership {
    /// The membership's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Membership, self.0.id)
    }
    /// The member's customer id.
    async fn customer_id(&self) -> ID {
        global_id(NodeType::Customer, self.0.customer_id)
    }
    /// The member (batched across a list of memberships).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        let actor = ctx.actor()?;
        ctx.services()?.customers.authorize_read(actor)?;
        let loader = ctx.data::<Loader<CustomerLoader>>()?;
        Ok(loader
            .load_one(self.0.customer_id)
            .await
            .map_err(ApiError::from)?
            .map(Customer::new))
    }
    /// The programme's id.
    async fn loyalty_program_id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.program.id)
    }
    /// The programme (loaded with the membership).
    async fn loyalty_program(&self) -> LoyaltyProgram {
        LoyaltyProgram((*self.0.program).clone())
    }
    /// Points available: always the sum of the ledger, never negative.
    async fn balance(&self) -> i64 {
        self.0.balance
    }
    /// All points ever credited; tiers follow this, not the balance.
    async fn lifetime_points(&self) -> i64 {
        self.0.lifetime_points
    }
    /// The tier reached by lifetime points.
    async fn tier(&self) -> ApiResult<LoyaltyTier> {
        self.0.tier().cloned().map(LoyaltyTier).ok_or_else(|| {
            domain::DomainError::Internal(anyhow::anyhow!("programme without a base tier")).into()
        })
    }
    /// The next tier up; null at the top.
    async fn next_tier(&self) -> Option<LoyaltyTier> {
        self.0.next_tier().cloned().map(LoyaltyTier)
    }
    /// Lifetime points still needed for the next tier; null at the top.
    async fn points_to_next_tier(&self) -> Option<i64> {
        self.0.points_to_next_tier()
    }
    /// When the customer joined.
    async fn enrolled_at(&self) -> DateTime {
        self.0.enrolled_at.into()
    }
    /// The points ledger, newest recorded entry first unless `orderBy` says
    /// otherwise.
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries to list (by reason, occurrence time).")] filter: Option<
            LedgerEntryFilter,
        >,
        #[graphql(desc = "Sort order; cursors belong to the order they were issued for.")]
        order_by: Option<LedgerEntryOrder>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<LedgerEntry>> {
        let actor = ctx.actor()?;
        let loyalty = &ctx.services()?.loyalty;
        loyalty.authorize_member_read(actor)?;
        let filter: LedgerFilter = filter.unwrap_or_default().into();
        let order: LedgerOrder = order_by.map(Into::into).unwrap_or_default();
        let request = PageRequest::<OrderCursor>::parse(first, after, last, before)?;
        let plain = request.cursor.is_none()
            && request.direction == Direction::Forward
            && filter.is_empty()
            && order == LedgerOrder::default();
        let page = if plain {
            // The common first page batches across memberships in a list.
            let loader = ctx.data::<Loader<LedgerFirstPages>>()?;
            loader
                .load_one((self.0.id, request.limit))
                .await
                .map_err(ApiError::from)?
                .unwrap_or(Page {
                    items: Vec::new(),
                    has_previous_page: false,
                    has_next_page: false,
                })
        } else {
            loyalty
                .ledger(actor, self.0.id, &filter, order, &request)
                .await?
        };
        let counts = ctx.data::<Loader<LedgerCounts>>()?.clone();
        let membership_id = self.0.id;
        Ok(counted(page, LedgerEntry, move || {
            let (counts, filter) = (counts.clone(), filter.clone());
            async move { Ok(counts.load_one((membership_id, filter)).await?.unwrap_or(0)) }
        }))
    }
    /// Points that will expire, per expiry moment, soonest first.
    async fn expiring_points(&self, ctx: &Context<'_>) -> ApiResult<Vec<ExpiringPoints>> {
        let actor = ctx.actor()?;
        ctx.services()?.loyalty.authorize_member_read(actor)?;
        let loader = ctx.data::<Loader<ExpiringPointsByMembership>>()?;
        let points = loader
            .load_one(self.0.id)
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default();
        Ok(points.into_iter().map(ExpiringPoints::from).collect())
    }
}

/// One entry of the append-only points ledger.
pub struct LedgerEntry(pub domain::loyalty::LedgerEntry);

#[Object]
impl LedgerEntry {
    /// The entry's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::LedgerEntry, self.0.id)
    }
    /// Points added (positive) or taken (negative).
    async fn delta(&self) -> i64 {
        self.0.delta
    }
    /// Why.
    async fn reason(&self) -> LedgerReason {
        self.0.reason.into()
    }
    /// What the entry is for: `purchase:42`, `response:7`, `referral:9`,
    /// `birthday:2026`, `expiry:15`, `redemption:<actorId>:<key>`,
    /// `adjustment:<actorId>:<key>` (keys are scoped by the user who sent them).
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// When the points were earned or spent.
    async fn occurred_at(&self) -> DateTime {
        self.0.occurred_at.into()
    }
    /// When a credit's points expire; null for debits and non-expiring points.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(Into::into)
    }
    /// The id of the staff user who made a redemption or adjustment.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| global_id(NodeType::User, id))
    }
    /// The staff user who made a redemption or adjustment (batched). ADMIN
    /// only, like `users`: other roles get `FORBIDDEN` on this field.
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        link::user(ctx, self.0.actor_id).await
    }
    /// For `PURCHASE` and `PROMOTION` entries: the purchase that earned the
    /// points (batched); null otherwise.
    async fn purchase(&self, ctx: &Context<'_>) -> ApiResult<Option<Purchase>> {
        let id = match self.0.source() {
            Some(LedgerSource::Purchase(id)) => Some(id),
            _ => None,
        };
        link::purchase(ctx, id).await
    }
    /// For `FEEDBACK_INCENTIVE` and `HELPFUL_FEEDBACK` entries: the survey
    /// response rewarded (batched); null otherwise.
    async fn response(&self, ctx: &Context<'_>) -> ApiResult<Option<SurveyResponse>> {
        let id = match self.0.source() {
            Some(LedgerSource::Response(id)) => Some(id),
            _ => None,
        };
        link::response(ctx, id).await
    }
    /// For `REFERRAL` entries: the referred customer whose first purchase
    /// earned the bonus (batched); null otherwise.
    async fn referred_customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        let id = match self.0.source() {
            Some(LedgerSource::ReferredCustomer(id)) => Some(id),
            _ => None,
        };
        link::customer(ctx, id).await
    }
    /// Staff note (adjustments) or reward name (redemptions).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// Points of a membership that expire at one moment.
#[derive(SimpleObject)]
pub struct ExpiringPoints {
    /// Points that will expire (unless spent first).
    pub points: i64,
    /// When.
    pub expires_at: DateTime,
}

impl From<domain::loyalty::ExpiringPoints> for ExpiringPoints {
    fn from(p: domain::loyalty::ExpiringPoints) -> Self {
        Self {
            points: p.points,
            expires_at: p.expires_at.into(),
        }
    }
}

/// A reward members can redeem points for.
pub struct Reward(pub domain::loyalty::Reward);

#[Object]
impl Reward {
    /// The reward's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Reward, self.0.id)
    }
    /// Its programme's id.
    async fn loyalty_program_id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.program_id)
    }
    /// Its programme (batched).
    async fn loyalty_program(&self, ctx: &Context<'_>) -> ApiResult<Option<LoyaltyProgram>> {
        link::loyalty_program(ctx, Some(self.0.program_id)).await
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Points one redemption costs.
    async fn cost_points(&self) -> i64 {
        self.0.cost_points
    }
    /// Units left; null means unlimited.
    async fn stock(&self) -> Option<i64> {
        self.0.stock
    }
    /// Whether it can be redeemed.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// A time-limited earning multiplier.
pub struct Promotion(pub domain::loyalty::Promotion);

#[Object]
impl Promotion {
    /// The promotion's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Promotion, self.0.id)
    }
    /// Its programme's id.
    async fn loyalty_program_id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.program_id)
    }
    /// Its programme (batched).
    async fn loyalty_program(&self, ctx: &Context<'_>) -> ApiResult<Option<LoyaltyProgram>> {
        link::loyalty_program(ctx, Some(self.0.program_id)).await
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Multiplies purchase points; when several apply, the highest wins.
    async fn multiplier(&self) -> Decimal {
        self.0.multiplier.into()
    }
    /// First moment it applies (inclusive).
    async fn starts_at(&self) -> DateTime {
        self.0.starts_at.into()
    }
    /// Moment it stops applying (exclusive).
    async fn ends_at(&self) -> DateTime {
        self.0.ends_at.into()
    }
    /// Only customers with this tag qualify; null for everyone.
    async fn tag(&self) -> Option<&str> {
        self.0.tag.as_deref()
    }
}

/// A redeemed reward.
pub struct Redemption(pub domain::loyalty::Redemption);

#[Object]
impl Redemption {
    /// The redemption's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Redemption, self.0.id)
    }
    /// The reward.
    async fn reward(&self) -> Reward {
        Reward(self.0.reward.clone())
    }
    /// The membership, as it is now.
    async fn membership(&self) -> Membership {
        Membership(self.0.membership.clone())
    }
    /// Points spent.
    async fn points_spent(&self) -> i64 {
        -self.0.entry.delta
    }
    /// The `REDEMPTION` ledger entry.
    async fn entry(&self) -> LedgerEntry {
        LedgerEntry(self.0.entry.clone())
    }
    /// When it was redeemed.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// The loyalty part of a customer's card. The `Customer` type exposes it
/// (its `memberships` field is this resolver); memberships of a page of
/// customers load in one batch.
pub struct CustomerLoyalty(pub i64);

#[Object]
impl CustomerLoyalty {
    /// The customer's loyalty memberships with balance and tier.
    async fn memberships(&self, ctx: &Context<'_>) -> ApiResult<Vec<Membership>> {
        let actor = ctx.actor()?;
        ctx.services()?.loyalty.authorize_member_read(actor)?;
        let loader = ctx.data::<Loader<MembershipsByCustomer>>()?;
        let memberships = loader.load_one(self.0).await.map_err(ApiError::from)?;
        Ok(memberships
            .unwrap_or_default()
            .into_iter()
            .map(Membership)
            .collect())
    }
}
