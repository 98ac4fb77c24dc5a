//! Loyalty programmes, memberships, the points ledger, rewards and promotions.

use crate::graphql::loader::Loader;
use crate::graphql::scalar::DateTime;
use crate::graphql::scalar::Decimal;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use domain::pagination::{Direction, Page, PageRequest};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::loader::customer::CustomerLoader;
use crate::graphql::loader::loyalty::{
    ExpiringPointsByMembership, LedgerFirstPages, MembershipsByCustomer,
};
use crate::graphql::object::customer::Customer;
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
    async fn rewards(&self, ctx: &Context<'_>) -> ApiResult<Vec<Reward>> {
        let actor = ctx.actor()?;
        let rewards = ctx.services()?.loyalty.rewards(actor, self.0.id).await?;
        Ok(rewards.into_iter().map(Reward).collect())
    }
    /// Promotions, latest start first.
    async fn promotions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Promotion>> {
        let actor = ctx.actor()?;
        let promotions = ctx.services()?.loyalty.promotions(actor, self.0.id).await?;
        Ok(promotions.into_iter().map(Promotion).collect())
    }
    /// Members, in enrolment order.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<Connection<String, Membership>> {
        let actor = ctx.actor()?;
        let request = PageRequest::<i64>::parse(first, after, last, before)?;
        let page = ctx
            .services()?
            .loyalty
            .members(actor, self.0.id, &request)
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|(cursor, m)| Edge::new(cursor, Membership(m))),
        );
        Ok(connection)
    }
}

/// A customer's membership of a programme.
pub struct Membership(pub domain::loyalty::Membership);

#[Object]
impl Membership {
    /// The membership's global id.
    async fn id(&self) -> ID {
        global_id(NodeType::Membership, self.0.id)
    }
    /// The member's id.
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
    /// The programme.
    async fn program(&self) -> LoyaltyProgram {
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
    /// The points ledger, newest entry first.
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the newest (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after (older entries).")] after: Option<String>,
        #[graphql(desc = "Page size from the oldest (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before (newer entries).")] before: Option<String>,
    ) -> ApiResult<Connection<String, LedgerEntry>> {
        let actor = ctx.actor()?;
        ctx.services()?.loyalty.authorize_member_read(actor)?;
        let request = PageRequest::<i64>::parse(first, after, last, before)?;
        let page = if request.cursor.is_none() && request.direction == Direction::Forward {
            // The common first page batches across memberships in a list.
            let loader = ctx.data::<Loader<LedgerFirstPages>>()?;
            loader
                .load_one((self.0.id, request.limit))
                .await
                .map_err(ApiError::from)?
                .unwrap_or_else(|| {
                    Page::from_rows(
                        Direction::Forward,
                        0,
                        false,
                        Vec::new(),
                        |e: &domain::loyalty::LedgerEntry| e.id,
                    )
                })
        } else {
            ctx.services()?
                .loyalty
                .ledger(actor, self.0.id, &request)
                .await?
        };
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|(cursor, e)| Edge::new(cursor, LedgerEntry(e))),
        );
        Ok(connection)
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
    /// The staff user who made a redemption or adjustment.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| global_id(NodeType::User, id))
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
    /// Its programme.
    async fn program_id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.program_id)
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
    /// Its programme.
    async fn program_id(&self) -> ID {
        global_id(NodeType::LoyaltyProgram, self.0.program_id)
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

/// A manual adjustment and the membership after it.
pub struct PointsAdjustment(pub domain::loyalty::Adjustment);

#[Object]
impl PointsAdjustment {
    /// The `ADJUSTMENT` ledger entry.
    async fn entry(&self) -> LedgerEntry {
        LedgerEntry(self.0.entry.clone())
    }
    /// The membership, as it is now.
    async fn membership(&self) -> Membership {
        Membership(self.0.membership.clone())
    }
}

/// What `expirePoints` did.
#[derive(SimpleObject)]
pub struct ExpiryRun {
    /// Memberships that lost points.
    pub memberships_affected: i64,
    /// `EXPIRY` entries written.
    pub entries_written: i64,
    /// Points written off.
    pub points_expired: i64,
}

impl From<domain::loyalty::ExpiryRun> for ExpiryRun {
    fn from(r: domain::loyalty::ExpiryRun) -> Self {
        Self {
            memberships_affected: r.memberships_affected,
            entries_written: r.entries_written,
            points_expired: r.points_expired,
        }
    }
}

/// What `grantBirthdayBonuses` did.
#[derive(SimpleObject)]
pub struct BirthdayRun {
    /// Members credited now (not those already credited this year).
    pub members_credited: i64,
    /// Points credited now.
    pub points_credited: i64,
}

impl From<domain::loyalty::BirthdayRun> for BirthdayRun {
    fn from(r: domain::loyalty::BirthdayRun) -> Self {
        Self {
            members_credited: r.members_credited,
            points_credited: r.points_credited,
        }
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
