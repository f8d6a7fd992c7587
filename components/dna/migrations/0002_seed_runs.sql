-- Tenants the synthetic data generator finished writing. It writes a tenant over
-- several transactions (the SQL port's batches are bounded); a generated tenant
-- without a row here was cut short, and the generator writes it again from scratch.
CREATE TABLE seed_runs (
    tenant_id TEXT PRIMARY KEY,
    completed_at_ms INTEGER NOT NULL
);
-- Tenants written before this ledger existed were written whole.
INSERT INTO seed_runs (tenant_id, completed_at_ms) SELECT id, created_at_ms FROM tenants;
