//! Birthdays: the one rule for when a birthday is celebrated (a 29 February
//! birthday is celebrated on 28 February in common years), used by
//! `upcomingBirthdays(days)` here and by loyalty's birthday bonus, and the
//! `upcomingBirthdays` window, which may cross the year boundary.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::{ConnectionTrait, FromQueryResult};

use entity::customers;

use super::list::tags_for;
use super::types::{Customer, UpcomingBirthday};
use crate::error::{DomainError, DomainResult};
use crate::sql::{month_day, Sql};

/// Longest window accepted, in days.
pub const MAX_DAYS: i32 = 366;

/// The day a birthday of `month`/`day` is celebrated in `year`.
pub(crate) fn celebrated_on(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day).or_else(|| {
        (month == 2 && day == 29)
            .then(|| NaiveDate::from_ymd_opt(year, 2, 28))
            .flatten()
    })
}

/// The next celebration of `birthday` on or after `today`.
pub(crate) fn next_celebration(birthday: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    [today.year(), today.year() + 1]
        .into_iter()
        .filter_map(|year| celebrated_on(year, birthday.month(), birthday.day()))
        .find(|d| *d >= today)
}

/// The `MM-DD` keys of the birthdays celebrated on `date`: its own day, and
/// 29 February where [`celebrated_on`] moves it to `date`.
pub(crate) fn celebrated_keys(date: NaiveDate) -> Vec<String> {
    let mut keys = vec![date.format("%m-%d").to_string()];
    let leap_day_moved_here =
        (date.month(), date.day()) != (2, 29) && celebrated_on(date.year(), 2, 29) == Some(date);
    if leap_day_moved_here {
        keys.push("02-29".to_owned());
    }
    keys
}

/// The `MM-DD` keys of the birthdays celebrated from `today` for `days` days.
fn month_days(today: NaiveDate, days: i32) -> BTreeSet<String> {
    (0..=i64::from(days))
        .flat_map(|offset| celebrated_keys(today + Duration::days(offset)))
        .collect()
}

pub(crate) async fn upcoming(
    db: &impl ConnectionTrait,
    today: NaiveDate,
    days: i32,
) -> DomainResult<Vec<UpcomingBirthday>> {
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(DomainError::validation("days", "must be between 0 and 366"));
    }
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT * FROM customers WHERE birthday IS NOT NULL AND ");
    sql.push(&month_day(backend, "birthday"));
    sql.push(" IN (");
    for (i, key) in month_days(today, days).into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(key);
    }
    sql.push(")");
    let rows = db.query_all_raw(sql.build()).await?;
    let models = rows
        .iter()
        .map(|row| customers::Model::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let mut tags = tags_for(db, &ids).await?;
    let mut out = Vec::with_capacity(models.len());
    for model in models {
        let Some(birthday) = model.birthday else {
            continue;
        };
        let Some(date) = next_celebration(birthday, today) else {
            continue;
        };
        let days_until = (date - today).num_days();
        if days_until > i64::from(days) {
            continue;
        }
        let t = tags.remove(&model.id).unwrap_or_default();
        out.push(UpcomingBirthday {
            turning: date.year() - birthday.year(),
            date,
            days_until,
            customer: Customer::from_model(model, t)?,
        });
    }
    out.sort_by(|a, b| {
        (a.days_until, &a.customer.name, a.customer.id).cmp(&(
            b.days_until,
            &b.customer.name,
            b.customer.id,
        ))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn leap_day_birthdays_are_celebrated_on_28_february_in_common_years() {
        assert_eq!(
            next_celebration(d(2000, 2, 29), d(2027, 2, 1)),
            Some(d(2027, 2, 28))
        );
        assert_eq!(
            next_celebration(d(2000, 2, 29), d(2028, 2, 1)),
            Some(d(2028, 2, 29))
        );
        assert!(month_days(d(2027, 2, 27), 1).contains("02-29"));
        assert!(!month_days(d(2028, 2, 27), 1).contains("02-29"));
        assert_eq!(celebrated_keys(d(2027, 2, 28)), vec!["02-28", "02-29"]);
        assert_eq!(celebrated_keys(d(2028, 2, 28)), vec!["02-28"]);
        assert_eq!(celebrated_keys(d(2028, 2, 29)), vec!["02-29"]);
        assert_eq!(celebrated_keys(d(2027, 3, 1)), vec!["03-01"]);
    }

    #[test]
    fn windows_cross_the_year_boundary() {
        assert_eq!(
            next_celebration(d(1990, 1, 3), d(2026, 12, 30)),
            Some(d(2027, 1, 3))
        );
        let keys = month_days(d(2026, 12, 30), 5);
        assert!(keys.contains("12-31") && keys.contains("01-04"));
        assert!(!keys.contains("01-05"));
    }
}
