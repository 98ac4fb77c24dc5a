-- Scenario 4 by hand: per factor and month, the sum and count of ratings and
-- the responses per month over [FROM, TO), and the same totals for the
-- previous period of equal length (what csiReport needs).
SELECT r.factor_id, substr(r.rated_at, 1, 7) AS bucket, SUM(r.rating), COUNT(*)
  FROM csi_ratings r WHERE r.factor_set_id = {SET} AND r.rated_at >= '{FROM}' AND r.rated_at < '{TO}'
 GROUP BY 1, 2;
SELECT substr(r.rated_at, 1, 7) AS bucket, COUNT(DISTINCT r.response_id)
  FROM csi_ratings r WHERE r.factor_set_id = {SET} AND r.rated_at >= '{FROM}' AND r.rated_at < '{TO}'
 GROUP BY 1;
SELECT r.factor_id, SUM(r.rating), COUNT(*)
  FROM csi_ratings r WHERE r.factor_set_id = {SET} AND r.rated_at >= '{PREV}' AND r.rated_at < '{FROM}'
 GROUP BY 1;
SELECT COUNT(DISTINCT r.response_id)
  FROM csi_ratings r WHERE r.factor_set_id = {SET} AND r.rated_at >= '{PREV}' AND r.rated_at < '{FROM}';
