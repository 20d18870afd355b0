-- Schema 11: saved analysis views and asset groups (saved filter sets), shared in the organization.

CREATE TABLE saved_views (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,          -- analysis, asset_group
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    document        TEXT NOT NULL,          -- JSON: the analysis query, or the asset group's filter
    is_default      BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      UUID,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (organization_id, kind, name_key)
);
