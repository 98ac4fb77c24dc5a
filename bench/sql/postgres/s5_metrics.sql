-- Scenario 5 by hand: retention over [FROM, TO) and revenue/costs per
-- customer over the same two years.
SELECT SUM(CASE WHEN acquired_at < '{FROM}' AND (churned_at IS NULL OR churned_at >= '{FROM}') THEN 1 ELSE 0 END) AS at_start,
       SUM(CASE WHEN churned_at IS NULL OR churned_at >= '{TO}' THEN 1 ELSE 0 END) AS at_end,
       SUM(CASE WHEN acquired_at >= '{FROM}' THEN 1 ELSE 0 END) AS new_customers
  FROM customers WHERE acquired_at < '{TO}';
SELECT COUNT(*) AS churned, SUM(CASE WHEN reactivated_at IS NOT NULL THEN 1 ELSE 0 END) AS reactivated
  FROM churn_events WHERE churned_at >= '{FROM}' AND churned_at < '{TO}';
SELECT currency, SUM(rev) AS revenue, SUM(acq) AS acquisition, SUM(care) AS care FROM (
  SELECT currency, amount_minor AS rev, 0 AS acq, 0 AS care FROM purchases
   WHERE occurred_at >= '{FROM}' AND occurred_at < '{TO}'
  UNION ALL
  SELECT currency, 0, CASE WHEN kind = 'ACQUISITION' THEN amount_minor ELSE 0 END,
         CASE WHEN kind = 'CARE' THEN amount_minor ELSE 0 END FROM costs
   WHERE incurred_on >= '{FROM_DATE}' AND incurred_on < '{TO_DATE}') m
 GROUP BY currency;
SELECT COUNT(*) FROM customers
 WHERE acquired_at < '{TO}' AND (churned_at IS NULL OR churned_at >= '{FROM}');
