-- Schema 10: pricing configuration versions, imported FOCUS sources, discovered sub-accounts,
-- rating runs and the rating state of each period.

-- Every change of an organization's pricing configuration is a new version (the whole document,
-- JSON of be_domain::pricing::PricingConfig); the highest version is the current one.
CREATE TABLE pricing_versions (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    document        TEXT NOT NULL,
    summary         TEXT NOT NULL,          -- what changed, in words
    created_by      BLOB,                   -- the user, when a person made the change
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, version)
);

CREATE TABLE import_sources (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (organization_id, name_key)
);

CREATE TABLE imported_periods (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    source_id       BLOB NOT NULL REFERENCES import_sources(id) ON DELETE CASCADE,
    period          TEXT NOT NULL,          -- YYYY-MM
    rows_stored     INTEGER NOT NULL,
    billed_total    TEXT NOT NULL,          -- exact decimals, as text
    effective_total TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    imported_at     TEXT NOT NULL,
    PRIMARY KEY (source_id, period)
);

-- Sub-accounts seen in the data (names, billing account, where and when last seen).
CREATE TABLE sub_accounts (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    sub_account_id  TEXT NOT NULL,
    name            TEXT,
    billing_account_id TEXT,
    source_id       TEXT NOT NULL,          -- a connection or import source ID
    source_name     TEXT NOT NULL,
    first_period    TEXT NOT NULL,
    last_period     TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, sub_account_id)
);

CREATE TABLE rating_runs (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    state           TEXT NOT NULL,          -- running, succeeded, failed
    pricing_version INTEGER NOT NULL,
    inputs          TEXT NOT NULL,          -- JSON: the source files rated (path, size, time)
    rows_rated      INTEGER NOT NULL DEFAULT 0,
    new_lines       INTEGER NOT NULL DEFAULT 0,
    billed_total    TEXT,
    provider_total  TEXT,
    error_code      TEXT,
    error_message   TEXT,
    started_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX rating_runs_period ON rating_runs(organization_id, period, started_at);

-- The rating state of each period with data: its current rated version, and whether it must be
-- rated again (a sync, an import or a configuration change since). `generation` counts those
-- changes, so a run that started before the latest one does not clear it.
CREATE TABLE rated_periods (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    current_run     BLOB REFERENCES rating_runs(id) ON DELETE SET NULL,
    stale           INTEGER NOT NULL DEFAULT 1,
    generation      INTEGER NOT NULL DEFAULT 0,
    changed_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, period)
);
