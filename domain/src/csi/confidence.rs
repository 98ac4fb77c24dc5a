//! 95 % confidence intervals and two-sample significance tests for the
//! figures of the CSI report and of survey results, from summary statistics
//! (counts, sums, sums of squares) that SQL returns — never individual
//! responses.
//!
//! - Means (CSI index, factor scores): Student's t interval
//!   `x̄ ± t(0.975, n − 1) · s / √n`; trends: Welch's two-sample t test.
//! - CSAT (a proportion): the Wilson score interval; trends: the pooled
//!   two-proportion z test.
//! - NPS (`%promoters − %detractors`, one multinomial): the normal interval
//!   `NPS ± z · 100 · √((p₊ + p₋ − (p₊ − p₋)²) / n)`, clipped to
//!   `[−100, 100]`; trends: the difference of two independent NPS with summed
//!   variances, a z test.
//!
//! Fewer than two observations give no interval (a reason instead), never
//! `NaN`. The Student t distribution is computed here (regularised
//! incomplete beta function, continued fraction as in *Numerical Recipes*
//! §6.4; a Lanczos log-gamma), tested against SciPy's values.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use crate::csi::compute;

/// The confidence level of every interval and test.
pub const LEVEL: f64 = 0.95;

/// The standard normal quantile `z(0.975)`.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// How an interval was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Student's t interval of a mean.
    StudentT,
    /// Wilson score interval of a proportion.
    Wilson,
    /// Normal interval of a difference of two multinomial proportions (NPS).
    NpsNormal,
}

/// Why an interval or a test has no figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// Nothing was answered.
    NoResponses,
    /// One answer: no spread to estimate.
    OneResponse,
    /// Every answer in both compared periods equals its period's mean: the
    /// standard error is 0 and the test is undefined.
    NoVariation,
}

/// An interval before rounding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub low: f64,
    pub high: f64,
}

/// A figure's 95 % interval as reported: rounded to `places`, or the reason
/// it has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confidence {
    pub method: Method,
    /// The observations behind the figure (responses, answers).
    pub sample_size: i64,
    pub low: Option<Decimal>,
    pub high: Option<Decimal>,
    /// Set exactly when `low` and `high` are `None`.
    pub reason: Option<Unavailable>,
}

impl Confidence {
    /// `bounds` rounded half away from zero to `places` decimals.
    pub fn new(
        method: Method,
        sample_size: i64,
        bounds: Result<Bounds, Unavailable>,
        places: u32,
    ) -> Self {
        let round = |v: f64| {
            Decimal::from_f64(v).map(|d| {
                d.round_dp_with_strategy(
                    places,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                )
                .normalize()
            })
        };
        match bounds {
            Ok(b) => match (round(b.low), round(b.high)) {
                (Some(low), Some(high)) => Self {
                    method,
                    sample_size,
                    low: Some(low),
                    high: Some(high),
                    reason: None,
                },
                _ => Self::missing(method, sample_size, Unavailable::NoVariation),
            },
            Err(reason) => Self::missing(method, sample_size, reason),
        }
    }

    fn missing(method: Method, sample_size: i64, reason: Unavailable) -> Self {
        Self {
            method,
            sample_size,
            low: None,
            high: None,
            reason: Some(reason),
        }
    }
}

/// A two-sample test at 95 %.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestResult {
    /// Two-sided p-value.
    pub p_value: f64,
    /// `p_value < 0.05`.
    pub significant: bool,
}

/// A test as reported: `significant` and the p-value to 4 places, or why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Significance {
    pub significant: Option<bool>,
    pub p_value: Option<Decimal>,
    pub reason: Option<Unavailable>,
}

impl From<Result<TestResult, Unavailable>> for Significance {
    fn from(value: Result<TestResult, Unavailable>) -> Self {
        match value {
            Ok(t) => Self {
                significant: Some(t.significant),
                p_value: Decimal::from_f64(t.p_value).map(compute::round),
                reason: None,
            },
            Err(reason) => Self {
                significant: None,
                p_value: None,
                reason: Some(reason),
            },
        }
    }
}

/// Count, sum and sum of squares of a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub n: i64,
    pub sum: f64,
    pub squares: f64,
}

impl Moments {
    /// The sample mean; `None` for an empty sample.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The unbiased sample variance `(Σx² − (Σx)²/n) / (n − 1)`, never below 0.
    ///
    /// # Errors
    /// [`Unavailable`] for fewer than two observations.
    pub fn variance(&self) -> Result<f64, Unavailable> {
        check_n(self.n)?;
        let n = self.n as f64;
        Ok(((self.squares - self.sum * self.sum / n) / (n - 1.0)).max(0.0))
    }
}

/// Integer moments of ratings, with the variance computed exactly.
///
/// # Errors
/// [`Unavailable`] for fewer than two ratings.
pub fn integer_variance(n: i64, sum: i64, squares: i64) -> Result<f64, Unavailable> {
    check_n(n)?;
    // n·Σx² − (Σx)² is exact in i128: all-equal ratings give exactly 0.
    let numerator = i128::from(n) * i128::from(squares) - i128::from(sum) * i128::from(sum);
    Ok((numerator.max(0) as f64) / (n as f64 * (n - 1) as f64))
}

fn check_n(n: i64) -> Result<(), Unavailable> {
    match n {
        i64::MIN..=0 => Err(Unavailable::NoResponses),
        1 => Err(Unavailable::OneResponse),
        _ => Ok(()),
    }
}

/// The t interval `center ± t(0.975, n − 1) · √(variance / n)`.
///
/// # Errors
/// [`Unavailable`] for fewer than two observations.
pub fn mean_interval(center: f64, variance: f64, n: i64) -> Result<Bounds, Unavailable> {
    check_n(n)?;
    let half = t_quantile(0.975, (n - 1) as f64) * (variance / n as f64).sqrt();
    Ok(Bounds {
        low: center - half,
        high: center + half,
    })
}

/// Wilson score interval of `successes` out of `n`, in percent.
///
/// # Errors
/// [`Unavailable`] for fewer than two answers.
pub fn wilson(successes: i64, n: i64) -> Result<Bounds, Unavailable> {
    check_n(n)?;
    let (n, z2) = (n as f64, Z_975 * Z_975);
    let p = successes as f64 / n;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_975 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Ok(Bounds {
        low: (100.0 * (center - half)).max(0.0),
        high: (100.0 * (center + half)).min(100.0),
    })
}

/// NPS in percent points and the variance of that estimate (percent points²).
fn nps_moments(promoters: i64, detractors: i64, n: i64) -> (f64, f64) {
    let n_f = n as f64;
    let (pp, pd) = (promoters as f64 / n_f, detractors as f64 / n_f);
    let diff = pp - pd;
    (
        100.0 * diff,
        10_000.0 * ((pp + pd - diff * diff) / n_f).max(0.0),
    )
}

/// The NPS interval `NPS ± z · 100 · √((p₊ + p₋ − (p₊ − p₋)²)/n)`, clipped
/// to `[−100, 100]`.
///
/// # Errors
/// [`Unavailable`] for fewer than two answers.
pub fn nps_interval(promoters: i64, detractors: i64, n: i64) -> Result<Bounds, Unavailable> {
    check_n(n)?;
    let (nps, var) = nps_moments(promoters, detractors, n);
    let half = Z_975 * var.sqrt();
    Ok(Bounds {
        low: (nps - half).max(-100.0),
        high: (nps + half).min(100.0),
    })
}

/// Two-sided p-value of a standard normal statistic.
fn normal_p(z: f64) -> f64 {
    // P(|Z| > |z|) = I_{1}(...) has no closed form; use erfc.
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

fn z_test(diff: f64, se: f64) -> Result<TestResult, Unavailable> {
    if se <= 0.0 || !se.is_finite() {
        return Err(Unavailable::NoVariation);
    }
    let p_value = normal_p(diff / se);
    Ok(TestResult {
        p_value,
        significant: p_value < 1.0 - LEVEL,
    })
}

/// Welch's two-sample t test of `mean_a − mean_b` with sample variances and
/// counts; degrees of freedom by Welch–Satterthwaite.
///
/// # Errors
/// [`Unavailable`] when a sample has fewer than two observations or both
/// have no spread.
pub fn welch(
    (mean_a, var_a, n_a): (f64, f64, i64),
    (mean_b, var_b, n_b): (f64, f64, i64),
) -> Result<TestResult, Unavailable> {
    check_n(n_a.min(n_b))?;
    let (a, b) = (var_a / n_a as f64, var_b / n_b as f64);
    let se2 = a + b;
    if se2 <= 0.0 {
        return Err(Unavailable::NoVariation);
    }
    let df = se2 * se2 / (a * a / (n_a - 1) as f64 + b * b / (n_b - 1) as f64);
    let t = (mean_a - mean_b) / se2.sqrt();
    let p_value = t_two_sided_p(t, df);
    Ok(TestResult {
        p_value,
        significant: p_value < 1.0 - LEVEL,
    })
}

/// Pooled two-proportion z test of `x_a/n_a − x_b/n_b`.
///
/// # Errors
/// [`Unavailable`] when a sample has fewer than two answers or the pooled
/// proportion is 0 or 1.
pub fn two_proportions(x_a: i64, n_a: i64, x_b: i64, n_b: i64) -> Result<TestResult, Unavailable> {
    check_n(n_a.min(n_b))?;
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (x_a + x_b) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    z_test(x_a as f64 / na - x_b as f64 / nb, se)
}

/// z test of the difference of two independent NPS (variances summed).
///
/// # Errors
/// [`Unavailable`] when a sample has fewer than two answers or both have no
/// spread.
pub fn nps_difference(
    (promoters_a, detractors_a, n_a): (i64, i64, i64),
    (promoters_b, detractors_b, n_b): (i64, i64, i64),
) -> Result<TestResult, Unavailable> {
    check_n(n_a.min(n_b))?;
    let (nps_a, var_a) = nps_moments(promoters_a, detractors_a, n_a);
    let (nps_b, var_b) = nps_moments(promoters_b, detractors_b, n_b);
    z_test(nps_a - nps_b, (var_a + var_b).sqrt())
}

// ---- distributions ----

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error ≈ 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const P: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = P[0];
    for (i, p) in P.iter().enumerate().skip(1) {
        a += p / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function `I_x(a, b)`.
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Two-sided p-value `P(|T| > |t|)` of Student's t with `df` degrees of freedom.
fn t_two_sided_p(t: f64, df: f64) -> f64 {
    beta_inc(df / 2.0, 0.5, df / (df + t * t))
}

/// The quantile `t(p, df)` of Student's t, `0.5 < p < 1`, by bisection on
/// the distribution function (to the precision of `f64`).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let tail = 2.0 * (1.0 - p);
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_two_sided_p(hi, df) > tail {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_two_sided_p(mid, df) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The complementary error function (`erfc(x) = I` of the regularised
/// incomplete gamma `Q(1/2, x²)`), by its continued fraction for large `x`
/// and its series otherwise (*Numerical Recipes* §6.2).
fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let (a, z) = (0.5, x * x);
    if z == 0.0 {
        return 1.0;
    }
    let ln_front = -z + a * z.ln() - ln_gamma(a);
    if z < a + 1.0 {
        // P(a, z) by its series; erfc = 1 − P.
        let (mut ap, mut sum) = (a, 1.0 / a);
        let mut del = sum;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= z / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * ln_front.exp()
    } else {
        // Q(a, z) by its continued fraction (modified Lentz).
        const TINY: f64 = 1e-300;
        let mut b = z + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let i = f64::from(i);
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-17 {
                break;
            }
        }
        ln_front.exp() * h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    #[test]
    fn t_quantiles_match_tables() {
        close(t_quantile(0.975, 1.0), 12.706_204_736_174_7);
        close(t_quantile(0.975, 2.0), 4.302_652_729_749_464);
        close(t_quantile(0.975, 9.0), 2.262_157_162_798_205);
        close(t_quantile(0.975, 29.0), 2.045_229_642_132_703);
    }

    #[test]
    fn normal_p_values() {
        close(normal_p(Z_975), 0.05);
        close(normal_p(0.0), 1.0);
        close(normal_p(1.0), 0.317_310_507_862_914_1);
        close(normal_p(3.5), 4.652_581_580_710_802e-4);
    }

    #[test]
    fn degenerate_samples_have_reasons_not_nan() {
        assert_eq!(mean_interval(3.0, 0.0, 0), Err(Unavailable::NoResponses));
        assert_eq!(mean_interval(3.0, 0.0, 1), Err(Unavailable::OneResponse));
        assert_eq!(integer_variance(1, 5, 25), Err(Unavailable::OneResponse));
        // All equal: exactly zero width.
        let v = integer_variance(4, 20, 100).expect("n = 4");
        assert_eq!(v, 0.0);
        let b = mean_interval(5.0, v, 4).expect("n = 4");
        assert_eq!((b.low, b.high), (5.0, 5.0));
        // All promoters: NPS 100, a zero-width interval.
        let b = nps_interval(7, 0, 7).expect("n = 7");
        assert_eq!((b.low, b.high), (100.0, 100.0));
        assert_eq!(
            welch((1.0, 0.0, 3), (2.0, 0.0, 3)),
            Err(Unavailable::NoVariation)
        );
        assert_eq!(two_proportions(3, 3, 4, 4), Err(Unavailable::NoVariation));
        let w = wilson(5, 5).expect("n = 5");
        assert!(w.low.is_finite() && w.high == 100.0);
    }

    /// Hidden values computed by `tests/fixtures/confidence/generate.py`
    /// (SciPy), committed as `confidence.json`.
    #[test]
    fn matches_independent_values() {
        let text = include_str!("../../../tests/fixtures/confidence/confidence.json");
        let data: serde_json::Value = serde_json::from_str(text).expect("json");
        let f = |v: &serde_json::Value| v.as_f64().expect("number");
        let i = |v: &serde_json::Value| v.as_i64().expect("integer");
        for case in data["t_quantiles"].as_array().expect("array") {
            close(t_quantile(0.975, f(&case["df"])), f(&case["t"]));
        }
        for case in data["means"].as_array().expect("array") {
            let (n, sum, squares) = (i(&case["n"]), i(&case["sum"]), i(&case["squares"]));
            let var = integer_variance(n, sum, squares).expect("n ≥ 2");
            close(var, f(&case["variance"]));
            let b = mean_interval(sum as f64 / n as f64, var, n).expect("n ≥ 2");
            close(b.low, f(&case["low"]));
            close(b.high, f(&case["high"]));
        }
        for case in data["wilson"].as_array().expect("array") {
            let b = wilson(i(&case["successes"]), i(&case["n"])).expect("n ≥ 2");
            close(b.low, f(&case["low"]));
            close(b.high, f(&case["high"]));
        }
        for case in data["nps"].as_array().expect("array") {
            let b = nps_interval(i(&case["promoters"]), i(&case["detractors"]), i(&case["n"]))
                .expect("n ≥ 2");
            close(b.low, f(&case["low"]));
            close(b.high, f(&case["high"]));
        }
        for case in data["welch"].as_array().expect("array") {
            let side = |s: &serde_json::Value| (f(&s["mean"]), f(&s["variance"]), i(&s["n"]));
            let r = welch(side(&case["a"]), side(&case["b"])).expect("defined");
            close(r.p_value, f(&case["p"]));
            assert_eq!(r.significant, case["significant"].as_bool().expect("bool"));
        }
        for case in data["two_proportions"].as_array().expect("array") {
            let r = two_proportions(
                i(&case["x_a"]),
                i(&case["n_a"]),
                i(&case["x_b"]),
                i(&case["n_b"]),
            )
            .expect("defined");
            close(r.p_value, f(&case["p"]));
            assert_eq!(r.significant, case["significant"].as_bool().expect("bool"));
        }
        for case in data["nps_difference"].as_array().expect("array") {
            let side =
                |s: &serde_json::Value| (i(&s["promoters"]), i(&s["detractors"]), i(&s["n"]));
            let r = nps_difference(side(&case["a"]), side(&case["b"])).expect("defined");
            close(r.p_value, f(&case["p"]));
            assert_eq!(r.significant, case["significant"].as_bool().expect("bool"));
        }
    }

    /// A survey's monthly CSAT and NPS and the tests of each step, from
    /// `tests/fixtures/confidence/survey_trend.py` (the textbook formulas,
    /// standard library only), committed as `survey_trend.json`.
    #[test]
    fn survey_trend_tests_match_the_formula_script() {
        let text = include_str!("../../../tests/fixtures/confidence/survey_trend.json");
        let data: serde_json::Value = serde_json::from_str(text).expect("json");
        let f = |v: &serde_json::Value| v.as_f64().expect("number");
        let i = |v: &serde_json::Value| v.as_i64().expect("integer");
        let months = data["months"].as_array().expect("months");
        for m in months {
            let b = wilson(i(&m["satisfied"]), i(&m["n"])).expect("n ≥ 2");
            close(b.low, f(&m["csat_low"]));
            close(b.high, f(&m["csat_high"]));
            let b =
                nps_interval(i(&m["promoters"]), i(&m["detractors"]), i(&m["n"])).expect("n ≥ 2");
            close(b.low, f(&m["nps_low"]));
            close(b.high, f(&m["nps_high"]));
        }
        for pair in months.windows(2) {
            let (before, now) = (&pair[0], &pair[1]);
            let r = two_proportions(
                i(&now["satisfied"]),
                i(&now["n"]),
                i(&before["satisfied"]),
                i(&before["n"]),
            )
            .expect("defined");
            close(r.p_value, f(&now["csat_change"]["p"]));
            assert_eq!(r.significant, now["csat_change"]["significant"] == true);
            let side =
                |m: &serde_json::Value| (i(&m["promoters"]), i(&m["detractors"]), i(&m["n"]));
            let r = nps_difference(side(now), side(before)).expect("defined");
            close(r.p_value, f(&now["nps_change"]["p"]));
            assert_eq!(r.significant, now["nps_change"]["significant"] == true);
        }
    }
}
