//! Programmes and their tiers, enrolment, memberships and the ledger pages.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::loyalty::history::default_cursor;
use crate::loyalty::ledger::MAX_ENTRY_POINTS;
use crate::loyalty::model::{LedgerEntry, Membership, Program};
use crate::money::Currency;
use crate::pagination::{id_keyset_page, Direction, IdOrder, Page, PageRequest};
use crate::sql::Sql;
use crate::validation::required_text;
use entity::{customers, ledger_entries, loyalty_programs, loyalty_tiers, memberships};

/// Largest accepted `pointsPerCurrencyUnit`.
pub const MAX_POINTS_PER_UNIT: i64 = 10_000;
/// Largest accepted tier or promotion multiplier.
pub const MAX_MULTIPLIER: i64 = 100;
/// Most tiers a programme may have.
pub const MAX_TIERS: usize = 20;
/// Longest accepted `pointsExpireAfterDays` and `referralWindowDays` (about 100 years).
pub const MAX_DAYS: i32 = 36_500;

/// A tier as submitted.
#[derive(Clone, Debug)]
pub struct TierInput {
    pub name: String,
    pub min_lifetime_points: i64,
    pub earn_multiplier: Decimal,
}

/// A programme as submitted to `createLoyaltyProgram`.
#[derive(Clone, Debug)]
pub struct NewProgram {
    pub name: String,
    pub currency: String,
    pub points_per_currency_unit: Decimal,
    pub points_expire_after_days: Option<i32>,
    pub tiers: Vec<TierInput>,
    pub referral_bonus_points: i64,
    pub referral_window_days: i32,
    pub birthday_bonus_points: i64,
    /// Enrol a customer who is not a member on their next purchase in the
    /// programme's currency.
    pub enroll_on_first_purchase: bool,
}

/// Changes submitted to `updateLoyaltyProgram`; `None` keeps the value.
/// `points_expire_after_days: Some(None)` turns expiry off.
#[derive(Clone, Debug, Default)]
pub struct ProgramPatch {
    pub name: Option<String>,
    pub points_per_currency_unit: Option<Decimal>,
    pub points_expire_after_days: Option<Option<i32>>,
    pub tiers: Option<Vec<TierInput>>,
    pub referral_bonus_points: Option<i64>,
    pub referral_window_days: Option<i32>,
    pub birthday_bonus_points: Option<i64>,
    pub enroll_on_first_purchase: Option<bool>,
}

/// Checks a positive decimal no larger than `max`.
///
/// # Errors
/// `BAD_USER_INPUT` on `field`.
pub(crate) fn positive_decimal(field: &str, value: Decimal, max: i64) -> DomainResult<Decimal> {
    if value <= Decimal::ZERO {
        return Err(DomainError::validation(field, "must be greater than 0"));
    }
    if value > Decimal::from(max) {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max}"),
        ));
    }
    if value.scale() > 6 {
        return Err(DomainError::validation(
            field,
            "must have at most 6 decimal places",
        ));
    }
    Ok(value.normalize())
}

/// Checks a point amount in `0..=MAX_ENTRY_POINTS`.
///
/// # Errors
/// `BAD_USER_INPUT` on `field`.
pub(crate) fn points_amount(field: &str, value: i64) -> DomainResult<i64> {
    if !(0..=MAX_ENTRY_POINTS).contains(&value) {
        return Err(DomainError::validation(
            field,
            format!("must be between 0 and {MAX_ENTRY_POINTS}"),
        ));
    }
    Ok(value)
}

fn days(field: &str, value: i32, min: i32) -> DomainResult<i32> {
    if !(min..=MAX_DAYS).contains(&value) {
        return Err(DomainError::validation(
            field,
            format!("must be between {min} and {MAX_DAYS}"),
        ));
    }
    Ok(value)
}

/// Validates tiers: 1 to 20, unique names, unique minimums, one starting at 0
/// (the base tier every member is in), multipliers in `(0, 100]`.
///
/// # Errors
/// `BAD_USER_INPUT` on `tiers` or `tiers.N.field`.
pub fn validate_tiers(tiers: Vec<TierInput>) -> DomainResult<Vec<TierInput>> {
    if tiers.is_empty() || tiers.len() > MAX_TIERS {
        return Err(DomainError::validation(
            "tiers",
            format!("must hold 1 to {MAX_TIERS} tiers"),
        ));
    }
    let mut names = HashSet::new();
    let mut minimums = HashSet::new();
    let mut out = Vec::with_capacity(tiers.len());
    for (i, tier) in tiers.into_iter().enumerate() {
        let at = |e: DomainError| e.in_field(&format!("tiers.{i}"));
        let name = required_text("name", &tier.name, 50).map_err(at)?;
        if !names.insert(name.to_lowercase()) {
            return Err(at(DomainError::validation(
                "name",
                "is used by another tier",
            )));
        }
        let min = points_amount("minLifetimePoints", tier.min_lifetime_points).map_err(at)?;
        if !minimums.insert(min) {
            return Err(at(DomainError::validation(
                "minLifetimePoints",
                "is used by another tier",
            )));
        }
        let multiplier =
            positive_decimal("earnMultiplier", tier.earn_multiplier, MAX_MULTIPLIER).map_err(at)?;
        out.push(TierInput {
            name,
            min_lifetime_points: min,
            earn_multiplier: multiplier,
        });
    }
    if !minimums.contains(&0) {
        return Err(DomainError::validation(
            "tiers",
            "must include a base tier with minLifetimePoints 0",
        ));
    }
    out.sort_by_key(|t| t.min_lifetime_points);
    Ok(out)
}

impl NewProgram {
    /// Validates every field.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` naming the first offending field.
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            name: required_text("name", &self.name, 100)?,
            currency: Currency::parse("currency", &self.currency)?
                .code()
                .to_owned(),
            points_per_currency_unit: positive_decimal(
                "pointsPerCurrencyUnit",
                self.points_per_currency_unit,
                MAX_POINTS_PER_UNIT,
            )?,
            points_expire_after_days: self
                .points_expire_after_days
                .map(|d| days("pointsExpireAfterDays", d, 1))
                .transpose()?,
            tiers: validate_tiers(self.tiers)?,
            referral_bonus_points: points_amount(
                "referralBonusPoints",
                self.referral_bonus_points,
            )?,
            referral_window_days: days("referralWindowDays", self.referral_window_days, 0)?,
            birthday_bonus_points: points_amount(
                "birthdayBonusPoints",
                self.birthday_bonus_points,
            )?,
            enroll_on_first_purchase: self.enroll_on_first_purchase,
        })
    }
}

/// Loads programmes with their tiers (one statement).
///
/// # Errors
/// Database failures.
pub(crate) async fn load_programs(
    db: &impl ConnectionTrait,
    ids: Option<&[i64]>,
) -> DomainResult<Vec<Program>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT p.*, ");
    crate::sql::push_json_rows(
        &mut sql,
        "t.id, t.program_id, t.name, t.min_lifetime_points, t.earn_multiplier",
        |sql| {
            sql.push("FROM loyalty_tiers t WHERE t.program_id = p.id");
        },
        "t.min_lifetime_points, t.id",
    );
    sql.push(" AS program_tiers FROM loyalty_programs p");
    if let Some(ids) = ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sql.push(" WHERE ").id_in("p.id", ids);
    }
    sql.push(" ORDER BY p.id");
    db.query_all_raw(sql.build())
        .await?
        .iter()
        .map(|row| {
            let program =
                <loyalty_programs::Model as sea_orm::FromQueryResult>::from_query_result(row, "")?;
            let tiers: Vec<(i64, i64, String, i64, String)> = crate::sql::json_rows(
                row.try_get::<Option<String>>("", "program_tiers")?
                    .as_deref(),
            )?;
            let tiers = tiers
                .into_iter()
                .map(
                    |(id, program_id, name, min_lifetime_points, earn_multiplier)| {
                        loyalty_tiers::Model {
                            id,
                            program_id,
                            name,
                            min_lifetime_points,
                            earn_multiplier,
                        }
                    },
                )
                .collect();
            Program::from_rows(program, tiers)
        })
        .collect()
}

/// Programmes by id with their tiers (one statement): the batch function
/// behind links to a programme. Missing ids are absent from the map.
///
/// # Errors
/// Database failures.
pub async fn programs_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Program>> {
    Ok(load_programs(db, Some(ids))
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// A page of programmes, oldest first.
///
/// # Errors
/// Database failures.
pub(crate) async fn programs_page(
    db: &impl ConnectionTrait,
    request: &PageRequest<i64>,
) -> DomainResult<Page<Program>> {
    id_keyset_page(
        db,
        loyalty_programs::Entity::find(),
        loyalty_programs::Column::Id,
        IdOrder::Ascending,
        request,
        |rows| async move {
            // Keep the rows' order (reversed for a backward page).
            let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
            let mut loaded: HashMap<i64, Program> = load_programs(db, Some(&ids))
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
            Ok::<Vec<Program>, DomainError>(ids.iter().filter_map(|id| loaded.remove(id)).collect())
        },
        |p| p.id,
    )
    .await
}

/// How many programmes exist.
///
/// # Errors
/// Database failures.
pub(crate) async fn count_programs(db: &impl ConnectionTrait) -> DomainResult<i64> {
    let n = loyalty_programs::Entity::find().count(db).await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Loads one programme with its tiers.
///
/// # Errors
/// `NOT_FOUND` when it does not exist.
pub(crate) async fn load_program(db: &impl ConnectionTrait, id: i64) -> DomainResult<Program> {
    load_programs(db, Some(&[id]))
        .await?
        .pop()
        .ok_or(DomainError::NotFound("loyalty program"))
}

async fn insert_tiers(
    db: &impl ConnectionTrait,
    program_id: i64,
    tiers: &[TierInput],
) -> DomainResult<()> {
    let rows = tiers.iter().map(|t| loyalty_tiers::ActiveModel {
        program_id: Set(program_id),
        name: Set(t.name.clone()),
        min_lifetime_points: Set(t.min_lifetime_points),
        earn_multiplier: Set(t.earn_multiplier.to_string()),
        ..Default::default()
    });
    loyalty_tiers::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Inserts a validated programme and its tiers.
///
/// # Errors
/// Database failures.
pub(crate) async fn create(db: &impl ConnectionTrait, input: NewProgram) -> DomainResult<i64> {
    let now = Utc::now();
    let program = loyalty_programs::ActiveModel {
        name: Set(input.name),
        currency: Set(input.currency),
        points_per_currency_unit: Set(input.points_per_currency_unit.to_string()),
        points_expire_after_days: Set(input.points_expire_after_days),
        referral_bonus_points: Set(input.referral_bonus_points),
        referral_window_days: Set(input.referral_window_days),
        birthday_bonus_points: Set(input.birthday_bonus_points),
        enroll_on_first_purchase: Set(input.enroll_on_first_purchase),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    insert_tiers(db, program.id, &input.tiers).await?;
    Ok(program.id)
}

/// Applies a patch. Tiers, when given, replace the old set: tiers are
/// configuration, while history lives in the ledger, which never changes.
///
/// # Errors
/// `NOT_FOUND`, `BAD_USER_INPUT`, database failures.
pub(crate) async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    patch: ProgramPatch,
) -> DomainResult<()> {
    let existing = loyalty_programs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("loyalty program"))?;
    let mut model: loyalty_programs::ActiveModel = existing.into();
    if let Some(name) = patch.name {
        model.name = Set(required_text("name", &name, 100)?);
    }
    if let Some(ppu) = patch.points_per_currency_unit {
        model.points_per_currency_unit =
            Set(positive_decimal("pointsPerCurrencyUnit", ppu, MAX_POINTS_PER_UNIT)?.to_string());
    }
    if let Some(expiry) = patch.points_expire_after_days {
        model.points_expire_after_days = Set(expiry
            .map(|d| days("pointsExpireAfterDays", d, 1))
            .transpose()?);
    }
    if let Some(points) = patch.referral_bonus_points {
        model.referral_bonus_points = Set(points_amount("referralBonusPoints", points)?);
    }
    if let Some(window) = patch.referral_window_days {
        model.referral_window_days = Set(days("referralWindowDays", window, 0)?);
    }
    if let Some(points) = patch.birthday_bonus_points {
        model.birthday_bonus_points = Set(points_amount("birthdayBonusPoints", points)?);
    }
    if let Some(enroll) = patch.enroll_on_first_purchase {
        model.enroll_on_first_purchase = Set(enroll);
    }
    let tiers = patch.tiers.map(validate_tiers).transpose()?;
    model.updated_at = Set(Utc::now());
    model.update(db).await?;
    if let Some(tiers) = tiers {
        loyalty_tiers::Entity::delete_many()
            .filter(loyalty_tiers::Column::ProgramId.eq(id))
            .exec(db)
            .await?;
        insert_tiers(db, id, &tiers).await?;
    }
    Ok(())
}

/// Enrols a customer.
///
/// # Errors
/// `NOT_FOUND` for an unknown programme or customer (or an erased one),
/// `CONFLICT` when already a member.
pub(crate) async fn enroll(
    db: &impl ConnectionTrait,
    program_id: i64,
    customer_id: i64,
    at: DateTime<Utc>,
) -> DomainResult<i64> {
    load_program(db, program_id).await?;
    let customer = customers::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .filter(|c| c.erased_at.is_none())
        .ok_or(DomainError::NotFound("customer"))?;
    let membership = memberships::ActiveModel {
        program_id: Set(program_id),
        customer_id: Set(customer.id),
        balance: Set(0),
        lifetime_points: Set(0),
        enrolled_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .on_unique("the customer is already a member of this programme")?;
    Ok(membership.id)
}

/// Builds memberships from rows, loading their programmes (one statement).
async fn with_programs(
    db: &impl ConnectionTrait,
    rows: Vec<memberships::Model>,
) -> DomainResult<Vec<Membership>> {
    let ids: Vec<i64> = rows
        .iter()
        .map(|m| m.program_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let programs: HashMap<i64, Arc<Program>> = load_programs(db, Some(&ids))
        .await?
        .into_iter()
        .map(|p| (p.id, Arc::new(p)))
        .collect();
    rows.into_iter()
        .map(|m| {
            let program = programs.get(&m.program_id).cloned().ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("membership without programme"))
            })?;
            Ok(Membership {
                id: m.id,
                customer_id: m.customer_id,
                program,
                balance: m.balance,
                lifetime_points: m.lifetime_points,
                enrolled_at: m.enrolled_at,
            })
        })
        .collect()
}

/// Loads one membership.
///
/// # Errors
/// `NOT_FOUND` when it does not exist.
pub(crate) async fn load_membership(
    db: &impl ConnectionTrait,
    id: i64,
) -> DomainResult<Membership> {
    let row = memberships::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("membership"))?;
    with_programs(db, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound("membership"))
}

/// The memberships of many customers at once, for the customer card: three
/// statements however many customers are asked for (no N+1).
///
/// # Errors
/// Database failures.
pub async fn memberships_for_customers(
    db: &impl ConnectionTrait,
    customer_ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<Membership>>> {
    if customer_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = memberships::Entity::find()
        .filter(memberships::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .order_by_asc(memberships::Column::ProgramId)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<Membership>> = HashMap::new();
    for membership in with_programs(db, rows).await? {
        out.entry(membership.customer_id)
            .or_default()
            .push(membership);
    }
    Ok(out)
}

/// Appends a customer's memberships as a [`crate::sql::push_json_rows`]
/// column on the customer id expression `customer_id` (a customer card read
/// with its page).
pub(crate) fn push_memberships_column(sql: &mut crate::sql::Sql, customer_id: &str) {
    crate::sql::push_json_rows(
        sql,
        "m.id, m.program_id, m.customer_id, m.balance, m.lifetime_points, m.enrolled_at",
        |sql| {
            sql.push(&format!(
                "FROM memberships m WHERE m.customer_id = {customer_id}"
            ));
        },
        "m.program_id",
    );
}

/// The rows of a [`push_memberships_column`] column.
pub(crate) type MembershipRow = (i64, i64, i64, i64, i64, String);

/// Memberships from [`push_memberships_column`] rows, with their programmes
/// (one statement for the programmes of all of them).
///
/// # Errors
/// Database failures; `INTERNAL` on unreadable rows.
pub(crate) async fn memberships_from_rows(
    db: &impl ConnectionTrait,
    rows: Vec<MembershipRow>,
) -> DomainResult<Vec<Membership>> {
    let rows = rows
        .into_iter()
        .map(
            |(id, program_id, customer_id, balance, lifetime_points, enrolled_at)| {
                Ok(memberships::Model {
                    id,
                    program_id,
                    customer_id,
                    balance,
                    lifetime_points,
                    enrolled_at: crate::sql::json_time(&enrolled_at)?,
                })
            },
        )
        .collect::<DomainResult<Vec<_>>>()?;
    with_programs(db, rows).await
}

/// Memberships of a programme, by id (a page of up to 100).
///
/// # Errors
/// Database failures.
pub(crate) async fn memberships_of_program(
    db: &impl ConnectionTrait,
    program_id: i64,
    request: &PageRequest<i64>,
) -> DomainResult<Page<Membership>> {
    let query = memberships::Entity::find().filter(memberships::Column::ProgramId.eq(program_id));
    id_keyset_page(
        db,
        query,
        memberships::Column::Id,
        IdOrder::Ascending,
        request,
        |rows| with_programs(db, rows),
        |m| m.id,
    )
    .await
}

/// How many members a programme has.
///
/// # Errors
/// Database failures.
pub(crate) async fn count_members(db: &impl ConnectionTrait, program_id: i64) -> DomainResult<i64> {
    use sea_orm::PaginatorTrait;
    Ok(memberships::Entity::find()
        .filter(memberships::Column::ProgramId.eq(program_id))
        .count(db)
        .await
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))?)
}

/// The first page (newest `limit` entries) of many memberships' ledgers in one
/// statement, with `ROW_NUMBER() OVER (PARTITION BY membership_id …)` (works on
/// SQLite and PostgreSQL). Memberships without entries get an empty page.
///
/// # Errors
/// Database failures.
pub async fn ledger_first_pages(
    db: &impl ConnectionTrait,
    membership_ids: &[i64],
    limit: u64,
) -> DomainResult<HashMap<i64, Page<LedgerEntry>>> {
    if membership_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT id, membership_id, delta, reason, source_key, occurred_at, expires_at, actor_id, note, created_at \
         FROM (SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.membership_id ORDER BY e.id DESC) AS rn \
               FROM ledger_entries e WHERE ",
    )
    .id_in("e.membership_id", membership_ids)
    .push(") ranked WHERE rn <= ")
    .bind_count(limit.saturating_add(1))
    .push(" ORDER BY membership_id, id DESC");
    let rows = ledger_entries::Entity::find()
        .from_raw_sql(sql.build())
        .all(db)
        .await?;
    let mut grouped: HashMap<i64, Vec<LedgerEntry>> =
        membership_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        grouped
            .entry(row.membership_id)
            .or_default()
            .push(LedgerEntry::try_from(row)?);
    }
    Ok(grouped
        .into_iter()
        .map(|(id, rows)| {
            let page = Page::from_rows(Direction::Forward, limit, false, rows, default_cursor);
            (id, page)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(name: &str, min: i64, mult: i64) -> TierInput {
        TierInput {
            name: name.into(),
            min_lifetime_points: min,
            earn_multiplier: Decimal::from(mult),
        }
    }

    #[test]
    fn tiers_are_validated() {
        let cases: Vec<(Vec<TierInput>, &str, &str)> = vec![
            (vec![], "tiers", "no tiers"),
            (vec![tier("Silver", 100, 1)], "tiers", "no base tier"),
            (
                vec![tier("Base", 0, 1), tier("base", 10, 1)],
                "tiers.1.name",
                "duplicate name",
            ),
            (
                vec![tier("Base", 0, 1), tier("Gold", 0, 2)],
                "tiers.1.minLifetimePoints",
                "duplicate minimum",
            ),
            (
                vec![tier("Base", 0, 0)],
                "tiers.0.earnMultiplier",
                "zero multiplier",
            ),
            (
                vec![tier("Base", 0, -1)],
                "tiers.0.earnMultiplier",
                "negative multiplier",
            ),
            (
                vec![tier("Base", -5, 1)],
                "tiers.0.minLifetimePoints",
                "negative minimum",
            ),
            (vec![tier(" ", 0, 1)], "tiers.0.name", "blank name"),
        ];
        for (tiers, field, why) in cases {
            match validate_tiers(tiers) {
                Err(DomainError::Validation { field: f, .. }) => assert_eq!(f, field, "{why}"),
                other => panic!("{why}: expected a validation error, got {other:?}"),
            }
        }
        let ok = validate_tiers(vec![tier("Gold", 5000, 2), tier("Base", 0, 1)]).expect("valid");
        assert_eq!(ok[0].name, "Base", "sorted by minimum");
    }
}
