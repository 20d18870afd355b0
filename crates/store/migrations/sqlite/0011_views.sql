-- Schema 11: saved analysis views and asset groups (saved filter sets), shared in the organization.

CREATE TABLE saved_views (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,          -- analysis, asset_group
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    document        TEXT NOT NULL,          -- JSON: the analysis query, or the asset group's filter
    is_default      INTEGER NOT NULL DEFAULT 0,
    created_by      BLOB,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (organization_id, kind, name_key)
);
