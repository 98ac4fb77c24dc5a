//! Rewards, redemptions and manual adjustments — the debit paths.
//!
//! A redemption is one transaction: claim the idempotency key, check that the
//! reward can be had at all (it exists, belongs to the membership's programme
//! and is offered), take one unit of stock with a conditional UPDATE
//! (`stock > 0`), then debit the points through `ledger::append` (a
//! conditional UPDATE: `balance + delta >= 0`), record the redemption and
//! store the result under the key. Availability comes before points, so a
//! sold-out or withdrawn reward answers with that reason whatever the balance.
//! Concurrent redemptions never overdraw a balance or a stock: the database
//! decides, and any refusal rolls the whole transaction back.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::loyalty::idempotency::{self, Claim, IdempotencyKey};
use crate::loyalty::ledger::{self, LedgerReason, NewEntry, MAX_ENTRY_POINTS};
use crate::loyalty::model::{LedgerEntry, Redemption, Reward};
use crate::loyalty::programs;
use crate::pagination::{key_keyset_page, Direction, IdOrder, KeyCursor, Page, PageRequest};
use crate::sql::Sql;
use crate::validation::required_text;
use entity::{ledger_entries, memberships, redemptions, rewards};

/// Idempotency scope of `redeemReward`.
pub(crate) const REDEEM_SCOPE: &str = "redeemReward";
/// Idempotency scope of `adjustPoints`.
pub(crate) const ADJUST_SCOPE: &str = "adjustPoints";

/// A reward as submitted.
#[derive(Clone, Debug)]
pub struct NewReward {
    pub program_id: i64,
    pub name: String,
    pub cost_points: i64,
    /// `None` for unlimited.
    pub stock: Option<i64>,
}

/// Validates and stores a reward.
///
/// # Errors
/// `BAD_USER_INPUT` for a cost outside `1..=1e9` or a negative stock,
/// `NOT_FOUND` for an unknown programme.
pub(crate) async fn create_reward(
    db: &impl ConnectionTrait,
    input: NewReward,
) -> DomainResult<Reward> {
    let name = required_text("name", &input.name, 100)?;
    let cost = cost_points(input.cost_points)?;
    let stock = stock_units(input.stock)?;
    ledger::program(db, input.program_id).await?;
    let row = rewards::ActiveModel {
        program_id: Set(input.program_id),
        name: Set(name),
        cost_points: Set(cost),
        stock: Set(stock),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.into())
}

/// Changes to a reward; `None` keeps the value. `stock: Some(None)` makes it
/// unlimited.
#[derive(Clone, Debug, Default)]
pub struct RewardPatch {
    pub name: Option<String>,
    pub cost_points: Option<i64>,
    pub stock: Option<Option<i64>>,
    pub active: Option<bool>,
}

/// Applies a patch: rename, reprice, restock (sets the units left) or
/// withdraw (`active: false`). Past redemptions keep the points they cost.
///
/// # Errors
/// `NOT_FOUND`, `BAD_USER_INPUT` as for [`create_reward`].
pub(crate) async fn update_reward(
    db: &impl ConnectionTrait,
    id: i64,
    patch: RewardPatch,
) -> DomainResult<Reward> {
    let existing = rewards::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("reward"))?;
    let mut model: rewards::ActiveModel = existing.into();
    if let Some(name) = patch.name {
        model.name = Set(required_text("name", &name, 100)?);
    }
    if let Some(cost) = patch.cost_points {
        model.cost_points = Set(cost_points(cost)?);
    }
    if let Some(stock) = patch.stock {
        model.stock = Set(stock_units(stock)?);
    }
    if let Some(active) = patch.active {
        model.active = Set(active);
    }
    Ok(model.update(db).await?.into())
}

fn cost_points(cost: i64) -> DomainResult<i64> {
    if (1..=MAX_ENTRY_POINTS).contains(&cost) {
        Ok(cost)
    } else {
        Err(DomainError::validation(
            "costPoints",
            format!("must be between 1 and {MAX_ENTRY_POINTS}"),
        ))
    }
}

fn stock_units(stock: Option<i64>) -> DomainResult<Option<i64>> {
    if stock.is_some_and(|s| s < 0) {
        return Err(DomainError::validation(
            "stock",
            "must be 0 or more (leave it out for unlimited)",
        ));
    }
    Ok(stock)
}

/// A page of a programme's rewards, cheapest first (ties by id).
///
/// # Errors
/// Database failures.
pub(crate) async fn rewards_page(
    db: &impl ConnectionTrait,
    program_id: i64,
    request: &PageRequest<KeyCursor<i64>>,
) -> DomainResult<Page<Reward>> {
    key_keyset_page(
        db,
        rewards::Entity::find().filter(rewards::Column::ProgramId.eq(program_id)),
        rewards::Column::CostPoints,
        rewards::Column::Id,
        IdOrder::Ascending,
        request,
        |rows| std::future::ready(Ok(rows.into_iter().map(Reward::from).collect())),
        |r: &Reward| KeyCursor {
            k: r.cost_points,
            id: r.id,
        },
    )
    .await
}

/// The first page (cheapest `limit`) of many programmes' rewards in one
/// statement, with `ROW_NUMBER() OVER (PARTITION BY program_id …)`.
/// Programmes without rewards get an empty page.
///
/// # Errors
/// Database failures.
pub async fn reward_first_pages(
    db: &impl ConnectionTrait,
    program_ids: &[i64],
    limit: u64,
) -> DomainResult<HashMap<i64, Page<Reward>>> {
    if program_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT id, program_id, name, cost_points, stock, active, created_at \
         FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.program_id ORDER BY r.cost_points, r.id) AS rn \
               FROM rewards r WHERE ",
    )
    .id_in("r.program_id", program_ids)
    .push(") ranked WHERE rn <= ")
    .bind_count(limit.saturating_add(1))
    .push(" ORDER BY program_id, cost_points, id");
    let rows = rewards::Entity::find()
        .from_raw_sql(sql.build())
        .all(db)
        .await?;
    let mut grouped: HashMap<i64, Vec<Reward>> =
        program_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        grouped
            .entry(row.program_id)
            .or_default()
            .push(Reward::from(row));
    }
    Ok(grouped
        .into_iter()
        .map(|(id, rows)| {
            let page = Page::from_rows(Direction::Forward, limit, false, rows, |r| KeyCursor {
                k: r.cost_points,
                id: r.id,
            });
            (id, page)
        })
        .collect())
}

/// How many rewards a programme has.
///
/// # Errors
/// Database failures.
pub(crate) async fn count_rewards(db: &impl ConnectionTrait, program_id: i64) -> DomainResult<i64> {
    let n = rewards::Entity::find()
        .filter(rewards::Column::ProgramId.eq(program_id))
        .count(db)
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Redeems inside the caller's transaction; returns the redemption id and
/// whether it is new (`false` for a replay of its idempotency key).
///
/// Checks, in this order (the first that fails answers): the idempotency key
/// (`CONFLICT` when reused with another payload), membership and reward exist
/// (`NOT_FOUND`), same programme (`BAD_USER_INPUT` on `rewardId`), reward
/// offered (`CONFLICT`), a unit of stock left (`OUT_OF_STOCK`), then the
/// balance (`INSUFFICIENT_POINTS`). The caller rolls back on any error, which
/// gives back the unit of stock taken before a points refusal.
///
/// # Errors
/// As listed above.
pub(crate) async fn redeem(
    db: &impl ConnectionTrait,
    actor_id: i64,
    membership_id: i64,
    reward_id: i64,
    key: &IdempotencyKey,
) -> DomainResult<(i64, bool)> {
    let hash = idempotency::request_hash(&format!("{membership_id}:{reward_id}"));
    if let Claim::Replay(response) =
        idempotency::claim(db, REDEEM_SCOPE, actor_id, key, &hash).await?
    {
        return Ok((stored_id(&response, "redemptionId")?, false));
    }
    let membership = memberships::Entity::find_by_id(membership_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("membership"))?;
    let reward = rewards::Entity::find_by_id(reward_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("reward"))?;
    if reward.program_id != membership.program_id {
        return Err(DomainError::validation(
            "rewardId",
            "belongs to another loyalty programme than the membership",
        ));
    }
    if !reward.active {
        return Err(DomainError::conflict("the reward is no longer offered"));
    }
    // Stock before points: a reward that cannot be had says so, whatever the
    // member's balance. The conditional UPDATE also locks the reward row
    // (PostgreSQL), so concurrent redemptions of the last unit queue here.
    if reward.stock.is_some() {
        let taken = rewards::Entity::update_many()
            .col_expr(
                rewards::Column::Stock,
                Expr::col(rewards::Column::Stock).sub(1),
            )
            .filter(rewards::Column::Id.eq(reward.id))
            .filter(rewards::Column::Stock.gt(0))
            .exec(db)
            .await?;
        if taken.rows_affected != 1 {
            return Err(DomainError::OutOfStock);
        }
    }
    let now = Utc::now();
    let entry = ledger::append(
        db,
        NewEntry {
            membership_id,
            delta: -reward.cost_points,
            reason: LedgerReason::Redemption,
            source_key: format!("redemption:{actor_id}:{}", key.as_ref()),
            occurred_at: now,
            expires_at: None,
            actor_id: Some(actor_id),
            note: Some(reward.name.clone()),
        },
    )
    .await?
    .ok_or_else(|| DomainError::conflict("this redemption was already recorded"))?;
    let redemption = redemptions::ActiveModel {
        membership_id: Set(membership_id),
        reward_id: Set(reward.id),
        ledger_entry_id: Set(entry.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    crate::events::reward_redeemed(
        db,
        &crate::webhooks::Redeemed {
            redemption_id: redemption.id,
            membership_id,
            program_id: membership.program_id,
            customer_id: membership.customer_id,
            reward_id: reward.id,
            ledger_entry_id: entry.id,
            points: reward.cost_points,
            redeemed_at: now,
        },
    )
    .await?;
    idempotency::complete(
        db,
        REDEEM_SCOPE,
        actor_id,
        key,
        &json!({ "redemptionId": redemption.id }),
    )
    .await?;
    Ok((redemption.id, true))
}

/// Adjusts inside the caller's transaction; returns the ledger entry id.
///
/// # Errors
/// `BAD_USER_INPUT` (zero or oversized delta, empty note), `NOT_FOUND`,
/// `CONFLICT` (key reused with another payload), `INSUFFICIENT_POINTS`.
pub(crate) async fn adjust(
    db: &impl ConnectionTrait,
    actor_id: i64,
    membership_id: i64,
    delta: i64,
    note: &str,
    key: &IdempotencyKey,
) -> DomainResult<i64> {
    if delta == 0 || delta.checked_abs().is_none_or(|d| d > MAX_ENTRY_POINTS) {
        return Err(DomainError::validation(
            "delta",
            format!("must be non-zero and at most {MAX_ENTRY_POINTS} in magnitude"),
        ));
    }
    let note = required_text("note", note, 500)?;
    let hash = idempotency::request_hash(&format!("{membership_id}:{delta}:{note}"));
    if let Claim::Replay(response) =
        idempotency::claim(db, ADJUST_SCOPE, actor_id, key, &hash).await?
    {
        return stored_id(&response, "ledgerEntryId");
    }
    let membership = programs::load_membership(db, membership_id).await?;
    let now = Utc::now();
    let entry = ledger::append(
        db,
        NewEntry {
            membership_id,
            delta,
            reason: LedgerReason::Adjustment,
            source_key: format!("adjustment:{actor_id}:{}", key.as_ref()),
            occurred_at: now,
            expires_at: (delta > 0)
                .then(|| membership.program.expiry_for(now))
                .flatten(),
            actor_id: Some(actor_id),
            note: Some(note),
        },
    )
    .await?
    .ok_or_else(|| DomainError::conflict("this adjustment was already recorded"))?;
    idempotency::complete(
        db,
        ADJUST_SCOPE,
        actor_id,
        key,
        &json!({ "ledgerEntryId": entry.id }),
    )
    .await?;
    Ok(entry.id)
}

fn stored_id(response: &serde_json::Value, field: &str) -> DomainResult<i64> {
    response[field]
        .as_i64()
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("stored response lacks {field}")))
}

/// Loads a ledger entry.
///
/// # Errors
/// `NOT_FOUND`.
pub(crate) async fn load_entry(db: &impl ConnectionTrait, id: i64) -> DomainResult<LedgerEntry> {
    ledger_entries::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("ledger entry"))
        .and_then(LedgerEntry::try_from)
}

/// One redemption with its reward, membership and ledger entry.
pub(crate) async fn load_redemption(
    db: &impl ConnectionTrait,
    id: i64,
) -> DomainResult<Redemption> {
    let row = redemptions::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("redemption"))?;
    let reward = rewards::Entity::find_by_id(row.reward_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("reward"))?;
    Ok(Redemption {
        id: row.id,
        reward: reward.into(),
        membership: programs::load_membership(db, row.membership_id).await?,
        entry: load_entry(db, row.ledger_entry_id).await?,
        created_at: row.created_at,
    })
}
