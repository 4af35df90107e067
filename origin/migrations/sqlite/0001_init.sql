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
    name            TEXT,
    -- Argon2 PHC string; NULL for users who only sign in through the
    -- external identity provider.
    password_hash   TEXT,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'compliance_officer')),
    -- `sub` of the external identity provider's tokens, linked on first use.
    external_subject TEXT UNIQUE,
    created_at      BIGINT NOT NULL,
    disabled_at     BIGINT
);

-- Team invitations: the token is shown once, stored as a hash.
CREATE TABLE invites (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'compliance_officer')),
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    accepted_at     BIGINT,
    revoked_at      BIGINT
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
    created_by      TEXT,
    updated_at      BIGINT NOT NULL,
    UNIQUE (organization_id, list_type, value)
);
CREATE INDEX blocklist_org_created ON blocklist_entries (organization_id, created_at);

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
    -- `assess`, or `fraud_report` for a transaction first seen in a report
    -- (never assessed: no session, decision or score).
    source             TEXT NOT NULL DEFAULT 'assess' CHECK (source IN ('assess', 'fraud_report')),
    session_id         TEXT,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    email              TEXT,
    card_bin           TEXT,
    card_last4         TEXT,
    ip                 TEXT,
    device_fingerprint TEXT,
    customer_id        TEXT,
    -- A payout's `origin.account_id` (its payer key for velocity and history).
    account_id         TEXT,
    order_id           TEXT,
    payment_id         TEXT,
    submerchant_id     TEXT,
    decision           TEXT CHECK (decision IN ('approve', 'review', 'challenge', 'decline')),
    risk_score         BIGINT,
    blocked_by         TEXT,
    signals            TEXT,
    request            TEXT NOT NULL,
    response           TEXT,
    idempotency_key    TEXT,
    request_hash       TEXT,
    is_fraudulent      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    -- Set by a fraud report.
    provider           TEXT,
    external_id        TEXT,
    fraud_reason       TEXT,
    fraud_reported_at  BIGINT,
    -- Set by `POST /api/v1/assess/release` (checkout or transfer abandoned).
    released_at        BIGINT
);

CREATE UNIQUE INDEX transactions_idempotency
    ON transactions (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX transactions_org_created ON transactions (organization_id, created_at);
CREATE INDEX transactions_session ON transactions (organization_id, session_id);
CREATE INDEX transactions_payment ON transactions (organization_id, payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX transactions_external ON transactions (organization_id, external_id) WHERE external_id IS NOT NULL;

-- Cases (expedientes).
CREATE TABLE cases (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations(id),
    reference_number      TEXT NOT NULL UNIQUE,
    status                TEXT NOT NULL CHECK (status IN ('borrador', 'en_revision', 'enviado', 'resuelto', 'archivado')),
    priority              TEXT NOT NULL CHECK (priority IN ('baja', 'media', 'alta', 'urgente')),
    incident_type         TEXT NOT NULL,
    incident_date         TEXT,
    jurisdiction          TEXT,
    currency              TEXT,
    amount_minor          BIGINT,
    victim_name           TEXT,
    victim_email          TEXT,
    title                 TEXT NOT NULL,
    description           TEXT,
    -- `manual` or `fraud_report`.
    source                TEXT NOT NULL,
    fraud_reason          TEXT,
    -- The transaction a fraud report opened this case for: one case per
    -- reported transaction.
    source_transaction_id TEXT,
    notify                TEXT NOT NULL DEFAULT '{}',
    created_by            TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    submitted_at          BIGINT,
    resolved_at           BIGINT
);
CREATE UNIQUE INDEX cases_source_transaction
    ON cases (organization_id, source_transaction_id) WHERE source_transaction_id IS NOT NULL;
CREATE INDEX cases_org_created ON cases (organization_id, created_at);

CREATE TABLE case_evidence (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    organization_id TEXT NOT NULL,
    kind            TEXT NOT NULL,
    url             TEXT,
    description     TEXT,
    added_by        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX case_evidence_case ON case_evidence (case_id, created_at);

CREATE TABLE case_transactions (
    case_id         TEXT NOT NULL REFERENCES cases(id),
    transaction_id  TEXT NOT NULL REFERENCES transactions(id),
    organization_id TEXT NOT NULL,
    added_by        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (case_id, transaction_id)
);

CREATE TABLE case_blocklist_entries (
    case_id  TEXT NOT NULL REFERENCES cases(id),
    entry_id TEXT NOT NULL REFERENCES blocklist_entries(id),
    PRIMARY KEY (case_id, entry_id)
);

-- Every change to a case, with who and when.
CREATE TABLE case_activity (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    organization_id TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL
);
CREATE INDEX case_activity_case ON case_activity (case_id, created_at);

-- Append-only log of every management change: who, what, before, after.
CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT,
    before_state    TEXT,
    after_state     TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX audit_log_org_created ON audit_log (organization_id, created_at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Events to announce (webhooks, email alerts), written in the same
-- transaction as the change they describe; delivery workers drain them.
CREATE TABLE outbox_events (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX outbox_events_org_created ON outbox_events (organization_id, created_at);

-- Outbound webhooks: endpoints, one delivery per (event, endpoint), and the
-- log of every attempt.
CREATE TABLE webhook_endpoints (
    id                         TEXT PRIMARY KEY,
    organization_id            TEXT NOT NULL REFERENCES organizations(id),
    url                        TEXT NOT NULL,
    description                TEXT,
    -- JSON array of subscribed event types; empty means every event.
    events                     TEXT NOT NULL DEFAULT '[]',
    enabled                    BOOLEAN NOT NULL DEFAULT TRUE,
    secret                     TEXT NOT NULL,
    -- During a rotation the old secret keeps signing until it expires.
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    consecutive_failures       BIGINT NOT NULL DEFAULT 0,
    failing_since              BIGINT,
    disabled_reason            TEXT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_id        TEXT NOT NULL REFERENCES outbox_events(id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries(id),
    organization_id  TEXT NOT NULL,
    attempt          BIGINT NOT NULL,
    status_code      BIGINT,
    error            TEXT,
    latency_ms       BIGINT NOT NULL,
    response_excerpt TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, created_at);

-- Email alerts: who each organisation alerts, per party of a fraud report's
-- `notify`, and the outbox of alert emails, written in the transaction of
-- their `fraud.detected` event.
CREATE TABLE notification_recipients (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    party           TEXT NOT NULL CHECK (party IN ('merchant', 'acquirer', 'issuer', 'compliance')),
    email           TEXT NOT NULL,
    position        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, party, email)
);

CREATE TABLE email_outbox (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    event_id        TEXT NOT NULL REFERENCES outbox_events(id),
    party           TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'recorded')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    UNIQUE (event_id, recipient)
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status IN ('pending', 'recorded');
CREATE INDEX email_outbox_org ON email_outbox (organization_id, created_at);

-- Payment-provider webhooks in: the endpoint secret each organisation
-- stored for a provider (Stripe's `whsec_…`), write-only through the API.
CREATE TABLE provider_secrets (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    provider        TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, provider)
);

-- Every provider event applied, written in the same transaction as its
-- effects: a replay of the same provider event id finds its row and
-- changes nothing.
CREATE TABLE provider_events (
    organization_id   TEXT NOT NULL REFERENCES organizations(id),
    provider          TEXT NOT NULL,
    provider_event_id TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    -- `applied`, `unmatched` (no Clausum transaction to link) or `ignored`.
    outcome           TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    PRIMARY KEY (organization_id, provider, provider_event_id)
);

-- Disputes (chargebacks) a provider told us about, with the case opened
-- for each, so later updates of the dispute name that case.
CREATE TABLE provider_disputes (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    provider        TEXT NOT NULL,
    dispute_id      TEXT NOT NULL,
    case_id         TEXT REFERENCES cases(id),
    transaction_id  TEXT,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, provider, dispute_id)
);

-- Event ingestion (`clm_wh_` keys): the organisation's rules, first match
-- by priority wins.
CREATE TABLE ingestion_rules (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    priority        BIGINT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    -- JSON object: `event_type`, `amount_gte`, `amount_lte` (all optional).
    conditions      TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('create_expediente', 'create_alert', 'flag_review', 'ignore')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ingestion_rules_org ON ingestion_rules (organization_id, priority);

-- Ingested events, stored before the answer and processed after it.
CREATE TABLE ingested_events (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations(id),
    api_key_id        TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    provider_event_id TEXT,
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('received', 'processed', 'ignored', 'review')),
    matched_rule_id   TEXT,
    action            TEXT,
    case_id           TEXT,
    alert_id          TEXT,
    created_at        BIGINT NOT NULL,
    processed_at      BIGINT
);
CREATE UNIQUE INDEX ingested_events_provider_id
    ON ingested_events (organization_id, api_key_id, provider_event_id) WHERE provider_event_id IS NOT NULL;
CREATE INDEX ingested_events_org_created ON ingested_events (organization_id, created_at);
CREATE INDEX ingested_events_received ON ingested_events (created_at) WHERE status = 'received';

-- Alerts raised by ingestion rules (`create_alert`).
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    -- `ingest`.
    source          TEXT NOT NULL,
    -- The ingested event that raised it.
    source_id       TEXT,
    rule_id         TEXT,
    title           TEXT NOT NULL,
    -- JSON details: event type, amount, currency.
    details         TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL
);
CREATE INDEX alerts_org_created ON alerts (organization_id, created_at);

-- PSP submerchants: the merchants a PSP processes for. `id` is the PSP's
-- own identifier, the `submerchant_id` its assess calls carry. Deleting
-- one deactivates it (its transactions keep naming it).
CREATE TABLE submerchants (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- ISO 3166-1 alpha-2, and the ISO 18245 merchant category code.
    country         TEXT,
    mcc             TEXT,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    metadata        TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX transactions_submerchant
    ON transactions (organization_id, submerchant_id, created_at) WHERE submerchant_id IS NOT NULL;

-- Simulation runs from the dashboard: the live pipeline's answer to a
-- preset or custom request. Kept apart from `transactions`, so nothing
-- simulated reaches velocity, history, cases or metrics; the overview
-- counts them only when asked (`include_simulated`).
CREATE TABLE simulations (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    actor           TEXT NOT NULL,
    flow            TEXT NOT NULL CHECK (flow IN ('payin', 'payout')),
    preset          TEXT,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('approve', 'review', 'challenge', 'decline')),
    risk_score      BIGINT NOT NULL,
    request         TEXT NOT NULL,
    response        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX simulations_org_created ON simulations (organization_id, created_at);
