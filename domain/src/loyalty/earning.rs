//! Earning points on purchases (SPEC §6), promotions and referrals.
//!
//! ```text
//! total = floor(amount · pointsPerCurrencyUnit · tierMultiplier · promotionMultiplier)
//! base  = floor(amount · pointsPerCurrencyUnit · tierMultiplier)
//! ```
//! `base` is written as a `PURCHASE` entry and `total − base` (the part the
//! promotion added) as a `PROMOTION` entry, both referenced `purchase:{id}`,
//! so the ledger shows why the points came and the sum is exactly `total`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::customers::Purchase;
use crate::error::{DomainError, DomainResult};
use crate::loyalty::ledger::{self, LedgerReason, NewEntry, MAX_ENTRY_POINTS};
use crate::loyalty::model::{Program, Promotion};
use crate::loyalty::programs::{self, positive_decimal, MAX_MULTIPLIER};
use crate::pagination::{key_keyset_page, Direction, IdOrder, KeyCursor, Page, PageRequest};
use crate::sql::Sql;
use crate::validation::{optional_text, required_text};
use entity::{
    customer_tags, customers, ledger_entries, loyalty_programs, memberships, promotions, purchases,
};

/// Points earned on a purchase: `(base, total)`.
///
/// `base = floor(amount · perUnit · tier)`, `total = floor(base product ·
/// promotion)`; negative and zero amounts earn nothing.
///
/// # Errors
/// `BAD_USER_INPUT` on `amount` when the product overflows or exceeds
/// [`MAX_ENTRY_POINTS`].
pub fn purchase_points(
    amount: Decimal,
    points_per_unit: Decimal,
    tier_multiplier: Decimal,
    promotion_multiplier: Decimal,
) -> DomainResult<(i64, i64)> {
    if amount <= Decimal::ZERO {
        return Ok((0, 0));
    }
    let overflow = || {
        DomainError::validation(
            "amount",
            format!("earns more than {MAX_ENTRY_POINTS} points in one purchase"),
        )
    };
    let base = amount
        .checked_mul(points_per_unit)
        .and_then(|v| v.checked_mul(tier_multiplier))
        .ok_or_else(overflow)?;
    let total = base
        .checked_mul(promotion_multiplier)
        .ok_or_else(overflow)?;
    let to_points = |v: Decimal| {
        v.floor()
            .to_i64()
            .filter(|p| *p <= MAX_ENTRY_POINTS)
            .ok_or_else(overflow)
    };
    let (base, total) = (to_points(base)?, to_points(total)?);
    Ok((std::cmp::min(base, total), total))
}

/// The highest multiplier among promotions active at `at` that apply to a
/// customer with `tags` (a promotion without a tag applies to everyone); 1 when
/// none applies. Promotions do not stack: overlapping ones never multiply.
pub fn promotion_multiplier(
    promotions: &[Promotion],
    at: DateTime<Utc>,
    tags: &HashSet<String>,
) -> Decimal {
    best_promotion(promotions, at, tags).map_or(Decimal::ONE, |p| p.multiplier)
}

/// The promotion whose multiplier applies (see [`promotion_multiplier`]); on a
/// tie, the one created first.
pub fn best_promotion<'a>(
    promotions: &'a [Promotion],
    at: DateTime<Utc>,
    tags: &HashSet<String>,
) -> Option<&'a Promotion> {
    promotions
        .iter()
        .filter(|p| p.starts_at <= at && at < p.ends_at)
        .filter(|p| p.tag.as_ref().is_none_or(|t| tags.contains(t)))
        .min_by(|a, b| b.multiplier.cmp(&a.multiplier).then(a.id.cmp(&b.id)))
}

/// A promotion as submitted.
#[derive(Clone, Debug)]
pub struct NewPromotion {
    pub program_id: i64,
    pub name: String,
    pub multiplier: Decimal,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub tag: Option<String>,
}

/// Validates and stores a promotion.
///
/// # Errors
/// `NOT_FOUND` for an unknown programme, `BAD_USER_INPUT` for a multiplier
/// outside `(0, 100]` or an empty period.
pub(crate) async fn create_promotion(
    db: &impl ConnectionTrait,
    input: NewPromotion,
) -> DomainResult<Promotion> {
    let name = required_text("name", &input.name, 100)?;
    let multiplier = positive_decimal("multiplier", input.multiplier, MAX_MULTIPLIER)?;
    if input.ends_at <= input.starts_at {
        return Err(DomainError::validation("endsAt", "must be after startsAt"));
    }
    let tag = optional_text("tag", input.tag.as_deref(), 50)?;
    ledger::program(db, input.program_id).await?;
    let row = promotions::ActiveModel {
        program_id: Set(input.program_id),
        name: Set(name),
        multiplier: Set(multiplier.to_string()),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        tag: Set(tag),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Promotion::try_from(row)
}

/// A page of a programme's promotions, latest start first (ties by id).
///
/// # Errors
/// Database failures.
pub(crate) async fn promotions_page(
    db: &impl ConnectionTrait,
    program_id: i64,
    request: &PageRequest<KeyCursor<DateTime<Utc>>>,
) -> DomainResult<Page<Promotion>> {
    key_keyset_page(
        db,
        promotions::Entity::find().filter(promotions::Column::ProgramId.eq(program_id)),
        promotions::Column::StartsAt,
        promotions::Column::Id,
        IdOrder::Descending,
        request,
        |rows| {
            std::future::ready(
                rows.into_iter()
                    .map(Promotion::try_from)
                    .collect::<DomainResult<Vec<_>>>(),
            )
        },
        |p: &Promotion| KeyCursor {
            k: p.starts_at,
            id: p.id,
        },
    )
    .await
}

/// The first page (latest-starting `limit`) of many programmes' promotions
/// in one statement, with `ROW_NUMBER() OVER (PARTITION BY program_id …)`.
/// Programmes without promotions get an empty page.
///
/// # Errors
/// Database failures.
pub async fn promotion_first_pages(
    db: &impl ConnectionTrait,
    program_ids: &[i64],
    limit: u64,
) -> DomainResult<HashMap<i64, Page<Promotion>>> {
    if program_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT id, program_id, name, multiplier, starts_at, ends_at, tag, created_at \
         FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.program_id ORDER BY p.starts_at DESC, p.id DESC) AS rn \
               FROM promotions p WHERE ",
    )
    .id_in("p.program_id", program_ids)
    .push(") ranked WHERE rn <= ")
    .bind_count(limit.saturating_add(1))
    .push(" ORDER BY program_id, starts_at DESC, id DESC");
    let rows = promotions::Entity::find()
        .from_raw_sql(sql.build())
        .all(db)
        .await?;
    let mut grouped: HashMap<i64, Vec<Promotion>> =
        program_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        let program_id = row.program_id;
        grouped
            .entry(program_id)
            .or_default()
            .push(Promotion::try_from(row)?);
    }
    Ok(grouped
        .into_iter()
        .map(|(id, rows)| {
            let page = Page::from_rows(Direction::Forward, limit, false, rows, |p| KeyCursor {
                k: p.starts_at,
                id: p.id,
            });
            (id, page)
        })
        .collect())
}

/// How many promotions a programme has.
///
/// # Errors
/// Database failures.
pub(crate) async fn count_promotions(
    db: &impl ConnectionTrait,
    program_id: i64,
) -> DomainResult<i64> {
    let n = promotions::Entity::find()
        .filter(promotions::Column::ProgramId.eq(program_id))
        .count(db)
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// See [`crate::loyalty::on_purchase_recorded`].
pub(crate) async fn credit_purchase(
    db: &impl ConnectionTrait,
    purchase: &Purchase,
) -> DomainResult<()> {
    if purchase.amount <= Decimal::ZERO {
        return Ok(());
    }
    let members = enrol_and_lock(db, purchase).await?;
    if members.is_empty() {
        return Ok(());
    }
    let rules = earning_rules(db, purchase, &members).await?;
    let referral = referral_of(db, purchase).await?;
    for member in &members {
        let Some(program) = rules.programs.iter().find(|p| p.id == member.program_id) else {
            continue;
        };
        credit_member(db, purchase, member, program, &rules).await?;
        if let Some(referral) = &referral {
            credit_referrer(db, program, referral, purchase).await?;
        }
    }
    Ok(())
}

/// Earning step: enrols the customer where a programme in the purchase's
/// currency says so, then locks and reads their memberships of those
/// programmes, by id (none: nothing to earn).
async fn enrol_and_lock(
    db: &impl ConnectionTrait,
    purchase: &Purchase,
) -> DomainResult<Vec<memberships::Model>> {
    let in_currency = loyalty_programs::Entity::find()
        .filter(loyalty_programs::Column::Currency.eq(purchase.currency.as_str()))
        .order_by_asc(loyalty_programs::Column::Id)
        .all(db)
        .await?;
    if in_currency.is_empty() {
        return Ok(Vec::new());
    }
    // Enrol first where the programme says so: the purchase then earns like
    // any member's. `ensure_membership` is a no-op for members and safe
    // against a concurrent enrolment.
    for program in in_currency.iter().filter(|p| p.enroll_on_first_purchase) {
        ledger::ensure_membership(db, program.id, purchase.customer_id, purchase.occurred_at)
            .await?;
    }
    let program_ids: Vec<i64> = in_currency.iter().map(|p| p.id).collect();
    let in_programs = || {
        memberships::Entity::find()
            .filter(memberships::Column::CustomerId.eq(purchase.customer_id))
            .filter(memberships::Column::ProgramId.is_in(program_ids.iter().copied()))
    };
    let mut member_ids: Vec<i64> = in_programs().all(db).await?.iter().map(|m| m.id).collect();
    if member_ids.is_empty() {
        return Ok(Vec::new());
    }
    member_ids.sort_unstable();
    // Lock the rows before reading lifetime points, so that concurrent
    // purchases each see the tier the previous one reached (PostgreSQL; SQLite
    // already serialises writers).
    memberships::Entity::update_many()
        .col_expr(
            memberships::Column::Balance,
            Expr::col(memberships::Column::Balance).add(0),
        )
        .filter(memberships::Column::Id.is_in(member_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(in_programs()
        .order_by_asc(memberships::Column::Id)
        .all(db)
        .await?)
}

/// What decides a purchase's points in the member's programmes: the
/// programmes, the customer's tags and the promotions running at the time.
struct EarningRules {
    programs: Vec<Program>,
    tags: HashSet<String>,
    promotions: Vec<Promotion>,
}

/// Earning step: reads the [`EarningRules`] for `members`' programmes.
async fn earning_rules(
    db: &impl ConnectionTrait,
    purchase: &Purchase,
    members: &[memberships::Model],
) -> DomainResult<EarningRules> {
    let ids: Vec<i64> = members.iter().map(|m| m.program_id).collect();
    let programs = programs::load_programs(db, Some(&ids)).await?;
    let tags: HashSet<String> = customer_tags::Entity::find()
        .filter(customer_tags::Column::CustomerId.eq(purchase.customer_id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect();
    let promotions = promotions::Entity::find()
        .filter(promotions::Column::ProgramId.is_in(ids.iter().copied()))
        .filter(promotions::Column::StartsAt.lte(purchase.occurred_at))
        .filter(promotions::Column::EndsAt.gt(purchase.occurred_at))
        .all(db)
        .await?
        .into_iter()
        .map(Promotion::try_from)
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(EarningRules {
        programs,
        tags,
        promotions,
    })
}

/// Earning step: credits one member the purchase's points at their tier's
/// multiplier, and the best promotion's extra as its own entry.
async fn credit_member(
    db: &impl ConnectionTrait,
    purchase: &Purchase,
    member: &memberships::Model,
    program: &Program,
    rules: &EarningRules,
) -> DomainResult<()> {
    let tier_multiplier = program
        .tier_for(member.lifetime_points)
        .0
        .map_or(Decimal::ONE, |t| t.earn_multiplier);
    let promos: Vec<Promotion> = rules
        .promotions
        .iter()
        .filter(|p| p.program_id == program.id)
        .cloned()
        .collect();
    let best = best_promotion(&promos, purchase.occurred_at, &rules.tags);
    let promo = best.map_or(Decimal::ONE, |p| p.multiplier);
    let (base, total) = purchase_points(
        purchase.amount,
        program.points_per_currency_unit,
        tier_multiplier,
        promo,
    )?;
    let source = format!("purchase:{}", purchase.id);
    let credit = |delta: i64, reason: LedgerReason, note: Option<String>| NewEntry {
        membership_id: member.id,
        delta,
        reason,
        source_key: source.clone(),
        occurred_at: purchase.occurred_at,
        expires_at: program.expiry_for(purchase.occurred_at),
        actor_id: None,
        note,
    };
    if base > 0 {
        ledger::append(db, credit(base, LedgerReason::Purchase, None)).await?;
    }
    if total > base {
        let note = best.map(|p| p.name.clone());
        ledger::append(db, credit(total - base, LedgerReason::Promotion, note)).await?;
    }
    Ok(())
}

/// A referred customer whose first purchase this is: `(referrer, referred
/// customer, referred customer's acquisition time)`.
struct Referral {
    referrer_id: i64,
    customer_id: i64,
    acquired_at: DateTime<Utc>,
}

/// The referral to credit if this is the referred customer's first purchase
/// (no purchase before it). The window is checked per programme.
async fn referral_of(
    db: &impl ConnectionTrait,
    purchase: &Purchase,
) -> DomainResult<Option<Referral>> {
    let Some(customer) = customers::Entity::find_by_id(purchase.customer_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(referrer_id) = customer.referred_by_id.filter(|r| *r != customer.id) else {
        return Ok(None);
    };
    if purchase.occurred_at < customer.acquired_at {
        return Ok(None);
    }
    let earlier = purchases::Entity::find()
        .filter(purchases::Column::CustomerId.eq(customer.id))
        .filter(
            Condition::any()
                .add(purchases::Column::OccurredAt.lt(purchase.occurred_at))
                .add(
                    Condition::all()
                        .add(purchases::Column::OccurredAt.eq(purchase.occurred_at))
                        .add(purchases::Column::Id.lt(purchase.id)),
                ),
        )
        .count(db)
        .await?;
    Ok((earlier == 0).then_some(Referral {
        referrer_id,
        customer_id: customer.id,
        acquired_at: customer.acquired_at,
    }))
}

/// Credits the referrer's membership of `program` once ever per referred
/// customer (`referral:{customer}`), when the purchase falls within the
/// programme's window and the referrer is a member.
async fn credit_referrer(
    db: &impl ConnectionTrait,
    program: &Program,
    referral: &Referral,
    purchase: &Purchase,
) -> DomainResult<()> {
    if program.referral_bonus_points <= 0 {
        return Ok(());
    }
    let window_end = referral.acquired_at + Duration::days(i64::from(program.referral_window_days));
    if purchase.occurred_at > window_end {
        return Ok(());
    }
    let Some(referrer) = memberships::Entity::find()
        .filter(memberships::Column::ProgramId.eq(program.id))
        .filter(memberships::Column::CustomerId.eq(referral.referrer_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    ledger::append(
        db,
        NewEntry {
            membership_id: referrer.id,
            delta: program.referral_bonus_points,
            reason: LedgerReason::Referral,
            source_key: format!("referral:{}", referral.customer_id),
            occurred_at: purchase.occurred_at,
            expires_at: program.expiry_for(purchase.occurred_at),
            actor_id: None,
            note: None,
        },
    )
    .await?;
    Ok(())
}

/// What one programme credited to the purchasing customer for a purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointsCredit {
    pub program: Program,
    /// Σ of the purchase's `PURCHASE` and `PROMOTION` entries in it.
    pub points: i64,
}

/// The points each programme credited for each purchase, read from the
/// ledger (entries referenced `purchase:{id}` of the buyer's memberships), for
/// `(customer id, purchase id)` keys; programmes in id order. A purchase that
/// earned nothing has no entry. Four statements for any number of keys.
///
/// # Errors
/// Database failures.
pub async fn points_credited_for(
    db: &impl ConnectionTrait,
    keys: &[(i64, i64)],
) -> DomainResult<HashMap<(i64, i64), Vec<PointsCredit>>> {
    let mut out: HashMap<(i64, i64), Vec<PointsCredit>> = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let customers: HashSet<i64> = keys.iter().map(|k| k.0).collect();
    let members = memberships::Entity::find()
        .filter(memberships::Column::CustomerId.is_in(customers.iter().copied()))
        .all(db)
        .await?;
    if members.is_empty() {
        return Ok(out);
    }
    let by_membership: HashMap<i64, (i64, i64)> = members
        .iter()
        .map(|m| (m.id, (m.customer_id, m.program_id)))
        .collect();
    let sources: Vec<String> = keys.iter().map(|k| format!("purchase:{}", k.1)).collect();
    let entries = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MembershipId.is_in(by_membership.keys().copied()))
        .filter(ledger_entries::Column::Reason.is_in([
            LedgerReason::Purchase.as_str(),
            LedgerReason::Promotion.as_str(),
        ]))
        .filter(ledger_entries::Column::SourceKey.is_in(sources))
        .all(db)
        .await?;
    // (customer, purchase) → program → points
    let mut sums: HashMap<(i64, i64), BTreeMap<i64, i64>> = HashMap::new();
    for entry in entries {
        let Some(&(customer_id, program_id)) = by_membership.get(&entry.membership_id) else {
            continue;
        };
        let Some(purchase_id) = entry
            .source_key
            .strip_prefix("purchase:")
            .and_then(|id| id.parse::<i64>().ok())
        else {
            continue;
        };
        *sums
            .entry((customer_id, purchase_id))
            .or_default()
            .entry(program_id)
            .or_default() += entry.delta;
    }
    let program_ids: Vec<i64> = sums
        .values()
        .flat_map(|p| p.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if program_ids.is_empty() {
        return Ok(out);
    }
    let programs = programs::load_programs(db, Some(&program_ids)).await?;
    for (key, per_program) in sums {
        let credits = per_program
            .into_iter()
            .filter_map(|(program_id, points)| {
                programs
                    .iter()
                    .find(|p| p.id == program_id)
                    .map(|program| PointsCredit {
                        program: program.clone(),
                        points,
                    })
            })
            .collect();
        out.insert(key, credits);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn points_are_the_floor_of_the_product() {
        let cases = [
            // amount, per unit, tier, promo, (base, total), why
            ("123.45", "1", "1", "1", (123, 123), "plain euro purchase"),
            (
                "123.45",
                "1",
                "1.5",
                "1",
                (185, 185),
                "silver tier: 185.175",
            ),
            (
                "123.45",
                "1",
                "1.5",
                "2",
                (185, 370),
                "double points: 370.35",
            ),
            (
                "19.99",
                "10",
                "1.25",
                "1.5",
                (249, 374),
                "249.875 and 374.8125",
            ),
            ("0.09", "1", "1", "1", (0, 0), "below one point"),
            ("0", "1", "1", "1", (0, 0), "zero amount"),
            ("-5", "1", "1", "1", (0, 0), "refund earns nothing"),
        ];
        for (amount, ppu, tier, promo, expected, why) in cases {
            let got = purchase_points(d(amount), d(ppu), d(tier), d(promo)).expect(why);
            assert_eq!(got, expected, "{why}");
        }
    }

    #[test]
    fn overflowing_points_are_rejected() {
        let huge = Decimal::MAX;
        assert!(purchase_points(huge, d("10000"), d("100"), d("100")).is_err());
        assert!(purchase_points(d("10000000"), d("10000"), d("100"), d("1")).is_err());
    }

    #[test]
    fn the_highest_applicable_promotion_wins() {
        let at = Utc::now();
        let promo = |id: i64, mult: &str, tag: Option<&str>, active: bool| Promotion {
            id,
            program_id: 1,
            name: format!("p{id}"),
            multiplier: d(mult),
            starts_at: at - Duration::days(1),
            ends_at: if active { at + Duration::days(1) } else { at },
            tag: tag.map(String::from),
            created_at: at,
        };
        let promos = [
            promo(1, "1.5", None, true),
            promo(2, "3", Some("vip"), true),
            promo(3, "5", None, false),
        ];
        let none = HashSet::new();
        let vip: HashSet<String> = ["vip".to_owned()].into();
        assert_eq!(promotion_multiplier(&promos, at, &none), d("1.5"));
        assert_eq!(promotion_multiplier(&promos, at, &vip), d("3"));
        assert_eq!(promotion_multiplier(&[], at, &vip), Decimal::ONE);
    }
}
