//! One pass over a report's ratings for every figure asked for at once: the
//! report's sums per trend bucket, the moments of the responses' own
//! indices, the sums per customer segment and the cross-products of derived
//! importance.
//!
//! Three levels, one statement:
//! 1. the per-response rows of [`super::pivot`] (one column `xᵢ` per rated
//!    factor), each joined once to its customer's segment and to its answer
//!    of the overall-satisfaction question, when asked for;
//! 2. those rows counted per distinct (bucket, segment, rating count,
//!    `x₀ … xₚ`, overall rating): a histogram. Ratings are small integers,
//!    so a million responses on a 1..5 scale with four factors fall into a
//!    few thousand cells, and each cell's response index (and whether it
//!    is complete for derived importance) is computed once per cell;
//! 3. the cells summed per (bucket, segment): `n·xᵢ`, `n·xᵢ²`, `n·xᵢ·xⱼ`,
//!    `n·xᵢ·y` and so on. Every sum is an exact integer.
//!
//! A cell holds many responses, so SQLite evaluates the dozens of sums once
//! per cell instead of once per response; the one sort of the per-response
//! rows is the one the report's grouping needed anyway.
//!
//! **Exactness.** As in [`super::pivot`]: a factor rated twice in one
//! response makes its column a sum of two ratings. Every group's own rating
//! count is compared with its factors' counts, and [`Group::sums`] is `None`
//! for a group where they differ; the caller then reads the exact
//! per-factor statement. Derived importance reads survey responses only,
//! where a factor is rated once, so it is never affected.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult};

use crate::csi::confidence::Moments;
use crate::csi::drivers;
use crate::csi::pivot::{self, Scope};
use crate::csi::report::{real, IndexWeights, Sums};
use crate::error::DomainResult;
use crate::sql::Sql;

/// How the pass finds a response's segment.
#[derive(Clone, Copy, Debug)]
pub(super) enum SegmentJoin {
    /// One column of the customer (at most one segment per customer): the
    /// response keeps counting for the whole report when the column is null,
    /// so the same pass gives the report and its segments.
    Column(&'static str),
    /// A table of (customer_id, seg_key, seg_label) rows, several per
    /// customer (tags, tiers): a response counts once per segment, so this
    /// pass gives segments only.
    Table(&'static str),
}

/// The derived-importance inputs: the overall-satisfaction questions and,
/// per factor of the reported set, the pass columns of the rated factor ids
/// that count for it.
#[derive(Clone)]
pub(super) struct DriverColumns<'a> {
    pub(super) overall: &'a [i64],
    pub(super) keys: Vec<Vec<usize>>,
}

/// What one pass reads.
pub(super) struct Pass<'a> {
    pub(super) scope: Scope<'a>,
    /// The rated factor ids, one column each.
    pub(super) factor_ids: &'a [i64],
    /// The bucket expression of `r.rated_at`; one bucket `all` without.
    pub(super) bucket: Option<&'a str>,
    /// Also the moments of each response's own index under these weights.
    pub(super) index: Option<&'a IndexWeights>,
    pub(super) segment: Option<SegmentJoin>,
    pub(super) drivers: Option<DriverColumns<'a>>,
}

/// The sums of one (bucket, segment).
#[derive(Debug)]
pub(super) struct Group {
    pub(super) bucket: String,
    /// The segment's key and label; `None` for responses outside any
    /// segment (or without a segment join).
    pub(super) segment: Option<(String, String)>,
    pub(super) responses: i64,
    /// Per rated factor id (factors without ratings left out); `None` when
    /// not exact (see the module's notes).
    pub(super) sums: Option<HashMap<i64, Sums>>,
    /// Moments of the responses' own indices (with `index`).
    pub(super) index: Moments,
    /// Sufficient statistics of the complete responses (with `drivers`).
    pub(super) drivers: drivers::Moments,
}

/// Runs `pass`: one row per (bucket, segment) that has responses.
///
/// # Errors
/// Database failures.
pub(super) async fn run(db: &impl ConnectionTrait, pass: &Pass<'_>) -> DomainResult<Vec<Group>> {
    let backend = db.get_database_backend();
    let p = pass.factor_ids.len();
    let keys = pass.drivers.as_ref().map_or(0, |d| d.keys.len());
    let mut sql = Sql::new(backend);
    sql.push(&format!(
        "SELECT h.bucket AS bucket, h.seg_key AS seg_key, MIN(h.seg_label) AS seg_label, {} \
         FROM (",
        outer_columns(backend, pass, p, keys)
    ));
    // Level 2: the histogram of the per-response rows.
    let xs: String = (0..p).map(|i| format!(", g.x{i} AS x{i}")).collect();
    let (seg_key, seg_label) = match pass.segment {
        Some(SegmentJoin::Column(column)) => (format!("c.{column}"), format!("c.{column}")),
        Some(SegmentJoin::Table(_)) => ("seg.seg_key".to_owned(), "seg.seg_label".to_owned()),
        None => (
            "CAST(NULL AS TEXT)".to_owned(),
            "CAST(NULL AS TEXT)".to_owned(),
        ),
    };
    let overall = if pass.drivers.is_some() {
        "a.rating"
    } else {
        "NULL"
    };
    let mut derived = String::new();
    if let Some(weights) = pass.index {
        derived.push_str(&format!(
            ", {} AS idx",
            index_expr(backend, weights, pass.factor_ids)
        ));
    }
    if let Some(drivers) = &pass.drivers {
        for (k, columns) in drivers.keys.iter().enumerate() {
            derived.push_str(&format!(", {} AS k{k}", key_expr(columns)));
        }
        let mut complete = String::from("CASE WHEN a.rating IS NOT NULL");
        for columns in &drivers.keys {
            complete.push_str(&format!(" AND {} IS NOT NULL", key_expr(columns)));
        }
        complete.push_str(" THEN 1 ELSE 0 END AS complete");
        derived.push_str(", ");
        derived.push_str(&complete);
    }
    sql.push(&format!(
        "SELECT {bucket} AS bucket, {seg_key} AS seg_key, MIN({seg_label}) AS seg_label, \
         g.ratings AS ratings{xs}, {overall} AS y{derived}, COUNT(*) AS n FROM (",
        bucket = if pass.bucket.is_some() {
            "g.bucket"
        } else {
            "'all'"
        },
    ));
    // Level 1: one row per response.
    pivot::push_per_response(&mut sql, &pass.scope, pass.bucket, pass.factor_ids, None);
    sql.push(") g");
    match pass.segment {
        Some(SegmentJoin::Column(_)) => {
            sql.push(" LEFT JOIN customers c ON c.id = g.customer_id");
        }
        Some(SegmentJoin::Table(table)) => {
            sql.push(&format!(
                " JOIN ({table}) seg ON seg.customer_id = g.customer_id"
            ));
        }
        None => {}
    }
    if let Some(drivers) = &pass.drivers {
        // At most one overall question per survey, so at most one answer per
        // response. On SQLite the unary `+` keeps the question list out of
        // the answer index's key: it reads the few answers of the response
        // instead of probing once per overall question (one per survey).
        let question = match backend {
            DatabaseBackend::Sqlite => "+a.question_id",
            _ => "a.question_id",
        };
        sql.push(&format!(
            " LEFT JOIN survey_answers a ON a.response_id = g.response_id AND {question} IN ({})",
            literal_list(drivers.overall)
        ));
    }
    // The cell's keys (constants left out).
    let mut cell = vec!["g.ratings".to_owned()];
    if pass.bucket.is_some() {
        cell.push("g.bucket".to_owned());
    }
    if pass.segment.is_some() {
        cell.push(seg_key);
    }
    if pass.drivers.is_some() {
        cell.push("a.rating".to_owned());
    }
    cell.extend((0..p).map(|i| format!("g.x{i}")));
    sql.push(&format!(
        " GROUP BY {}) h GROUP BY h.bucket, h.seg_key",
        cell.join(", ")
    ));

    let mut out = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        let bucket: Option<String> = row.try_get("", "bucket")?;
        let Some(bucket) = bucket else { continue };
        let key: Option<String> = row.try_get("", "seg_key")?;
        let label: Option<String> = row.try_get("", "seg_label")?;
        let get = |name: &str| -> DomainResult<i64> {
            Ok(row.try_get::<Option<i64>>("", name)?.unwrap_or(0))
        };
        let ratings = get("ratings")?;
        let mut sums = HashMap::with_capacity(p);
        let mut counted = 0;
        for (i, id) in pass.factor_ids.iter().enumerate() {
            let count = get(&format!("n{i}"))?;
            if count > 0 {
                counted += count;
                sums.insert(
                    *id,
                    Sums::new(get(&format!("t{i}"))?, count, get(&format!("q{i}"))?),
                );
            }
        }
        let index = match pass.index {
            Some(_) => index_moments(&row)?,
            None => Moments::default(),
        };
        let mut m = drivers::Moments::zero(keys);
        if pass.drivers.is_some() {
            m.n = get("dn")?;
            m.sum_y = get("dy")?;
            m.sum_yy = get("dyy")?;
            for i in 0..keys {
                m.sum_x[i] = get(&format!("d{i}"))?;
                m.sum_xy[i] = get(&format!("d{i}_y"))?;
                for j in i..keys {
                    let s = get(&format!("d{i}_{j}"))?;
                    m.sum_xx[i * keys + j] = s;
                    m.sum_xx[j * keys + i] = s;
                }
            }
        }
        out.push(Group {
            bucket,
            segment: key.map(|key| {
                let label = label.unwrap_or_else(|| key.clone());
                (key, label)
            }),
            responses: get("responses")?,
            sums: (counted == ratings).then_some(sums),
            index,
            drivers: m,
        });
    }
    Ok(out)
}

/// The moments of the responses' own indices in a row's `indexed`,
/// `idx_sum` and `idx_squares`.
pub(super) fn index_moments(row: &QueryResult) -> DomainResult<Moments> {
    Ok(Moments {
        n: row.try_get::<Option<i64>>("", "indexed")?.unwrap_or(0),
        sum: row.try_get::<Option<f64>>("", "idx_sum")?.unwrap_or(0.0),
        squares: row
            .try_get::<Option<f64>>("", "idx_squares")?
            .unwrap_or(0.0),
    })
}

/// Level 3's columns: each cell's count `n` times what it holds.
fn outer_columns(backend: DatabaseBackend, pass: &Pass<'_>, p: usize, keys: usize) -> String {
    // PostgreSQL's SUM of BIGINT is NUMERIC; every sum here fits a BIGINT.
    let int = |expr: String| format!("CAST(SUM({expr}) AS BIGINT)");
    let mut columns = vec![
        format!("{} AS responses", int("h.n".into())),
        format!("{} AS ratings", int("h.n * h.ratings".into())),
    ];
    for i in 0..p {
        columns.push(format!("{} AS t{i}", int(format!("h.n * h.x{i}"))));
        columns.push(format!(
            "{} AS n{i}",
            int(format!("CASE WHEN h.x{i} IS NOT NULL THEN h.n END"))
        ));
        columns.push(format!("{} AS q{i}", int(format!("h.n * h.x{i} * h.x{i}"))));
    }
    if pass.index.is_some() {
        columns.push(format!(
            "{} AS indexed",
            int("CASE WHEN h.idx IS NOT NULL THEN h.n END".into())
        ));
        columns.push(format!("{} AS idx_sum", real(backend, "SUM(h.n * h.idx)")));
        columns.push(format!(
            "{} AS idx_squares",
            real(backend, "SUM(h.n * h.idx * h.idx)")
        ));
    }
    if pass.drivers.is_some() {
        let c = "h.n * h.complete";
        columns.push(format!("{} AS dn", int(c.to_owned())));
        columns.push(format!("{} AS dy", int(format!("{c} * h.y"))));
        columns.push(format!("{} AS dyy", int(format!("{c} * h.y * h.y"))));
        for i in 0..keys {
            columns.push(format!("{} AS d{i}", int(format!("{c} * h.k{i}"))));
            columns.push(format!("{} AS d{i}_y", int(format!("{c} * h.k{i} * h.y"))));
            for j in i..keys {
                columns.push(format!(
                    "{} AS d{i}_{j}",
                    int(format!("{c} * h.k{i} * h.k{j}"))
                ));
            }
        }
    }
    columns.join(", ")
}

/// A response's own index from its columns, `Σ wᵢ·(xᵢ − min) / Σ wᵢ` over
/// its rated columns (null when no rated factor has a weight): level 2
/// computes it once per cell.
fn index_expr(backend: DatabaseBackend, weights: &IndexWeights, factor_ids: &[i64]) -> String {
    let mut num = Vec::new();
    let mut den = Vec::new();
    for (i, id) in factor_ids.iter().enumerate() {
        let Some(w) = weights.weights.get(id) else {
            continue;
        };
        // `{:?}` of an f64 always has a decimal point or an exponent.
        let w = real(backend, &format!("{w:?}"));
        num.push(format!(
            "COALESCE({w} * (g.x{i} - {min}), {zero})",
            min = weights.min,
            zero = real(backend, "0.0")
        ));
        den.push(format!(
            "CASE WHEN g.x{i} IS NULL THEN {zero} ELSE {w} END",
            zero = real(backend, "0.0")
        ));
    }
    if num.is_empty() {
        return "NULL".to_owned();
    }
    format!(
        "({}) / NULLIF({}, {})",
        num.join(" + "),
        den.join(" + "),
        real(backend, "0.0")
    )
}

/// A factor's rating in a response from the columns of its rated ids: a
/// survey response rates one version, so at most one is set.
fn key_expr(columns: &[usize]) -> String {
    match columns {
        [one] => format!("g.x{one}"),
        many => format!(
            "COALESCE({})",
            many.iter()
                .map(|i| format!("g.x{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn literal_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}
