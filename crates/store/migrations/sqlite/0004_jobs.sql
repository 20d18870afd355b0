-- Schema 4: jobs belong to an organization and, optionally, to a connection (rating runs per
-- organization); a running job is held by one runner under a lease it renews.
--
-- connection_id becomes nullable (NULL: the organization is the subject) and loses its foreign
-- key: a job of a deleted connection stays as a `cancelled` record instead of vanishing under its
-- runner. SQLite cannot alter a column, so the table is rebuilt, keeping every row. Nothing
-- references jobs, so dropping the old table is safe with foreign keys on.

CREATE TABLE jobs_new (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    connection_id   BLOB,                   -- the subject; NULL: the organization
    kind            TEXT NOT NULL,          -- sync, rate
    state           TEXT NOT NULL,          -- queued, running, done, failed, cancelled
    run_after       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    progress_done   INTEGER NOT NULL DEFAULT 0,
    progress_total  INTEGER NOT NULL DEFAULT 0,
    owner           BLOB,                   -- the runner holding it (the last one, once finished)
    lease_until     TEXT,                   -- a running job whose lease passed may be taken over
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

INSERT INTO jobs_new (id, organization_id, connection_id, kind, state, run_after, attempts, last_error,
                      progress_done, progress_total, owner, lease_until, created_at, updated_at)
SELECT id, organization_id, connection_id, kind, state, run_after, attempts, last_error,
       progress_done, progress_total, NULL, NULL, created_at, updated_at
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

CREATE INDEX jobs_organization ON jobs(organization_id, created_at);
CREATE INDEX jobs_connection ON jobs(connection_id, created_at);
CREATE INDEX jobs_due ON jobs(state, run_after);
-- At most one queued and one running job per subject and kind.
CREATE UNIQUE INDEX jobs_one_queued ON jobs(kind, (COALESCE(connection_id, organization_id))) WHERE state = 'queued';
CREATE UNIQUE INDEX jobs_one_running ON jobs(kind, (COALESCE(connection_id, organization_id))) WHERE state = 'running';
