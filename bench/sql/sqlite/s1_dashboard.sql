-- Scenario 1 by hand: the first page of 50 customers (newest acquired first)
-- with revenue per currency, memberships with balance and tier, latest CSI.
SELECT c.id, c.name,
  (SELECT json_group_array(json_object('currency', x.currency, 'amount_minor', x.s))
     FROM (SELECT p.currency, SUM(p.amount_minor) AS s FROM purchases p
            WHERE p.customer_id = c.id GROUP BY p.currency) x) AS revenue,
  (SELECT json_group_array(json_object('balance', m.balance, 'tier',
            (SELECT t.name FROM loyalty_tiers t
              WHERE t.program_id = m.program_id AND t.min_lifetime_points <= m.lifetime_points
              ORDER BY t.min_lifetime_points DESC LIMIT 1)))
     FROM memberships m WHERE m.customer_id = c.id) AS memberships,
  (SELECT r.csi FROM survey_responses r WHERE r.customer_id = c.id
    ORDER BY r.id DESC LIMIT 1) AS latest_csi
FROM customers c
ORDER BY c.acquired_at DESC, c.id DESC
LIMIT 51;
