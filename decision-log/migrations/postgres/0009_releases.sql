-- Releases: immutable snapshots of a bundle that `roteiro publish` stored
-- after its gates passed. Every replica serves the active one: the
-- release named by the latest activation (`ativada`, `revertida`) in
-- release_events. Nothing here is ever updated but `approved_*`, once.
CREATE TABLE releases (
    version        TEXT PRIMARY KEY,
    bundle_name    TEXT NOT NULL,
    digest         TEXT NOT NULL,
    files          TEXT NOT NULL,
    author         TEXT NOT NULL,
    published_at   TEXT NOT NULL,
    note           TEXT NOT NULL,
    gates          TEXT NOT NULL,
    impact         TEXT NOT NULL,
    needs_approval BIGINT  NOT NULL,
    approved_by    TEXT,
    approved_at    TEXT
);

-- Who did what to which release, when and why: publicada, aprovada,
-- ativada, revertida. The audit log of the bundle, append-only.
CREATE TABLE release_events (
    id      BIGSERIAL PRIMARY KEY,
    version TEXT NOT NULL REFERENCES releases (version),
    kind    TEXT NOT NULL,
    who     TEXT NOT NULL,
    at      TEXT NOT NULL,
    note    TEXT NOT NULL
);
CREATE INDEX release_events_of_version ON release_events (version, id);

-- Which release each replica serves and when it last looked for a new
-- one; a release it could not load is said in release_problem.
ALTER TABLE replicas ADD COLUMN release_version TEXT;
ALTER TABLE replicas ADD COLUMN release_checked_at TEXT;
ALTER TABLE replicas ADD COLUMN release_problem TEXT;
