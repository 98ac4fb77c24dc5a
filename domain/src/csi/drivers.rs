//! Key-driver analysis of a CSI report: how much each factor explains of the
//! customers' *overall* satisfaction, derived from the data (Johnson's
//! relative weights), beside the admin-stated weights; and the
//! importance–performance map that places each factor in one of four
//! quadrants.
//!
//! **Data.** A survey marks one RATING question as its overall-satisfaction
//! measure (`survey_questions.overall_satisfaction`). A response counts when
//! it rated *every* factor of the set and answered the overall question
//! (listwise deletion): a regression needs all variables of an observation,
//! and dropping partial responses keeps every sum over the same responses.
//! Loose ratings (recorded without a survey response) have no overall answer
//! and never count.
//!
//! **Speed.** The report's own pass over the ratings ([`super::pass`]),
//! when the report was asked for drivers, or else one pass of their own,
//! pivots each response's ratings over the same rows and filter as the
//! report and returns only sufficient statistics: `n`, `Σxᵢ`, `Σxᵢxⱼ` for
//! every factor pair, `Σy`, `Σy²` and `Σxᵢy`. Nothing per response reaches
//! Rust.
//!
//! **Method** ([`relative_weights`]). From the integer sums, the centred
//! cross-products `Cᵢⱼ = n·Σxᵢxⱼ − Σxᵢ·Σxⱼ` are exact (`i128`); the
//! correlations `rᵢⱼ = Cᵢⱼ / √(Cᵢᵢ·Cⱼⱼ)` follow. With the predictor
//! correlation matrix `Rxx = V·diag(λ)·Vᵀ` (eigen-decomposition, `nalgebra`),
//! `Λ = V·diag(√λ)·Vᵀ` relates the factors to their closest orthogonal
//! counterparts, `β = Λ⁻¹·rxy` regresses the overall rating on those, and
//! factor `j`'s raw relative weight is `εⱼ = Σₖ Λⱼₖ²·βₖ²`. The weights sum to
//! `R²` of the linear regression of overall satisfaction on the factors;
//! `εⱼ / R²` is the factor's derived share.
//!
//! Degenerate data answers `None` with a [`DriversReason`], never NaN or an
//! error.

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use sea_orm::ConnectionTrait;

use crate::csi::factor_sets::{load, versions_of_families};
use crate::csi::pass::{self, DriverColumns, Pass};
use crate::csi::pivot::Scope;
use crate::csi::report::{CsiReport, Rated, ReportQuery};
use crate::csi::types::FactorSet;
use crate::error::DomainResult;
use crate::sql::Sql;

/// Fewest complete responses for derived importance. Below it the estimates
/// swing too much from one response to the next to be shown.
pub const MIN_RESPONSES: i64 = 30;

/// Stated and derived shares "disagree" when they differ by more than this
/// (absolute share: 0.10 is ten percentage points).
pub const DISAGREEMENT_MARGIN: f64 = 0.10;

/// The smallest eigenvalue of the factor correlation matrix below which the
/// factors count as linearly dependent (the matrix's eigenvalues sum to the
/// number of factors, so this is relative to a scale of about 1).
const COLLINEARITY_TOLERANCE: f64 = 1e-10;

/// `R²` at or below which nothing is explained and shares are undefined.
const NOTHING_EXPLAINED: f64 = 1e-12;

/// Why derived importance is not available.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DriversReason {
    /// No survey whose ratings the report reads marks an overall
    /// satisfaction question.
    NoOverallQuestion,
    /// Fewer complete responses than [`MIN_RESPONSES`] (or than the number
    /// of factors + 2).
    TooFewResponses,
    /// A factor has the same rating in every complete response.
    ConstantFactor,
    /// The overall rating is the same in every complete response.
    ConstantOverall,
    /// Some factors are linearly dependent (e.g. two always rated alike).
    CollinearFactors,
    /// The factors explain none of the overall rating (`R² = 0`).
    NothingExplained,
}

/// A degenerate case: the reason and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Degenerate {
    pub reason: DriversReason,
    pub message: String,
}

impl Degenerate {
    fn new(reason: DriversReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// Sufficient statistics of complete responses: factor ratings `x` (in the
/// set's factor order) and the overall rating `y`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Moments {
    /// Complete responses.
    pub n: i64,
    /// `Σxᵢ` per factor.
    pub sum_x: Vec<i64>,
    /// `Σxᵢxⱼ`, a full symmetric `p × p` matrix, row-major.
    pub sum_xx: Vec<i64>,
    /// `Σy`.
    pub sum_y: i64,
    /// `Σy²`.
    pub sum_yy: i64,
    /// `Σxᵢy` per factor.
    pub sum_xy: Vec<i64>,
}

impl Moments {
    /// The number of factors.
    pub fn factors(&self) -> usize {
        self.sum_x.len()
    }

    /// The statistics of no response, for `p` factors.
    pub(super) fn zero(p: usize) -> Self {
        Self {
            sum_x: vec![0; p],
            sum_xx: vec![0; p * p],
            sum_xy: vec![0; p],
            ..Self::default()
        }
    }

    /// Adds the statistics of another, disjoint sample of the same factors.
    pub(super) fn add(&mut self, other: &Moments) {
        let add = |a: &mut Vec<i64>, b: &[i64]| {
            for (a, b) in a.iter_mut().zip(b) {
                *a += b;
            }
        };
        self.n += other.n;
        self.sum_y += other.sum_y;
        self.sum_yy += other.sum_yy;
        add(&mut self.sum_x, &other.sum_x);
        add(&mut self.sum_xx, &other.sum_xx);
        add(&mut self.sum_xy, &other.sum_xy);
    }
}

/// The result of Johnson's relative weights.
#[derive(Clone, Debug, PartialEq)]
pub struct RelativeWeights {
    /// Variance of the overall rating explained by the factors together.
    pub r_squared: f64,
    /// Each factor's raw relative weight; they sum to `r_squared`.
    pub raw: Vec<f64>,
}

impl RelativeWeights {
    /// Each factor's share of `R²`; the shares sum to 1.
    pub fn shares(&self) -> Vec<f64> {
        self.raw.iter().map(|w| w / self.r_squared).collect()
    }
}

/// Johnson's relative weights from sufficient statistics; `keys` names the
/// factors (same order) for messages.
///
/// # Errors
/// A [`Degenerate`] case: too few responses, a constant factor or overall
/// rating, linearly dependent factors, nothing explained.
pub fn relative_weights(m: &Moments, keys: &[&str]) -> Result<RelativeWeights, Degenerate> {
    let p = m.factors();
    let minimum = MIN_RESPONSES.max(p as i64 + 2);
    if m.n < minimum {
        return Err(Degenerate::new(
            DriversReason::TooFewResponses,
            format!(
                "{} complete responses (every factor and the overall question answered); at least {minimum} are needed",
                m.n
            ),
        ));
    }
    let n = i128::from(m.n);
    // Centred cross-products, exact: n·Σab − Σa·Σb = n²·cov(a, b).
    let c = |sab: i64, sa: i64, sb: i64| n * i128::from(sab) - i128::from(sa) * i128::from(sb);
    let cxx: Vec<i128> = (0..p * p)
        .map(|k| c(m.sum_xx[k], m.sum_x[k / p], m.sum_x[k % p]))
        .collect();
    let cyy = c(m.sum_yy, m.sum_y, m.sum_y);
    let cxy: Vec<i128> = (0..p)
        .map(|i| c(m.sum_xy[i], m.sum_x[i], m.sum_y))
        .collect();
    if let Some(i) = (0..p).find(|&i| cxx[i * p + i] == 0) {
        return Err(Degenerate::new(
            DriversReason::ConstantFactor,
            format!(
                "factor {} has the same rating in every complete response, so it cannot explain differences",
                keys.get(i).copied().unwrap_or("?")
            ),
        ));
    }
    if cyy == 0 {
        return Err(Degenerate::new(
            DriversReason::ConstantOverall,
            "the overall satisfaction rating is the same in every complete response: there is nothing to explain",
        ));
    }
    let sd: Vec<f64> = (0..p).map(|i| (cxx[i * p + i] as f64).sqrt()).collect();
    let sd_y = (cyy as f64).sqrt();
    let rxx = DMatrix::from_fn(p, p, |i, j| {
        if i == j {
            1.0
        } else {
            cxx[i * p + j] as f64 / (sd[i] * sd[j])
        }
    });
    let rxy = DVector::from_fn(p, |i, _| cxy[i] as f64 / (sd[i] * sd_y));

    // Two factors whose centred ratings are proportional are named.
    for i in 0..p {
        for j in i + 1..p {
            if cxx[i * p + j] * cxx[i * p + j] == cxx[i * p + i] * cxx[j * p + j] {
                return Err(Degenerate::new(
                    DriversReason::CollinearFactors,
                    format!(
                        "factors {} and {} are perfectly correlated, so their separate effects cannot be told apart",
                        keys.get(i).copied().unwrap_or("?"),
                        keys.get(j).copied().unwrap_or("?")
                    ),
                ));
            }
        }
    }
    johnson(rxx, &rxy)
}

/// Johnson's relative weights from the factor correlation matrix `rxx` and
/// the factors' correlations with the overall rating `rxy`.
///
/// # Errors
/// [`DriversReason::CollinearFactors`] when `rxx` is (nearly) singular;
/// [`DriversReason::NothingExplained`] when `R² = 0`.
pub fn johnson(rxx: DMatrix<f64>, rxy: &DVector<f64>) -> Result<RelativeWeights, Degenerate> {
    let p = rxx.nrows();
    let eigen = SymmetricEigen::new(rxx);
    if eigen
        .eigenvalues
        .iter()
        .any(|&l| l <= COLLINEARITY_TOLERANCE)
    {
        return Err(Degenerate::new(
            DriversReason::CollinearFactors,
            "some factors' ratings are linearly dependent (one follows from others), so their separate effects cannot be told apart",
        ));
    }
    let v = &eigen.eigenvectors;
    let lambda = v * DMatrix::from_diagonal(&eigen.eigenvalues.map(f64::sqrt)) * v.transpose();
    let lambda_inverse =
        v * DMatrix::from_diagonal(&eigen.eigenvalues.map(|l| 1.0 / l.sqrt())) * v.transpose();
    let beta = lambda_inverse * rxy;
    let raw: Vec<f64> = (0..p)
        .map(|j| {
            (0..p)
                .map(|k| lambda[(j, k)].powi(2) * beta[k].powi(2))
                .sum()
        })
        .collect();
    let r_squared: f64 = raw.iter().sum();
    if !r_squared.is_finite() || r_squared <= NOTHING_EXPLAINED {
        return Err(Degenerate::new(
            DriversReason::NothingExplained,
            "the factors explain none of the variation in overall satisfaction",
        ));
    }
    Ok(RelativeWeights { r_squared, raw })
}

/// One factor's stated and derived importance.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverFactor {
    pub key: String,
    pub label: String,
    /// `weight / Σ weights` of the report's version.
    pub stated_share: f64,
    /// Johnson's raw relative weight (a part of `R²`).
    pub relative_weight: Option<f64>,
    /// `relative_weight / R²`; the shares sum to 1.
    pub derived_share: Option<f64>,
    /// `|stated_share − derived_share| > DISAGREEMENT_MARGIN`.
    pub disagrees: Option<bool>,
}

/// Derived importance of a report's factors.
#[derive(Clone, Debug, PartialEq)]
pub struct Drivers {
    /// Complete responses used.
    pub responses: i64,
    /// `R²` of overall satisfaction on the factors; `None` with a reason.
    pub r_squared: Option<f64>,
    /// Why the figures are `None`.
    pub unavailable: Option<Degenerate>,
    /// In the set's factor order.
    pub factors: Vec<DriverFactor>,
}

/// Each factor's `weight / Σ weights` as a float.
fn stated_shares(set: &FactorSet) -> Vec<f64> {
    set.factors
        .iter()
        .map(|f| {
            let part = f64::try_from(f.share.part).unwrap_or(0.0);
            let whole = f64::try_from(f.share.whole).unwrap_or(0.0);
            if whole > 0.0 {
                part / whole
            } else {
                0.0
            }
        })
        .collect()
}

/// Derived importance of the factors of `set` (stated weights) from
/// `moments` of complete responses — the arithmetic of [`drivers`], without
/// the database.
pub fn analyse(set: &FactorSet, moments: &Moments) -> Drivers {
    let keys: Vec<&str> = set.factors.iter().map(|f| f.key.as_str()).collect();
    let stated = stated_shares(set);
    let result = relative_weights(moments, &keys);
    let (r_squared, raw, shares, unavailable) = match result {
        Ok(w) => {
            let shares = w.shares();
            (Some(w.r_squared), Some(w.raw), Some(shares), None)
        }
        Err(why) => (None, None, None, Some(why)),
    };
    let factors = set
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let derived = shares.as_ref().map(|s| s[i]);
            DriverFactor {
                key: f.key.clone(),
                label: f.label.clone(),
                stated_share: stated[i],
                relative_weight: raw.as_ref().map(|r| r[i]),
                derived_share: derived,
                disagrees: derived.map(|d| (stated[i] - d).abs() > DISAGREEMENT_MARGIN),
            }
        })
        .collect();
    Drivers {
        responses: moments.n,
        r_squared,
        unavailable,
        factors,
    }
}

/// Derived importance for `report`: its version's factors and stated
/// weights, over the ratings, period and filter the report read. The sums
/// come from the report's own pass when it read them
/// ([`super::report::ReportQuery::drivers`]), otherwise from one pass of
/// their own.
///
/// # Errors
/// Database failures.
#[tracing::instrument(skip(db, report), fields(factor_set_id = report.query.factor_set_id))]
pub async fn drivers(db: &impl ConnectionTrait, report: &CsiReport) -> DomainResult<Drivers> {
    let set = &report.factor_set;
    let query = &report.query;
    let inputs = inputs(db, set, query).await?;
    if inputs.overall.is_empty() {
        let mut out = analyse(set, &Moments::default());
        out.unavailable = Some(Degenerate::new(
            DriversReason::NoOverallQuestion,
            "no survey of this factor set marks an overall satisfaction question (SurveyQuestionInput.isOverallSatisfaction)",
        ));
        return Ok(out);
    }
    let moments = if inputs.ids.iter().any(Vec::is_empty) {
        // A factor no rated version has: no response rated every factor.
        Moments::default()
    } else if let Some(moments) = &report.along.drivers {
        moments.clone()
    } else {
        moments(db, &inputs, query).await?
    };
    Ok(analyse(set, &moments))
}

/// What derived importance reads: whose ratings, per factor of the
/// reported set the rated factor ids counting for it (by key), and the
/// overall-satisfaction questions.
pub(super) struct Inputs {
    rated: Rated,
    ids: Vec<Vec<i64>>,
    overall: Vec<i64>,
}

impl Inputs {
    /// The pass columns of [`Self::ids`] among a pass's `factor_ids`;
    /// `None` when there is nothing to read (no overall question, a factor
    /// no rated version has, an id the pass lacks).
    pub(super) fn columns(&self, factor_ids: &[i64]) -> Option<DriverColumns<'_>> {
        if self.overall.is_empty() {
            return None;
        }
        let keys = self
            .ids
            .iter()
            .map(|ids| {
                let columns: Option<Vec<usize>> = ids
                    .iter()
                    .map(|id| factor_ids.iter().position(|f| f == id))
                    .collect();
                columns.filter(|c| !c.is_empty())
            })
            .collect::<Option<Vec<_>>>()?;
        Some(DriverColumns {
            overall: &self.overall,
            keys,
        })
    }
}

/// The [`Inputs`] of a report of `set` (the version whose factors and
/// weights apply) answering `query`.
///
/// # Errors
/// Database failures.
pub(super) async fn inputs(
    db: &impl ConnectionTrait,
    set: &FactorSet,
    query: &ReportQuery,
) -> DomainResult<Inputs> {
    let (rated, versions): (Rated, Vec<FactorSet>) = if query.across_family {
        let versions = versions_of_families(db, &[query.factor_set_id])
            .await?
            .remove(&query.factor_set_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.published_at.is_some())
            .collect();
        (Rated::Family(query.factor_set_id), versions)
    } else {
        let version = if query.factor_set_id == set.id {
            set.clone()
        } else {
            load(db, query.factor_set_id).await?
        };
        (Rated::Version(query.factor_set_id), vec![version])
    };
    let ids: Vec<Vec<i64>> = set
        .factors
        .iter()
        .map(|f| {
            versions
                .iter()
                .filter_map(|v| v.factor(&f.key).map(|r| r.id))
                .collect()
        })
        .collect();
    let version_ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let overall = overall_questions(db, &version_ids, query.filter.survey_id).await?;
    Ok(Inputs {
        rated,
        ids,
        overall,
    })
}

/// The overall-satisfaction questions of the surveys bound to `versions`
/// (only of `survey_id` when given).
async fn overall_questions(
    db: &impl ConnectionTrait,
    versions: &[i64],
    survey_id: Option<i64>,
) -> DomainResult<Vec<i64>> {
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT q.id AS id FROM survey_questions q JOIN surveys s ON s.id = q.survey_id \
         WHERE q.overall_satisfaction AND ",
    )
    .id_in("s.factor_set_id", versions);
    if let Some(survey) = survey_id {
        sql.push(" AND s.id = ").bind(survey);
    }
    sql.push(" ORDER BY q.id");
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<i64>("", "id")?))
        .collect()
}

/// The sums of complete responses in one pass of their own ([`pass`]).
async fn moments(
    db: &impl ConnectionTrait,
    inputs: &Inputs,
    query: &ReportQuery,
) -> DomainResult<Moments> {
    let mut factor_ids: Vec<i64> = inputs.ids.iter().flatten().copied().collect();
    factor_ids.sort_unstable();
    factor_ids.dedup();
    let p = inputs.ids.len();
    let mut total = Moments::zero(p);
    let groups = pass::run(
        db,
        &Pass {
            scope: Scope {
                rated: inputs.rated,
                from: query.from,
                to: query.to,
                filter: &query.filter,
            },
            factor_ids: &factor_ids,
            bucket: None,
            index: None,
            segment: None,
            drivers: inputs.columns(&factor_ids),
        },
    )
    .await?;
    for group in groups {
        total.add(&group.drivers);
    }
    Ok(total)
}

/// Where a factor's importance comes from on the importance–performance map.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImportanceBasis {
    /// The configured weights' shares.
    Stated,
    /// The derived shares ([`drivers`]).
    Derived,
}

/// A quadrant of the importance–performance map. "High" means at or above
/// the cross-hair (the mean over the placed factors).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Quadrant {
    /// High importance, high performance.
    KeepUpTheGoodWork,
    /// High importance, low performance.
    ConcentrateHere,
    /// Low importance, low performance.
    LowPriority,
    /// Low importance, high performance.
    PossibleOverkill,
}

/// One factor on the map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapPoint {
    pub key: String,
    pub label: String,
    /// The factor's share of importance (stated or derived).
    pub importance: Option<f64>,
    /// The factor's mean rating on the set's scale.
    pub performance: Option<f64>,
    /// `None` when either coordinate is.
    pub quadrant: Option<Quadrant>,
}

/// The importance–performance map of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportancePerformance {
    pub basis: ImportanceBasis,
    /// Mean importance over the placed factors: the vertical cross-hair.
    pub importance_crosshair: Option<f64>,
    /// Mean performance over the placed factors: the horizontal cross-hair.
    pub performance_crosshair: Option<f64>,
    /// Why no factor is placed (derived basis without derived importance).
    pub unavailable: Option<Degenerate>,
    /// In the set's factor order.
    pub points: Vec<MapPoint>,
}

/// The quadrants of `(importance, performance)` points with cross-hairs at
/// the means over the points that have both; `(crosshairs, quadrants)`.
pub fn quadrants(
    points: &[(Option<f64>, Option<f64>)],
) -> (Option<(f64, f64)>, Vec<Option<Quadrant>>) {
    let placed: Vec<(f64, f64)> = points.iter().filter_map(|&(i, p)| Some((i?, p?))).collect();
    if placed.is_empty() {
        return (None, vec![None; points.len()]);
    }
    let count = placed.len() as f64;
    let importance = placed.iter().map(|p| p.0).sum::<f64>() / count;
    let performance = placed.iter().map(|p| p.1).sum::<f64>() / count;
    let quadrant = |(i, p): (f64, f64)| match (i >= importance, p >= performance) {
        (true, true) => Quadrant::KeepUpTheGoodWork,
        (true, false) => Quadrant::ConcentrateHere,
        (false, false) => Quadrant::LowPriority,
        (false, true) => Quadrant::PossibleOverkill,
    };
    let out = points
        .iter()
        .map(|&(i, p)| Some(quadrant((i?, p?))))
        .collect();
    (Some((importance, performance)), out)
}

/// The importance–performance map of `report`: importance from the stated
/// weights or from `drivers` (needed for [`ImportanceBasis::Derived`]),
/// performance the report's factor means.
pub fn importance_performance(
    report: &CsiReport,
    basis: ImportanceBasis,
    drivers: Option<&Drivers>,
) -> ImportancePerformance {
    let set = &report.factor_set;
    let stated = stated_shares(set);
    let means: HashMap<&str, Option<f64>> = report
        .factors
        .iter()
        .map(|f| (f.key.as_str(), f.mean.and_then(|m| f64::try_from(m).ok())))
        .collect();
    let derived: HashMap<&str, Option<f64>> = drivers
        .map(|d| {
            d.factors
                .iter()
                .map(|f| (f.key.as_str(), f.derived_share))
                .collect()
        })
        .unwrap_or_default();
    let coordinates: Vec<(Option<f64>, Option<f64>)> = set
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let importance = match basis {
                ImportanceBasis::Stated => Some(stated[i]),
                ImportanceBasis::Derived => derived.get(f.key.as_str()).copied().flatten(),
            };
            (importance, means.get(f.key.as_str()).copied().flatten())
        })
        .collect();
    let (crosshairs, placed) = quadrants(&coordinates);
    let unavailable = match basis {
        ImportanceBasis::Derived => drivers.and_then(|d| d.unavailable.clone()),
        ImportanceBasis::Stated => None,
    };
    ImportancePerformance {
        basis,
        importance_crosshair: crosshairs.map(|c| c.0),
        performance_crosshair: crosshairs.map(|c| c.1),
        unavailable,
        points: set
            .factors
            .iter()
            .zip(coordinates)
            .zip(placed)
            .map(|((f, (importance, performance)), quadrant)| MapPoint {
                key: f.key.clone(),
                label: f.label.clone(),
                importance,
                performance,
                quadrant,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Data sets and numpy's expected values (tests/fixtures/csi_drivers).
    const DATASETS: &str = include_str!("../../../tests/fixtures/csi_drivers/datasets.json");

    /// The sufficient statistics of a data set's complete responses, as the
    /// SQL statement sums them.
    fn moments_of(set: &Value) -> Moments {
        let p = set["keys"].as_array().expect("keys").len();
        let mut m = Moments {
            sum_x: vec![0; p],
            sum_xx: vec![0; p * p],
            sum_xy: vec![0; p],
            ..Moments::default()
        };
        for response in set["responses"].as_array().expect("responses") {
            let xs: Option<Vec<i64>> = response["factors"]
                .as_array()
                .expect("factors")
                .iter()
                .map(Value::as_i64)
                .collect();
            let (Some(xs), Some(y)) = (xs, response["overall"].as_i64()) else {
                continue;
            };
            m.n += 1;
            m.sum_y += y;
            m.sum_yy += y * y;
            for i in 0..p {
                m.sum_x[i] += xs[i];
                m.sum_xy[i] += xs[i] * y;
                for j in 0..p {
                    m.sum_xx[i * p + j] += xs[i] * xs[j];
                }
            }
        }
        m
    }

    fn reason_name(reason: DriversReason) -> &'static str {
        match reason {
            DriversReason::NoOverallQuestion => "NO_OVERALL_QUESTION",
            DriversReason::TooFewResponses => "TOO_FEW_RESPONSES",
            DriversReason::ConstantFactor => "CONSTANT_FACTOR",
            DriversReason::ConstantOverall => "CONSTANT_OVERALL",
            DriversReason::CollinearFactors => "COLLINEAR_FACTORS",
            DriversReason::NothingExplained => "NOTHING_EXPLAINED",
        }
    }

    fn close(actual: f64, expected: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= 1e-9,
            "{what}: {actual} vs numpy {expected}"
        );
    }

    #[test]
    fn relative_weights_match_numpy_to_1e_9() {
        let fixture: Value = serde_json::from_str(DATASETS).expect("fixture");
        let sets = fixture["datasets"].as_array().expect("datasets");
        assert_eq!(sets.len(), 8);
        for set in sets {
            let name = set["name"].as_str().expect("name");
            let keys: Vec<&str> = set["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .map(|k| k.as_str().expect("key"))
                .collect();
            let moments = moments_of(set);
            let expected = &set["expected"];
            assert_eq!(
                moments.n,
                expected["responses"].as_i64().expect("n"),
                "{name}"
            );
            match (
                relative_weights(&moments, &keys),
                expected["reason"].as_str(),
            ) {
                (Ok(weights), None) => {
                    close(
                        weights.r_squared,
                        expected["rSquared"].as_f64().expect("r2"),
                        name,
                    );
                    let shares = weights.shares();
                    for (i, raw) in weights.raw.iter().enumerate() {
                        close(
                            *raw,
                            expected["relativeWeights"][i].as_f64().expect("raw"),
                            name,
                        );
                        close(
                            shares[i],
                            expected["shares"][i].as_f64().expect("share"),
                            name,
                        );
                    }
                    close(shares.iter().sum(), 1.0, name);
                }
                (Err(why), Some(reason)) => {
                    assert_eq!(reason_name(why.reason), reason, "{name}: {}", why.message);
                }
                (got, want) => panic!("{name}: got {got:?}, expected {want:?}"),
            }
        }
    }

    #[test]
    fn the_documented_worked_example() {
        // docs/csi.md: r(quality, price) = 0.6, with overall 0.7 and 0.5.
        let rxx = DMatrix::from_row_slice(2, 2, &[1.0, 0.6, 0.6, 1.0]);
        let rxy = DVector::from_row_slice(&[0.7, 0.5]);
        let weights = johnson(rxx, &rxy).expect("weights");
        close(weights.raw[0], 0.37, "quality");
        close(weights.raw[1], 0.13, "price");
        close(weights.r_squared, 0.50, "R²");
        let shares = weights.shares();
        close(shares[0], 0.74, "quality share");
        close(shares[1], 0.26, "price share");
    }

    #[test]
    fn one_factor_weighs_its_squared_correlation() {
        // x = 1..=40, y = x for the first 20 and 41 − x after: r known.
        let p = 1;
        let mut m = Moments {
            sum_x: vec![0; p],
            sum_xx: vec![0; p],
            sum_xy: vec![0; p],
            ..Moments::default()
        };
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for i in 0..40_i64 {
            let x = i % 5 + 1;
            let y = if i % 3 == 0 { 6 - x } else { x };
            xs.push(x as f64);
            ys.push(y as f64);
            m.n += 1;
            m.sum_x[0] += x;
            m.sum_xx[0] += x * x;
            m.sum_xy[0] += x * y;
            m.sum_y += y;
            m.sum_yy += y * y;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mx, my) = (mean(&xs), mean(&ys));
        let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
        let r = cov / (vx * vy).sqrt();
        let weights = relative_weights(&m, &["quality"]).expect("weights");
        close(weights.r_squared, r * r, "R²");
        close(weights.raw[0], r * r, "raw");
        close(weights.shares()[0], 1.0, "share");
    }

    #[test]
    fn no_responses_and_too_few_for_many_factors_are_too_few() {
        let none = relative_weights(&Moments::default(), &[]).expect_err("no data");
        assert_eq!(none.reason, DriversReason::TooFewResponses);
        // 40 responses but 40 factors: more than 30, fewer than factors + 2.
        let p = 40;
        let m = Moments {
            n: 40,
            sum_x: vec![0; p],
            sum_xx: vec![0; p * p],
            sum_xy: vec![0; p],
            ..Moments::default()
        };
        let why = relative_weights(&m, &[]).expect_err("too few");
        assert_eq!(why.reason, DriversReason::TooFewResponses);
        assert!(why.message.contains("at least 42"), "{}", why.message);
    }

    #[test]
    fn perfectly_correlated_factors_are_named() {
        let fixture: Value = serde_json::from_str(DATASETS).expect("fixture");
        let set = fixture["datasets"]
            .as_array()
            .expect("datasets")
            .iter()
            .find(|s| s["name"] == "perfectly_correlated")
            .expect("set");
        let why = relative_weights(&moments_of(set), &["quality", "price"]).expect_err("singular");
        assert!(why.message.contains("quality and price"), "{}", why.message);
    }

    #[test]
    fn quadrants_use_cross_hairs_at_the_means() {
        // importance mean 0.25, performance mean 3.5.
        let points = [
            (Some(0.4), Some(4.5)), // high, high
            (Some(0.3), Some(2.0)), // high, low
            (Some(0.2), Some(3.0)), // low, low
            (Some(0.1), Some(4.5)), // low, high
            (Some(0.9), None),      // not placed, not counted
        ];
        let (crosshairs, placed) = quadrants(&points);
        let (importance, performance) = crosshairs.expect("crosshairs");
        close(importance, 0.25, "importance cross-hair");
        close(performance, 3.5, "performance cross-hair");
        assert_eq!(
            placed,
            vec![
                Some(Quadrant::KeepUpTheGoodWork),
                Some(Quadrant::ConcentrateHere),
                Some(Quadrant::LowPriority),
                Some(Quadrant::PossibleOverkill),
                None,
            ]
        );
        // On a cross-hair counts as high.
        let (_, tie) = quadrants(&[(Some(0.5), Some(3.0)), (Some(0.5), Some(3.0))]);
        assert_eq!(tie, vec![Some(Quadrant::KeepUpTheGoodWork); 2]);
        assert_eq!(quadrants(&[(None, Some(1.0))]), (None, vec![None]));
    }
}
