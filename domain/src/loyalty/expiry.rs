//! Point expiry: lots, FIFO consumption and `EXPIRY` entries.
//!
//! Every credit is a *lot* of points earned at its `occurredAt` and expiring at
//! its `expiresAt` (none when the programme keeps points forever). Walking the
//! ledger in the order it was written (entry id):
//!
//! - a credit opens a lot;
//! - an `EXPIRY` entry referenced `expiry:{lot}` closes what is left of that lot;
//! - any other debit (redemption, negative adjustment) consumes lots oldest
//!   earned first, skipping lots already expired at the debit's time; only if
//!   those do not cover it does it take from expired lots not yet written off.
//!
//! Since the balance never went below zero in that order, the open lots always
//! sum to the balance. `expirePoints(asOf)` then writes, for every lot with
//! `expiresAt <= asOf` and points left, an `EXPIRY` entry of minus what is left,
//! referenced `expiry:{lot entry id}` — so running it twice writes nothing new.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::DomainResult;
use crate::loyalty::ledger::{self, LedgerReason, NewEntry};
use crate::loyalty::model::{ExpiringPoints, ExpiryRun, LedgerEntry};
use entity::{ledger_entries, memberships};

/// Points of one credit not yet spent or expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    /// The credit's ledger entry id.
    pub entry_id: i64,
    pub earned_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub remaining: i64,
}

impl Lot {
    fn expired_at(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= at)
    }
}

/// The open lots after replaying `entries` (any order; sorted by id here).
/// Lots come back oldest earned first; fully used lots are dropped.
pub fn open_lots(entries: &[LedgerEntry]) -> Vec<Lot> {
    let mut sorted: Vec<&LedgerEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.id);
    let mut lots: Vec<Lot> = Vec::new();
    for entry in sorted {
        if entry.delta > 0 {
            lots.push(Lot {
                entry_id: entry.id,
                earned_at: entry.occurred_at,
                expires_at: entry.expires_at,
                remaining: entry.delta,
            });
            // Keep oldest earned first; ties by entry id.
            lots.sort_by_key(|l| (l.earned_at, l.entry_id));
            continue;
        }
        let mut owed = entry.delta.unsigned_abs();
        if entry.reason == LedgerReason::Expiry {
            let target = entry
                .reference
                .strip_prefix("expiry:")
                .and_then(|id| id.parse::<i64>().ok());
            if let Some(lot) = lots.iter_mut().find(|l| Some(l.entry_id) == target) {
                let take = std::cmp::min(owed, lot.remaining.unsigned_abs());
                lot.remaining -= take as i64;
                owed -= take;
            }
        }
        let at = entry.occurred_at;
        for pass_unexpired in [true, false] {
            for lot in lots.iter_mut() {
                if owed == 0 {
                    break;
                }
                if lot.remaining == 0 || lot.expired_at(at) == pass_unexpired {
                    continue;
                }
                let take = std::cmp::min(owed, lot.remaining.unsigned_abs());
                lot.remaining -= take as i64;
                owed -= take;
            }
        }
        lots.retain(|l| l.remaining > 0);
    }
    lots
}

/// Open lots expired at `as_of`: what `expirePoints(as_of)` writes off.
pub fn expired_lots(lots: &[Lot], as_of: DateTime<Utc>) -> Vec<&Lot> {
    lots.iter().filter(|l| l.expired_at(as_of)).collect()
}

/// Open points expiring after `now`, summed per expiry moment, soonest first.
pub fn upcoming(lots: &[Lot], now: DateTime<Utc>) -> Vec<ExpiringPoints> {
    let mut by_time: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
    for lot in lots {
        if let Some(at) = lot.expires_at.filter(|e| *e > now) {
            *by_time.entry(at).or_default() += lot.remaining;
        }
    }
    by_time
        .into_iter()
        .map(|(expires_at, points)| ExpiringPoints { points, expires_at })
        .collect()
}

async fn entries_of(
    db: &impl ConnectionTrait,
    membership_id: i64,
) -> DomainResult<Vec<LedgerEntry>> {
    ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MembershipId.eq(membership_id))
        .order_by_asc(ledger_entries::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(LedgerEntry::try_from)
        .collect()
}

/// A membership's points expiring after `now`.
///
/// # Errors
/// Database failures.
pub(crate) async fn expiring_points(
    db: &impl ConnectionTrait,
    membership_id: i64,
    now: DateTime<Utc>,
) -> DomainResult<Vec<ExpiringPoints>> {
    Ok(upcoming(
        &open_lots(&entries_of(db, membership_id).await?),
        now,
    ))
}

/// Points expiring after `now` for many memberships, in one statement.
///
/// # Errors
/// Database failures.
pub async fn expiring_points_for(
    db: &impl ConnectionTrait,
    membership_ids: &[i64],
    now: DateTime<Utc>,
) -> DomainResult<std::collections::HashMap<i64, Vec<ExpiringPoints>>> {
    let mut grouped: std::collections::HashMap<i64, Vec<LedgerEntry>> =
        membership_ids.iter().map(|id| (*id, Vec::new())).collect();
    if membership_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    for row in ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MembershipId.is_in(membership_ids.iter().copied()))
        .order_by_asc(ledger_entries::Column::Id)
        .all(db)
        .await?
    {
        grouped
            .entry(row.membership_id)
            .or_default()
            .push(LedgerEntry::try_from(row)?);
    }
    Ok(grouped
        .into_iter()
        .map(|(id, entries)| (id, upcoming(&open_lots(&entries), now)))
        .collect())
}

/// Writes `EXPIRY` entries for every lot expired at `as_of`, in the caller's
/// transaction.
///
/// # Errors
/// Database failures.
pub(crate) async fn expire_points(
    db: &impl ConnectionTrait,
    as_of: DateTime<Utc>,
) -> DomainResult<ExpiryRun> {
    // Candidates: members with points left and some credit expired by now.
    let expired_credits = Query::select()
        .column(ledger_entries::Column::MembershipId)
        .from(ledger_entries::Entity)
        .and_where(ledger_entries::Column::Delta.gt(0))
        .and_where(ledger_entries::Column::ExpiresAt.lte(as_of))
        .to_owned();
    let mut candidates: Vec<i64> = memberships::Entity::find()
        .select_only()
        .column(memberships::Column::Id)
        .filter(memberships::Column::Balance.gt(0))
        .filter(memberships::Column::Id.in_subquery(expired_credits))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    candidates.sort_unstable();
    let mut run = ExpiryRun::default();
    for membership_id in candidates {
        // Lock the membership so the lots cannot change under us.
        memberships::Entity::update_many()
            .col_expr(
                memberships::Column::Balance,
                Expr::col(memberships::Column::Balance).add(0),
            )
            .filter(memberships::Column::Id.eq(membership_id))
            .exec(db)
            .await?;
        let lots = open_lots(&entries_of(db, membership_id).await?);
        let mut wrote = false;
        for lot in expired_lots(&lots, as_of) {
            let Some(expires_at) = lot.expires_at else {
                continue;
            };
            let appended = ledger::append(
                db,
                NewEntry {
                    membership_id,
                    delta: -lot.remaining,
                    reason: LedgerReason::Expiry,
                    source_key: format!("expiry:{}", lot.entry_id),
                    occurred_at: expires_at,
                    expires_at: None,
                    actor_id: None,
                    note: None,
                },
            )
            .await?;
            if appended.is_some() {
                wrote = true;
                run.entries_written += 1;
                run.points_expired += lot.remaining;
            }
        }
        if wrote {
            run.memberships_affected += 1;
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("date")
            + Duration::days(n)
    }

    fn entry(
        id: i64,
        delta: i64,
        reason: LedgerReason,
        at: i64,
        expires: Option<i64>,
    ) -> LedgerEntry {
        LedgerEntry {
            id,
            membership_id: 1,
            delta,
            reason,
            reference: format!("ref:{id}"),
            occurred_at: day(at),
            expires_at: expires.map(day),
            actor_id: None,
            note: None,
        }
    }

    fn remaining(lots: &[Lot]) -> Vec<(i64, i64)> {
        lots.iter().map(|l| (l.entry_id, l.remaining)).collect()
    }

    #[test]
    fn debits_consume_the_oldest_lots_first() {
        let entries = [
            entry(1, 100, LedgerReason::Purchase, 0, Some(30)),
            entry(2, 50, LedgerReason::Purchase, 10, Some(40)),
            entry(3, -120, LedgerReason::Redemption, 20, None),
        ];
        let lots = open_lots(&entries);
        assert_eq!(remaining(&lots), vec![(2, 30)]);
        assert!(expired_lots(&lots, day(35)).is_empty(), "lot 1 was spent");
        assert_eq!(
            remaining(
                &expired_lots(&lots, day(40))
                    .into_iter()
                    .cloned()
                    .collect::<Vec<_>>()
            ),
            vec![(2, 30)]
        );
    }

    #[test]
    fn debits_skip_lots_already_expired_at_their_time() {
        // Lot 1 expired on day 30 but was not written off yet; the day-35
        // redemption is paid from lot 2, so lot 1's 100 points still expire.
        let entries = [
            entry(1, 100, LedgerReason::Purchase, 0, Some(30)),
            entry(2, 100, LedgerReason::Purchase, 10, Some(40)),
            entry(3, -60, LedgerReason::Redemption, 35, None),
        ];
        let lots = open_lots(&entries);
        assert_eq!(remaining(&lots), vec![(1, 100), (2, 40)]);
        let expired: Vec<Lot> = expired_lots(&lots, day(36)).into_iter().cloned().collect();
        assert_eq!(remaining(&expired), vec![(1, 100)]);
    }

    #[test]
    fn expiry_entries_close_their_lot_and_lots_sum_to_the_balance() {
        let mut expiry = entry(4, -100, LedgerReason::Expiry, 30, None);
        expiry.reference = "expiry:1".into();
        let entries = [
            entry(1, 100, LedgerReason::Purchase, 0, Some(30)),
            entry(2, 100, LedgerReason::Purchase, 10, Some(40)),
            entry(3, -60, LedgerReason::Redemption, 35, None),
            expiry,
            entry(5, 25, LedgerReason::Birthday, 36, None),
        ];
        let lots = open_lots(&entries);
        assert_eq!(remaining(&lots), vec![(2, 40), (5, 25)]);
        let balance: i64 = entries.iter().map(|e| e.delta).sum();
        assert_eq!(lots.iter().map(|l| l.remaining).sum::<i64>(), balance);
        assert_eq!(
            upcoming(&lots, day(36)),
            vec![ExpiringPoints {
                points: 40,
                expires_at: day(40)
            }]
        );
    }

    #[test]
    fn without_unexpired_lots_a_debit_takes_from_expired_ones() {
        let entries = [
            entry(1, 100, LedgerReason::Purchase, 0, Some(30)),
            entry(2, -70, LedgerReason::Redemption, 31, None),
        ];
        assert_eq!(remaining(&open_lots(&entries)), vec![(1, 30)]);
    }
}
