//! Key-driver analysis on the CSI report: derived importance beside the
//! stated weights (`CsiReport.drivers`) and the importance–performance map
//! (`CsiReport.importancePerformance`), both computed only when selected.

use async_graphql::{Context, Enum, Object};
use domain::csi::drivers::{
    DriverFactor, Drivers, ImportanceBasis, ImportancePerformance, MapPoint, DISAGREEMENT_MARGIN,
    MIN_RESPONSES,
};
use tokio::sync::OnceCell;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;

/// The derived importance of one report, computed at most once however many
/// fields ask for it.
#[derive(Default)]
pub struct DriversCell(OnceCell<Drivers>);

impl DriversCell {
    /// The report's derived importance, computed on first use.
    ///
    /// # Errors
    /// `FORBIDDEN` without the right to read reports; database failures.
    pub async fn get(
        &self,
        ctx: &Context<'_>,
        report: &domain::csi::CsiReport,
    ) -> ApiResult<&Drivers> {
        self.0
            .get_or_try_init(|| async {
                let actor = ctx.actor()?;
                ApiResult::Ok(ctx.services()?.csi.drivers(actor, report).await?)
            })
            .await
    }
}

/// Why derived importance is not available.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::drivers::DriversReason")]
pub enum CsiDriversReason {
    /// No survey of the report's ratings marks an overall satisfaction
    /// question (`SurveyQuestionInput.isOverallSatisfaction`).
    NoOverallQuestion,
    /// Fewer complete responses than `minimumResponses` (or than the number
    /// of factors + 2).
    TooFewResponses,
    /// A factor has the same rating in every complete response.
    ConstantFactor,
    /// The overall rating is the same in every complete response.
    ConstantOverall,
    /// Some factors are linearly dependent (e.g. two always rated alike).
    CollinearFactors,
    /// The factors explain none of the overall rating.
    NothingExplained,
}

/// Where importance comes from on the importance–performance map.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::drivers::ImportanceBasis")]
pub enum CsiImportanceBasis {
    /// The configured weights' shares (`weight / Σ weights`).
    Stated,
    /// The derived shares of `CsiReport.drivers`.
    Derived,
}

/// A quadrant of the importance–performance map; "high" is at or above the
/// cross-hair.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::csi::drivers::Quadrant")]
pub enum CsiQuadrant {
    /// High importance, high performance.
    KeepUpTheGoodWork,
    /// High importance, low performance.
    ConcentrateHere,
    /// Low importance, low performance.
    LowPriority,
    /// Low importance, high performance.
    PossibleOverkill,
}

/// Derived importance: Johnson's relative weights of a linear regression of
/// the overall satisfaction rating on the factor ratings, over the complete
/// responses of the report's period and filter (docs/csi.md).
pub struct CsiDrivers(pub Drivers);

#[Object]
impl CsiDrivers {
    /// Complete responses used: every factor rated and the overall question
    /// answered (others are left out).
    async fn response_count(&self) -> i64 {
        self.0.responses
    }
    /// Fewest complete responses for figures (30; more with many factors:
    /// factors + 2).
    async fn minimum_responses(&self) -> i64 {
        MIN_RESPONSES
    }
    /// Share of the overall rating's variance the factors explain together,
    /// 0..1; null with a `reason`.
    async fn r_squared(&self) -> Option<f64> {
        self.0.r_squared
    }
    /// Why the figures are null; null when they are not.
    async fn reason(&self) -> Option<CsiDriversReason> {
        self.0.unavailable.as_ref().map(|d| d.reason.into())
    }
    /// `reason` in a sentence.
    async fn message(&self) -> Option<&str> {
        self.0.unavailable.as_ref().map(|d| d.message.as_str())
    }
    /// The margin beyond which stated and derived shares disagree (0.10).
    async fn disagreement_margin(&self) -> f64 {
        DISAGREEMENT_MARGIN
    }
    /// Per factor, in the set's order.
    async fn factors(&self) -> Vec<CsiDriverFactor> {
        self.0
            .factors
            .iter()
            .cloned()
            .map(CsiDriverFactor)
            .collect()
    }
}

/// One factor's stated and derived importance.
pub struct CsiDriverFactor(pub DriverFactor);

#[Object]
impl CsiDriverFactor {
    /// Factor key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Factor label.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// The configured weight's share, `weight / Σ weights`.
    async fn stated_share(&self) -> f64 {
        self.0.stated_share
    }
    /// The factor's raw relative weight: its part of `rSquared`.
    async fn relative_weight(&self) -> Option<f64> {
        self.0.relative_weight
    }
    /// `relativeWeight / rSquared`: the factor's share of the explained
    /// variance; the shares sum to 1.
    async fn derived_share(&self) -> Option<f64> {
        self.0.derived_share
    }
    /// Whether `|statedShare − derivedShare|` exceeds `disagreementMargin`.
    async fn disagrees(&self) -> Option<bool> {
        self.0.disagrees
    }
}

/// The importance–performance map: each factor's importance and
/// performance, and the cross-hairs (the means over the placed factors)
/// dividing the four quadrants.
pub struct CsiImportancePerformance(pub ImportancePerformance);

#[Object]
impl CsiImportancePerformance {
    /// Where importance comes from.
    async fn basis(&self) -> CsiImportanceBasis {
        self.0.basis.into()
    }
    /// Mean importance of the placed factors: the vertical cross-hair.
    async fn importance_crosshair(&self) -> Option<f64> {
        self.0.importance_crosshair
    }
    /// Mean performance of the placed factors: the horizontal cross-hair.
    async fn performance_crosshair(&self) -> Option<f64> {
        self.0.performance_crosshair
    }
    /// With basis `DERIVED`: why derived importance is not available.
    async fn reason(&self) -> Option<CsiDriversReason> {
        self.0.unavailable.as_ref().map(|d| d.reason.into())
    }
    /// Per factor, in the set's order.
    async fn points(&self) -> Vec<CsiMapPoint> {
        self.0.points.iter().cloned().map(CsiMapPoint).collect()
    }
}

/// One factor on the importance–performance map.
pub struct CsiMapPoint(pub MapPoint);

#[Object]
impl CsiMapPoint {
    /// Factor key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Factor label.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// The factor's importance share (stated or derived); null when not known.
    async fn importance(&self) -> Option<f64> {
        self.0.importance
    }
    /// The factor's mean rating on the set's scale (the report's `mean`);
    /// null without ratings.
    async fn performance(&self) -> Option<f64> {
        self.0.performance
    }
    /// Null when either coordinate is.
    async fn quadrant(&self) -> Option<CsiQuadrant> {
        self.0.quadrant.map(Into::into)
    }
}

/// `CsiReport.importancePerformance`: the derived basis reads (and shares)
/// the report's derived importance.
///
/// # Errors
/// `FORBIDDEN` without the right to read reports; database failures.
pub async fn importance_performance(
    ctx: &Context<'_>,
    report: &domain::csi::CsiReport,
    cell: &DriversCell,
    basis: CsiImportanceBasis,
) -> ApiResult<CsiImportancePerformance> {
    let basis: ImportanceBasis = basis.into();
    let drivers = match basis {
        ImportanceBasis::Derived => Some(cell.get(ctx, report).await?),
        ImportanceBasis::Stated => None,
    };
    let actor = ctx.actor()?;
    Ok(CsiImportancePerformance(
        ctx.services()?
            .csi
            .importance_performance(actor, report, basis, drivers)?,
    ))
}
