//! The pure parts of the metrics: rounding, percentages, money and the
//! retention formula of SPEC §7, in exact decimal arithmetic.
//!
//! Percentages and ratios are rounded to [`PERCENT_DP`] places, half away
//! from zero, and normalised (`95`, `70.45`). Money is rounded to its
//! currency's minor unit, half away from zero, and keeps that scale (`12.50`).

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of percentages and ratios.
pub const PERCENT_DP: u32 = 2;

/// Seconds in a day, for relationship durations.
const SECONDS_PER_DAY: i64 = 86_400;

/// Rounds to `dp` places, half away from zero.
pub fn round(value: Decimal, dp: u32) -> Decimal {
    value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// `part / whole · 100`, rounded; `None` when `whole` is zero.
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    Some(round(part * Decimal::ONE_HUNDRED / whole, PERCENT_DP).normalize())
}

/// `part / whole · 100` over counts.
pub fn percent_of(part: i64, whole: i64) -> Option<Decimal> {
    percent(Decimal::from(part), Decimal::from(whole))
}

/// `numerator / denominator`, rounded like a percentage; `None` on zero.
pub fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator.is_zero() {
        return None;
    }
    Some(round(numerator / denominator, PERCENT_DP).normalize())
}

/// SPEC §7 retention: `(E − N) / B · 100`; `None` when `B = 0`.
pub fn retention_percent(at_start: i64, at_end: i64, new: i64) -> Option<Decimal> {
    percent_of(at_end - new, at_start)
}

/// Average of `total_seconds` over `count` items, in days; `None` on zero.
pub fn average_days(total_seconds: i64, count: i64) -> Option<Decimal> {
    if count == 0 {
        return None;
    }
    let days = Decimal::from(total_seconds) / Decimal::from(SECONDS_PER_DAY) / Decimal::from(count);
    Some(round(days, PERCENT_DP).normalize())
}

/// Minor-unit digits of an ISO 4217 currency (the shared money table; an
/// unknown stored code falls back to 2).
pub fn minor_digits(currency: &str) -> u32 {
    crate::money::Currency::from_stored(currency).map_or(2, crate::money::Currency::exponent)
}

/// An amount in minor units as a decimal in major units (`1250` EUR → `12.50`).
pub fn money(amount_minor: i64, currency: &str) -> Decimal {
    Decimal::new(amount_minor, minor_digits(currency))
}

/// Rounds a money amount to its currency's minor unit, keeping that scale.
pub fn round_money(value: Decimal, currency: &str) -> Decimal {
    let dp = minor_digits(currency);
    let mut rounded = round(value, dp);
    rounded.rescale(dp);
    rounded
}

/// `amount / count` as money; `None` when `count` is zero.
pub fn per_customer(amount: Decimal, count: i64, currency: &str) -> Option<Decimal> {
    (count != 0).then(|| round_money(amount / Decimal::from(count), currency))
}

/// The part of a shared amount a segment of `segment` out of `base`
/// customers bears: an equal share per customer, `amount · segment / base`,
/// rounded to the minor unit. Zero when the base is empty.
pub fn equal_share(amount: Decimal, segment: i64, base: i64, currency: &str) -> Decimal {
    if base == 0 {
        return round_money(Decimal::ZERO, currency);
    }
    round_money(
        amount * Decimal::from(segment) / Decimal::from(base),
        currency,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn retention_matches_spec_examples() {
        // B = 20, 5 new, 1 lost → E = 24 → 95 %.
        assert_eq!(retention_percent(20, 24, 5), Some(d("95")));
        // B = 44, 12 new, 13 lost → E = 43 → 70.45 %.
        assert_eq!(retention_percent(44, 43, 12), Some(d("70.45")));
        assert_eq!(retention_percent(0, 5, 5), None);
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        let cases = [
            (1, 8, "12.5"),     // exact
            (1, 3, "33.33"),    // 33.333…
            (2, 3, "66.67"),    // 66.666…
            (1, 400, "0.25"),   // exact
            (1, 800, "0.13"),   // 0.125 → away from zero
            (-1, 800, "-0.13"), // −0.125 → away from zero
            (3, 3, "100"),
        ];
        for (part, whole, want) in cases {
            assert_eq!(percent_of(part, whole), Some(d(want)), "{part}/{whole}");
        }
        assert_eq!(percent_of(1, 0), None);
    }

    #[test]
    fn money_uses_the_currency_minor_unit() {
        assert_eq!(money(1250, "EUR").to_string(), "12.50");
        assert_eq!(money(1250, "JPY").to_string(), "1250");
        assert_eq!(money(1250, "KWD").to_string(), "1.250");
        assert_eq!(round_money(d("10") / d("3"), "EUR").to_string(), "3.33");
        assert_eq!(round_money(d("0.125"), "EUR").to_string(), "0.13");
        assert_eq!(round_money(d("7"), "EUR").to_string(), "7.00");
    }

    #[test]
    fn per_customer_and_shares_handle_zero() {
        assert_eq!(per_customer(d("10.00"), 0, "EUR"), None);
        assert_eq!(per_customer(d("10.00"), 4, "EUR"), Some(d("2.50")));
        assert_eq!(equal_share(d("90.00"), 1, 3, "EUR").to_string(), "30.00");
        assert_eq!(equal_share(d("100.00"), 1, 3, "EUR").to_string(), "33.33");
        assert_eq!(equal_share(d("100.00"), 1, 0, "EUR").to_string(), "0.00");
        assert_eq!(ratio(d("300"), d("120")), Some(d("2.5")));
        assert_eq!(ratio(d("1"), d("0")), None);
    }

    #[test]
    fn average_days_is_exact() {
        assert_eq!(average_days(86_400 * 3, 2), Some(d("1.5")));
        assert_eq!(average_days(86_400, 3), Some(d("0.33")));
        assert_eq!(average_days(0, 0), None);
    }
}
