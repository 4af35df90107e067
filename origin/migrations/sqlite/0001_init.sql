-- Clausum schema, SQLite flavour. Timestamps are unix milliseconds
-- (BIGINT), ids are text, JSON documents are text: the same column types as
-- the PostgreSQL schema so both backends run the same queries.

CREATE TABLE server_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    segment    TEXT NOT NULL CHECK (segment IN ('comercio', 'psp', 'banco')),
    policy     TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'compliance_officer')),
    created_at      BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations(id),
    kind                  TEXT NOT NULL CHECK (kind IN ('secret', 'publishable', 'ingest')),
    name                  TEXT NOT NULL,
    key_hash              TEXT NOT NULL UNIQUE,
    display_prefix        TEXT NOT NULL,
    permissions           TEXT NOT NULL,
    rate_limit_per_minute BIGINT NOT NULL DEFAULT 100,
    rate_limit_per_day    BIGINT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT,
    revoked_at            BIGINT
);

CREATE TABLE blocklist_entries (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    list_type       TEXT NOT NULL,
    value           TEXT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('block', 'flag', 'review')),
    flow_scope      TEXT NOT NULL CHECK (flow_scope IN ('payin', 'payout', 'all')),
    reason          TEXT,
    source          TEXT NOT NULL,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at      BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (organization_id, list_type, value, flow_scope)
);

CREATE TABLE rules (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,
    priority        BIGINT NOT NULL DEFAULT 100,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE transactions (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id),
    api_key_id         TEXT NOT NULL,
    flow               TEXT NOT NULL CHECK (flow IN ('payin', 'payout')),
    session_id         TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    email              TEXT,
    card_bin           TEXT,
    card_last4         TEXT,
    ip                 TEXT,
    device_fingerprint TEXT,
    customer_id        TEXT,
    order_id           TEXT,
    payment_id         TEXT,
    submerchant_id     TEXT,
    decision           TEXT NOT NULL CHECK (decision IN ('approve', 'review', 'challenge', 'decline')),
    risk_score         BIGINT NOT NULL,
    blocked_by         TEXT,
    signals            TEXT NOT NULL,
    request            TEXT NOT NULL,
    response           TEXT NOT NULL,
    idempotency_key    TEXT,
    request_hash       TEXT NOT NULL,
    is_fraudulent      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL
);

CREATE UNIQUE INDEX transactions_idempotency
    ON transactions (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX transactions_org_created ON transactions (organization_id, created_at);
CREATE INDEX transactions_session ON transactions (organization_id, session_id);
