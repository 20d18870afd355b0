-- Schema 12: invoicing. Templates and customers (JSON documents), runs, invoices with their lines
-- frozen at finalization, gapless number series, period locks, deliveries and schedules.

CREATE TABLE invoice_templates (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    document        TEXT NOT NULL,          -- JSON of be_domain::invoicing::InvoiceTemplate
    builtin         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (organization_id, name_key)
);

CREATE TABLE customers (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    customer_key    TEXT NOT NULL,          -- the grouping value (a family's name)
    document        TEXT NOT NULL,          -- JSON of be_domain::invoicing::Customer
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, customer_key)
);

CREATE TABLE invoice_runs (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    template_id     BLOB NOT NULL,
    template        TEXT NOT NULL,          -- the template as it was (JSON)
    period_from     TEXT NOT NULL,
    period_to       TEXT NOT NULL,
    issue_date      TEXT NOT NULL,          -- YYYY-MM-DD
    state           TEXT NOT NULL,          -- draft, final, discarded
    created_by      BLOB,
    created_at      TEXT NOT NULL,
    finalized_at    TEXT
);
CREATE INDEX invoice_runs_org ON invoice_runs(organization_id, created_at);

CREATE TABLE invoices (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    run_id          BLOB NOT NULL REFERENCES invoice_runs(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,          -- invoice, credit_note, debit_note
    state           TEXT NOT NULL,          -- draft, final, discarded
    series          TEXT NOT NULL,
    number          TEXT,                   -- set at finalization
    position        INTEGER NOT NULL,       -- order in the run
    customer_key    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    total           TEXT NOT NULL,          -- sum of the rounded lines
    exact_total     TEXT NOT NULL,          -- the exact sum before rounding
    document        TEXT NOT NULL,          -- JSON: lines, customer, issuer, dates, sources
    pdf_sha256      TEXT,
    related_invoice BLOB,                   -- the invoice a credit or debit note corrects
    created_at      TEXT NOT NULL,
    finalized_at    TEXT,
    UNIQUE (organization_id, series, number)
);
CREATE INDEX invoices_run ON invoices(run_id, position);

-- The next number of each series: taken in the finalizing transaction, so numbers have no gaps
-- and no duplicates whatever runs are finalized at the same time.
CREATE TABLE invoice_counters (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    series          TEXT NOT NULL,
    next_number     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, series)
);

CREATE TABLE period_locks (
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    reason          TEXT NOT NULL,          -- invoiced, manual, provider_closed
    locked_by       BLOB,
    locked_at       TEXT NOT NULL,
    -- Data or configuration changed since the lock (a late provider adjustment): shown as pending.
    pending_since   TEXT,
    PRIMARY KEY (organization_id, period)
);

CREATE TABLE deliveries (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    invoice_id      BLOB NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    recipients      TEXT NOT NULL,          -- JSON list of addresses
    state           TEXT NOT NULL,          -- pending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    server_answer   TEXT,
    next_attempt_at TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX deliveries_invoice ON deliveries(invoice_id);

CREATE TABLE invoice_schedules (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    template_id     BLOB NOT NULL,
    day_of_month    INTEGER NOT NULL,       -- 1 to 28
    finalize        INTEGER NOT NULL,       -- finalize and send, or leave drafts for review
    send            INTEGER NOT NULL,
    next_run_at     TEXT NOT NULL,
    last_run_id     BLOB,
    created_at      TEXT NOT NULL
);
