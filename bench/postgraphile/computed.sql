-- Computed columns that let PostGraphile serve the fields Rapport computes
-- (revenue, tier, latest CSI). Installed in the benchmark database only.
CREATE OR REPLACE FUNCTION customers_revenue_minor(c customers) RETURNS bigint
  LANGUAGE sql STABLE AS
  $$ SELECT COALESCE(SUM(p.amount_minor), 0)::bigint FROM purchases p WHERE p.customer_id = c.id $$;
CREATE OR REPLACE FUNCTION customers_latest_csi(c customers) RETURNS text
  LANGUAGE sql STABLE AS
  $$ SELECT r.csi FROM survey_responses r WHERE r.customer_id = c.id ORDER BY r.id DESC LIMIT 1 $$;
CREATE OR REPLACE FUNCTION memberships_tier_name(m memberships) RETURNS text
  LANGUAGE sql STABLE AS
  $$ SELECT t.name FROM loyalty_tiers t
      WHERE t.program_id = m.program_id AND t.min_lifetime_points <= m.lifetime_points
      ORDER BY t.min_lifetime_points DESC LIMIT 1 $$;
