-- Schema 3: sync history and the stored billing periods.

CREATE TABLE sync_periods (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   UUID NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    job_id          UUID NOT NULL,
    period          TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    outcome         TEXT NOT NULL,
    rows_written    BIGINT NOT NULL DEFAULT 0,
    bytes_downloaded BIGINT NOT NULL DEFAULT 0,
    source_total    TEXT,
    focus_total     TEXT,
    amortized_total TEXT,
    effective_total TEXT,
    reconciled      BOOLEAN,
    error_code      TEXT,
    error_message   TEXT,
    remedy          TEXT
);
CREATE INDEX sync_periods_connection ON sync_periods(connection_id, started_at);

CREATE TABLE periods (
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   UUID NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    rows_stored     BIGINT NOT NULL,
    source_total    TEXT NOT NULL,
    focus_total     TEXT NOT NULL,
    amortized_total TEXT NOT NULL,
    effective_total TEXT NOT NULL,
    reconciled      BOOLEAN NOT NULL,
    pulled_at       TIMESTAMPTZ NOT NULL,
    closed          BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (connection_id, period)
);

-- How far a running sync is (periods done of planned), for progress bars.
ALTER TABLE jobs ADD COLUMN progress_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN progress_total INTEGER NOT NULL DEFAULT 0;
