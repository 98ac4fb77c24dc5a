//! Demo data for the loyalty area: one euro programme with three tiers,
//! rewards, promotions, every demo customer enrolled, and a credit history
//! built through the same paths production uses.

use std::str::FromStr;

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use domain::auth::{Actor, Role};
use domain::customers::Purchase;
use domain::db::begin_write;
use domain::error::{DomainError, DomainResult};
use domain::loyalty::ledger::{self, LedgerReason, NewEntry};
use domain::loyalty::{self, LoyaltyService, NewProgram, NewPromotion, NewReward, TierInput};
use entity::{customers, memberships, purchases, users};

fn decimal(raw: &str) -> DomainResult<Decimal> {
    Decimal::from_str(raw).map_err(|e| DomainError::Internal(anyhow::anyhow!("demo decimal: {e}")))
}

/// Seeds the loyalty demo data through the loyalty service and its public
/// ledger functions: the programme, rewards and promotions, then every
/// customer's membership and credit history in one transaction, then the
/// redemptions. Works with or without demo customers (with none, only the
/// programme, rewards and promotions exist).
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

    let service = LoyaltyService::new(db.clone());
    let admin_id = users::Entity::find()
        .filter(users::Column::Role.eq("ADMIN"))
        .order_by_asc(users::Column::Id)
        .one(db)
        .await?
        .map(|u| u.id);
    // The seed runs as the system, with an administrator's rights.
    let admin = Actor {
        user_id: admin_id.unwrap_or(0),
        role: Role::Admin,
    };
    let program_id = service.create_program(&admin, program).await?.id;
    let mut coffee = None;
    for (name, cost, stock) in [
        ("Free coffee", 150, None),
        ("10 € voucher", 500, Some(100)),
        ("Weekend spa day", 5_000, Some(5)),
    ] {
        let reward = service
            .create_reward(
                &admin,
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
        service
            .create_promotion(
                &admin,
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

    let txn = begin_write(db).await?;
    let customers = customers::Entity::find()
        .filter(customers::Column::ErasedAt.is_null())
        .order_by_asc(customers::Column::Id)
        .all(&txn)
        .await?;
    let mut members = Vec::with_capacity(customers.len());
    for customer in &customers {
        // Enrolled on the day they were acquired.
        let membership =
            ledger::ensure_membership(&txn, program_id, customer.id, customer.acquired_at).await?;
        ledger::append(
            &txn,
            NewEntry {
                membership_id: membership.id,
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
            loyalty::on_purchase_recorded(&txn, &Purchase::try_from(purchase.clone())?).await?;
        }
        members.push(membership.id);
    }
    txn.commit().await?;

    // Every third member who can afford it has had a coffee.
    if let (Some(_), Some((reward, cost))) = (admin_id, coffee) {
        for membership_id in members.into_iter().step_by(3) {
            let balance = memberships::Entity::find_by_id(membership_id)
                .one(db)
                .await?
                .map_or(0, |m| m.balance);
            if balance >= cost {
                let key = format!("demo-redeem-{membership_id}");
                service
                    .redeem_reward(&admin, membership_id, reward, &key)
                    .await?;
            }
        }
    }
    Ok(())
}
