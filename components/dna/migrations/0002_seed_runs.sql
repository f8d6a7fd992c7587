-- The synthetic data generator's ledger: one row per tenant it writes. A run claims
-- the tenant (started_at_ms), writes it over several transactions (the SQL port's
-- batches are bounded) and sets completed with its last rows. A claim that never
-- completed and is old was cut short: the next run clears it and writes again.
CREATE TABLE seed_runs (
    tenant_id TEXT PRIMARY KEY,
    started_at_ms INTEGER NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0
);
-- Tenants written before this ledger existed were written whole.
INSERT INTO seed_runs (tenant_id, started_at_ms, completed)
    SELECT id, created_at_ms, 1 FROM tenants;
