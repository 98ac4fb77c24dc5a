//! Birthday bonuses: members with marketing consent whose birthday is `date`
//! get the programme's `birthdayBonusPoints` once per year (`birthday:{year}`).
//! People born on 29 February celebrate on 28 February in other years.

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use crate::error::{DomainError, DomainResult};
use crate::loyalty::ledger::{self, LedgerReason, NewEntry};
use crate::loyalty::model::BirthdayRun;

/// The `MM-DD` birthdays celebrated on `date`.
pub fn birthdays_on(date: NaiveDate) -> Vec<String> {
    let mut days = vec![format!("{:02}-{:02}", date.month(), date.day())];
    let leap = NaiveDate::from_ymd_opt(date.year(), 2, 29).is_some();
    if date.month() == 2 && date.day() == 28 && !leap {
        days.push("02-29".to_owned());
    }
    days
}

/// Credits the birthday bonus in the caller's transaction.
///
/// # Errors
/// Database failures.
pub(crate) async fn grant(db: &impl ConnectionTrait, date: NaiveDate) -> DomainResult<BirthdayRun> {
    let backend = db.get_database_backend();
    let days = birthdays_on(date);
    // Month and day of a DATE: SQLite stores `YYYY-MM-DD` text.
    let (month_day, params) = match backend {
        DatabaseBackend::Postgres => ("to_char(c.birthday, 'MM-DD')", ["$1", "$2"]),
        _ => ("substr(c.birthday, 6, 5)", ["?", "?"]),
    };
    let sql = format!(
        "SELECT m.id, p.birthday_bonus_points, p.points_expire_after_days \
         FROM memberships m \
         JOIN customers c ON c.id = m.customer_id \
         JOIN loyalty_programs p ON p.id = m.program_id \
         WHERE c.marketing_consent AND c.erased_at IS NULL AND c.birthday IS NOT NULL \
           AND p.birthday_bonus_points > 0 AND {month_day} IN ({}, {}) \
         ORDER BY m.id",
        params[0], params[1]
    );
    let second = days.get(1).unwrap_or(&days[0]).clone();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(days[0].clone()), Value::from(second)],
        ))
        .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn leap_day_birthdays_move_to_the_28th_in_common_years() {
        assert_eq!(birthdays_on(date(2027, 2, 28)), vec!["02-28", "02-29"]);
        assert_eq!(birthdays_on(date(2028, 2, 28)), vec!["02-28"]);
        assert_eq!(birthdays_on(date(2028, 2, 29)), vec!["02-29"]);
        assert_eq!(birthdays_on(date(2027, 3, 1)), vec!["03-01"]);
    }
}
