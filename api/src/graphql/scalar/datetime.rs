//! The `DateTime` scalar: an instant, RFC 3339 with an offset in, UTC with
//! `Z` and millisecond precision out.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

/// How a valid value looks.
pub const EXAMPLE: &str = "2026-02-28T14:30:00Z";

/// An instant in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant, written as an RFC 3339 date-time with an offset, e.g.
/// `2026-02-28T14:30:00Z` or `2026-02-28T15:30:00+01:00`. Answers are in UTC
/// with `Z` and millisecond precision: `2026-02-28T14:30:00.000Z`.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|at| DateTime(at.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "expected an RFC 3339 date-time with an offset, like {EXAMPLE}"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(at: chrono::DateTime<Utc>) -> Self {
        Self(at)
    }
}

impl From<DateTime> for chrono::DateTime<Utc> {
    fn from(at: DateTime) -> Self {
        at.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> InputValueResult<DateTime> {
        <DateTime as ScalarType>::parse(Value::String(s.into()))
    }

    #[test]
    fn answers_are_utc_with_z_and_milliseconds() {
        let at = parse("2026-11-20T14:50:35.746118661+01:00").expect("valid");
        assert_eq!(
            at.to_value(),
            Value::String("2026-11-20T13:50:35.746Z".into())
        );
        let whole = parse("2026-11-20T13:50:35Z").expect("valid");
        assert_eq!(
            whole.to_value(),
            Value::String("2026-11-20T13:50:35.000Z".into())
        );
    }

    #[test]
    fn inputs_need_an_offset() {
        for bad in [
            "2026-11-20T13:50:35",
            "2026-11-20",
            "20 Nov 2026",
            "",
            "2026-11-20 13:50",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
            assert!(!<DateTime as ScalarType>::is_valid(&Value::String(
                bad.into()
            )));
        }
        assert!(!<DateTime as ScalarType>::is_valid(&Value::from(
            1_700_000_000
        )));
        assert!(parse("2026-11-20T13:50:35.5-05:00").is_ok());
    }
}
