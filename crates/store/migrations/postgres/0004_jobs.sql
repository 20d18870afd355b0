-- Schema 4: jobs belong to an organization and, optionally, to a connection (rating runs per
-- organization); a running job is held by one runner under a lease it renews.
--
-- connection_id becomes nullable (NULL: the organization is the subject) and loses its foreign
-- key: a job of a deleted connection stays as a `cancelled` record instead of vanishing under its
-- runner.

ALTER TABLE jobs DROP CONSTRAINT jobs_connection_id_fkey;
ALTER TABLE jobs ALTER COLUMN connection_id DROP NOT NULL;
ALTER TABLE jobs ADD COLUMN owner UUID;                 -- the runner holding it (the last one, once finished)
ALTER TABLE jobs ADD COLUMN lease_until TIMESTAMPTZ;    -- a running job whose lease passed may be taken over

DROP INDEX jobs_one_active;
DROP INDEX jobs_connection;
CREATE INDEX jobs_organization ON jobs(organization_id, created_at);
CREATE INDEX jobs_connection ON jobs(connection_id, created_at);
CREATE INDEX jobs_due ON jobs(state, run_after);
-- At most one queued and one running job per subject and kind.
CREATE UNIQUE INDEX jobs_one_queued ON jobs(kind, (COALESCE(connection_id, organization_id))) WHERE state = 'queued';
CREATE UNIQUE INDEX jobs_one_running ON jobs(kind, (COALESCE(connection_id, organization_id))) WHERE state = 'running';
