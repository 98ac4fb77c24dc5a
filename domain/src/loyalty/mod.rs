//! Loyalty programmes (SPEC §6): the append-only points ledger, earning, tiers,
//! promotions, referrals, birthdays, rewards and expiry.
//!
//! Other areas credit points only through the functions here, so every credit
//! is idempotent by its source and keeps `balance = Σ entries ≥ 0`.
//! `docs/loyalty.md` describes the rules with worked examples.
//!
//! [`LoyaltyService`] (here) holds the area's operations, each checking the
//! actor's capability, opening the transaction it owns and delegating to the
//! topic modules ([`programs`], [`earning`], [`rewards`], [`expiry`],
//! [`ledger`], birthdays).

mod birthdays;
pub mod earning;
pub mod expiry;
mod history;
pub(crate) mod idempotency;
pub mod ledger;
pub mod model;
pub mod programs;
pub mod rewards;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::auth::{Actor, Capability};
use crate::db::begin_write;
use crate::error::{DomainResult, FoundExt};
use crate::keyset::OrderCursor;
use crate::pagination::{KeyCursor, Page, PageRequest};

pub use earning::{points_credited_for, promotion_first_pages, NewPromotion, PointsCredit};
pub use history::{LedgerFilter, LedgerOrder, LedgerOrderField};
pub use idempotency::IdempotencyKey;
pub use ledger::{credit_for_source, credited_for_source, LedgerReason, NewEntry};
pub(crate) use ledger::{credit_target_for_source, CreditTarget};
pub use model::{
    Adjustment, BirthdayRun, ExpiringPoints, ExpiryRun, LedgerEntry, LedgerSource, Membership,
    Program, Promotion, Redemption, Reward, Tier,
};
pub use programs::{
    ledger_first_pages, memberships_for_customers, programs_by_ids, NewProgram, ProgramPatch,
    TierInput,
};
pub use rewards::{reward_first_pages, NewReward, RewardPatch};

/// Called inside `recordPurchase`'s transaction once the purchase is stored
/// (see `events::purchase_recorded`): enrols the customer in every
/// programme of the purchase's currency set to `enroll_on_first_purchase` they
/// are not a member of, credits earning points in every programme of that
/// currency the customer belongs to, and the referral bonus when this is the
/// referred customer's first purchase within the window. See [`earning`].
///
/// # Errors
/// `BAD_USER_INPUT` on `amount` when the points would overflow; database
/// failures. The caller's transaction then rolls back.
#[tracing::instrument(skip(db, purchase), fields(purchase_id = purchase.id))]
pub async fn on_purchase_recorded(
    db: &impl ConnectionTrait,
    purchase: &crate::customers::Purchase,
) -> DomainResult<()> {
    earning::credit_purchase(db, purchase).await
}

/// Called inside `eraseCustomer`'s transaction (see
/// `events::customer_erased`): removes the staff notes on the
/// customer's manual point adjustments, which are free text about the
/// customer. The entries themselves, and so every sum, stay. Returns the
/// tables in which it removed free text.
///
/// # Errors
/// Database failures; the caller's transaction then rolls back.
pub async fn on_customer_erased(
    db: &impl ConnectionTrait,
    customer_id: i64,
) -> DomainResult<Vec<&'static str>> {
    let rows = ledger::erase_adjustment_notes(db, customer_id).await?;
    Ok(if rows > 0 {
        vec!["ledger_entries"]
    } else {
        Vec::new()
    })
}

/// The daily job: birthday bonuses for `now`'s date and expiry as of `now`,
/// each in its own transaction. Idempotent, so running it twice a day or on
/// several servers at once credits and expires nothing twice.
///
/// # Errors
/// Database failures (the other half still runs next time).
#[tracing::instrument(skip(db))]
pub async fn run_daily(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> DomainResult<(BirthdayRun, ExpiryRun)> {
    let txn = begin_write(db).await?;
    let birthdays = birthdays::grant(&txn, now.date_naive()).await?;
    txn.commit().await?;
    let txn = begin_write(db).await?;
    let expired = expiry::expire_points(&txn, now).await?;
    txn.commit().await?;
    Ok((birthdays, expired))
}

/// When the daily job runs next after `now`: 00:05 UTC, just after midnight,
/// so that birthdays are credited on the day and expiry happens promptly.
pub fn next_daily_run(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now
        .date_naive()
        .and_hms_opt(0, 5, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// Loyalty programmes, memberships, rewards and the operations on them.
#[derive(Clone)]
pub struct LoyaltyService {
    db: DatabaseConnection,
}

impl LoyaltyService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates a programme with its tiers (ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`, `BAD_USER_INPUT`.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn create_program(&self, actor: &Actor, input: NewProgram) -> DomainResult<Program> {
        actor.require(Capability::ConfigureLoyalty)?;
        let input = input.validate()?;
        let txn = begin_write(&self.db).await?;
        let id = programs::create(&txn, input).await?;
        let program = programs::load_program(&txn, id).await?;
        txn.commit().await?;
        Ok(program)
    }

    /// Changes a programme (ADMIN). The currency cannot change; entries already
    /// written keep their expiry.
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`.
    #[tracing::instrument(skip(self, actor, patch), fields(program_id = id))]
    pub async fn update_program(
        &self,
        actor: &Actor,
        id: i64,
        patch: ProgramPatch,
    ) -> DomainResult<Program> {
        actor.require(Capability::ConfigureLoyalty)?;
        let txn = begin_write(&self.db).await?;
        programs::update(&txn, id, patch).await?;
        let program = programs::load_program(&txn, id).await?;
        txn.commit().await?;
        Ok(program)
    }

    /// A page of programmes, oldest first.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn programs(
        &self,
        actor: &Actor,
        request: &PageRequest<i64>,
    ) -> DomainResult<Page<Program>> {
        actor.require(Capability::ReadConfiguration)?;
        programs::programs_page(&self.db, request).await
    }

    /// How many programmes exist.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn program_count(&self, actor: &Actor) -> DomainResult<i64> {
        actor.require(Capability::ReadConfiguration)?;
        programs::count_programs(&self.db).await
    }

    /// Checks that `actor` may read loyalty configuration (programmes,
    /// rewards, promotions), for fields that follow a link to a programme
    /// loaded in a batch ([`programs_by_ids`]): the rule of [`Self::program`].
    ///
    /// # Errors
    /// `FORBIDDEN`.
    pub fn authorize_configuration_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadConfiguration)
    }

    /// One programme, or `None`.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn program(&self, actor: &Actor, id: i64) -> DomainResult<Option<Program>> {
        actor.require(Capability::ReadConfiguration)?;
        match programs::load_program(&self.db, id).await {
            Ok(program) => Ok(Some(program)),
            Err(crate::DomainError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Enrols a customer (MANAGER+).
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, `CONFLICT` when already a member.
    #[tracing::instrument(skip(self, actor))]
    pub async fn enroll(
        &self,
        actor: &Actor,
        program_id: i64,
        customer_id: i64,
    ) -> DomainResult<Membership> {
        actor.require(Capability::EnrollCustomers)?;
        let txn = begin_write(&self.db).await?;
        let id = programs::enroll(&txn, program_id, customer_id, Utc::now()).await?;
        let membership = programs::load_membership(&txn, id).await?;
        txn.commit().await?;
        Ok(membership)
    }

    /// One membership, or `None`.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn membership(&self, actor: &Actor, id: i64) -> DomainResult<Option<Membership>> {
        actor.require(Capability::ReadCustomers)?;
        match programs::load_membership(&self.db, id).await {
            Ok(m) => Ok(Some(m)),
            Err(crate::DomainError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// One ledger entry, or `None` (the rule of [`Self::ledger`]).
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn ledger_entry(&self, actor: &Actor, id: i64) -> DomainResult<Option<LedgerEntry>> {
        actor.require(Capability::ReadCustomers)?;
        rewards::load_entry(&self.db, id).await.found()
    }

    /// One redemption, or `None` (the rule of [`Self::membership`]).
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn redemption(&self, actor: &Actor, id: i64) -> DomainResult<Option<Redemption>> {
        actor.require(Capability::ReadCustomers)?;
        rewards::load_redemption(&self.db, id).await.found()
    }

    /// One reward, or `None` (the rule of [`Self::rewards`]).
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn reward(&self, actor: &Actor, id: i64) -> DomainResult<Option<Reward>> {
        actor.require(Capability::ReadConfiguration)?;
        Ok(entity::rewards::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Reward::from))
    }

    /// One promotion, or `None` (the rule of [`Self::promotions`]).
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn promotion(&self, actor: &Actor, id: i64) -> DomainResult<Option<Promotion>> {
        actor.require(Capability::ReadConfiguration)?;
        entity::promotions::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Promotion::try_from)
            .transpose()
    }

    /// A page of a programme's members.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn members(
        &self,
        actor: &Actor,
        program_id: i64,
        request: &PageRequest<i64>,
    ) -> DomainResult<Page<Membership>> {
        actor.require(Capability::ReadCustomers)?;
        programs::memberships_of_program(&self.db, program_id, request).await
    }

    /// How many members a programme has.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn count_members(&self, actor: &Actor, program_id: i64) -> DomainResult<i64> {
        actor.require(Capability::ReadCustomers)?;
        programs::count_members(&self.db, program_id).await
    }

    /// A page of a membership's ledger entries matching `filter`, in `order`.
    ///
    /// # Errors
    /// `FORBIDDEN`; `BAD_USER_INPUT` on the filter or a cursor of another
    /// order; database failures.
    pub async fn ledger(
        &self,
        actor: &Actor,
        membership_id: i64,
        filter: &LedgerFilter,
        order: LedgerOrder,
        request: &PageRequest<OrderCursor>,
    ) -> DomainResult<Page<LedgerEntry>> {
        actor.require(Capability::ReadCustomers)?;
        history::ledger_page(&self.db, membership_id, filter, order, request).await
    }

    /// How many ledger entries of each of many memberships match `filter`
    /// (for DataLoaders; memberships without any are absent).
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on the filter; database failures.
    pub async fn ledger_counts_for(
        &self,
        membership_ids: &[i64],
        filter: &LedgerFilter,
    ) -> DomainResult<std::collections::HashMap<i64, i64>> {
        history::ledger_counts_for(&self.db, membership_ids, filter).await
    }

    /// Points of a membership that will expire, soonest first.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn expiring_points(
        &self,
        actor: &Actor,
        membership_id: i64,
    ) -> DomainResult<Vec<ExpiringPoints>> {
        actor.require(Capability::ReadCustomers)?;
        expiry::expiring_points(&self.db, membership_id, Utc::now()).await
    }

    /// Checks that `actor` may read memberships, their ledgers and expiring
    /// points, for fields that show what the batch functions below loaded:
    /// the rule of [`Self::membership`].
    ///
    /// # Errors
    /// `FORBIDDEN`.
    pub fn authorize_member_read(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadCustomers)
    }

    /// Memberships of many customers (for the customer card's DataLoader).
    ///
    /// # Errors
    /// Database failures.
    pub async fn memberships_for_customers(
        &self,
        customer_ids: &[i64],
    ) -> DomainResult<std::collections::HashMap<i64, Vec<Membership>>> {
        programs::memberships_for_customers(&self.db, customer_ids).await
    }

    /// The newest `limit` ledger entries of many memberships (for DataLoaders).
    ///
    /// # Errors
    /// Database failures.
    pub async fn ledger_first_pages(
        &self,
        membership_ids: &[i64],
        limit: u64,
    ) -> DomainResult<std::collections::HashMap<i64, Page<LedgerEntry>>> {
        programs::ledger_first_pages(&self.db, membership_ids, limit).await
    }

    /// Points expiring from now on for many memberships (for DataLoaders).
    ///
    /// # Errors
    /// Database failures.
    pub async fn expiring_points_for(
        &self,
        membership_ids: &[i64],
    ) -> DomainResult<std::collections::HashMap<i64, Vec<ExpiringPoints>>> {
        expiry::expiring_points_for(&self.db, membership_ids, Utc::now()).await
    }

    /// Creates a promotion (ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn create_promotion(
        &self,
        actor: &Actor,
        input: NewPromotion,
    ) -> DomainResult<Promotion> {
        actor.require(Capability::ConfigureLoyalty)?;
        let txn = begin_write(&self.db).await?;
        let promotion = earning::create_promotion(&txn, input).await?;
        txn.commit().await?;
        Ok(promotion)
    }

    /// A page of a programme's promotions, latest start first.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn promotions(
        &self,
        actor: &Actor,
        program_id: i64,
        request: &PageRequest<KeyCursor<DateTime<Utc>>>,
    ) -> DomainResult<Page<Promotion>> {
        actor.require(Capability::ReadConfiguration)?;
        earning::promotions_page(&self.db, program_id, request).await
    }

    /// How many promotions a programme has.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn promotion_count(&self, actor: &Actor, program_id: i64) -> DomainResult<i64> {
        actor.require(Capability::ReadConfiguration)?;
        earning::count_promotions(&self.db, program_id).await
    }

    /// Creates a reward (ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn create_reward(&self, actor: &Actor, input: NewReward) -> DomainResult<Reward> {
        actor.require(Capability::ConfigureLoyalty)?;
        let txn = begin_write(&self.db).await?;
        let reward = rewards::create_reward(&txn, input).await?;
        txn.commit().await?;
        Ok(reward)
    }

    /// Renames, reprices, restocks or withdraws a reward (ADMIN).
    ///
    /// # Errors
    /// `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`.
    #[tracing::instrument(skip(self, actor, patch))]
    pub async fn update_reward(
        &self,
        actor: &Actor,
        id: i64,
        patch: RewardPatch,
    ) -> DomainResult<Reward> {
        actor.require(Capability::ConfigureLoyalty)?;
        let txn = begin_write(&self.db).await?;
        let reward = rewards::update_reward(&txn, id, patch).await?;
        txn.commit().await?;
        Ok(reward)
    }

    /// A page of a programme's rewards, cheapest first.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn rewards(
        &self,
        actor: &Actor,
        program_id: i64,
        request: &PageRequest<KeyCursor<i64>>,
    ) -> DomainResult<Page<Reward>> {
        actor.require(Capability::ReadConfiguration)?;
        rewards::rewards_page(&self.db, program_id, request).await
    }

    /// How many rewards a programme has.
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    pub async fn reward_count(&self, actor: &Actor, program_id: i64) -> DomainResult<i64> {
        actor.require(Capability::ReadConfiguration)?;
        rewards::count_rewards(&self.db, program_id).await
    }

    /// Redeems a reward for a member (AGENT+), idempotent by `key`.
    ///
    /// # Errors
    /// `FORBIDDEN`, `BAD_USER_INPUT`, `NOT_FOUND`, `CONFLICT`,
    /// `INSUFFICIENT_POINTS`, `OUT_OF_STOCK`.
    #[tracing::instrument(skip(self, actor, key))]
    pub async fn redeem_reward(
        &self,
        actor: &Actor,
        membership_id: i64,
        reward_id: i64,
        key: &str,
    ) -> DomainResult<Redemption> {
        actor.require(Capability::RedeemRewards)?;
        let key = IdempotencyKey::parse(key)?;
        let txn = begin_write(&self.db).await?;
        let (id, new) =
            rewards::redeem(&txn, actor.user_id, membership_id, reward_id, &key).await?;
        txn.commit().await?;
        if new {
            metrics::counter!("rapport_redemptions_total").increment(1);
        }
        rewards::load_redemption(&self.db, id).await
    }

    /// Adds or removes points by hand (MANAGER+), idempotent by `key`.
    ///
    /// # Errors
    /// `FORBIDDEN`, `BAD_USER_INPUT`, `NOT_FOUND`, `CONFLICT`,
    /// `INSUFFICIENT_POINTS`.
    #[tracing::instrument(skip(self, actor, note, key))]
    pub async fn adjust_points(
        &self,
        actor: &Actor,
        membership_id: i64,
        delta: i64,
        note: &str,
        key: &str,
    ) -> DomainResult<Adjustment> {
        actor.require(Capability::AdjustPoints)?;
        let key = IdempotencyKey::parse(key)?;
        let txn = begin_write(&self.db).await?;
        let entry_id =
            rewards::adjust(&txn, actor.user_id, membership_id, delta, note, &key).await?;
        txn.commit().await?;
        let entry = rewards::load_entry(&self.db, entry_id).await?;
        Ok(Adjustment {
            membership: programs::load_membership(&self.db, entry.membership_id).await?,
            entry,
        })
    }

    /// Credits today's birthday bonuses (MANAGER+; also the daily job).
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn grant_birthday_bonuses(
        &self,
        actor: &Actor,
        date: NaiveDate,
    ) -> DomainResult<BirthdayRun> {
        actor.require(Capability::AdjustPoints)?;
        let txn = begin_write(&self.db).await?;
        let run = birthdays::grant(&txn, date).await?;
        txn.commit().await?;
        Ok(run)
    }

    /// Writes off points expired at `as_of` (MANAGER+; also the daily job).
    ///
    /// # Errors
    /// `FORBIDDEN`, database failures.
    #[tracing::instrument(skip(self, actor))]
    pub async fn expire_points(
        &self,
        actor: &Actor,
        as_of: DateTime<Utc>,
    ) -> DomainResult<ExpiryRun> {
        actor.require(Capability::AdjustPoints)?;
        let txn = begin_write(&self.db).await?;
        let run = expiry::expire_points(&txn, as_of).await?;
        txn.commit().await?;
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_daily_job_runs_just_after_midnight() {
        let at = |h, m| {
            Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0)
                .single()
                .expect("time")
        };
        let next = Utc
            .with_ymd_and_hms(2026, 11, 24, 0, 5, 0)
            .single()
            .expect("time");
        assert_eq!(next_daily_run(at(0, 1)), at(0, 5));
        assert_eq!(next_daily_run(at(0, 5)), next);
        assert_eq!(next_daily_run(at(13, 0)), next);
    }
}
