//! The CSI formulas of SPEC §5, in exact decimal arithmetic.
//!
//! With scale `[min, max]`, factor ratings `xᵢ` and weights `wᵢ`:
//! - one response: `CSI = 100 · Σ wᵢ·(xᵢ − min)/(max − min) / Σ wᵢ` over the
//!   factors answered, and `weightedMean = Σ wᵢ·xᵢ / Σ wᵢ`;
//! - a set of responses: the same with each factor's mean rating `x̄ᵢ`, over the
//!   factors with at least one rating.
//!
//! Results are rounded to [`RESULT_DP`] decimal places (half away from zero);
//! no ratings gives `None`, never a division by zero.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of reported indices and means.
pub const RESULT_DP: u32 = 4;

/// A rating scale, `min < max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
}

impl Default for Scale {
    fn default() -> Self {
        Self { min: 1, max: 5 }
    }
}

/// The index of one response or one aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsiValue {
    /// 0..=100.
    pub index: Decimal,
    /// On the rating scale.
    pub weighted_mean: Decimal,
}

fn round(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(RESULT_DP, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// One factor's score on 0..=100 for a (mean) rating.
pub fn factor_score(scale: Scale, rating: Decimal) -> Decimal {
    let span = Decimal::from(scale.max - scale.min);
    if span <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    round(Decimal::ONE_HUNDRED * (rating - Decimal::from(scale.min)) / span)
}

/// The index over `(weight, rating)` pairs — ratings of one response, or mean
/// ratings of a set. Pairs with no rating are skipped, which renormalises the
/// weights over the factors answered.
pub fn index(scale: Scale, factors: &[(Decimal, Option<Decimal>)]) -> Option<CsiValue> {
    let span = Decimal::from(scale.max - scale.min);
    if span <= Decimal::ZERO {
        return None;
    }
    let min = Decimal::from(scale.min);
    let mut total_weight = Decimal::ZERO;
    let mut weighted_score = Decimal::ZERO;
    let mut weighted_rating = Decimal::ZERO;
    for (weight, rating) in factors {
        let Some(rating) = rating else { continue };
        total_weight += *weight;
        weighted_score += *weight * (*rating - min) / span;
        weighted_rating += *weight * *rating;
    }
    if total_weight <= Decimal::ZERO {
        return None;
    }
    Some(CsiValue {
        index: round(Decimal::ONE_HUNDRED * weighted_score / total_weight),
        weighted_mean: round(weighted_rating / total_weight),
    })
}

/// The mean of `count` ratings summing to `sum`, exact to [`RESULT_DP`] places.
pub fn mean(sum: i64, count: i64) -> Option<Decimal> {
    (count > 0).then(|| round(Decimal::from(sum) / Decimal::from(count)))
}

/// Each weight's share of the total, `weight / Σ weights`.
pub fn normalized_weights(weights: &[Decimal]) -> Vec<Decimal> {
    let total: Decimal = weights.iter().copied().sum();
    weights
        .iter()
        .map(|w| {
            if total > Decimal::ZERO {
                round(*w / total)
            } else {
                Decimal::ZERO
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn airline_example_from_the_spec() {
        let factors = [
            (d("0.35"), Some(d("5"))),
            (d("0.20"), Some(d("4"))),
            (d("0.35"), Some(d("5"))),
            (d("0.10"), Some(d("2"))),
        ];
        let csi = index(Scale::default(), &factors).expect("rated");
        assert_eq!(csi.weighted_mean, d("4.5"));
        assert_eq!(csi.index, d("87.5"));
    }

    #[test]
    fn weights_need_not_sum_to_one() {
        let factors = [
            (d("35"), Some(d("5"))),
            (d("20"), Some(d("4"))),
            (d("35"), Some(d("5"))),
            (d("10"), Some(d("2"))),
        ];
        assert_eq!(
            index(Scale::default(), &factors).expect("rated").index,
            d("87.5")
        );
    }

    #[test]
    fn missing_factors_renormalise_the_weights() {
        // Only on-time (0.35, 5) and snacks (0.10, 2) answered:
        // 100 · (0.35·1 + 0.10·0.25) / 0.45 = 83.3333…; mean (1.75 + 0.2) / 0.45 = 4.3333…
        let factors = [
            (d("0.35"), Some(d("5"))),
            (d("0.20"), None),
            (d("0.35"), None),
            (d("0.10"), Some(d("2"))),
        ];
        let csi = index(Scale::default(), &factors).expect("rated");
        assert_eq!(csi.index, d("83.3333"));
        assert_eq!(csi.weighted_mean, d("4.3333"));
    }

    #[test]
    fn no_ratings_is_none_not_a_division_by_zero() {
        assert_eq!(index(Scale::default(), &[(d("1"), None)]), None);
        assert_eq!(index(Scale::default(), &[]), None);
        assert_eq!(mean(0, 0), None);
    }

    #[test]
    fn other_scales_and_extremes() {
        let ten = Scale { min: 0, max: 10 };
        assert_eq!(
            index(ten, &[(d("1"), Some(d("10")))]).expect("r").index,
            d("100")
        );
        assert_eq!(
            index(ten, &[(d("1"), Some(d("0")))]).expect("r").index,
            d("0")
        );
        assert_eq!(factor_score(Scale::default(), d("3")), d("50"));
        assert_eq!(mean(7, 2), Some(d("3.5")));
        assert_eq!(
            normalized_weights(&[d("1"), d("3")]),
            vec![d("0.25"), d("0.75")]
        );
    }
}
