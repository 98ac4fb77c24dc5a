//! The points ledger: append-only entries and the membership balance they sum to.
//!
//! Every change is one appended entry in the caller's transaction; a database
//! trigger moves the membership's balance and lifetime points and refuses any
//! balance that differs from the ledger's sum. Uniqueness of `(membership,
//! reason, source_key)` makes each credit idempotent by its source; a
//! conditional row lock (`balance + delta >= 0`) and `CHECK (balance >= 0)`
//! make debits race-free — the database, not a read-then-write, decides.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Select, Set, SqlErr,
    TryInsertResult,
};

use crate::error::{DomainError, DomainResult};
use entity::{ledger_entries, loyalty_programs, memberships};

/// Largest magnitude of one ledger entry; keeps every sum far from overflow.
pub const MAX_ENTRY_POINTS: i64 = 1_000_000_000;

/// Why the balance changed (SPEC §6).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LedgerReason {
    Purchase,
    FeedbackIncentive,
    HelpfulFeedback,
    Referral,
    Birthday,
    Promotion,
    Redemption,
    Expiry,
    Adjustment,
}

impl LedgerReason {
    /// Every reason.
    pub const ALL: [LedgerReason; 9] = [
        Self::Purchase,
        Self::FeedbackIncentive,
        Self::HelpfulFeedback,
        Self::Referral,
        Self::Birthday,
        Self::Promotion,
        Self::Redemption,
        Self::Expiry,
        Self::Adjustment,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchase => "PURCHASE",
            Self::FeedbackIncentive => "FEEDBACK_INCENTIVE",
            Self::HelpfulFeedback => "HELPFUL_FEEDBACK",
            Self::Referral => "REFERRAL",
            Self::Birthday => "BIRTHDAY",
            Self::Promotion => "PROMOTION",
            Self::Redemption => "REDEMPTION",
            Self::Expiry => "EXPIRY",
            Self::Adjustment => "ADJUSTMENT",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// `INTERNAL` for a name this version does not know.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("unknown ledger reason {raw}")))
    }
}

/// An entry to append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub membership_id: i64,
    /// Positive credits, negative debits; never zero.
    pub delta: i64,
    pub reason: LedgerReason,
    /// What the entry is for (`purchase:42`, `response:7`, an idempotency key…).
    pub source_key: String,
    pub occurred_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub actor_id: Option<i64>,
    pub note: Option<String>,
}

/// Appends an entry; the database moves the balance. Returns `None` when an
/// entry with the same membership, reason and source already exists (nothing
/// changes).
///
/// The balance and lifetime points are maintained by a trigger on
/// `ledger_entries` (migration `m20261123_200001`), which also refuses any
/// balance that differs from the ledger's sum. Credits add to lifetime points
/// as well; debits never reduce them. A debit first locks the membership row
/// with a conditional UPDATE (`balance + delta >= 0`), so concurrent debits
/// queue on the row and never overdraw; when it does not cover the debit,
/// nothing is written.
///
/// # Errors
/// `INSUFFICIENT_POINTS` when a debit would take the balance below zero;
/// `NOT_FOUND` for an unknown membership; `BAD_USER_INPUT` on a zero or
/// oversized delta; database failures.
pub async fn append(
    db: &impl ConnectionTrait,
    entry: NewEntry,
) -> DomainResult<Option<ledger_entries::Model>> {
    if entry.delta == 0
        || entry
            .delta
            .checked_abs()
            .is_none_or(|d| d > MAX_ENTRY_POINTS)
    {
        return Err(DomainError::validation(
            "points",
            format!("must be non-zero and at most {MAX_ENTRY_POINTS} in magnitude"),
        ));
    }
    let delta = entry.delta;
    if delta < 0 {
        // Lock the row and check the balance in one statement; the lock holds
        // until commit, so the trigger's update below cannot go negative.
        let covered = memberships::Entity::update_many()
            .col_expr(
                memberships::Column::Balance,
                Expr::col(memberships::Column::Balance),
            )
            .filter(memberships::Column::Id.eq(entry.membership_id))
            .filter(Expr::col(memberships::Column::Balance).add(delta).gte(0))
            .exec(db)
            .await?;
        if covered.rows_affected != 1 {
            let balance = memberships::Entity::find_by_id(entry.membership_id)
                .one(db)
                .await?
                .ok_or(DomainError::NotFound("membership"))?
                .balance;
            return Err(DomainError::InsufficientPoints {
                balance,
                required: -delta,
            });
        }
    }
    let stored = insert_entry(db, entry).await?;
    if let Some(stored) = &stored {
        if stored.delta > 0 {
            crate::events::points_credited(db, stored).await?;
        }
    }
    Ok(stored)
}

/// Inserts `entry` unless its `(membership, reason, source)` is taken, in
/// one statement that returns the stored row (`RETURNING`); `None` when it
/// was taken.
async fn insert_entry(
    db: &impl ConnectionTrait,
    entry: NewEntry,
) -> DomainResult<Option<ledger_entries::Model>> {
    let inserted = ledger_entries::Entity::insert(ledger_entries::ActiveModel {
        membership_id: Set(entry.membership_id),
        delta: Set(entry.delta),
        reason: Set(entry.reason.as_str().to_owned()),
        source_key: Set(entry.source_key),
        occurred_at: Set(entry.occurred_at),
        expires_at: Set(entry.expires_at),
        actor_id: Set(entry.actor_id),
        note: Set(entry.note),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        ledger_entries::Column::MembershipId,
        ledger_entries::Column::Reason,
        ledger_entries::Column::SourceKey,
    ])
    .exec_with_returning(db)
    .await;
    match inserted {
        Ok(TryInsertResult::Inserted(stored)) => Ok(Some(stored)),
        Ok(TryInsertResult::Empty | TryInsertResult::Conflicted) => Ok(None),
        // `RETURNING` gave no row: the `ON CONFLICT` did nothing.
        Err(DbErr::RecordNotFound(_)) => Ok(None),
        Err(err) => Err(match err.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => DomainError::NotFound("membership"),
            _ => DomainError::from(err),
        }),
    }
}

/// Loads a programme.
///
/// # Errors
/// `NOT_FOUND` when it does not exist.
pub async fn program(db: &impl ConnectionTrait, id: i64) -> DomainResult<loyalty_programs::Model> {
    loyalty_programs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("loyalty program"))
}

/// When points earned at `earned_at` expire under the programme's rule.
pub fn expiry_for(
    program: &loyalty_programs::Model,
    earned_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    program
        .points_expire_after_days
        .map(|days| earned_at + Duration::days(i64::from(days)))
}

/// The customer's membership of the programme, created (empty) if missing.
/// Safe under concurrency: a lost insert race reads the winner's row.
///
/// # Errors
/// Database failures.
pub async fn ensure_membership(
    db: &impl ConnectionTrait,
    program_id: i64,
    customer_id: i64,
    at: DateTime<Utc>,
) -> DomainResult<memberships::Model> {
    if let Some(existing) = membership_of(program_id, customer_id).one(db).await? {
        return Ok(existing);
    }
    let id = enrol(db, program_id, customer_id, at).await?;
    memberships::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("membership vanished")))
}

/// The query for the customer's membership of the programme.
fn membership_of(program_id: i64, customer_id: i64) -> Select<memberships::Entity> {
    memberships::Entity::find()
        .filter(memberships::Column::ProgramId.eq(program_id))
        .filter(memberships::Column::CustomerId.eq(customer_id))
}

/// Blanks the notes of customer `customer_id`'s manual adjustments (in every
/// membership); returns the number of entries changed.
///
/// # Errors
/// Database failures.
pub(crate) async fn erase_adjustment_notes(
    db: &impl ConnectionTrait,
    customer_id: i64,
) -> DomainResult<u64> {
    Ok(ledger_entries::Entity::update_many()
        .col_expr(
            ledger_entries::Column::Note,
            Expr::value(sea_orm::Value::String(None)),
        )
        .filter(
            ledger_entries::Column::MembershipId.in_subquery(
                Query::select()
                    .column(memberships::Column::Id)
                    .from(memberships::Entity)
                    .and_where(memberships::Column::CustomerId.eq(customer_id))
                    .to_owned(),
            ),
        )
        .filter(ledger_entries::Column::Reason.eq(LedgerReason::Adjustment.as_str()))
        .filter(ledger_entries::Column::Note.is_not_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Credits `points` to the customer's membership of `program_id` for a source
/// (a survey response, a helpful mark…), enrolling the customer first when they
/// are not yet a member. Idempotent by `(reason, source_key)`: a repeat credits
/// nothing and returns 0.
///
/// # Errors
/// `NOT_FOUND` for an unknown programme; database failures.
pub async fn credit_for_source(
    db: &impl ConnectionTrait,
    program_id: i64,
    customer_id: i64,
    points: i64,
    reason: LedgerReason,
    source_key: &str,
    occurred_at: DateTime<Utc>,
) -> DomainResult<i64> {
    if points <= 0 {
        return Ok(0);
    }
    let program = program(db, program_id).await?;
    let membership = ensure_membership(db, program_id, customer_id, occurred_at).await?;
    let expires_at = expiry_for(&program, occurred_at);
    let appended = append(
        db,
        NewEntry {
            membership_id: membership.id,
            delta: points,
            reason,
            source_key: source_key.to_owned(),
            occurred_at,
            expires_at,
            actor_id: None,
            note: None,
        },
    )
    .await?;
    Ok(if appended.is_some() { points } else { 0 })
}

/// What crediting a customer in a programme needs that can be read before
/// the write transaction: the programme's expiry rule and the customer's
/// membership, when they have one (memberships are never deleted, so an id
/// read earlier stays valid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CreditTarget {
    pub program_id: i64,
    pub points_expire_after_days: Option<i32>,
    pub membership_id: Option<i64>,
}

/// [`credit_for_source`] with the programme and membership read beforehand
/// ([`CreditTarget`]): in the transaction it costs one statement, the
/// ledger insert, for a member (two for a customer it enrols). `announce`
/// publishes the `loyalty.points.credited` event; pass `false` only when no
/// webhook endpoint is enabled.
///
/// # Errors
/// Database failures.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn credit_target_for_source(
    db: &impl ConnectionTrait,
    target: &CreditTarget,
    customer_id: i64,
    points: i64,
    reason: LedgerReason,
    source_key: &str,
    occurred_at: DateTime<Utc>,
    announce: bool,
) -> DomainResult<i64> {
    if points <= 0 {
        return Ok(0);
    }
    if points > MAX_ENTRY_POINTS {
        return Err(DomainError::validation(
            "points",
            format!("must be non-zero and at most {MAX_ENTRY_POINTS} in magnitude"),
        ));
    }
    let membership_id = match target.membership_id {
        Some(id) => id,
        None => enrol(db, target.program_id, customer_id, occurred_at).await?,
    };
    let stored = insert_entry(
        db,
        NewEntry {
            membership_id,
            delta: points,
            reason,
            source_key: source_key.to_owned(),
            occurred_at,
            expires_at: target
                .points_expire_after_days
                .map(|days| occurred_at + Duration::days(i64::from(days))),
            actor_id: None,
            note: None,
        },
    )
    .await?;
    let Some(stored) = stored else {
        return Ok(0);
    };
    if announce {
        crate::events::points_credited(db, &stored).await?;
    }
    Ok(points)
}

/// The id of the customer's membership of the programme, created (empty)
/// by an insert that returns it; a lost insert race reads the winner's row.
async fn enrol(
    db: &impl ConnectionTrait,
    program_id: i64,
    customer_id: i64,
    at: DateTime<Utc>,
) -> DomainResult<i64> {
    let inserted = memberships::Entity::insert(memberships::ActiveModel {
        program_id: Set(program_id),
        customer_id: Set(customer_id),
        balance: Set(0),
        lifetime_points: Set(0),
        enrolled_at: Set(at),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        memberships::Column::ProgramId,
        memberships::Column::CustomerId,
    ])
    .exec_with_returning_keys(db)
    .await;
    match inserted {
        Ok(TryInsertResult::Inserted(ids)) if !ids.is_empty() => return Ok(ids[0]),
        Ok(_) | Err(DbErr::RecordNotFound(_)) => {}
        Err(err) => return Err(err.into()),
    }
    membership_of(program_id, customer_id)
        .one(db)
        .await?
        .map(|m| m.id)
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("membership vanished")))
}

/// Whether any membership was credited for `(reason, source_key)`.
///
/// # Errors
/// Database failures.
pub async fn credited_for_source(
    db: &impl ConnectionTrait,
    reason: LedgerReason,
    source_key: &str,
) -> DomainResult<bool> {
    use sea_orm::PaginatorTrait;
    let n = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Reason.eq(reason.as_str()))
        .filter(ledger_entries::Column::SourceKey.eq(source_key))
        .count(db)
        .await?;
    Ok(n > 0)
}
