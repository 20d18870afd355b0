-- Billing Engine, SQLite schema 13: roles (owner, billing admin, analyst, viewer), a viewer's
-- family limit, API tokens narrower than their creator, invitations by link.
-- Every existing user becomes an owner (they could do everything before).

ALTER TABLE users DROP COLUMN role;
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'
    CHECK (role IN ('owner', 'billing_admin', 'analyst', 'viewer'));
-- The family IDs a viewer is limited to, separated by commas; NULL: no limit.
ALTER TABLE users ADD COLUMN families TEXT;

-- NULL: the creator's role at each use; otherwise the narrower of this and the creator's role.
ALTER TABLE api_tokens ADD COLUMN role TEXT
    CHECK (role IS NULL OR role IN ('owner', 'billing_admin', 'analyst', 'viewer'));

CREATE TABLE invites (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'billing_admin', 'analyst', 'viewer')),
    families        TEXT,
    token_hash      BLOB NOT NULL UNIQUE,
    invited_by      BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    CONSTRAINT invites_one_per_email UNIQUE (organization_id, email)
);
