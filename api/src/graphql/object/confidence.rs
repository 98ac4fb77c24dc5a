//! Confidence intervals and significance tests beside reported figures
//! (CSI report, survey results): how sure a figure is, and whether a change
//! is more than chance. Methods in docs/csi.md#confidence.

use async_graphql::{Enum, Object};
use domain::csi::confidence;

use crate::graphql::scalar::Decimal;

/// How an interval was computed.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::confidence::Method")]
pub enum ConfidenceMethod {
    /// Student's t interval of a mean: `mean ± t(0.975, n − 1) · s / √n`.
    StudentT,
    /// Wilson score interval of a proportion (CSAT).
    Wilson,
    /// Normal interval of `%promoters − %detractors` with the multinomial
    /// variance, clipped to −100..100 (NPS).
    NpsNormal,
}

/// Why an interval or a test has no figure.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::confidence::Unavailable")]
pub enum ConfidenceUnavailable {
    /// Nothing was answered.
    NoResponses,
    /// One answer: its spread cannot be estimated.
    OneResponse,
    /// Every answer of both compared periods equals its period's mean, so
    /// the test is undefined.
    NoVariation,
}

/// A 95 % confidence interval of a figure, or why it has none.
pub struct ConfidenceInterval(pub confidence::Confidence);

#[Object]
impl ConfidenceInterval {
    /// Lower bound, rounded as the figure; null with `unavailableReason`.
    async fn low(&self) -> Option<Decimal> {
        self.0.low.map(Into::into)
    }
    /// Upper bound, rounded as the figure; null with `unavailableReason`.
    async fn high(&self) -> Option<Decimal> {
        self.0.high.map(Into::into)
    }
    /// The confidence level, `0.95`.
    async fn level(&self) -> Decimal {
        rust_decimal::Decimal::new(95, 2).into()
    }
    /// How the interval was computed.
    async fn method(&self) -> ConfidenceMethod {
        self.0.method.into()
    }
    /// The observations behind the figure (responses, ratings or answers).
    async fn sample_size(&self) -> i64 {
        self.0.sample_size
    }
    /// Why `low` and `high` are null (fewer than two observations).
    async fn unavailable_reason(&self) -> Option<ConfidenceUnavailable> {
        self.0.reason.map(Into::into)
    }
}

/// A two-sided test at the 95 % level of whether a figure changed.
pub struct SignificanceTest(pub confidence::Significance);

#[Object]
impl SignificanceTest {
    /// True when the change is significant (`pValue < 0.05`); null with
    /// `unavailableReason`.
    async fn significant(&self) -> Option<bool> {
        self.0.significant
    }
    /// The two-sided p-value, 4 decimals.
    async fn p_value(&self) -> Option<Decimal> {
        self.0.p_value.map(Into::into)
    }
    /// Why the test has no result.
    async fn unavailable_reason(&self) -> Option<ConfidenceUnavailable> {
        self.0.reason.map(Into::into)
    }
}
