-- Browser SDK sessions (POST /api/v1/sessions with a publishable key): the
-- device and behaviour signals of one checkout session, merged into a later
-- server-side assess that names the session. Never anything the user typed.
CREATE TABLE sdk_sessions (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    id              TEXT NOT NULL,
    api_key_id      TEXT NOT NULL,
    fingerprint     TEXT,
    signals         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, id)
);

CREATE INDEX sdk_sessions_updated ON sdk_sessions (updated_at);
