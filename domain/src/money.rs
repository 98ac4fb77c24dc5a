//! Money: ISO 4217 currencies and exact conversion between `Decimal` amounts
//! and the integer minor units stored in the database.
//!
//! Every area that stores money (purchases, costs, loyalty earning rules)
//! goes through [`Money::parse`] and [`minor_to_decimal`], so the currency
//! table and the rounding rules live here once.

use std::fmt;

use rust_decimal::Decimal;

use crate::error::{DomainError, DomainResult};

/// ISO 4217 codes accepted, with their minor-unit exponent (digits after the
/// decimal point). Codes outside this table are rejected rather than guessed.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// A known ISO 4217 currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

impl Currency {
    /// Parses a currency code (case-insensitive, surrounding blanks ignored)
    /// for the input field `field`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `field` for a code outside the table.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        let code = raw.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(code, exponent)| Self {
                code,
                exponent: *exponent,
            })
            .ok_or_else(|| {
                DomainError::validation(field, "is not a supported ISO 4217 currency code")
            })
    }

    /// Looks up a stored code; an unknown stored code is an internal error.
    ///
    /// # Errors
    /// `INTERNAL` when the database holds a code outside the table.
    pub fn from_stored(code: &str) -> DomainResult<Self> {
        Self::parse("currency", code)
            .map_err(|_| DomainError::Internal(anyhow::anyhow!("unknown stored currency {code:?}")))
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point (JPY 0, EUR 2, KWD 3).
    pub fn exponent(self) -> u32 {
        self.exponent
    }

    /// Every supported currency, by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(|(code, exponent)| Currency {
            code,
            exponent: *exponent,
        })
    }
}

impl AsRef<str> for Currency {
    fn as_ref(&self) -> &str {
        self.code
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// A positive amount in a known currency, held in integer minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    /// Validates a positive amount: it must be greater than zero and have no
    /// more decimal places than the currency allows. Errors name `field`
    /// (usually `amount`).
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `field` for a zero, negative, too precise or too
    /// large amount.
    pub fn parse(field: &str, amount: Decimal, currency: Currency) -> DomainResult<Self> {
        if amount <= Decimal::ZERO {
            return Err(DomainError::validation(field, "must be greater than zero"));
        }
        let amount_minor = decimal_to_minor(field, amount, currency)?;
        Ok(Self {
            amount_minor,
            currency,
        })
    }

    /// Rebuilds a stored value.
    pub fn from_minor(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// The amount in minor units (cents, yen, fils).
    pub fn amount_minor(self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount as an exact decimal with the currency's scale.
    pub fn amount(self) -> Decimal {
        minor_to_decimal(self.amount_minor, self.currency)
    }
}

/// Converts an exact decimal (any sign) to minor units of `currency`.
///
/// # Errors
/// `BAD_USER_INPUT` on `field` when it has more decimal places than the
/// currency allows or does not fit in 64 bits.
pub fn decimal_to_minor(field: &str, amount: Decimal, currency: Currency) -> DomainResult<i64> {
    let normalized = amount.normalize();
    if normalized.scale() > currency.exponent() {
        return Err(DomainError::validation(
            field,
            format!(
                "has more decimal places than {} allows ({})",
                currency.code(),
                currency.exponent()
            ),
        ));
    }
    let factor = Decimal::from(10_i64.pow(currency.exponent()));
    normalized
        .checked_mul(factor)
        .and_then(|minor| i64::try_from(minor).ok())
        .ok_or_else(|| DomainError::validation(field, "is too large"))
}

/// Converts minor units of `currency` to an exact decimal with the currency's
/// scale (`1999` EUR → `19.99`, `500` JPY → `500`).
pub fn minor_to_decimal(amount_minor: i64, currency: Currency) -> Decimal {
    Decimal::new(amount_minor, currency.exponent())
}

/// Like [`minor_to_decimal`] for a stored currency code.
///
/// # Errors
/// `INTERNAL` when the stored code is unknown.
pub fn stored_to_decimal(amount_minor: i64, code: &str) -> DomainResult<Decimal> {
    Ok(minor_to_decimal(amount_minor, Currency::from_stored(code)?))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn exponents_follow_iso_4217() {
        for (code, exp) in [
            ("EUR", 2),
            ("usd", 2),
            (" JPY ", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("JOD", 3),
            ("OMR", 3),
            ("TND", 3),
        ] {
            assert_eq!(
                Currency::parse("currency", code)
                    .map(Currency::exponent)
                    .ok(),
                Some(exp),
                "{code}"
            );
        }
        assert!(Currency::all().count() >= 30);
    }

    #[test]
    fn unknown_codes_are_rejected() {
        for code in ["", "EU", "EURO", "XXX", "ABC", "€"] {
            assert!(Currency::parse("currency", code).is_err(), "{code:?}");
        }
    }

    #[test]
    fn amounts_convert_exactly() {
        let eur = Currency::parse("currency", "EUR").expect("EUR");
        let jpy = Currency::parse("currency", "JPY").expect("JPY");
        let kwd = Currency::parse("currency", "KWD").expect("KWD");
        let cases = [
            (dec("19.99"), eur, 1999),
            (dec("19.90"), eur, 1990),
            (dec("20"), eur, 2000),
            (dec("1500"), jpy, 1500),
            (dec("1500.00"), jpy, 1500),
            (dec("1.234"), kwd, 1234),
        ];
        for (amount, currency, minor) in cases {
            let money = Money::parse("amount", amount, currency).expect("valid");
            assert_eq!(money.amount_minor(), minor, "{amount} {currency}");
            assert_eq!(money.amount(), amount.normalize(), "{amount} {currency}");
        }
        assert_eq!(minor_to_decimal(1999, eur).to_string(), "19.99");
        assert_eq!(minor_to_decimal(5, kwd).to_string(), "0.005");
    }

    #[test]
    fn bad_amounts_are_rejected_on_the_field() {
        let eur = Currency::parse("currency", "EUR").expect("EUR");
        let jpy = Currency::parse("currency", "JPY").expect("JPY");
        let cases = [
            (dec("0"), eur, "zero"),
            (dec("-1"), eur, "negative"),
            (dec("1.001"), eur, "three decimals in EUR"),
            (dec("1.5"), jpy, "decimals in JPY"),
            (dec("99999999999999999999"), eur, "overflow"),
        ];
        for (amount, currency, why) in cases {
            match Money::parse("amount", amount, currency) {
                Err(DomainError::Validation { field, .. }) => assert_eq!(field, "amount", "{why}"),
                other => panic!("{why}: {other:?}"),
            }
        }
    }
}
