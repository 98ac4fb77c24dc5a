//! The `Decimal` scalar: exact numbers (money, rates, weights) as strings in
//! plain decimal notation. JSON numbers are refused: they are floats to most
//! clients, and money must never be a float.

use std::str::FromStr as _;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// How a valid value looks.
pub const EXAMPLE: &str = "\"12.50\"";

/// An exact decimal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal(pub rust_decimal::Decimal);

/// An exact decimal number (money, rates, weights), written as a string in
/// plain decimal notation: an optional `-`, digits, an optional `.` and
/// digits, e.g. `"12.50"`, `"-3"`, `"0.125"`. JSON numbers and exponents
/// (`"1e3"`) are refused. Answers use the same form.
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => parse_plain(s).map(Decimal).ok_or_else(|| {
                InputValueError::custom(format!(
                    "expected a decimal number as a string in plain notation, like {EXAMPLE}"
                ))
            }),
            Value::Number(_) => Err(InputValueError::custom(format!(
                "JSON numbers are refused; send a string in plain notation, like {EXAMPLE}"
            ))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if parse_plain(s).is_some())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// `-?digits(.digits)?` with at most 28 significant digits.
fn parse_plain(s: &str) -> Option<rust_decimal::Decimal> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return None;
    }
    rust_decimal::Decimal::from_str_exact(s)
        .or_else(|_| rust_decimal::Decimal::from_str(s))
        .ok()
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(value: rust_decimal::Decimal) -> Self {
        Self(value)
    }
}

impl From<Decimal> for rust_decimal::Decimal {
    fn from(value: Decimal) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> InputValueResult<Decimal> {
        <Decimal as ScalarType>::parse(value)
    }

    #[test]
    fn plain_strings_parse_exactly() {
        for (text, want) in [
            ("12.50", "12.50"),
            ("-3", "-3"),
            ("0.125", "0.125"),
            ("0", "0"),
        ] {
            let d = parse(Value::String(text.into())).expect(text);
            assert_eq!(d.to_value(), Value::String(want.into()));
        }
    }

    #[test]
    fn numbers_exponents_and_other_shapes_are_refused() {
        let number = parse(Value::from(0.1)).expect_err("number");
        assert!(number
            .into_server_error(Default::default())
            .message
            .contains("\"12.50\""));
        assert!(parse(Value::from(1000)).is_err());
        assert!(!<Decimal as ScalarType>::is_valid(&Value::from(1000)));
        for bad in [
            "1e3",
            "1E3",
            "+1",
            ".5",
            "5.",
            "1,5",
            " 1",
            "0x10",
            "NaN",
            "",
            "-",
            "1.2.3",
            "99999999999999999999999999999999",
        ] {
            assert!(parse(Value::String(bad.into())).is_err(), "{bad}");
            assert!(
                !<Decimal as ScalarType>::is_valid(&Value::String(bad.into())),
                "{bad}"
            );
        }
    }
}
