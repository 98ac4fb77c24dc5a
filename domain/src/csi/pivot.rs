//! Per-response rows: the ratings of each response pivoted into one column
//! per factor, the one derived table every grouped statement of a report
//! reads ([`super::pass`]).
//!
//! A report over 1 000 000 responses reads 4 000 000 ratings. Grouping them by
//! factor (`GROUP BY factor_id, bucket`) sorts every rating, because the
//! covering index (`idx_csi_ratings_by_response`) keeps one response's ratings
//! together, not one factor's. Grouping them by response follows the index,
//! so the groups stream out of it; each group carries its factors' ratings as
//! columns `x0, x1, …` (`SUM(CASE factor_id WHEN … THEN rating END)`), and
//! outer statements sum those columns per bucket or segment.
//!
//! The pivoted sums equal the per-factor ones whenever no response rates a
//! factor twice and every rating's factor is one of the columns: then a
//! column's `COUNT`, `SUM` and `SUM(x²)` over the responses are the factor's
//! rating count, sum and sum of squares. Each row also carries the
//! response's own rating count (`ratings`), so the outer statement can tell
//! when they differ (a factor rated twice in one response, or a rating of a
//! factor outside the list); the caller then runs the exact per-factor
//! statement instead. Submissions store one rating per factor, so that is
//! the rare path.

use crate::csi::report::{push_scope, IndexWeights, Rated, ReportFilter};
use crate::sql::Sql;

/// Which ratings a per-response table reads.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub(super) rated: Rated,
    pub(super) from: chrono::NaiveDate,
    pub(super) to: chrono::NaiveDate,
    pub(super) filter: &'a ReportFilter,
}

/// Appends the per-response derived table (no alias): one row per response
/// (or loose set of ratings: same customer and `rated_at`) with
/// `response_id` (null for a loose set), `customer_id`, its rating count `ratings`, one column `xᵢ` per factor of
/// `factor_ids` and, when given, `bucket` (an expression of `r.rated_at`) and
/// the response's own index `idx` under `index`'s weights
/// (`Σ wᵢ·(xᵢ − min) / Σ wᵢ`, null when no rated factor has a weight).
pub(super) fn push_per_response(
    sql: &mut Sql,
    scope: &Scope<'_>,
    bucket: Option<&str>,
    factor_ids: &[i64],
    index: Option<&IndexWeights>,
) {
    let mut columns = String::from(
        "SELECT r.response_id AS response_id, r.customer_id AS customer_id, COUNT(*) AS ratings",
    );
    if let Some(bucket) = bucket {
        columns.push_str(&format!(", {bucket} AS bucket"));
    }
    for (i, id) in factor_ids.iter().enumerate() {
        columns.push_str(&format!(
            ", SUM(CASE r.factor_id WHEN {id} THEN r.rating END) AS x{i}"
        ));
    }
    if let Some(index) = index {
        let weight = super::report::weight_case(sql.backend(), &index.weights);
        columns.push_str(&format!(
            ", SUM({weight} * (r.rating - {min})) / NULLIF(SUM({weight}), 0) AS idx",
            min = index.min
        ));
    }
    sql.push(&columns).push(" FROM csi_ratings r");
    push_scope(sql, scope.rated, scope.from, scope.to, scope.filter);
    // The covering index's order: one response's ratings are adjacent.
    sql.push(" GROUP BY r.rated_at, r.response_id, r.customer_id");
}
