//! The CSI formulas of SPEC §5, in exact decimal arithmetic.
//!
//! With scale `[min, max]`, factor ratings `xᵢ` and weights `wᵢ`:
//! - one response: `CSI = 100 · Σ wᵢ·(xᵢ − min)/(max − min) / Σ wᵢ` over the
//!   factors answered, and `weightedMean = Σ wᵢ·xᵢ / Σ wᵢ`;
//! - a set of responses: the same with each factor's mean rating `x̄ᵢ`, over the
//!   factors with at least one rating.
//!
//! Every figure is computed from exact inputs (integer sums and counts, the
//! weights as configured) and rounded once, at the end, to [`RESULT_DP`]
//! decimal places, half away from zero — the rule of the metrics pages, with
//! more places (see docs/csi.md). A quotient that does not terminate (1/3)
//! carries `rust_decimal`'s 28 significant digits until that final rounding;
//! comparisons that must be exact (priority ties, Σ of normalised weights) are
//! made on fractions instead ([`Share`], [`Priority`]). No ratings gives
//! `None`, never a division by zero.

use std::cmp::Ordering;

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

/// Rounds a finished figure for display: [`RESULT_DP`] places, half away
/// from zero, without trailing zeros.
pub fn round(value: Decimal) -> Decimal {
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
/// ratings of a set — rounded for display. Pairs with no rating are skipped,
/// which renormalises the weights over the factors answered.
pub fn index(scale: Scale, factors: &[(Decimal, Option<Decimal>)]) -> Option<CsiValue> {
    exact_index(scale, factors).map(|v| CsiValue {
        index: round(v.index),
        weighted_mean: round(v.weighted_mean),
    })
}

/// [`index`] before rounding, for figures derived from it (trend deltas).
pub fn exact_index(scale: Scale, factors: &[(Decimal, Option<Decimal>)]) -> Option<CsiValue> {
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
        index: Decimal::ONE_HUNDRED * weighted_score / total_weight,
        weighted_mean: weighted_rating / total_weight,
    })
}

/// The mean of `count` ratings summing to `sum`, exact to [`RESULT_DP`] places.
pub fn mean(sum: i64, count: i64) -> Option<Decimal> {
    (count > 0).then(|| round(Decimal::from(sum) / Decimal::from(count)))
}

/// A weight's exact share of its set, the fraction `part / whole`
/// (`weight / Σ weights`). Kept as a fraction so that nothing is lost: the
/// shares of a set always sum to exactly 1, where `1/3` as a decimal would not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    pub part: Decimal,
    pub whole: Decimal,
}

impl Share {
    /// The share for display: `part / whole` rounded once; 0 for an empty set.
    pub fn rounded(self) -> Decimal {
        if self.whole > Decimal::ZERO {
            round(self.part / self.whole)
        } else {
            Decimal::ZERO
        }
    }

    /// Σ of shares of one set (same `whole`), exactly; `None` when the wholes
    /// differ.
    pub fn sum(shares: &[Share]) -> Option<Share> {
        let whole = shares.first().map_or(Decimal::ONE, |s| s.whole);
        shares.iter().try_fold(
            Share {
                part: Decimal::ZERO,
                whole,
            },
            |acc, s| {
                (s.whole == whole).then(|| Share {
                    part: acc.part + s.part,
                    whole,
                })
            },
        )
    }

    /// Whether the fraction is exactly 1.
    pub fn is_one(self) -> bool {
        self.whole > Decimal::ZERO && self.part == self.whole
    }
}

/// Each weight's exact share of the total, `weight / Σ weights`.
pub fn shares(weights: &[Decimal]) -> Vec<Share> {
    let whole: Decimal = weights.iter().copied().sum();
    weights.iter().map(|&part| Share { part, whole }).collect()
}

/// Each weight's share of the total, rounded for display.
pub fn normalized_weights(weights: &[Decimal]) -> Vec<Decimal> {
    shares(weights).into_iter().map(Share::rounded).collect()
}

/// A factor's priority, importance × shortfall, kept exact:
/// `share · (100 − score)` with `score = 100 · (x̄ − min)/(max − min)` and
/// `x̄ = total / count` is the fraction
/// `100 · weight · (max·count − total) / ((max − min) · count · Σ weights)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    share: Share,
    /// `max·count − total`: the ratings' total distance below the top.
    gap: i128,
    count: i128,
    span: i128,
}

impl Priority {
    /// The priority of a factor with `share` whose `count` ratings sum to
    /// `total`; `None` without ratings or on an empty scale.
    pub fn new(scale: Scale, share: Share, total: i64, count: i64) -> Option<Self> {
        let span = i128::from(scale.max) - i128::from(scale.min);
        if count <= 0 || span <= 0 || share.whole <= Decimal::ZERO {
            return None;
        }
        let count = i128::from(count);
        Some(Self {
            share,
            gap: i128::from(scale.max) * count - i128::from(total),
            count,
            span,
        })
    }

    /// The priority score rounded once for display.
    pub fn rounded(&self) -> Decimal {
        // One division of two exact products: equal fractions give equal
        // quotients, so exact ties stay ties after rounding.
        let numerator = Decimal::ONE_HUNDRED * self.share.part * Decimal::from(self.gap);
        let denominator = Decimal::from(self.span) * Decimal::from(self.count) * self.share.whole;
        round(numerator / denominator)
    }

    /// Compares two priorities of one report (same scale and Σ weights)
    /// exactly: `wₐ·gapₐ·count_b` against `w_b·gap_b·countₐ`, in integers.
    pub fn cmp_exact(&self, other: &Self) -> Ordering {
        let scale = self.share.part.scale().max(other.share.part.scale());
        let (Some(wa), Some(wb)) = (
            integer_weight(self.share.part, scale),
            integer_weight(other.share.part, scale),
        ) else {
            // Unreachable for validated weights (≤ 10⁶, ≤ 28 places).
            return self.rounded().cmp(&other.rounded());
        };
        let lhs = product(&[wa, self.gap.unsigned_abs(), other.count.unsigned_abs()]);
        let rhs = product(&[wb, other.gap.unsigned_abs(), self.count.unsigned_abs()]);
        cmp_limbs(&lhs, &rhs)
    }
}

/// `weight · 10^scale` as an integer (weights are positive).
fn integer_weight(weight: Decimal, scale: u32) -> Option<u128> {
    let mantissa = u128::try_from(weight.mantissa()).ok()?;
    10u128
        .checked_pow(scale.checked_sub(weight.scale())?)
        .and_then(|factor| mantissa.checked_mul(factor))
}

/// The exact product of `factors` as little-endian 64-bit limbs.
fn product(factors: &[u128]) -> Vec<u64> {
    let mut limbs = vec![1u64];
    for &factor in factors {
        let parts = [factor as u64, (factor >> 64) as u64];
        let mut out = vec![0u64; limbs.len() + parts.len()];
        for (i, &a) in limbs.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in parts.iter().enumerate() {
                let cell = u128::from(out[i + j]) + u128::from(a) * u128::from(b) + carry;
                out[i + j] = cell as u64;
                carry = cell >> 64;
            }
            let mut k = i + parts.len();
            while carry > 0 {
                let cell = u128::from(out[k]) + carry;
                out[k] = cell as u64;
                carry = cell >> 64;
                k += 1;
            }
        }
        while out.len() > 1 && out.last() == Some(&0) {
            out.pop();
        }
        limbs = out;
    }
    limbs
}

fn cmp_limbs(a: &[u64], b: &[u64]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
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
    fn unrounded_normalised_weights_sum_to_exactly_one() {
        // As decimals, 1/3 + 1/3 + 1/3 falls short of 1 in the 28th place…
        let third = Decimal::ONE / d("3");
        assert_ne!(third + third + third, Decimal::ONE);
        // …the exact shares do not.
        for weights in [
            vec![d("1"), d("1"), d("1")],
            vec![d("3"), d("2"), d("1")],
            vec![d("0.35"), d("0.2"), d("0.35"), d("0.1")],
            vec![d("7"), d("11"), d("13"), d("0.000001"), d("1000000")],
        ] {
            let sum = Share::sum(&shares(&weights)).expect("one set");
            assert!(sum.is_one(), "{weights:?}: {sum:?}");
        }
        // Display rounds each share once; the rounded ones need not add up.
        assert_eq!(
            normalized_weights(&[d("1"), d("1"), d("1")]),
            vec![d("0.3333"); 3]
        );
        assert_eq!(
            normalized_weights(&[d("3"), d("2"), d("1")]),
            vec![d("0.5"), d("0.3333"), d("0.1667")]
        );
    }

    #[test]
    fn equal_priorities_compare_equal_and_round_alike() {
        // Weights 3/2/1 on 1..5; shortfalls 20, 30, 60 make every priority 10:
        // 3/6 · 20 = 2/6 · 30 = 1/6 · 60. Rounded weights (0.5, 0.3333,
        // 0.1667) would give 10, 9.999 and 10.002.
        let scale = Scale::default();
        let all = shares(&[d("3"), d("2"), d("1")]);
        // 5 ratings each: totals 21 (mean 4.2), 19 (3.8), 13 (2.6).
        let p = [
            Priority::new(scale, all[0], 21, 5).expect("rated"),
            Priority::new(scale, all[1], 19, 5).expect("rated"),
            Priority::new(scale, all[2], 13, 5).expect("rated"),
        ];
        for a in &p {
            assert_eq!(a.rounded(), d("10"));
            for b in &p {
                assert_eq!(a.cmp_exact(b), Ordering::Equal);
            }
        }
        // A difference far below the display precision is still seen: the
        // same ratings under weights 1 and 1.0000003 (33.33332… and
        // 33.33334…, both shown as 33.3333).
        let close = shares(&[d("1"), d("1"), d("1.0000003")]);
        let lo = Priority::new(scale, close[0], 3, 3).expect("rated");
        let hi = Priority::new(scale, close[2], 3, 3).expect("rated");
        assert_eq!(hi.rounded(), lo.rounded());
        assert_eq!(lo.rounded(), d("33.3333"));
        assert_eq!(hi.cmp_exact(&lo), Ordering::Greater);
        assert_eq!(lo.cmp_exact(&hi), Ordering::Less);
        // Different counts: 1/2 · (100 − 25) vs 1/2 · (100 − 100/3·…).
        let half = shares(&[d("1"), d("1")]);
        let a = Priority::new(scale, half[0], 2, 1).expect("rated"); // mean 2
        let b = Priority::new(scale, half[1], 6, 3).expect("rated"); // mean 2
        assert_eq!(a.cmp_exact(&b), Ordering::Equal);
        assert_eq!(a.rounded(), d("37.5"));
        assert_eq!(Priority::new(scale, half[0], 0, 0), None);
    }

    #[test]
    fn wide_products_compare_exactly() {
        let big = u128::MAX;
        assert_eq!(
            cmp_limbs(&product(&[big, big, 2]), &product(&[big, big, 3])),
            Ordering::Less
        );
        assert_eq!(
            cmp_limbs(&product(&[big, 6]), &product(&[big, 2, 3])),
            Ordering::Equal
        );
        assert_eq!(product(&[0, big]), vec![0]);
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
