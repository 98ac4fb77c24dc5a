//! Demo data for the loyalty area: one euro programme with three tiers,
//! rewards, promotions, every demo customer enrolled, and a credit history
//! built through the same paths production uses.

use std::str::FromStr;

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::db::begin_write;
use crate::error::{DomainError, DomainResult};
use crate::loyalty::earning::{self, NewPromotion};
use crate::loyalty::idempotency::IdempotencyKey;
use crate::loyalty::ledger::{self, LedgerReason, NewEntry};
use crate::loyalty::programs::{self, NewProgram, TierInput};
use crate::loyalty::rewards::{self, NewReward};
use entity::{customers, purchases, users};

fn decimal(raw: &str) -> DomainResult<Decimal> {
    Decimal::from_str(raw).map_err(|e| DomainError::Internal(anyhow::anyhow!("demo decimal: {e}")))
}

/// Seeds the loyalty demo data in one transaction. Works with or without demo
/// customers (with none, only the programme, rewards and promotions exist).
///
/// # Errors
/// Database failures.
pub async fn seed(db: &DatabaseConnection) -> DomainResult<()> {
    let now = Utc::now();
    let tier = |name: &str, min: i64, mult: &str| -> DomainResult<TierInput> {
        Ok(TierInput {
            name: name.to_owned(),
            min_lifetime_points: min,
            earn_multiplier: decimal(mult)?,
        })
    };
    let program = NewProgram {
        name: "Rapport Rewards".to_owned(),
        currency: "EUR".to_owned(),
        points_per_currency_unit: Decimal::ONE,
        points_expire_after_days: Some(365),
        tiers: vec![
            tier("Bronze", 0, "1")?,
            tier("Silver", 1_000, "1.25")?,
            tier("Gold", 5_000, "1.5")?,
        ],
        referral_bonus_points: 200,
        referral_window_days: 30,
        birthday_bonus_points: 100,
        enroll_on_first_purchase: true,
    }
    .validate()?;

    let txn = begin_write(db).await?;
    let program_id = programs::create(&txn, program).await?;
    let mut coffee = None;
    for (name, cost, stock) in [
        ("Free coffee", 150, None),
        ("10 € voucher", 500, Some(100)),
        ("Weekend spa day", 5_000, Some(5)),
    ] {
        let reward = rewards::create_reward(
            &txn,
            NewReward {
                program_id,
                name: name.to_owned(),
                cost_points: cost,
                stock,
            },
        )
        .await?;
        coffee.get_or_insert((reward.id, reward.cost_points));
    }
    for (name, multiplier, starts, days, tag) in [
        ("Double points week", "2", now - Duration::days(3), 7, None),
        (
            "VIP triple points",
            "3",
            now - Duration::days(30),
            60,
            Some("vip"),
        ),
        ("Spring bonus", "1.5", now - Duration::days(200), 30, None),
    ] {
        earning::create_promotion(
            &txn,
            NewPromotion {
                program_id,
                name: name.to_owned(),
                multiplier: decimal(multiplier)?,
                starts_at: starts,
                ends_at: starts + Duration::days(days),
                tag: tag.map(str::to_owned),
            },
        )
        .await?;
    }

    let customers = customers::Entity::find()
        .filter(customers::Column::ErasedAt.is_null())
        .order_by_asc(customers::Column::Id)
        .all(&txn)
        .await?;
    let admin = users::Entity::find()
        .filter(users::Column::Role.eq("ADMIN"))
        .one(&txn)
        .await?
        .map(|u| u.id);
    for (i, customer) in customers.iter().enumerate() {
        let membership_id =
            programs::enroll(&txn, program_id, customer.id, customer.acquired_at).await?;
        ledger::append(
            &txn,
            NewEntry {
                membership_id,
                delta: 50,
                reason: LedgerReason::Adjustment,
                source_key: "demo:welcome".to_owned(),
                occurred_at: customer.acquired_at,
                expires_at: None,
                actor_id: None,
                note: Some("Welcome bonus".to_owned()),
            },
        )
        .await?;
        // Earn on the customer's purchases exactly as recordPurchase does.
        let bought = purchases::Entity::find()
            .filter(purchases::Column::CustomerId.eq(customer.id))
            .order_by_asc(purchases::Column::OccurredAt)
            .order_by_asc(purchases::Column::Id)
            .all(&txn)
            .await?;
        for purchase in &bought {
            earning::on_purchase_recorded(&txn, purchase).await?;
        }
        // Every third member who can afford it has had a coffee. (A failed
        // debit must not be attempted inside this transaction: check first.)
        let balance = programs::load_membership(&txn, membership_id)
            .await?
            .balance;
        if let (Some(actor), Some((reward, cost)), true) = (admin, coffee, i % 3 == 0) {
            if balance >= cost {
                let key = IdempotencyKey::parse(&format!("demo-redeem-{membership_id}"))?;
                rewards::redeem(&txn, actor, membership_id, reward, &key).await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}
