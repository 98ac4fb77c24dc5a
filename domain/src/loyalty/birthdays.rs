//! Birthday bonuses: members with marketing consent whose birthday is `date`
//! get the programme's `birthdayBonusPoints` once per year (`birthday:{year}`).
//! People born on 29 February celebrate on 28 February in other years (the
//! rule in `customers::birthdays`).

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use sea_orm::ConnectionTrait;

use crate::customers::birthdays::celebrated_keys;
use crate::error::{DomainError, DomainResult};
use crate::loyalty::ledger::{self, LedgerReason, NewEntry};
use crate::loyalty::model::BirthdayRun;
use crate::sql::{month_day, Sql};

/// Credits the birthday bonus in the caller's transaction.
///
/// # Errors
/// Database failures.
pub(crate) async fn grant(db: &impl ConnectionTrait, date: NaiveDate) -> DomainResult<BirthdayRun> {
    let backend = db.get_database_backend();
    // One or two `MM-DD` keys; two placeholders either way, so the text is
    // the same every day.
    let days = celebrated_keys(date);
    let first = days.first().cloned().unwrap_or_default();
    let second = days.get(1).cloned().unwrap_or_else(|| first.clone());
    let mut sql = Sql::new(backend);
    sql.push(
        "SELECT m.id, p.birthday_bonus_points, p.points_expire_after_days \
         FROM memberships m \
         JOIN customers c ON c.id = m.customer_id \
         JOIN loyalty_programs p ON p.id = m.program_id \
         WHERE c.marketing_consent AND c.erased_at IS NULL AND c.birthday IS NOT NULL \
           AND p.birthday_bonus_points > 0 AND ",
    )
    .push(&month_day(backend, "c.birthday"))
    .push(" IN (")
    .bind(first)
    .push(", ")
    .bind(second)
    .push(") ORDER BY m.id");
    let rows = db.query_all_raw(sql.build()).await?;
    let at = Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN));
    let mut run = BirthdayRun::default();
    for row in rows {
        let membership_id: i64 = row.try_get_by_index(0)?;
        let points: i64 = row.try_get_by_index(1)?;
        let expire_days: Option<i32> = row.try_get_by_index(2)?;
        let appended = ledger::append(
            db,
            NewEntry {
                membership_id,
                delta: points,
                reason: LedgerReason::Birthday,
                source_key: format!("birthday:{}", date.year()),
                occurred_at: at,
                expires_at: expire_days.map(|d| at + chrono::Duration::days(i64::from(d))),
                actor_id: None,
                note: None,
            },
        )
        .await?;
        if appended.is_some() {
            run.members_credited += 1;
            run.points_credited = run
                .points_credited
                .checked_add(points)
                .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("birthday sum overflow")))?;
        }
    }
    Ok(run)
}
