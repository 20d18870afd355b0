-- Billing Engine, SQLite schema 14: the audit trail, append-only (triggers refuse updates and
-- deletes). Kept when users leave: the actor's address is copied into each event.

CREATE TABLE audit_events (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL,
    at              TEXT NOT NULL,
    actor_id        BLOB,
    actor_email     TEXT NOT NULL,
    address         TEXT,
    kind            TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    target          TEXT NOT NULL,
    before          TEXT,
    after           TEXT
);
CREATE INDEX audit_events_org_at ON audit_events(organization_id, at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
