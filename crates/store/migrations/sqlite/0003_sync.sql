-- Schema 3: sync history and the stored billing periods.

CREATE TABLE sync_periods (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   BLOB NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    job_id          BLOB NOT NULL,
    period          TEXT NOT NULL,          -- YYYY-MM
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    outcome         TEXT NOT NULL,          -- running, succeeded, failed
    rows_written    INTEGER NOT NULL DEFAULT 0,
    bytes_downloaded INTEGER NOT NULL DEFAULT 0,
    source_total    TEXT,                   -- exact decimals, as text: Azure's ActualCost total
    focus_total     TEXT,                   -- SUM(BilledCost)
    amortized_total TEXT,                   -- Azure's AmortizedCost total
    effective_total TEXT,                   -- SUM(EffectiveCost)
    reconciled      INTEGER,                -- 1 when the totals are equal
    error_code      TEXT,
    error_message   TEXT,
    remedy          TEXT
);
CREATE INDEX sync_periods_connection ON sync_periods(connection_id, started_at);

-- The billing periods stored as Parquet, one row per connection and period (the latest good pull).
CREATE TABLE periods (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   BLOB NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    rows_stored     INTEGER NOT NULL,
    source_total    TEXT NOT NULL,
    focus_total     TEXT NOT NULL,
    amortized_total TEXT NOT NULL,
    effective_total TEXT NOT NULL,
    reconciled      INTEGER NOT NULL,
    pulled_at       TEXT NOT NULL,
    closed          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, period)
);

-- How far a running sync is (periods done of planned), for progress bars.
ALTER TABLE jobs ADD COLUMN progress_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN progress_total INTEGER NOT NULL DEFAULT 0;
