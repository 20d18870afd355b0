-- Billing Engine, PostgreSQL schema 14: the audit trail, append-only (a trigger refuses updates
-- and deletes). Kept when users leave: the actor's address is copied into each event.

CREATE TABLE audit_events (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    actor_id        UUID,
    actor_email     TEXT NOT NULL,
    address         TEXT,
    kind            TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    target          TEXT NOT NULL,
    before          TEXT,
    after           TEXT
);
CREATE INDEX audit_events_org_at ON audit_events(organization_id, at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
