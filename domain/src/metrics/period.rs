//! Validated metric inputs: periods, windows and the customer filter.
//!
//! A period is the half-open range of UTC dates `[from, to)`: it starts at
//! `from` 00:00:00 UTC (inclusive) and ends at `to` 00:00:00 UTC (exclusive).
//! `from == to` is an empty period; `from > to` and periods longer than ten
//! years are `BAD_USER_INPUT`.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, Utc};

use super::kinds::RelationshipType;
use crate::error::{DomainError, DomainResult};
use crate::sql::Params;

/// Longest period accepted, in months.
pub const MAX_PERIOD_MONTHS: u32 = 120;
/// Largest `windowMonths` accepted by return on relationship.
pub const MAX_WINDOW_MONTHS: i32 = 120;
/// Largest `first` accepted by `mostValuableCustomers`.
pub const MAX_FIRST: i32 = 100;

/// Checks a ranking's length against [`MAX_FIRST`].
///
/// # Errors
/// `BAD_USER_INPUT` on `first` outside 1–[`MAX_FIRST`].
pub(crate) fn check_first(first: i32) -> DomainResult<()> {
    if !(1..=MAX_FIRST).contains(&first) {
        return Err(DomainError::validation(
            "first",
            format!("must be between 1 and {MAX_FIRST}"),
        ));
    }
    Ok(())
}

/// Midnight UTC at the start of `date`.
pub fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// A validated half-open period `[from, to)` of UTC dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Checks `from <= to` and a length of at most ten years.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on field `from` (after `to`) or `to` (too long).
    pub fn parse(from: NaiveDate, to: NaiveDate) -> DomainResult<Self> {
        if from > to {
            return Err(DomainError::validation("from", "must not be after `to`"));
        }
        let limit = from.checked_add_months(Months::new(MAX_PERIOD_MONTHS));
        if limit.is_none_or(|limit| to > limit) {
            return Err(DomainError::validation(
                "to",
                "the period may span at most ten years",
            ));
        }
        Ok(Self { from, to })
    }

    /// The first instant of the period (inclusive).
    pub fn start(&self) -> DateTime<Utc> {
        midnight(self.from)
    }

    /// The instant the period ends (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        midnight(self.to)
    }

    /// Binds `:start`, `:end` (instants) and `:from_date`, `:to_date` (dates).
    pub(crate) fn bind(&self, sql: &mut Params) {
        sql.bind("start", self.start())
            .bind("end", self.end())
            .bind("from_date", self.from)
            .bind("to_date", self.to);
    }
}

/// The trailing window of return on relationship: the `months` ending with
/// the day `as_of` (inclusive), i.e. `[as_of + 1 day − months, as_of + 1 day)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub as_of: NaiveDate,
    pub months: i32,
    /// First instant of the window (inclusive).
    pub start: DateTime<Utc>,
    /// Midnight after `as_of` (exclusive).
    pub end: DateTime<Utc>,
}

impl Window {
    /// Checks `1 <= months <= 120`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `windowMonths` or `asOf` (out of the calendar).
    pub fn parse(as_of: NaiveDate, months: i32) -> DomainResult<Self> {
        if !(1..=MAX_WINDOW_MONTHS).contains(&months) {
            return Err(DomainError::validation(
                "windowMonths",
                format!("must be between 1 and {MAX_WINDOW_MONTHS}"),
            ));
        }
        let out_of_range = || DomainError::validation("asOf", "is out of range");
        let next_day = as_of
            .checked_add_days(Days::new(1))
            .ok_or_else(out_of_range)?;
        let first_day = next_day
            .checked_sub_months(Months::new(months.unsigned_abs()))
            .ok_or_else(out_of_range)?;
        Ok(Self {
            as_of,
            months,
            start: midnight(first_day),
            end: midnight(next_day),
        })
    }
}

/// Narrows a metric to some customers. Every part is optional; parts combine
/// with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsFilter {
    /// Customers carrying this tag (compared case-insensitively).
    pub tag: Option<String>,
    /// Customers served this way.
    pub relationship_type: Option<RelationshipType>,
    /// Customers acquired on or after this date (UTC).
    pub acquired_from: Option<NaiveDate>,
    /// Customers acquired before this date (UTC, exclusive).
    pub acquired_to: Option<NaiveDate>,
}

impl MetricsFilter {
    /// Trims the tag and checks the acquisition range.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `filter.tag` (blank) or `filter.acquiredFrom`
    /// (after `acquiredTo`).
    pub fn validated(self) -> DomainResult<Self> {
        let tag = match self.tag {
            Some(tag) => {
                let tag = tag.trim().to_owned();
                if tag.is_empty() || tag.chars().count() > 100 {
                    return Err(DomainError::validation(
                        "filter.tag",
                        "must be 1 to 100 characters",
                    ));
                }
                Some(tag)
            }
            None => None,
        };
        if let (Some(from), Some(to)) = (self.acquired_from, self.acquired_to) {
            if from > to {
                return Err(DomainError::validation(
                    "filter.acquiredFrom",
                    "must not be after `acquiredTo`",
                ));
            }
        }
        Ok(Self { tag, ..self })
    }

    /// Whether any part is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// ` AND …` conditions on the customer alias `c`, binding `:f_*`.
    pub(crate) fn conditions(&self, sql: &mut Params) -> String {
        let mut text = String::new();
        if let Some(tag) = &self.tag {
            sql.bind("f_tag", tag.to_lowercase());
            text.push_str(
                " AND EXISTS (SELECT 1 FROM customer_tags ft \
                 WHERE ft.customer_id = c.id AND LOWER(ft.tag) = :f_tag)",
            );
        }
        if let Some(kind) = self.relationship_type {
            sql.bind("f_type", kind.as_str());
            text.push_str(" AND c.relationship_type = :f_type");
        }
        if let Some(from) = self.acquired_from {
            sql.bind("f_acquired_from", midnight(from));
            text.push_str(" AND c.acquired_at >= :f_acquired_from");
        }
        if let Some(to) = self.acquired_to {
            sql.bind("f_acquired_to", midnight(to));
            text.push_str(" AND c.acquired_at < :f_acquired_to");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn field(err: DomainError) -> String {
        match err {
            DomainError::Validation { field, .. } => field,
            other => format!("not a validation error: {other}"),
        }
    }

    #[test]
    fn periods_are_half_open_utc_days() {
        let p = Period::parse(date(2025, 1, 1), date(2025, 4, 1)).expect("valid");
        assert_eq!(p.start().to_rfc3339(), "2025-01-01T00:00:00+00:00");
        assert_eq!(p.end().to_rfc3339(), "2025-04-01T00:00:00+00:00");
        assert!(Period::parse(date(2025, 1, 1), date(2025, 1, 1)).is_ok());
    }

    #[test]
    fn bad_periods_name_their_field() {
        let cases = [
            (date(2025, 2, 1), date(2025, 1, 1), "from", "from after to"),
            (
                date(2015, 1, 1),
                date(2025, 1, 2),
                "to",
                "one day over ten years",
            ),
        ];
        for (from, to, want, why) in cases {
            let err = Period::parse(from, to).expect_err(why);
            assert_eq!(field(err), want, "{why}");
        }
        assert!(Period::parse(date(2015, 1, 1), date(2025, 1, 1)).is_ok());
    }

    #[test]
    fn windows_end_after_as_of_and_reject_bad_months() {
        let w = Window::parse(date(2025, 6, 30), 12).expect("valid");
        assert_eq!(w.start, midnight(date(2024, 7, 1)));
        assert_eq!(w.end, midnight(date(2025, 7, 1)));
        for months in [0, -1, 121] {
            let err = Window::parse(date(2025, 6, 30), months).expect_err("bad months");
            assert_eq!(field(err), "windowMonths", "{months}");
        }
        assert!(Window::parse(date(2025, 6, 30), 120).is_ok());
    }

    #[test]
    fn filters_validate_tag_and_range() {
        let blank = MetricsFilter {
            tag: Some("  ".into()),
            ..MetricsFilter::default()
        };
        assert_eq!(field(blank.validated().expect_err("blank")), "filter.tag");
        let inverted = MetricsFilter {
            acquired_from: Some(date(2025, 2, 1)),
            acquired_to: Some(date(2025, 1, 1)),
            ..MetricsFilter::default()
        };
        assert_eq!(
            field(inverted.validated().expect_err("inverted")),
            "filter.acquiredFrom"
        );
        let trimmed = MetricsFilter {
            tag: Some(" vip ".into()),
            ..MetricsFilter::default()
        };
        assert_eq!(trimmed.validated().expect("ok").tag.as_deref(), Some("vip"));
    }
}
