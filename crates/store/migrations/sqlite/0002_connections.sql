-- Schema 2: Azure connections, product registrations, persistent jobs.

CREATE TABLE connections (
    id                   BLOB PRIMARY KEY NOT NULL,
    organization_id      BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    account_id           BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    provider             TEXT NOT NULL,
    product              TEXT NOT NULL,
    state                TEXT NOT NULL,
    step                 TEXT NOT NULL,
    tenant_id            TEXT,
    tenant_guid          TEXT,
    client_id            TEXT,
    agreement_type       TEXT,
    billing_account_id   TEXT,
    billing_account_name TEXT,
    principal_object_id  TEXT,
    secret_ciphertext    BLOB,
    secret_expires_on    TEXT,
    secret_set_at        TEXT,
    checks               TEXT,
    last_validated_at    TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CONSTRAINT connections_one_per_account UNIQUE (account_id, provider)
);
CREATE INDEX connections_organization ON connections(organization_id);

CREATE TABLE registrations (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    account_id      BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    product         TEXT NOT NULL,
    provider        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, product, provider)
);

CREATE TABLE jobs (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   BLOB NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    run_after       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX jobs_connection ON jobs(connection_id);
-- At most one waiting or running job of a kind per connection.
CREATE UNIQUE INDEX jobs_one_active ON jobs(connection_id, kind) WHERE state IN ('queued', 'running');
